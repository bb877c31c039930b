"""Logging contact attempts (with their disposition and its consequences) and notes.

A disposition is not just a label: `log_contact` applies what it means in the same transaction
(docs/decisions.md, dispositions), so the activity, the promise or plan, the follow-up, the hold and
the case's new status are written together or not at all. Everything is validated before the first
row is written, and the writes sit in a savepoint, so a refusal never leaves half a contact behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from collector_tui.clock import as_utc
from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.models import (
    Activity,
    Case,
    CaseStatus,
    Channel,
    Debtor,
    FollowUp,
    HoldKind,
    Phone,
    Promise,
)
from collector_tui.phones import search_key
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import contact_book
from collector_tui.services.casework.balances import disputed_total
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    case_writes_deferred,
    changing,
    debtor_today,
    finish_case_change,
    settle_status,
)
from collector_tui.services.casework.followups import (
    FollowUpInput,
    add_follow_up_to_case,
    check_contact_hours,
    follow_up_owner,
    mark_done,
    validate_follow_up,
)
from collector_tui.services.casework.holds import add_hold_to_case
from collector_tui.services.casework.notes import check_note
from collector_tui.services.casework.promises import (
    PlanInput,
    PromiseInput,
    add_plan_to_case,
    add_promise_to_case,
    pending_committed,
    validate_plan,
    validate_promise,
)
from collector_tui.services.context import writes
from collector_tui.services.errors import InvalidInput
from collector_tui.services.rules.dispositions import Disposition, check_disposition

MAX_DURATION_S = 24 * 3600


# Which of these count toward a call cap is the rule pack's business (packs/*.toml,
# `[dispositions]`), read by services/rules/compliance.py: the same code serves every jurisdiction.
# Dispositions that place a hold of this kind.
HOLD_FOR: dict[str, str] = {
    "dispute": HoldKind.dispute.value,
    "cease": HoldKind.cease.value,
    "hardship": HoldKind.hardship.value,
    "deceased": HoldKind.deceased.value,
    "bankrupt": HoldKind.bankruptcy.value,
}
VERIFY_PAYMENT_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class ContactInput:
    disposition: str
    channel: str = "call"
    direction: str = "outbound"
    phone_id: uuid.UUID | None = None
    phone_e164: str | None = None
    note: str | None = None
    duration_s: int | None = None
    with_consent: bool = False
    occurred_at: datetime | None = None  # default now; never in the future
    promise: PromiseInput | None = None
    plan: PlanInput | None = None
    follow_up: FollowUpInput | None = None


@dataclass(frozen=True)
class LoggedContact:
    activity_id: uuid.UUID
    promise_ids: tuple[uuid.UUID, ...]
    plan_id: uuid.UUID | None
    follow_up_id: uuid.UUID | None
    hold_ids: tuple[uuid.UUID, ...]
    case_status: str
    case_version: int = 0  # the expected_version for the next edit from the same open form


# --- validation --------------------------------------------------------------------------------


def _check_channel(channel: str, direction: str) -> None:
    if channel not in Channel.__members__:
        kinds = ", ".join(c for c in Channel.__members__ if c != "note")
        raise InvalidInput(
            _("unknown channel {channel!r}: use {kinds}").format(
                channel=str(channel)[:16], kinds=kinds
            ),
            field="channel",
        )
    if channel == Channel.note:
        raise InvalidInput(_("a note is not a contact attempt: add it as a note"), field="channel")
    if direction not in ("outbound", "inbound"):
        raise InvalidInput(_("the direction is outbound or inbound"), field="direction")


def _check_occurred(occurred_at: datetime | None, now: datetime) -> datetime:
    if occurred_at is None:
        return now
    if not isinstance(occurred_at, datetime) or occurred_at.tzinfo is None:
        raise InvalidInput(
            _("the time of contact needs a date, a time and a zone"), field="occurred_at"
        )
    instant = as_utc(occurred_at)
    if instant > now:
        raise InvalidInput(_("a contact cannot be logged in the future"), field="occurred_at")
    return instant


def _check_duration(duration_s: int | None) -> None:
    if duration_s is None:
        return
    if type(duration_s) is not int or not 0 <= duration_s <= MAX_DURATION_S:
        raise InvalidInput(_("the duration is a number of seconds, 0 to 86400"), field="duration_s")


def _resolve_phone(
    session: Session, case: Case, contact: ContactInput, country: str
) -> Phone | None:
    """The debtor's phone the contact used, or None; a number not on the file is refused."""
    phone: Phone | None = None
    if contact.phone_id is not None:
        phone = session.get(Phone, contact.phone_id)
        if phone is None or phone.debtor_id != case.debtor_id:
            raise InvalidInput(_("that phone is not one of this debtor's numbers"), field="phone")
    if contact.phone_e164 is not None and contact.phone_e164.strip():
        key = search_key(contact.phone_e164, country) or contact.phone_e164.strip()
        if phone is not None:
            if phone.e164 != key:
                raise InvalidInput(_("the number does not match the phone chosen"), field="phone")
        else:
            phone = session.exec(
                select(Phone).where(Phone.debtor_id == case.debtor_id, Phone.e164 == key)
            ).first()
            if phone is None:
                raise InvalidInput(
                    _("{phone} is not a number of this debtor: add it to the debtor first").format(
                        phone=contact.phone_e164.strip()[:24]
                    ),
                    field="phone",
                )
    return phone


def _wrong_phone(session: Session, case: Case, phone: Phone | None) -> Phone:
    if phone is not None:
        return phone
    phones = session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).all()
    if len(phones) == 1:
        return phones[0]
    raise InvalidInput(_("wrong number: say which number was wrong"), field="phone")


def _hold_reason(disposition: Disposition, note: str | None) -> str:
    if not note:
        return disposition.label
    return f"{disposition.label}: {note.splitlines()[0]}"[:500]


# --- writing -----------------------------------------------------------------------------------


@writes
def log_contact(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    contact: ContactInput,
    settings: Settings,
    expected_version: int | None = None,
) -> LoggedContact:
    """Log one contact attempt and apply what its disposition means (docs/decisions.md,
    dispositions)."""
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )

    # Every check first: nothing is written unless all of it can be.
    disposition = check_disposition(contact.disposition)
    _check_channel(contact.channel, contact.direction)
    occurred_at = _check_occurred(contact.occurred_at, now)
    _check_duration(contact.duration_s)
    note = check_note(contact.note, settings)
    debtor = session.get(Debtor, case.debtor_id)
    phone = _resolve_phone(session, case, contact, debtor.country if debtor else "")
    if disposition.code == "wrong_number":
        phone = _wrong_phone(session, case, phone)
    _check_agreement(session, now, case, disposition, contact, settings)
    callback = _check_callback(session, now, actor, case, disposition, contact, settings)
    # Read before the first write: nothing written below changes which follow-ups are due, and a
    # query among the writes would flush them one by one (an INSERT or UPDATE each).
    due_follow_ups = _due_follow_ups(session, actor, case, occurred_at)

    before = case_state(case)
    with changing(session):
        # The activity, its promise and the closed follow-ups go out in one flush below, with
        # their audit events in one executemany: their ids are made here, not by the database.
        activity = _record_activity(
            session, now, actor, case, contact, disposition, occurred_at, phone, note
        )
        for due in due_follow_ups:
            mark_done(
                session=session, now=now, row=due, user_id=actor.user_id, why="attempt logged"
            )
        promise_ids, plan_id = _add_agreement(
            session, now, actor, case, contact, settings, activity, validated=True
        )
        follow_up_id = None
        if callback is not None:
            follow_up_id = add_follow_up_to_case(
                session=session,
                now=now,
                actor=actor,
                case=case,
                follow_up=callback.follow_up,
                owner_id=callback.owner_id,
                reason=callback.reason,
                activity_id=activity.id,
            )
        # The case row is written once per save: its attempt times and status are set only now,
        # after every query that would have flushed them in an UPDATE of their own, and the
        # status and queue place below follow without flushing in between (change.py).
        if session.new or session.dirty or session.deleted:
            session.flush()
        _stamp_attempt(case, disposition, occurred_at)
        hold_ids: list[uuid.UUID] = []
        if disposition.code in HOLD_FOR:
            hold_ids.append(
                add_hold_to_case(
                    session=session,
                    now=now,
                    actor=actor,
                    case=case,
                    kind=HOLD_FOR[disposition.code],
                    reason=_hold_reason(disposition, note),
                )
            )
        if disposition.code == "wrong_number" and phone is not None and phone.valid:
            _mark_number_wrong(session, now, actor, phone)

        with case_writes_deferred(session, case):
            settle_status(session=session, case=case)
            finish_case_change(
                session=session,
                now=now,
                settings=settings,
                case=case,
                before=before,
                user_id=actor.user_id,
            )
    return LoggedContact(
        activity_id=activity.id,
        promise_ids=promise_ids,
        plan_id=plan_id,
        follow_up_id=follow_up_id,
        hold_ids=tuple(hold_ids),
        case_status=case.status,
        case_version=case.version,
    )


def _check_agreement(
    session: Session,
    now: datetime,
    case: Case,
    disposition: Disposition,
    contact: ContactInput,
    settings: Settings,
) -> None:
    """The promise or plan the disposition needs, and only that, checked against the debtor's
    calendar, the balance and what is already promised."""
    if contact.promise is not None and disposition.needs != "promise":
        raise InvalidInput(_("a promise goes with the 'promise' disposition"), field="disposition")
    if contact.plan is not None and disposition.needs != "plan":
        raise InvalidInput(
            _("a payment plan goes with the 'plan' disposition"), field="disposition"
        )
    if disposition.needs == "promise" and contact.promise is None:
        raise InvalidInput(
            _("a promise disposition needs a promise: amount and date"), field="promise"
        )
    if disposition.needs == "plan" and contact.plan is None:
        raise InvalidInput(_("a plan disposition needs a plan: its installments"), field="plan")
    if disposition.needs == "follow_up" and contact.follow_up is None:
        raise InvalidInput(
            _("a callback needs a follow-up: when to call back and why"), field="follow_up"
        )
    if contact.promise is not None or contact.plan is not None:
        today, zone = debtor_today(session=session, case=case, now=now, settings=settings)
        committed = pending_committed(session=session, case_id=case.id)
        disputed = disputed_total(session, case.id)
        if contact.promise is not None:
            validate_promise(
                case=case,
                promise=contact.promise,
                today=today,
                committed=committed,
                today_zone=zone,
                disputed=disputed,
            )
        if contact.plan is not None:
            validate_plan(
                case=case,
                plan=contact.plan,
                today=today,
                committed=committed,
                today_zone=zone,
                disputed=disputed,
            )


@dataclass(frozen=True)
class _Callback:
    follow_up: FollowUpInput
    reason: str
    owner_id: uuid.UUID


def _check_callback(
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    disposition: Disposition,
    contact: ContactInput,
    settings: Settings,
) -> _Callback | None:
    """The follow-up to schedule with the contact (the agent's, or "verify payment" after
    "paid"), checked, with its tidied reason and its owner."""
    follow_up = contact.follow_up
    if follow_up is None and disposition.code == "paid":
        # "I already paid": someone must look for the money tomorrow.
        follow_up = FollowUpInput(due_at=now + VERIFY_PAYMENT_AFTER, reason="verify payment")
    if follow_up is None:
        return None
    reason = validate_follow_up(follow_up=follow_up, now=now)
    owner_id = follow_up_owner(session=session, actor=actor, case=case, owner_id=follow_up.owner_id)
    if not follow_up.outside_hours_ok:
        # A callback asked from the contact form gets the follow-up form's warning.
        check_contact_hours(session=session, case=case, due_at=follow_up.due_at, settings=settings)
    if owner_id is None or reason is None:
        return None
    return _Callback(follow_up, reason, owner_id)


def _record_activity(
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    contact: ContactInput,
    disposition: Disposition,
    occurred_at: datetime,
    phone: Phone | None,
    note: str | None,
) -> Activity:
    """The attempt itself, and its audit event."""
    activity = Activity(
        case_id=case.id,
        user_id=actor.user_id,
        occurred_at=occurred_at,
        channel=contact.channel,
        direction=contact.direction,
        phone_id=phone.id if phone else None,
        phone_e164=phone.e164 if phone else None,
        disposition=disposition.code,
        note=note,
        duration_s=contact.duration_s,
        with_consent=bool(contact.with_consent),
        created_at=now,
    )
    session.add(activity)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="activity",
        entity_id=activity.id,
        action="create",
        after={
            **audit.snapshot(
                activity,
                ("case_id", "occurred_at", "channel", "direction", "phone_id", "disposition"),
            ),
            "duration_s": contact.duration_s,
            "note_length": len(note or ""),
        },
    )
    return activity


def _stamp_attempt(case: Case, disposition: Disposition, occurred_at: datetime) -> None:
    """The case was worked: active, its attempt (and contact) times."""
    if case.status == CaseStatus.new:
        case.status = CaseStatus.active.value
    if case.last_attempt_at is None or occurred_at > case.last_attempt_at:
        case.last_attempt_at = occurred_at
    if disposition.right_party and (
        case.last_contact_at is None or occurred_at > case.last_contact_at
    ):
        case.last_contact_at = occurred_at


def _due_follow_ups(
    session: Session, actor: Actor, case: Case, occurred_at: datetime
) -> list[FollowUp]:
    """The actor's follow-ups on this case that were due: the attempt makes them done."""
    return list(
        session.exec(
            select(FollowUp).where(
                FollowUp.case_id == case.id,
                col(FollowUp.done_at).is_(None),
                FollowUp.owner_id == actor.user_id,
                FollowUp.due_at <= occurred_at,
            )
        ).all()
    )


def _add_agreement(
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    contact: ContactInput,
    settings: Settings,
    activity: Activity,
    *,
    validated: bool = False,
) -> tuple[tuple[uuid.UUID, ...], uuid.UUID | None]:
    """The promise or plan agreed in the contact: the promises' ids (a plan's, by due date) and
    the plan's. `validated`: _check_agreement has checked it against the same case, in this
    transaction, and nothing written since changes what it checked."""
    promise_ids: tuple[uuid.UUID, ...] = ()
    plan_id = None
    if contact.promise is not None:
        promise_ids = (
            add_promise_to_case(
                session=session,
                now=now,
                actor=actor,
                case=case,
                promise=contact.promise,
                settings=settings,
                activity_id=activity.id,
                validated=validated,
                flush=not validated,
            ),
        )
    if contact.plan is not None:
        plan_id = add_plan_to_case(
            session=session,
            now=now,
            actor=actor,
            case=case,
            plan=contact.plan,
            settings=settings,
            activity_id=activity.id,
        )
        promise_ids = tuple(
            session.exec(
                select(Promise.id).where(Promise.plan_id == plan_id).order_by(col(Promise.due_date))
            ).all()
        )
    return promise_ids, plan_id


def _mark_number_wrong(session: Session, now: datetime, actor: Actor, phone: Phone) -> None:
    contact_book.mark_phone(phone, status="wrong", at=now, reason="wrong number")
    phone.updated_at = now
    session.add(phone)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="phone",
        entity_id=phone.id,
        action="update",
        before={"valid": True},
        after={"valid": False, "why": "wrong number"},
    )


@writes
def record_agreement(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    promise: PromiseInput | None = None,
    plan: PlanInput | None = None,
    expected_version: int | None = None,
) -> LoggedContact:
    """A promise or a plan taken on the case screen: the debtor agreed to it, so it is a
    right-party call with that disposition. Through log_contact, so the contact, the case's due
    follow-ups and the promise are written together, exactly as from the contact form."""
    contact = ContactInput(
        disposition="plan" if plan is not None else "promise",
        channel=Channel.call.value,
        promise=promise,
        plan=plan,
    )
    return log_contact(
        session=session,
        now=now,
        actor=actor,
        case_id=case_id,
        contact=contact,
        settings=settings,
        expected_version=expected_version,
    )
