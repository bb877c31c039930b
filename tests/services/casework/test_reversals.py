"""Payment reversal: the money's effects undone (balance, invoices, components, promises, plans,
case status), audited, once; bad input writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    AuditEvent,
    BalanceComponent,
    Case,
    FollowUp,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentPart,
    Promise,
)
from collector_tui.services.casework import payments, promises, reversals
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound


def _pay(store: db.Store, actor, case, amount: int, now, settings: Settings):  # noqa: ANN001, ANN202
    with store.write() as session:
        return payments.post_payment(
            session=session,
            now=now,
            actor=actor,
            case_id=case.id,
            amount=amount,
            received_on=now.date(),
            settings=settings,
        )


def _reverse(store: db.Store, actor, payment_id, now, settings: Settings, reason: str = "bounced"):  # noqa: ANN001, ANN202
    with store.write() as session:
        return reversals.reverse_payment(
            session=session,
            now=now,
            actor=actor,
            settings=settings,
            payment_id=payment_id,
            reason=reason,
        )


def _promise(store: db.Store, actor, case, amount: int, due: date, now, settings: Settings):  # noqa: ANN001, ANN202
    with store.write() as session:
        return promises.create_promise(
            session=session,
            now=now,
            actor=actor,
            case_id=case.id,
            promise=PromiseInput(amount=amount, due_date=due),
            settings=settings,
        )


def _totals(store: db.Store, case_id) -> tuple[int, int, int, int]:  # noqa: ANN001
    with store.read() as session:
        case = session.get(Case, case_id)
        components = session.exec(
            select(func.coalesce(func.sum(BalanceComponent.amount), 0)).where(
                BalanceComponent.case_id == case_id
            )
        ).one()
        paid = session.exec(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.case_id == case_id)
        ).one()
        parts = session.exec(
            select(func.coalesce(func.sum(PaymentPart.amount), 0)).where(
                PaymentPart.case_id == case_id
            )
        ).one()
        return case.balance, components, paid, parts


def test_reversal_restores_balance_invoices_and_a_kept_promise_breaks(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    case = place(
        "B2B-R",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            InvoiceInput("INV-1", date(2026, 8, 1), 6_000),
            InvoiceInput("INV-2", date(2026, 9, 1), 4_000),
        ),
    )
    _promise(store, users["alice"], case, 7_000, date(2026, 11, 21), now, settings)
    posted = _pay(store, users["alice"], case, 7_000, now, settings)
    with store.read() as session:
        assert session.exec(select(Promise)).one().status == "kept"
    # Three days later, past the due date and its grace, the money bounces.
    later = now + timedelta(days=4)
    done = _reverse(store, users["sam"], posted.payment_id, later, settings)
    assert (done.balance_after, done.amount) == (10_000, 7_000)
    assert [status for _, status in done.promises] == ["broken"]
    assert done.follow_up_id is not None
    with store.read() as session:
        promise = session.exec(select(Promise)).one()
        assert (promise.status, promise.paid_amount) == ("broken", 0)
        opens = dict(session.exec(select(Invoice.number, Invoice.open_amount)).all())
        assert opens == {"INV-1": 6_000, "INV-2": 4_000}
        reversal = session.exec(select(Payment).where(Payment.amount < 0)).one()
        assert (reversal.voids_id, reversal.reversal_reason) == (posted.payment_id, "bounced")
        allocations = session.exec(select(func.sum(PaymentAllocation.amount))).one()
        assert allocations == 0
        follow_up = session.get(FollowUp, done.follow_up_id)
        assert follow_up.owner_id == users["alice"].user_id
        assert "reversed (bounced)" in follow_up.reason
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "reverse")).one()
        assert event.after["voids_id"] == str(posted.payment_id)
    balance, components, paid, parts = _totals(store, case.id)
    assert (balance, components, paid, parts) == (10_000, 10_000, 0, 0)


def test_reversal_inside_the_grace_reopens_the_promise_and_the_paid_case(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    case = place("C-1", principal=5_000, fees=1_000, interest=500)
    _promise(store, users["alice"], case, 6_500, date(2026, 11, 25), now, settings)
    posted = _pay(store, users["alice"], case, 6_500, now, settings)
    assert posted.case_status == "paid"
    # Reversed by a Chinese supervisor: the follow-up's reason is written in Chinese (the
    # language of the process that reverses), the reason's code stays a code.
    from collector_tui.i18n import language

    with language("zh_CN"):
        done = _reverse(store, users["sam"], posted.payment_id, now, settings, reason="chargeback")
    assert done.case_status == "promised"
    assert [status for _, status in done.promises] == ["pending"]
    assert _totals(store, case.id) == (6_500, 6_500, 0, 0)
    with store.read() as session:
        reason = session.get(FollowUp, done.follow_up_id).reason
        reversal = session.exec(select(Payment).where(Payment.amount < 0)).one()
    assert "拒付" in reason and "chargeback" not in reason, reason
    assert reversal.reversal_reason == "chargeback"


def test_bad_reversals_are_refused_and_write_nothing(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    case = place("C-2", principal=5_000)
    posted = _pay(store, users["alice"], case, 1_000, now, settings)

    def count() -> tuple[int, int]:
        with store.read() as session:
            return (
                session.exec(select(func.count()).select_from(Payment)).one(),
                session.exec(select(func.count()).select_from(AuditEvent)).one(),
            )

    before = count()
    with pytest.raises(NotFound, match="no such payment"):
        _reverse(store, users["sam"], case.id, now, settings)
    with pytest.raises(Forbidden, match="supervisor"):
        _reverse(store, users["alice"], posted.payment_id, now, settings)
    with pytest.raises(InvalidInput, match="unknown reason"):
        _reverse(store, users["sam"], posted.payment_id, now, settings, reason="oops")
    assert count() == before
    done = _reverse(store, users["sam"], posted.payment_id, now, settings, reason="error")
    after = count()
    with pytest.raises(InvalidInput, match="already reversed"):
        _reverse(store, users["sam"], posted.payment_id, now, settings)
    with pytest.raises(InvalidInput, match="a reversal cannot be reversed"):
        _reverse(store, users["sam"], done.reversal_id, now, settings)
    assert count() == after
    assert _totals(store, case.id) == (5_000, 5_000, 0, 0)
