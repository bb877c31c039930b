"""Promises to pay, payment plans, payments and their allocation, and the kept/broken sweep.

A promise changes status the moment a payment is posted (kept), and with the passage of time
(partial or broken) when the sweep runs, which the queue does before it is built (DESIGN.md §4).

Calendar dates are UTC dates for now: "today" is the UTC date of `now`, so for a debtor far from
UTC a promise is judged up to a day off their own calendar, which the grace days absorb. Judging
by the debtor's own zone is a later refinement.

Every function here works inside the caller's transaction; what it writes sits in a savepoint, so a
refusal half-way leaves nothing behind even when the caller swallows the error and commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    Case,
    CaseStatus,
    FollowUp,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    Promise,
    PromiseStatus,
)
from collector_tui.money import Money, MoneyError, format_plain
from collector_tui.services import audit, scoring
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.errors import InvalidInput, NotFound, StaleEdit

# A promise further out than a year is a wish, not a promise; a plan may run longer.
MAX_PROMISE_DAYS_AHEAD = 365
MAX_PLAN_DAYS_AHEAD = 5 * 366
MIN_INSTALLMENTS, MAX_INSTALLMENTS = 2, 60
MAX_GRACE_DAYS = 31
MAX_TEXT = 500  # reasons, references, as the columns allow

# Statuses that follow the case's promises; dispute, legal and the closed ones are set by other
# events and a promise does not override them.
PROMISE_DRIVEN_STATUSES = frozenset({"new", "active", "promised", "plan"})
CASE_AUDIT_FIELDS = (
    "status",
    "balance",
    "routed_reason",
    "last_attempt_at",
    "last_contact_at",
)
STALE_MESSAGE = "this case was changed by someone else since you opened it; reload it"
_SQL_CHUNK = 500  # ids per IN (...) list, well under every backend's bound-parameter limit


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
class PostedPayment:
    payment_id: uuid.UUID
    allocations: tuple[tuple[uuid.UUID, int], ...]  # (promise id, minor units), oldest due first
    balance_after: int
    case_status: str
    case_version: int = 0  # for the next expected_version of a form that stays open


@dataclass(frozen=True)
class SweepResult:
    kept: int
    partial: int
    broken: int


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


def utc_today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def debtor_today(
    *, session: Session, case: Case, now: datetime, settings: Settings
) -> tuple[date, str]:
    """The debtor's date now and its zone: a due date is a day in the debtor's calendar."""
    from collector_tui.services.compliance import debtor_today as read

    return read(session=session, case=case, now=now, settings=settings)


def _actor_today(now: datetime, actor: Actor) -> date:
    """The actor's own calendar day: a payment posted this morning in Shanghai is received
    "today" there while it is still yesterday in UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return now.astimezone(ZoneInfo(actor.time_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return utc_today(now)


def show_money(amount: int, currency: str) -> str:
    try:
        return format_plain(Money(amount, currency))
    except MoneyError:  # a currency babel does not know must not hide the real message
        return f"{amount} {currency} (minor units)"


@contextmanager
def changing(session: Session) -> Iterator[None]:
    """The savepoint around one service call's writes. A row whose version moved under us (another
    process won the race; possible on PostgreSQL, where writers do not queue up front as they do
    with SQLite's BEGIN IMMEDIATE) becomes the same clear refusal as a stale form."""
    try:
        with session.begin_nested():
            yield
    except StaleDataError:
        raise StaleEdit(STALE_MESSAGE) from None


def case_for_change(*, session: Session, case_id: uuid.UUID, actor: Actor) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    ensure_case_access(actor, case)
    return case


def case_state(case: Case) -> dict[str, Any]:
    return audit.snapshot(case, CASE_AUDIT_FIELDS)


def finish_case_change(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    case: Case,
    before: dict[str, Any],
    user_id: uuid.UUID | None,
    action: str = "update",
) -> None:
    """Stamp, re-place in the queue and audit what changed on the case itself."""
    case.updated_at = now
    scoring.refresh_case(session=session, case=case, now=now, settings=settings)
    after = case_state(case)
    changed = [name for name in CASE_AUDIT_FIELDS if before.get(name) != after.get(name)]
    if changed:
        audit.record(
            session=session,
            now=now,
            user_id=user_id,
            entity="case",
            entity_id=case.id,
            action=action,
            before={name: before.get(name) for name in changed},
            after={name: after[name] for name in changed},
        )
    session.flush()


def settle_status(*, session: Session, case: Case) -> None:
    """The status that follows the promises: 'plan' or 'promised' while one is pending, else
    'active'. Dispute, legal and closed statuses are left alone."""
    if case.status not in PROMISE_DRIVEN_STATUSES:
        return
    pending = session.exec(
        select(Promise.plan_id).where(
            Promise.case_id == case.id, Promise.status == PromiseStatus.pending
        )
    ).all()
    if any(plan_id is not None for plan_id in pending):
        case.status = CaseStatus.plan.value
    elif pending:
        case.status = CaseStatus.promised.value
    elif case.status in ("promised", "plan"):
        case.status = CaseStatus.active.value


def _check_text(value: str | None, *, field: str, what: str, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"{what} is required", field=field)
        return None
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what} can be at most {MAX_TEXT} characters", field=field)
    return text


def _promise_audit(promise: Promise) -> dict[str, Any]:
    return audit.snapshot(
        promise,
        ("case_id", "plan_id", "amount", "paid_amount", "due_date", "grace_days", "status"),
    )


# --- validation --------------------------------------------------------------------------------


def _check_terms(
    promise: PromiseInput, *, today: date, horizon_days: int, today_zone: str = ""
) -> None:
    """Amount and date rules that need no database; `today` is the debtor's (in `today_zone`)."""
    amount = promise.amount
    if type(amount) is not int:  # bool is an int; a float would bring rounding back
        raise InvalidInput("the amount must be a whole number of minor units", field="amount")
    if amount <= 0:
        raise InvalidInput("a promise needs an amount above zero", field="amount")
    due = promise.due_date
    if not isinstance(due, date) or isinstance(due, datetime):
        raise InvalidInput("the due date must be a calendar date", field="due_date")
    if due < today:
        raise InvalidInput(
            f"a promise cannot be due in the past (today is {today.isoformat()}"
            f"{f' in {today_zone}' if today_zone else ''})",
            field="due_date",
        )
    if due > today + timedelta(days=horizon_days):
        raise InvalidInput(
            f"a promise can be due at most {horizon_days} days ahead", field="due_date"
        )
    grace = promise.grace_days
    if grace is not None and (type(grace) is not int or not 0 <= grace <= MAX_GRACE_DAYS):
        raise InvalidInput(
            f"grace days must be a whole number from 0 to {MAX_GRACE_DAYS}", field="grace_days"
        )


def _check_open(case: Case) -> None:
    if case.status in CLOSED_STATUSES:
        raise InvalidInput(f"case {case.client_ref} is {case.status}: nothing left to promise")


def _check_within_balance(
    case: Case, amount: int, committed: int, *, what: str, field: str
) -> None:
    room = case.balance - committed
    if amount > room:
        label = f"{what} of {show_money(amount, case.currency)}"
        if committed:
            raise InvalidInput(
                f"{label} exceeds the open balance {show_money(max(room, 0), case.currency)}"
                f" ({show_money(committed, case.currency)} already promised)",
                field=field,
            )
        raise InvalidInput(
            f"{label} exceeds the open balance {show_money(case.balance, case.currency)}",
            field=field,
        )


def validate_promise(
    *, case: Case, promise: PromiseInput, today: date, committed: int = 0, today_zone: str = ""
) -> None:
    """Refuse a promise that cannot be taken; `committed` is what pending promises still owe."""
    _check_open(case)
    _check_terms(promise, today=today, horizon_days=MAX_PROMISE_DAYS_AHEAD, today_zone=today_zone)
    _check_within_balance(case, promise.amount, committed, what="promise", field="amount")


def validate_plan(
    *, case: Case, plan: PlanInput, today: date, committed: int = 0, today_zone: str = ""
) -> None:
    _check_open(case)
    installments = tuple(plan.installments)
    if not MIN_INSTALLMENTS <= len(installments) <= MAX_INSTALLMENTS:
        raise InvalidInput(
            f"a plan has {MIN_INSTALLMENTS} to {MAX_INSTALLMENTS} installments",
            field="installments",
        )
    previous: date | None = None
    for number, installment in enumerate(installments, start=1):
        # The first payment is as near as any promise; the schedule may then run for years.
        horizon = MAX_PROMISE_DAYS_AHEAD if number == 1 else MAX_PLAN_DAYS_AHEAD
        try:
            _check_terms(installment, today=today, horizon_days=horizon, today_zone=today_zone)
        except InvalidInput as refusal:
            raise InvalidInput(
                f"installment {number}: {refusal.message}", field="installments"
            ) from None
        if previous is not None and installment.due_date <= previous:
            raise InvalidInput(
                f"installment {number}: each installment must fall after the one before",
                field="installments",
            )
        previous = installment.due_date
    total = sum(i.amount for i in installments)
    _check_within_balance(case, total, committed, what="plan", field="installments")


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
        raise InvalidInput("the contact this refers to belongs to another case")


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
) -> uuid.UUID:
    """create_promise for a case already loaded and checked (log_contact uses it)."""
    today, today_zone = debtor_today(session=session, case=case, now=now, settings=settings)
    validate_promise(
        case=case,
        promise=promise,
        today=today,
        today_zone=today_zone,
        committed=pending_committed(session=session, case_id=case.id),
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


def create_promise(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    promise: PromiseInput,
    settings: Settings,
    activity_id: uuid.UUID | None = None,
) -> uuid.UUID:
    case = case_for_change(session=session, case_id=case_id, actor=actor)
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


def create_plan(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    plan: PlanInput,
    settings: Settings,
    activity_id: uuid.UUID | None = None,
) -> uuid.UUID:
    case = case_for_change(session=session, case_id=case_id, actor=actor)
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


def _resolve(
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
            _resolve(session, now, installment, PromiseStatus.cancelled.value, user_id, reason)
    _set_plan_status(session, now, plan, status, user_id)


def _review_plan(
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
        raise NotFound("no such payment plan")
    case = case_for_change(session=session, case_id=plan.case_id, actor=actor)
    text = _check_text(reason, field="reason", what="a reason", required=True)
    if plan.status != "active":
        raise InvalidInput(f"this plan is already {plan.status}")
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
        raise NotFound("no such promise")
    case = case_for_change(session=session, case_id=promise.case_id, actor=actor)
    text = _check_text(reason, field="reason", what="a reason", required=True)
    if promise.status != PromiseStatus.pending:
        raise InvalidInput(f"this promise is already {promise.status}")
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
        _resolve(session, now, promise, PromiseStatus.cancelled.value, actor.user_id, text)
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


def close_open_follow_ups(
    *, session: Session, now: datetime, case_id: uuid.UUID, user_id: uuid.UUID | None, why: str
) -> int:
    rows = session.exec(
        select(FollowUp).where(FollowUp.case_id == case_id, col(FollowUp.done_at).is_(None))
    ).all()
    for row in rows:
        row.done_at = now
        row.updated_at = now
        session.add(row)
        audit.record(
            session=session,
            now=now,
            user_id=user_id,
            entity="follow_up",
            entity_id=row.id,
            action="complete",
            before={"done_at": None},
            after={"done_at": now, "why": why},
        )
    return len(rows)


def _allocate_to_invoices(session: Session, case_id: uuid.UUID, amount: int) -> list[list[Any]]:
    """A B2B balance is its invoices' open sum: pay the oldest undisputed invoice first."""
    invoices = session.exec(
        select(Invoice)
        .where(Invoice.case_id == case_id, Invoice.open_amount > 0)
        .order_by(col(Invoice.disputed), col(Invoice.due_date), col(Invoice.number))
    ).all()
    left = amount
    paid: list[list[Any]] = []
    for invoice in invoices:
        if left == 0:
            break
        take = min(invoice.open_amount, left)
        invoice.open_amount -= take
        left -= take
        session.add(invoice)
        paid.append([invoice.number, take])
    return paid


def post_payment(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    amount: int,
    received_on: date,
    settings: Settings,
    method: str | None = None,
    reference: str | None = None,
) -> PostedPayment:
    """Record money received and apply it: pending promises first (oldest due first), then
    promises already judged partial; a promise paid in full is kept at once, before its date."""
    case = case_for_change(session=session, case_id=case_id, actor=actor)
    if type(amount) is not int:
        raise InvalidInput("the amount must be a whole number of minor units", field="amount")
    if amount <= 0:
        raise InvalidInput("a payment needs an amount above zero", field="amount")
    if amount > case.balance:
        raise InvalidInput(
            f"payment of {show_money(amount, case.currency)} exceeds the balance "
            f"{show_money(case.balance, case.currency)}",
            field="amount",
        )
    if not isinstance(received_on, date) or isinstance(received_on, datetime):
        raise InvalidInput("the date received must be a calendar date", field="received_on")
    if received_on > max(utc_today(now), _actor_today(now, actor)):
        raise InvalidInput("a payment cannot be received in the future", field="received_on")
    method_text = _check_text(method, field="method", what="the method", required=False)
    if method_text is not None and len(method_text) > 32:
        raise InvalidInput("the method can be at most 32 characters", field="method")
    reference_text = _check_text(reference, field="reference", what="the reference", required=False)
    if reference_text is not None:
        if len(reference_text) > 100:
            raise InvalidInput("the reference can be at most 100 characters", field="reference")
        repeat = session.exec(
            select(Payment.id).where(
                Payment.case_id == case.id, Payment.reference == reference_text
            )
        ).first()
        if repeat is not None:
            # Imports rely on this: the same file twice must not take the money twice.
            raise InvalidInput(
                f"a payment with reference {reference_text!r} is already recorded on this case",
                field="reference",
            )

    before = case_state(case)
    with changing(session):
        payment = Payment(
            case_id=case.id,
            amount=amount,
            received_on=received_on,
            method=method_text,
            reference=reference_text,
            recorded_by_id=actor.user_id,
            created_at=now,
        )
        session.add(payment)
        session.flush()  # allocations point at the payment

        allocations: list[tuple[uuid.UUID, int]] = []
        plans: set[uuid.UUID] = set()
        left = amount
        for status in (PromiseStatus.pending, PromiseStatus.partial):
            if left == 0:
                break
            promises = session.exec(
                select(Promise)
                .where(Promise.case_id == case.id, Promise.status == status)
                .order_by(col(Promise.due_date), col(Promise.created_at), col(Promise.id))
            ).all()
            for promise in promises:
                owed = promise.amount - promise.paid_amount
                if left == 0:
                    break
                if owed <= 0:
                    continue
                take = min(owed, left)
                left -= take
                promise.paid_amount += take
                promise.updated_at = now
                session.add(promise)
                session.add(
                    PaymentAllocation(payment_id=payment.id, promise_id=promise.id, amount=take)
                )
                allocations.append((promise.id, take))
                if promise.plan_id is not None:
                    plans.add(promise.plan_id)
                # A promise judged partial keeps that verdict: it was late; the money is recorded.
                if status == PromiseStatus.pending and promise.paid_amount >= promise.amount:
                    _resolve(session, now, promise, PromiseStatus.kept.value, actor.user_id)
        invoices_paid = _allocate_to_invoices(session, case.id, amount)

        case.balance -= amount
        if case.balance == 0:
            case.status = CaseStatus.paid.value
            close_open_follow_ups(
                session=session,
                now=now,
                case_id=case.id,
                user_id=actor.user_id,
                why="paid in full",
            )
            # Promises never exceed the balance, so none can be pending here; stay safe anyway.
            for leftover in session.exec(
                select(Promise).where(
                    Promise.case_id == case.id, Promise.status == PromiseStatus.pending
                )
            ).all():
                _resolve(
                    session, now, leftover, PromiseStatus.cancelled.value, actor.user_id, "paid"
                )
                if leftover.plan_id is not None:
                    plans.add(leftover.plan_id)
        session.flush()
        for plan_id in plans:
            _review_plan(session, now, plan_id, actor.user_id)
        # A kept settlement promise settles the case (issue #5, services.supervision).
        from collector_tui.services.supervision import settlement_after_payment

        settlement_after_payment(
            session=session, now=now, actor=actor, case=case, settings=settings
        )
        settle_status(session=session, case=case)
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="payment",
            entity_id=payment.id,
            action="create",
            after={
                **audit.snapshot(
                    payment, ("case_id", "amount", "received_on", "method", "reference")
                ),
                "allocations": [[promise_id, part] for promise_id, part in allocations],
                "invoices": invoices_paid,
            },
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return PostedPayment(
        payment_id=payment.id,
        allocations=tuple(allocations),
        balance_after=case.balance,
        case_status=case.status,
        case_version=case.version,
    )


# --- the sweep ---------------------------------------------------------------------------------


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for case_id in ids:
        batch.append(case_id)
        if len(batch) == _SQL_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _due_candidates(
    session: Session,
    today: date,
    agent_id: uuid.UUID | None,
    case_ids: Collection[uuid.UUID] | None,
) -> list[Promise]:
    # Indexed on (status, due_date): only pending promises already past their due date are read,
    # i.e. the ones the last sweep left inside their grace, never the whole book.
    base = select(Promise).where(Promise.status == PromiseStatus.pending, Promise.due_date < today)
    if agent_id is not None:
        base = base.join(Case, col(Case.id) == col(Promise.case_id)).where(
            Case.assigned_to_id == agent_id
        )
    if case_ids is None:
        rows = list(session.exec(base))
    else:
        rows = []
        for batch in _chunks(dict.fromkeys(case_ids)):
            rows.extend(session.exec(base.where(col(Promise.case_id).in_(batch))))
    # Grace differs per promise; comparing dates in Python keeps the SQL the same on every backend.
    due = [p for p in rows if p.due_date + timedelta(days=p.grace_days) < today]
    due.sort(key=lambda p: (str(p.case_id), p.due_date, p.created_at, str(p.id)))
    return due


def sweep(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    agent_id: uuid.UUID | None = None,
    case_ids: Collection[uuid.UUID] | None = None,
) -> SweepResult:
    """Judge the pending promises whose due date plus grace has passed: kept, partial or broken.

    A promise due on D with G grace days is still pending on D + G and judged from D + G + 1
    (UTC dates). A broken installment breaks its plan and cancels the installments left. Running
    it again changes nothing (only pending promises are read).
    """
    if case_ids is not None and not case_ids:
        return SweepResult(0, 0, 0)
    today = utc_today(now)
    candidates = _due_candidates(session, today, agent_id, case_ids)
    if not candidates:
        return SweepResult(0, 0, 0)
    cases = {p.case_id: session.get(Case, p.case_id) for p in candidates}
    before = {case_id: case_state(case) for case_id, case in cases.items() if case is not None}
    counts = {PromiseStatus.kept: 0, PromiseStatus.partial: 0, PromiseStatus.broken: 0}
    plans: set[uuid.UUID] = set()
    with changing(session):
        for promise in candidates:
            if promise.status != PromiseStatus.pending:
                continue  # cancelled just now with its broken plan
            if promise.paid_amount >= promise.amount:
                verdict = PromiseStatus.kept
            elif promise.paid_amount > 0:
                verdict = PromiseStatus.partial
            else:
                verdict = PromiseStatus.broken
            _resolve(session, now, promise, verdict.value, None)
            counts[verdict] += 1
            if promise.plan_id is not None:
                plans.add(promise.plan_id)
                if verdict == PromiseStatus.broken:
                    _review_plan(session, now, promise.plan_id, None)
        session.flush()
        for plan_id in plans:
            _review_plan(session, now, plan_id, None)
        for case_id, case in cases.items():
            if case is None:
                continue
            settle_status(session=session, case=case)
            finish_case_change(
                session=session,
                now=now,
                settings=settings,
                case=case,
                before=before[case_id],
                user_id=None,
                action="sweep",
            )
    return SweepResult(
        kept=counts[PromiseStatus.kept],
        partial=counts[PromiseStatus.partial],
        broken=counts[PromiseStatus.broken],
    )


# --- reading -----------------------------------------------------------------------------------


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
