"""Posting a payment: allocated to the case's balance components (casework.balances: the client's
order, oldest invoice first, disputed amounts last) and to its pending promises, whose status
changes the moment the money arrives (kept or partial); a
settlement whose promise is kept settles the case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import N_, _
from collector_tui.models import (
    Case,
    CaseStatus,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentPart,
    Promise,
    PromiseStatus,
)
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import balances
from collector_tui.services.casework.change import (
    actor_today,
    case_for_change,
    case_state,
    changing,
    finish_case_change,
    settle_status,
    show_money,
    utc_today,
)
from collector_tui.services.casework.followups import close_open_follow_ups
from collector_tui.services.casework.promises import check_text, resolve, review_plan
from collector_tui.services.context import writes
from collector_tui.services.errors import InvalidInput


@dataclass(frozen=True)
class PostedPayment:
    payment_id: uuid.UUID
    allocations: tuple[tuple[uuid.UUID, int], ...]  # (promise id, minor units), oldest due first
    balance_after: int
    case_status: str
    case_version: int = 0  # for the next expected_version of a form that stays open


def _invoices_paid(session: Session, parts: list[PaymentPart]) -> list[list[Any]]:
    """[invoice number, minor units] for the audit trail, in the order they were paid."""
    paid: dict[uuid.UUID, int] = {}
    for part in parts:
        if part.invoice_id is not None:
            paid[part.invoice_id] = paid.get(part.invoice_id, 0) + part.amount
    numbers = dict(
        session.exec(select(Invoice.id, Invoice.number).where(col(Invoice.id).in_(paid))).all()
    )
    return [[numbers[invoice_id], amount] for invoice_id, amount in paid.items()]


@writes
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
    expected_version: int | None = None,
) -> PostedPayment:
    """Record money received and apply it: pending promises first (oldest due first), then
    promises already judged partial; a promise paid in full is kept at once, before its date."""
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    method_text, reference_text = _check_payment(
        session=session,
        now=now,
        actor=actor,
        case=case,
        amount=amount,
        received_on=received_on,
        method=method,
        reference=reference,
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

        allocations, plans = _allocate_to_promises(session, now, actor, case, payment)
        parts = balances.apply_payment(session, case, payment, settings)
        invoices_paid = _invoices_paid(session, parts)

        case.balance -= amount
        if case.balance == 0:
            _close_paid_case(session, now, actor, case, plans)
        session.flush()
        for plan_id in plans:
            review_plan(session, now, plan_id, actor.user_id)
        # A kept settlement promise settles the case (casework.settlements).
        from collector_tui.services.casework.settlements import settlement_after_payment

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


def _check_payment(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    amount: int,
    received_on: date,
    method: str | None,
    reference: str | None,
) -> tuple[str | None, str | None]:
    """Every check of a payment before anything is written; the method and reference, tidied."""
    if type(amount) is not int:
        raise InvalidInput(_("the amount must be a whole number of minor units"), field="amount")
    if amount <= 0:
        raise InvalidInput(_("a payment needs an amount above zero"), field="amount")
    if amount > case.balance:
        raise InvalidInput(
            _("payment of {amount} exceeds the balance {balance}").format(
                amount=show_money(amount, case.currency),
                balance=show_money(case.balance, case.currency),
            ),
            field="amount",
        )
    if not isinstance(received_on, date) or isinstance(received_on, datetime):
        raise InvalidInput(_("the date received must be a calendar date"), field="received_on")
    if received_on > max(utc_today(now), actor_today(now, actor)):
        raise InvalidInput(_("a payment cannot be received in the future"), field="received_on")
    method_text = check_text(method, field="method", what=N_("the method"), required=False)
    if method_text is not None and len(method_text) > 32:
        raise InvalidInput(_("the method can be at most 32 characters"), field="method")
    reference_text = check_text(
        reference, field="reference", what=N_("the reference"), required=False
    )
    if reference_text is not None:
        if len(reference_text) > 100:
            raise InvalidInput(_("the reference can be at most 100 characters"), field="reference")
        repeat = session.exec(
            select(Payment.id).where(
                Payment.case_id == case.id, Payment.reference == reference_text
            )
        ).first()
        if repeat is not None:
            # Imports rely on this: the same file twice must not take the money twice.
            raise InvalidInput(
                _(
                    "a payment with reference {reference_text!r} is already recorded on this case"
                ).format(reference_text=reference_text),
                field="reference",
            )
    return method_text, reference_text


def _allocate_to_promises(
    session: Session, now: datetime, actor: Actor, case: Case, payment: Payment
) -> tuple[list[tuple[uuid.UUID, int]], set[uuid.UUID]]:
    """Pay into the case's pending promises (oldest due first), then those already judged
    partial; a pending promise paid in full is kept at once. The allocations, and the plans
    whose installments were paid into."""
    allocations: list[tuple[uuid.UUID, int]] = []
    plans: set[uuid.UUID] = set()
    left = payment.amount
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
                resolve(session, now, promise, PromiseStatus.kept.value, actor.user_id)
    return allocations, plans


def _close_paid_case(
    session: Session, now: datetime, actor: Actor, case: Case, plans: set[uuid.UUID]
) -> None:
    """A case paid in full: paid, its open follow-ups closed, any pending promise cancelled (its
    plan added to `plans`, to be reviewed with the others)."""
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
        select(Promise).where(Promise.case_id == case.id, Promise.status == PromiseStatus.pending)
    ).all():
        resolve(session, now, leftover, PromiseStatus.cancelled.value, actor.user_id, "paid")
        if leftover.plan_id is not None:
            plans.add(leftover.plan_id)
