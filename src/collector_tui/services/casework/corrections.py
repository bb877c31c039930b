"""Correcting mistakes, with an audit trail: void a wrongly logged contact, withdraw a promise,
cancel or reschedule a payment plan, move a follow-up. (Lifting a hold: holds.release_holds.)

Facts stay: a voided contact keeps its row and gains a void, a new activity (a note) whose
`voids_id` names it and whose text says why; a withdrawn promise or a cancelled plan keeps its
rows with the status `cancelled`. Every function checks, in this order, that the actor may touch
the case (agents: their own), that the row has not changed since the form read it (its version
counter, or the case's for a row without one), and the input; then it writes in one savepoint,
audits before and after, and re-places the case in the queue.

Who may void a contact: the agent who logged it, on the day they logged it (the agent's own
calendar), or a supervisor at any time. A same-day mistake is the agent's to fix; an older one has
fed reports and the caps, and a supervisor's look is the check against voids that hide work or
reset a cap.

What a void undoes is what the contact itself did: the case's last attempt and last right-party
contact are read again from the attempts that stand; a case that has no attempt left is `new`
again; follow-ups the attempt completed are open again; follow-ups it scheduled are closed; a
number it marked wrong is valid again. It does not lift a hold the contact placed (stopping contact
is lifted only through `hold release`, with its own rules), and it refuses while a promise or plan
taken in the contact is pending: withdraw that first, so money expectations never vanish silently.

A rescheduled plan is a new plan; the old one is cancelled. The schema has no column linking them,
so the link is kept in the audit trail (`plan` events `reschedule` on the old plan and `create`
with `replaces` on the new one) and in the note on the timeline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import N_, _
from collector_tui.labels import CHANNELS, word
from collector_tui.models import (
    Activity,
    AuditEvent,
    Case,
    FollowUp,
    PaymentPlan,
    Phone,
    Promise,
    PromiseStatus,
    outcome_label,
)
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.casework import contact_book
from collector_tui.services.casework.change import (
    PROMISE_DRIVEN_STATUSES,
    STALE_MESSAGE,
    case_for_change,
    case_state,
    changing,
    finish_case_change,
    show_money,
)
from collector_tui.services.casework.followups import (
    MAX_DAYS_AHEAD,
    PAST_TOLERANCE,
    check_contact_hours,
    mark_done,
)
from collector_tui.services.casework.holds import status_from_facts
from collector_tui.services.casework.notes import record_note
from collector_tui.services.casework.promises import (
    PlanInput,
    _end_plan,
    add_plan_to_case,
    resolve,
)
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound, StaleEdit
from collector_tui.services.rules.dispositions import DISPOSITIONS

__all__ = [
    "Correction",
    "cancel_plan",
    "move_follow_up",
    "reschedule_plan",
    "void_contact",
    "withdraw_promise",
]


@dataclass(frozen=True)
class Correction:
    """What a correction did: the new row (the void, the new plan; else the row corrected), and
    the case after it, for the command line's answer and the screen's next expected version."""

    row_id: uuid.UUID
    case_id: uuid.UUID
    client_ref: str
    case_status: str
    case_version: int


def _stale_unless(expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise StaleEdit(_(STALE_MESSAGE))


def _done(row_id: uuid.UUID, case: Case) -> Correction:
    return Correction(row_id, case.id, case.client_ref, case.status, case.version)


def local_day(instant: datetime, zone_name: str) -> object:
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return instant.astimezone(zone).date()


# --- voiding a contact ---------------------------------------------------------------------------


def _describe(activity: Activity) -> str:
    # Stored in the language of the process that voids (docs/decisions.md, Languages).
    found = DISPOSITIONS.get(activity.disposition or "")
    if found is not None:
        label = _(found.label)
    else:
        label = activity.disposition or _("no disposition")
    return f"{word(CHANNELS, activity.channel)} · {label}"


def _live_attempts(session: Session, case_id: uuid.UUID) -> list[tuple[datetime, str | None]]:
    voided = select(Activity.voids_id).where(
        Activity.case_id == case_id, col(Activity.voids_id).is_not(None)
    )
    rows = session.exec(
        select(Activity.occurred_at, Activity.disposition).where(
            Activity.case_id == case_id,
            Activity.channel != "note",
            col(Activity.voids_id).is_(None),
            col(Activity.id).not_in(voided),
        )
    ).all()
    return [(at, code) for at, code in rows]


def _events_of(
    session: Session, entity: str, action: str, at: datetime, user_id: uuid.UUID | None
) -> list[AuditEvent]:
    """The audit events written with the contact (same unit of work: same instant and user)."""
    return list(
        session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == entity,
                AuditEvent.action == action,
                AuditEvent.at == at,
                AuditEvent.user_id == user_id,
            )
        )
    )


def _undo_consequences(
    session: Session, now: datetime, actor: Actor, case: Case, activity: Activity
) -> None:
    """What the contact did by itself, undone (the module's docstring lists what and why)."""
    attempts = _live_attempts(session, case.id)
    case.last_attempt_at = max((at for at, _ in attempts), default=None)
    spoken = [
        at for at, code in attempts if code in DISPOSITIONS and DISPOSITIONS[code].right_party
    ]
    case.last_contact_at = max(spoken, default=None)
    if case.status in PROMISE_DRIVEN_STATUSES:
        status_from_facts(session=session, case=case)

    logged_at, by = activity.created_at, activity.user_id
    for event in _events_of(session, "follow_up", "complete", logged_at, by):
        if (event.after or {}).get("why") != "attempt logged":
            continue
        row = session.get(FollowUp, uuid.UUID(event.entity_id))
        if row is not None and row.done_at == logged_at:
            row.done_at = None
            row.updated_at = now
            session.add(row)
            audit.record(
                session=session,
                now=now,
                user_id=actor.user_id,
                entity="follow_up",
                entity_id=row.id,
                action="reopen",
                before={"done_at": logged_at},
                after={"done_at": None, "why": "the attempt that completed it was voided"},
            )
    for event in _events_of(session, "follow_up", "create", logged_at, by):
        if (event.after or {}).get("activity_id") != str(activity.id):
            continue
        row = session.get(FollowUp, uuid.UUID(event.entity_id))
        if row is not None and row.done_at is None:
            mark_done(
                session=session, now=now, row=row, user_id=actor.user_id, why="contact voided"
            )
    if activity.disposition == "wrong_number" and activity.phone_id is not None:
        phone = session.get(Phone, activity.phone_id)
        marked = any(
            (event.after or {}).get("why") == "wrong number"
            for event in _events_of(session, "phone", "update", logged_at, by)
            if event.entity_id == str(activity.phone_id)
        )
        # Only the attempt's own mark is undone: a number marked otherwise since keeps that mark.
        if phone is not None and phone.status == "wrong" and marked and phone.retired_at is None:
            contact_book.mark_phone(phone, status="valid", at=now, reason=None)
            phone.updated_at = now
            session.add(phone)
            audit.record(
                session=session,
                now=now,
                user_id=actor.user_id,
                entity="phone",
                entity_id=phone.id,
                action="update",
                before={"valid": False},
                after={"valid": True, "why": "the wrong-number attempt was voided"},
            )


@writes
def void_contact(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    activity_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> Correction:
    """Void a wrongly logged contact attempt; `expected_version` is the case's (an activity has
    no counter: it never changes)."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(_("no such contact"))
    case = case_for_change(session=session, case_id=activity.case_id, actor=actor)
    _stale_unless(expected_version, case.version)
    if activity.voids_id is not None:
        raise InvalidInput(_("this entry is itself a correction: a void cannot be voided"))
    if activity.channel == "note":
        raise InvalidInput(_("a note is not a contact attempt: add a note that corrects it"))
    if session.exec(select(Activity.id).where(Activity.voids_id == activity.id)).first():
        raise InvalidInput(_("this contact is already voided"))
    if not actor.is_supervisor:
        if activity.user_id != actor.user_id:
            raise Forbidden(_("only the agent who logged a contact, or a supervisor, can void it"))
        if local_day(activity.created_at, actor.time_zone) != local_day(now, actor.time_zone):
            raise Forbidden(
                _(
                    "a contact can be voided by its agent only on the day it was logged: ask a "
                    "supervisor"
                )
            )
    text = reasons.check_reason(reason, minimum=settings.min_reason_length)
    assert text is not None
    pending = session.exec(
        select(Promise.id, Promise.plan_id).where(
            Promise.activity_id == activity.id, Promise.status == PromiseStatus.pending
        )
    ).first()
    if pending is not None:
        what = N_("the payment plan") if pending[1] is not None else N_("the promise")
        raise InvalidInput(
            _("{what} taken in this contact is still pending: withdraw it first").format(
                what=_(what)
            )
        )
    before = case_state(case)
    with changing(session):
        void = Activity(
            case_id=case.id,
            user_id=actor.user_id,
            occurred_at=now,
            channel="note",
            note=_("Voided {what}: {reason}").format(what=_describe(activity), reason=text),
            voids_id=activity.id,
            created_at=now,
        )
        session.add(void)
        session.flush()
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="activity",
            entity_id=activity.id,
            action="void",
            before={"voided": False},
            after={"voided": True, "void_id": void.id, "reason": text},
        )
        _undo_consequences(session, now, actor, case, activity)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="void_contact",
        )
    return _done(void.id, case)


# --- promises and plans --------------------------------------------------------------------------


@writes
def withdraw_promise(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    promise_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> Correction:
    """Withdraw a pending promise (the debtor takes it back, or it was recorded by mistake). An
    installment is not withdrawn alone: cancel or reschedule its plan."""
    promise = session.get(Promise, promise_id)
    if promise is None:
        raise NotFound(_("no such promise"))
    case = case_for_change(session=session, case_id=promise.case_id, actor=actor)
    _stale_unless(expected_version, promise.version)
    if promise.plan_id is not None:
        raise InvalidInput(
            _("this is an installment of a payment plan: cancel or reschedule the plan")
        )
    if promise.status != PromiseStatus.pending:
        raise InvalidInput(
            _("this promise is already {status}").format(status=outcome_label(promise.status))
        )
    text = reasons.check_reason(reason)
    before = case_state(case)
    with changing(session):
        resolve(session, now, promise, PromiseStatus.cancelled.value, actor.user_id, text)
        record_note(
            session=session,
            now=now,
            actor=actor,
            case=case,
            text=f"Promise of {show_money(promise.amount, case.currency)} due "
            f"{promise.due_date.isoformat()} withdrawn: {text}",
        )
        if case.status in PROMISE_DRIVEN_STATUSES:
            status_from_facts(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _done(promise.id, case)


def _active_plan(
    session: Session, actor: Actor, plan_id: uuid.UUID, expected_version: int | None
) -> tuple[PaymentPlan, Case]:
    plan = session.get(PaymentPlan, plan_id)
    if plan is None:
        raise NotFound(_("no such payment plan"))
    case = case_for_change(session=session, case_id=plan.case_id, actor=actor)
    _stale_unless(expected_version, plan.version)
    if plan.status != "active":
        raise InvalidInput(
            _("this plan is already {status}").format(status=outcome_label(plan.status))
        )
    return plan, case


@writes
def cancel_plan(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    plan_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> Correction:
    """Cancel an active plan: its pending installments are cancelled, payments made stay."""
    plan, case = _active_plan(session, actor, plan_id, expected_version)
    text = reasons.check_reason(reason)
    assert text is not None
    before = case_state(case)
    with changing(session):
        _end_plan(session, now, plan, "cancelled", actor.user_id, text)
        record_note(
            session=session, now=now, actor=actor, case=case, text=f"Payment plan cancelled: {text}"
        )
        if case.status in PROMISE_DRIVEN_STATUSES:
            status_from_facts(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _done(plan.id, case)


@dataclass(frozen=True)
class PlanToReschedule:
    """An active plan as its reschedule starts from: what its pending installments still owe
    (the default total), in the case's currency, and the version the change expects."""

    plan_id: uuid.UUID
    currency: str
    remainder: int
    version: int


@reads
def plan_to_reschedule(*, session: Session, actor: Actor, plan_id: uuid.UUID) -> PlanToReschedule:
    plan = session.get(PaymentPlan, plan_id)
    case = session.get(Case, plan.case_id) if plan is not None else None
    if plan is None or case is None:
        raise NotFound(_("no such payment plan"))
    ensure_case_access(actor, case)
    if plan.status != "active":
        raise InvalidInput(
            _("this plan is already {status}").format(status=outcome_label(plan.status))
        )
    rows = session.exec(
        select(Promise.amount, Promise.paid_amount).where(
            Promise.plan_id == plan_id, Promise.status == PromiseStatus.pending
        )
    ).all()
    return PlanToReschedule(
        plan_id=plan.id,
        currency=case.currency,
        remainder=sum(amount - paid for amount, paid in rows),
        version=plan.version,
    )


@writes
def reschedule_plan(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    plan_id: uuid.UUID,
    plan: PlanInput,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> Correction:
    """Replace an active plan by a new schedule: the old one is cancelled (payments made on it
    stay), the new one is checked like any plan against what the case still owes. The link
    between the two is in the audit trail and the timeline note (the module's docstring)."""
    old, case = _active_plan(session, actor, plan_id, expected_version)
    text = reasons.check_reason(reason)
    assert text is not None
    before = case_state(case)
    with changing(session):
        _end_plan(session, now, old, "cancelled", actor.user_id, f"rescheduled: {text}")
        new_id = add_plan_to_case(
            session=session, now=now, actor=actor, case=case, plan=plan, settings=settings
        )
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="plan",
            entity_id=old.id,
            action="reschedule",
            before={"status": "active"},
            after={"status": "cancelled", "replaced_by": new_id, "reason": text},
        )
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="plan",
            entity_id=new_id,
            action="replace",
            after={"replaces": old.id, "reason": text},
        )
        total = sum(p.amount for p in plan.installments)
        record_note(
            session=session,
            now=now,
            actor=actor,
            case=case,
            text=f"Payment plan rescheduled: {len(plan.installments)} installments, "
            f"{show_money(total, case.currency)} from {plan.installments[0].due_date.isoformat()}"
            f" (plan {new_id} replaces plan {old.id}): {text}",
        )
        if case.status in PROMISE_DRIVEN_STATUSES:
            status_from_facts(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _done(new_id, case)


# --- follow-ups ----------------------------------------------------------------------------------


@writes
def move_follow_up(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    follow_up_id: uuid.UUID,
    due_at: datetime,
    settings: Settings,
    reason: str | None = None,
    expected_version: int | None = None,
    outside_hours_ok: bool = True,
) -> Correction:
    """Give an open follow-up a new due time (a reason is optional: the time says most).
    `outside_hours_ok=False` refuses a time outside the debtor's contact hours
    (followups.OutsideContactHours), as creating one does."""
    row = session.get(FollowUp, follow_up_id)
    if row is None:
        raise NotFound(_("no such follow-up"))
    case = case_for_change(session=session, case_id=row.case_id, actor=actor)
    _stale_unless(expected_version, row.version)
    if row.done_at is not None:
        raise InvalidInput(_("this follow-up is already done"))
    if not isinstance(due_at, datetime) or due_at.tzinfo is None:
        raise InvalidInput(_("the new time needs a date, a time and a zone"), field="due_at")
    if due_at < now - PAST_TOLERANCE:
        raise InvalidInput(_("a follow-up cannot be moved into the past"), field="due_at")
    if (due_at - now).days > MAX_DAYS_AHEAD:
        raise InvalidInput(
            _("a follow-up can be due at most {days} days ahead").format(days=MAX_DAYS_AHEAD),
            field="due_at",
        )
    text = reasons.check_reason(reason, required=False)
    if not outside_hours_ok:
        check_contact_hours(session=session, case=case, due_at=due_at, settings=settings)
    before = case_state(case)
    with changing(session):
        old_due = row.due_at
        row.due_at = due_at
        row.updated_at = now
        session.add(row)
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="follow_up",
            entity_id=row.id,
            action="move",
            before={"due_at": old_due},
            after={"due_at": due_at, "reason": text},
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _done(row.id, case)
