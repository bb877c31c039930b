"""Promises to pay and payment plans: their terms, recording, withdrawal and cancellation.

A promise changes status the moment a payment is posted (kept: casework.payments), and with the
passage of time (partial or broken) when the sweep runs (casework.sweep), which the queue does
before it is built.

Calendar dates are UTC dates for now: "today" is the UTC date of `now`, so for a debtor far from
UTC a promise is judged up to a day off their own calendar, which the grace days absorb. Judging
by the debtor's own zone is a later refinement.

Every function here works inside the caller's transaction; what it writes sits in a savepoint, so a
refusal half-way leaves nothing behind even when the caller swallows the error and commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.dates import add_months
from collector_tui.i18n import N_, _
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    Case,
    PaymentPlan,
    Promise,
    PromiseStatus,
    case_status_label,
    outcome_label,
)
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.balances import disputed_total
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    debtor_today,
    finish_case_change,
    settle_status,
    show_money,
)
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import InvalidInput, NotFound

# A promise further out than a year is a wish, not a promise; a plan may run longer.
MAX_PROMISE_DAYS_AHEAD = 365
MAX_PLAN_DAYS_AHEAD = 5 * 366
MIN_INSTALLMENTS, MAX_INSTALLMENTS = 2, 60
MAX_GRACE_DAYS = 31
MAX_TEXT = 500  # reasons, references, as the columns allow


@dataclass(frozen=True)
class PromiseInput:
    """What the debtor promised: `amount` in minor units of the case currency, by `due_date`."""

    amount: int
    due_date: date
    grace_days: int | None = None  # None: settings.promise_grace_days


@dataclass(frozen=True)
class PlanInput:
    installments: tuple[PromiseInput, ...]


@dataclass(frozen=True)
class PromiseView:
    id: uuid.UUID
    plan_id: uuid.UUID | None
    amount: int
    paid_amount: int
    due_date: date
    grace_days: int
    status: str
    resolved_at: datetime | None


# --- helpers shared by the casework services (followups, holds, activities import these) ------


def check_text(value: str | None, *, field: str, what: str, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(_("{what} is required").format(what=_(what)), field=field)
        return None
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("{what} can be at most {max} characters").format(what=_(what), max=MAX_TEXT),
            field=field,
        )
    return text


def _promise_audit(promise: Promise) -> dict[str, Any]:
    return audit.snapshot(
        promise,
        ("case_id", "plan_id", "amount", "paid_amount", "due_date", "grace_days", "status"),
    )


# --- validation --------------------------------------------------------------------------------


def check_terms(
    promise: PromiseInput, *, today: date, horizon_days: int, today_zone: str = ""
) -> None:
    """Amount and date rules that need no database; `today` is the debtor's (in `today_zone`)."""
    amount = promise.amount
    if type(amount) is not int:  # bool is an int; a float would bring rounding back
        raise InvalidInput(_("the amount must be a whole number of minor units"), field="amount")
    if amount <= 0:
        raise InvalidInput(_("a promise needs an amount above zero"), field="amount")
    due = promise.due_date
    if not isinstance(due, date) or isinstance(due, datetime):
        raise InvalidInput(_("the due date must be a calendar date"), field="due_date")
    if due < today:
        raise InvalidInput(
            _("a promise cannot be due in the past (today is {today} in {zone})").format(
                today=today.isoformat(), zone=today_zone
            )
            if today_zone
            else _("a promise cannot be due in the past (today is {today})").format(
                today=today.isoformat()
            ),
            field="due_date",
        )
    if due > today + timedelta(days=horizon_days):
        raise InvalidInput(
            _("a promise can be due at most {horizon_days} days ahead").format(
                horizon_days=horizon_days
            ),
            field="due_date",
        )
    grace = promise.grace_days
    if grace is not None and (type(grace) is not int or not 0 <= grace <= MAX_GRACE_DAYS):
        raise InvalidInput(
            _("grace days must be a whole number from 0 to {max}").format(max=MAX_GRACE_DAYS),
            field="grace_days",
        )


def check_open(case: Case) -> None:
    if case.status in CLOSED_STATUSES:
        raise InvalidInput(
            _("case {client_ref} is {status}: nothing left to promise").format(
                client_ref=case.client_ref, status=case_status_label(case.status)
            )
        )


def check_within_balance(
    case: Case, amount: int, committed: int, *, what: str, field: str, disputed: int = 0
) -> None:
    """`disputed`: what open invoice disputes hold out of the balance (casework.balances); it
    cannot be promised."""
    room = case.balance - committed - disputed
    if amount > room:
        label = _("{what} of {amount}").format(
            what=_(what), amount=show_money(amount, case.currency)
        )
        taken = []
        if committed:
            taken.append(
                _("{amount} already promised").format(amount=show_money(committed, case.currency))
            )
        if disputed:
            taken.append(_("{amount} disputed").format(amount=show_money(disputed, case.currency)))
        if taken:
            raise InvalidInput(
                _("{label} exceeds the open balance {room} ({taken})").format(
                    label=label,
                    room=show_money(max(room, 0), case.currency),
                    taken=_(", ").join(taken),
                ),
                field=field,
            )
        raise InvalidInput(
            _("{label} exceeds the open balance {balance}").format(
                label=label, balance=show_money(case.balance, case.currency)
            ),
            field=field,
        )


def validate_promise(
    *,
    case: Case,
    promise: PromiseInput,
    today: date,
    committed: int = 0,
    today_zone: str = "",
    disputed: int = 0,
) -> None:
    """Refuse a promise that cannot be taken; `committed` is what pending promises still owe."""
    check_open(case)
    check_terms(promise, today=today, horizon_days=MAX_PROMISE_DAYS_AHEAD, today_zone=today_zone)
    check_within_balance(
        case, promise.amount, committed, what=N_("promise"), field="amount", disputed=disputed
    )


def validate_plan(
    *,
    case: Case,
    plan: PlanInput,
    today: date,
    committed: int = 0,
    today_zone: str = "",
    disputed: int = 0,
) -> None:
    check_open(case)
    installments = tuple(plan.installments)
    if not MIN_INSTALLMENTS <= len(installments) <= MAX_INSTALLMENTS:
        raise InvalidInput(
            _("a plan has {low} to {high} installments").format(
                low=MIN_INSTALLMENTS, high=MAX_INSTALLMENTS
            ),
            field="installments",
        )
    previous: date | None = None
    for number, installment in enumerate(installments, start=1):
        # The first payment is as near as any promise; the schedule may then run for years.
        horizon = MAX_PROMISE_DAYS_AHEAD if number == 1 else MAX_PLAN_DAYS_AHEAD
        try:
            check_terms(installment, today=today, horizon_days=horizon, today_zone=today_zone)
        except InvalidInput as refusal:
            raise InvalidInput(
                _("installment {number}: {message}").format(number=number, message=refusal.message),
                field="installments",
            ) from None
        if previous is not None and installment.due_date <= previous:
            raise InvalidInput(
                _("installment {number}: each installment must fall after the one before").format(
                    number=number
                ),
                field="installments",
            )
        previous = installment.due_date
    total = sum(i.amount for i in installments)
    check_within_balance(
        case, total, committed, what=N_("plan"), field="installments", disputed=disputed
    )


# How often a plan's installments fall due, as a plan form and `plan reschedule` offer it.
INSTALLMENT_INTERVALS = ("monthly", "biweekly", "weekly")


def even_installments(total: int, count: int, first: date, interval: str) -> list[tuple[date, int]]:
    """Installments (due date, minor units) summing exactly to `total`; earlier ones carry the
    remainder so the last payment is never the largest surprise."""
    if interval not in INSTALLMENT_INTERVALS:
        raise InvalidInput(
            _("installments fall due {intervals}").format(
                intervals=", ".join(INSTALLMENT_INTERVALS)
            ),
            field="every",
        )
    if count < 1 or total < count:
        raise InvalidInput(_("the total is too small for that many installments"), field="total")
    base, extra = divmod(total, count)
    step = {"weekly": 1, "biweekly": 2}.get(interval)
    dates = [
        first + timedelta(weeks=step * index) if step else add_months(first, index)
        for index in range(count)
    ]
    return [(due, base + (1 if index < extra else 0)) for index, due in enumerate(dates)]


def pending_committed(*, session: Session, case_id: uuid.UUID) -> int:
    """What the case's pending promises still owe (minor units)."""
    owed = session.exec(
        select(func.coalesce(func.sum(Promise.amount - Promise.paid_amount), 0)).where(
            Promise.case_id == case_id, Promise.status == PromiseStatus.pending
        )
    ).one()
    return int(owed)


def _check_activity(session: Session, case: Case, activity_id: uuid.UUID | None) -> None:
    if activity_id is None:
        return
    activity = session.get(Activity, activity_id)
    if activity is None or activity.case_id != case.id:
        raise InvalidInput(_("the contact this refers to belongs to another case"))


# --- promises and plans ------------------------------------------------------------------------


def _insert_promise(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    promise: PromiseInput,
    settings: Settings,
    activity_id: uuid.UUID | None,
    plan_id: uuid.UUID | None = None,
) -> Promise:
    row = Promise(
        case_id=case.id,
        plan_id=plan_id,
        activity_id=activity_id,
        amount=promise.amount,
        due_date=promise.due_date,
        grace_days=(
            promise.grace_days if promise.grace_days is not None else settings.promise_grace_days
        ),
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row


def add_promise_to_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    promise: PromiseInput,
    settings: Settings,
    activity_id: uuid.UUID | None = None,
    settles_disputes: bool = False,
    validated: bool = False,
    flush: bool = True,
) -> uuid.UUID:
    """create_promise for a case already loaded and checked (log_contact uses it).
    `settles_disputes`: the promise of a settlement, which closes the whole debt, disputed parts
    included, so they do not limit it. `validated`: the caller has run validate_promise on this
    promise in this transaction (log_contact, before its first write), so the debtor's day, the
    pending total and the disputed total are not read a second time. `flush=False`: the caller
    flushes it with the rest of its writes (its id is made here; the ORM orders the INSERTs)."""
    if not validated:
        today, today_zone = debtor_today(session=session, case=case, now=now, settings=settings)
        validate_promise(
            case=case,
            promise=promise,
            today=today,
            today_zone=today_zone,
            committed=pending_committed(session=session, case_id=case.id),
            disputed=0 if settles_disputes else disputed_total(session, case.id),
        )
    row = _insert_promise(
        session=session,
        now=now,
        actor=actor,
        case=case,
        promise=promise,
        settings=settings,
        activity_id=activity_id,
    )
    if flush:
        session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="promise",
        entity_id=row.id,
        action="create",
        after={**_promise_audit(row), "activity_id": activity_id},
    )
    return row.id


@writes
def create_promise(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    promise: PromiseInput,
    settings: Settings,
    activity_id: uuid.UUID | None = None,
    expected_version: int | None = None,
) -> uuid.UUID:
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    _check_activity(session, case, activity_id)
    before = case_state(case)
    with changing(session):
        promise_id = add_promise_to_case(
            session=session,
            now=now,
            actor=actor,
            case=case,
            promise=promise,
            settings=settings,
            activity_id=activity_id,
        )
        settle_status(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return promise_id


def add_plan_to_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    plan: PlanInput,
    settings: Settings,
    activity_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """create_plan for a case already loaded and checked (log_contact uses it)."""
    today, today_zone = debtor_today(session=session, case=case, now=now, settings=settings)
    validate_plan(
        case=case,
        plan=plan,
        today=today,
        today_zone=today_zone,
        committed=pending_committed(session=session, case_id=case.id),
        disputed=disputed_total(session, case.id),
    )
    row = PaymentPlan(case_id=case.id, created_by_id=actor.user_id, created_at=now, updated_at=now)
    session.add(row)
    session.flush()  # the installments point at the plan
    installments = [
        _insert_promise(
            session=session,
            now=now,
            actor=actor,
            case=case,
            promise=installment,
            settings=settings,
            activity_id=activity_id,
            plan_id=row.id,
        )
        for installment in plan.installments
    ]
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="plan",
        entity_id=row.id,
        action="create",
        after={
            "case_id": case.id,
            "activity_id": activity_id,
            "installments": [_promise_audit(p) | {"id": p.id} for p in installments],
        },
    )
    return row.id


@writes
def create_plan(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    plan: PlanInput,
    settings: Settings,
    activity_id: uuid.UUID | None = None,
    expected_version: int | None = None,
) -> uuid.UUID:
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    _check_activity(session, case, activity_id)
    before = case_state(case)
    with changing(session):
        plan_id = add_plan_to_case(
            session=session,
            now=now,
            actor=actor,
            case=case,
            plan=plan,
            settings=settings,
            activity_id=activity_id,
        )
        settle_status(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return plan_id


def resolve(
    session: Session,
    now: datetime,
    promise: Promise,
    status: str,
    user_id: uuid.UUID | None,
    reason: str | None = None,
) -> None:
    before = _promise_audit(promise)
    promise.status = status
    promise.resolved_at = now
    promise.updated_at = now
    session.add(promise)
    after = _promise_audit(promise)
    if reason:
        after["reason"] = reason
    audit.record(
        session=session,
        now=now,
        user_id=user_id,
        entity="promise",
        entity_id=promise.id,
        action=status,
        before=before,
        after=after,
    )


def _set_plan_status(
    session: Session, now: datetime, plan: PaymentPlan, status: str, user_id: uuid.UUID | None
) -> None:
    if plan.status == status:
        return
    before = plan.status
    plan.status = status
    plan.updated_at = now
    session.add(plan)
    audit.record(
        session=session,
        now=now,
        user_id=user_id,
        entity="plan",
        entity_id=plan.id,
        action=status,
        before={"status": before},
        after={"status": status},
    )


def _installments(session: Session, plan_id: uuid.UUID) -> list[Promise]:
    return list(
        session.exec(
            select(Promise).where(Promise.plan_id == plan_id).order_by(col(Promise.due_date))
        )
    )


def _end_plan(
    session: Session,
    now: datetime,
    plan: PaymentPlan,
    status: str,
    user_id: uuid.UUID | None,
    reason: str,
) -> None:
    """Close a plan: its installments still pending are cancelled."""
    for installment in _installments(session, plan.id):
        if installment.status == PromiseStatus.pending:
            resolve(session, now, installment, PromiseStatus.cancelled.value, user_id, reason)
    _set_plan_status(session, now, plan, status, user_id)


def review_plan(
    session: Session, now: datetime, plan_id: uuid.UUID, user_id: uuid.UUID | None
) -> None:
    """An active plan with a broken installment is broken; one whose installments are all resolved
    is completed when every one was paid in full, else broken."""
    plan = session.get(PaymentPlan, plan_id)
    if plan is None or plan.status != "active":
        return
    installments = _installments(session, plan_id)
    statuses = [p.status for p in installments]
    if PromiseStatus.broken in statuses:
        _end_plan(session, now, plan, "broken", user_id, "an installment was broken")
    elif PromiseStatus.pending not in statuses:
        # A short installment made good later still completes the plan.
        paid_up = all(p.paid_amount >= p.amount for p in installments)
        _set_plan_status(session, now, plan, "completed" if paid_up else "broken", user_id)


def cancel_plan(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    plan_id: uuid.UUID,
    settings: Settings,
    reason: str,
) -> None:
    plan = session.get(PaymentPlan, plan_id)
    if plan is None:
        raise NotFound(_("no such payment plan"))
    case = case_for_change(session=session, case_id=plan.case_id, actor=actor)
    text = check_text(reason, field="reason", what=N_("a reason"), required=True)
    if plan.status != "active":
        raise InvalidInput(
            _("this plan is already {status}").format(status=outcome_label(plan.status))
        )
    before = case_state(case)
    with changing(session):
        _end_plan(session, now, plan, "cancelled", actor.user_id, text or "")
        settle_status(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )


@writes
def cancel_promise(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    promise_id: uuid.UUID,
    settings: Settings,
    reason: str,
) -> None:
    """Withdraw a pending promise. An installment cannot leave a hole in its plan: cancelling one
    cancels the plan (its pending installments); the payments already made stay allocated."""
    promise = session.get(Promise, promise_id)
    if promise is None:
        raise NotFound(_("no such promise"))
    case = case_for_change(session=session, case_id=promise.case_id, actor=actor)
    text = check_text(reason, field="reason", what=N_("a reason"), required=True)
    if promise.status != PromiseStatus.pending:
        raise InvalidInput(
            _("this promise is already {status}").format(status=outcome_label(promise.status))
        )
    if promise.plan_id is not None:
        cancel_plan(
            session=session,
            now=now,
            actor=actor,
            plan_id=promise.plan_id,
            settings=settings,
            reason=text or "",
        )
        return
    before = case_state(case)
    with changing(session):
        resolve(session, now, promise, PromiseStatus.cancelled.value, actor.user_id, text)
        settle_status(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )


# --- payments ----------------------------------------------------------------------------------


# --- the sweep ---------------------------------------------------------------------------------


# --- reading -----------------------------------------------------------------------------------


@reads
def case_promises(*, session: Session, case_id: uuid.UUID) -> list[PromiseView]:
    rows = session.exec(
        select(Promise)
        .where(Promise.case_id == case_id)
        .order_by(col(Promise.due_date), col(Promise.created_at))
    )
    return [
        PromiseView(
            p.id,
            p.plan_id,
            p.amount,
            p.paid_amount,
            p.due_date,
            p.grace_days,
            p.status,
            p.resolved_at,
        )
        for p in rows
    ]


def cancel_commitments(
    session: Session, now: datetime, actor: Actor, case: Case, settings: Settings, why: str
) -> None:
    """Pending promises and active plans end with the case (cancelled, with the reason)."""
    plans = session.exec(
        select(PaymentPlan.id).where(PaymentPlan.case_id == case.id, PaymentPlan.status == "active")
    ).all()
    for plan_id in plans:
        cancel_plan(
            session=session, now=now, actor=actor, plan_id=plan_id, settings=settings, reason=why
        )
    promises = session.exec(
        select(Promise.id).where(
            Promise.case_id == case.id,
            Promise.status == PromiseStatus.pending,
            col(Promise.plan_id).is_(None),
        )
    ).all()
    for promise_id in promises:
        cancel_promise(
            session=session,
            now=now,
            actor=actor,
            promise_id=promise_id,
            settings=settings,
            reason=why,
        )
