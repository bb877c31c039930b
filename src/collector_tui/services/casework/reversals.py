"""Reversing a payment that did not stand: it bounced, was charged back, or was posted in error.

Payments are facts: the reversal is a new payment row of the opposite amount that voids the first
(`voids_id`, `reversal_reason`). Everything the payment did is undone in the same unit of work:
its parts of the balance are put back on the invoices and components it paid
(casework.balances.undo_payment), its promise allocations are matched by negative ones, and each
promise it paid into is judged again: still inside its due date and grace it is pending again,
past them it is partial (something else was paid) or broken. A kept promise that falls gets a
follow-up for the case's agent, who has a debtor to call. A paid or closed case opens again.

A reversal is a supervisor's (it changes the money on a case; on a laptop it is refused by sync,
which leaves reversals to the master). A reversal cannot itself be reversed, a payment is
reversed once, and a settled or written-off case is refused (the settlement or write-off must be
undone first, by a supervisor who knows why).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.labels import REVERSAL_REASONS as REVERSAL_REASON_WORDS
from collector_tui.labels import word
from collector_tui.models import (
    CaseStatus,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    Promise,
    PromiseStatus,
    case_status_label,
)
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, require_supervisor
from collector_tui.services.casework import balances
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    finish_case_change,
    settle_status,
    show_money,
    utc_today,
)
from collector_tui.services.casework.followups import FollowUpInput, add_follow_up_to_case
from collector_tui.services.casework.holds import status_from_facts
from collector_tui.services.casework.promises import resolve, review_plan
from collector_tui.services.context import writes
from collector_tui.services.errors import InvalidInput, NotFound

REVERSAL_REASONS = ("bounced", "chargeback", "error")


@dataclass(frozen=True)
class ReversedPayment:
    reversal_id: uuid.UUID
    payment_id: uuid.UUID
    amount: int  # what the reversed payment was (positive)
    currency: str
    reason: str
    balance_after: int
    case_status: str
    promises: tuple[tuple[uuid.UUID, str], ...]  # (promise id, its status now)
    follow_up_id: uuid.UUID | None
    case_version: int


def _judge_again(
    session: Session, now: datetime, promise: Promise, actor: Actor, why: str, paid_before: int
) -> str | None:
    """The promise's status once the money it counted is gone (`promise.paid_amount` already
    lowered from `paid_before`); the old status if it changed."""
    if promise.status not in (PromiseStatus.kept, PromiseStatus.partial):
        return None
    if promise.paid_amount >= promise.amount and promise.status == PromiseStatus.kept:
        return None
    before = promise.status
    if utc_today(now) <= promise.due_date + timedelta(days=promise.grace_days):
        # Still time to pay: the promise is open again.
        old = {"status": promise.status, "paid_amount": paid_before}
        promise.status = PromiseStatus.pending.value
        promise.resolved_at = None
        promise.updated_at = now
        session.add(promise)
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="promise",
            entity_id=promise.id,
            action="reopen",
            before=old,
            after={"status": promise.status, "paid_amount": promise.paid_amount, "reason": why},
        )
    else:
        verdict = PromiseStatus.partial if promise.paid_amount > 0 else PromiseStatus.broken
        if verdict == promise.status:
            return None
        resolve(session, now, promise, verdict.value, actor.user_id, why)
    return str(before)


@writes
def reverse_payment(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    payment_id: uuid.UUID,
    reason: str,
    expected_version: int | None = None,
) -> ReversedPayment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(_("no such payment"))
    case = case_for_change(
        session=session, case_id=payment.case_id, actor=actor, expected_version=expected_version
    )
    require_supervisor(actor, "reverse a payment")
    if reason not in REVERSAL_REASONS:
        raise InvalidInput(
            _("unknown reason {reason!r}: use one of {reasons}").format(
                reason=str(reason)[:32], reasons=", ".join(REVERSAL_REASONS)
            ),
            field="reason",
        )
    if payment.voids_id is not None or payment.amount <= 0:
        raise InvalidInput(_("this is a reversal: a reversal cannot be reversed"))
    already = session.exec(select(Payment.id).where(Payment.voids_id == payment.id)).first()
    if already is not None:
        raise InvalidInput(_("this payment is already reversed"))
    if case.status in (CaseStatus.settled, CaseStatus.written_off):
        raise InvalidInput(
            _("case {client_ref} is {status}: undo that first, then reverse the payment").format(
                client_ref=case.client_ref, status=case_status_label(case.status)
            )
        )

    before = case_state(case)
    # Stored (the follow-up's and the assignment's reason) in the language of the process that
    # reverses, the reason's code through its label (docs/decisions.md, Languages).
    why = _("payment of {amount} reversed ({reason})").format(
        amount=show_money(payment.amount, case.currency), reason=word(REVERSAL_REASON_WORDS, reason)
    )
    with changing(session):
        reversal = Payment(
            case_id=case.id,
            amount=-payment.amount,
            received_on=utc_today(now),
            method=payment.method,
            recorded_by_id=actor.user_id,
            voids_id=payment.id,
            reversal_reason=reason,
            created_at=now,
        )
        session.add(reversal)
        session.flush()
        parts = balances.undo_payment(session, case, payment, reversal)
        case.balance += payment.amount

        changed: list[tuple[uuid.UUID, str]] = []
        fallen = False
        plans: set[uuid.UUID] = set()
        allocations = session.exec(
            select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
        ).all()
        for allocation in allocations:
            promise = session.get(Promise, allocation.promise_id)
            if promise is None:
                continue
            promise.paid_amount -= allocation.amount
            promise.updated_at = now
            session.add(promise)
            session.add(
                PaymentAllocation(
                    payment_id=reversal.id, promise_id=promise.id, amount=-allocation.amount
                )
            )
            was = _judge_again(
                session, now, promise, actor, why, promise.paid_amount + allocation.amount
            )
            if was is not None:
                changed.append((promise.id, promise.status))
                fallen = fallen or was == PromiseStatus.kept
            if promise.plan_id is not None:
                plans.add(promise.plan_id)
        session.flush()
        for plan_id in plans:
            plan = session.get(PaymentPlan, plan_id)
            if plan is not None and plan.status == "completed":
                plan.status = "active"
                plan.updated_at = now
                session.add(plan)
                audit.record(
                    session=session,
                    now=now,
                    user_id=actor.user_id,
                    entity="plan",
                    entity_id=plan.id,
                    action="reopen",
                    before={"status": "completed"},
                    after={"status": "active", "reason": why},
                )
            review_plan(session, now, plan_id, actor.user_id)
        reopened = case.status in (CaseStatus.paid, CaseStatus.closed) and case.balance > 0
        if reopened:
            case.status = CaseStatus.active.value
            status_from_facts(session=session, case=case)
        else:
            settle_status(session=session, case=case)
        follow_up_id = None
        if fallen or reopened:
            # Someone must call the debtor about the money that did not arrive.
            follow_up_id = add_follow_up_to_case(
                session=session,
                now=now,
                actor=actor,
                case=case,
                follow_up=FollowUpInput(due_at=now, reason=why),
                owner_id=case.assigned_to_id or actor.user_id,
                reason=_("{why}: call the debtor").format(why=why),
            )
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="payment",
            entity_id=reversal.id,
            action="reverse",
            after={
                "voids_id": payment.id,
                "amount": reversal.amount,
                "reason": reason,
                "parts": [[p.invoice_id, p.component, p.amount] for p in parts],
                "promises": [[promise_id, status] for promise_id, status in changed],
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
    return ReversedPayment(
        reversal_id=reversal.id,
        payment_id=payment.id,
        amount=payment.amount,
        currency=case.currency,
        reason=reason,
        balance_after=case.balance,
        case_status=case.status,
        promises=tuple(changed),
        follow_up_id=follow_up_id,
        case_version=case.version,
    )


def reversed_ids(session: Session, payment_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these payments have been reversed."""
    if not payment_ids:
        return set()
    return {
        voided
        for voided in session.exec(
            select(Payment.voids_id).where(col(Payment.voids_id).in_(payment_ids))
        ).all()
        if voided is not None
    }
