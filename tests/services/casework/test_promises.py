"""Promises, plans, payments and the sweep: validation, allocation, kept at once, the grace
boundary, plans breaking, scoping and idempotence."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlmodel import col, func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    TIER_BROKEN_PROMISE,
    TIER_NONE,
    AuditEvent,
    Case,
    FollowUp,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    Promise,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import followups, payments, promises, sweep
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.services.errors import Forbidden, InvalidInput

TODAY = date(2026, 11, 20)  # the conftest `now` is 2026-11-20 14:30 UTC


@pytest.fixture
def book(store: db.Store, settings: Settings, users: dict[str, Actor], now: datetime):
    """Short calls for the tests: book.promise(case, 100, date), book.pay(case, 100), ..."""

    class Book:
        def promise(self, case: Case, amount: int, due: date, *, at: datetime = now, **kw: Any):
            with store.write() as session:
                return promises.create_promise(
                    session=session,
                    now=at,
                    actor=kw.pop("actor", users["alice"]),
                    case_id=case.id,
                    promise=PromiseInput(amount, due, **kw),
                    settings=settings,
                )

        def plan(self, case: Case, *terms: tuple[int, date], at: datetime = now) -> uuid.UUID:
            with store.write() as session:
                return promises.create_plan(
                    session=session,
                    now=at,
                    actor=users["alice"],
                    case_id=case.id,
                    plan=PlanInput(tuple(PromiseInput(a, d) for a, d in terms)),
                    settings=settings,
                )

        def pay(self, case: Case, amount: int, *, at: datetime = now, **kw: Any):
            with store.write() as session:
                return payments.post_payment(
                    session=session,
                    now=at,
                    actor=kw.pop("actor", users["alice"]),
                    case_id=case.id,
                    amount=amount,
                    received_on=kw.pop("received_on", at.date()),
                    settings=settings,
                    **kw,
                )

        def sweep(self, on: date, **kw: Any) -> sweep.SweepResult:
            with store.write() as session:
                return sweep.sweep(
                    session=session,
                    now=datetime(on.year, on.month, on.day, 9, tzinfo=UTC),
                    settings=settings,
                    **kw,
                )

        def case(self, case: Case) -> Case:
            with store.read() as session:
                row = session.get(Case, case.id)
                assert row is not None
                return row

        def promises_of(self, case: Case) -> list[Promise]:
            with store.read() as session:
                return list(
                    session.exec(
                        select(Promise).where(Promise.case_id == case.id).order_by(Promise.due_date)
                    )
                )

        def get(self, model: type, row_id: uuid.UUID) -> Any:
            with store.read() as session:
                return session.get(model, row_id)

        def count(self, model: type) -> int:
            with store.read() as session:
                return session.exec(select(func.count()).select_from(model)).one()

    return Book()


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "due", "field", "message"),
    [
        (0, TODAY, "amount", "a promise needs an amount above zero"),
        (-500, TODAY, "amount", "a promise needs an amount above zero"),
        (100_001, TODAY, "amount", "promise of 1,000.01 CNY exceeds the open balance 1,000.00 CNY"),
        (10.5, TODAY, "amount", "the amount must be a whole number of minor units"),
        (100, TODAY - timedelta(days=1), "due_date", "a promise cannot be due in the past"),
        (100, TODAY + timedelta(days=366), "due_date", "at most 365 days ahead"),
    ],
)
def test_bad_promises_are_refused(book, place, amount, due, field, message) -> None:
    case = place("V-1")
    with pytest.raises(InvalidInput) as error:
        book.promise(case, amount, due)
    assert error.value.field == field
    assert message in str(error.value)
    assert book.count(Promise) == 0
    assert book.case(case).status == "new"


def test_validate_promise_alone_needs_no_database(place) -> None:
    case = place("V-2")
    promises.validate_promise(case=case, promise=PromiseInput(100_000, TODAY), today=TODAY)
    promises.validate_promise(
        case=case, promise=PromiseInput(1, TODAY + timedelta(days=365)), today=TODAY
    )
    with pytest.raises(InvalidInput, match="exceeds"):
        promises.validate_promise(
            case=case, promise=PromiseInput(60_000, TODAY), today=TODAY, committed=50_000
        )


def test_promises_cannot_add_up_beyond_the_balance(book, place) -> None:
    case = place("V-3")
    book.promise(case, 70_000, TODAY + timedelta(days=5))
    with pytest.raises(InvalidInput) as error:
        book.promise(case, 30_001, TODAY + timedelta(days=9))
    assert "exceeds the open balance 300.00 CNY (700.00 CNY already promised)" in str(error.value)
    book.promise(case, 30_000, TODAY + timedelta(days=9))
    assert book.case(case).status == "promised"


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (((100, TODAY + timedelta(days=1)),), "a plan has 2 to 60 installments"),
        (
            tuple((100, TODAY + timedelta(days=i + 1)) for i in range(61)),
            "a plan has 2 to 60 installments",
        ),
        (
            ((100, TODAY + timedelta(days=5)), (100, TODAY + timedelta(days=5))),
            "installment 2: each installment must fall after the one before",
        ),
        (
            ((100, TODAY + timedelta(days=5)), (0, TODAY + timedelta(days=9))),
            "installment 2: a promise needs an amount above zero",
        ),
        (
            ((100, TODAY - timedelta(days=1)), (100, TODAY + timedelta(days=9))),
            "installment 1: a promise cannot be due in the past",
        ),
        (
            ((60_000, TODAY + timedelta(days=5)), (40_001, TODAY + timedelta(days=35))),
            "plan of 1,000.01 CNY exceeds the open balance 1,000.00 CNY",
        ),
    ],
)
def test_bad_plans_are_refused(book, place, terms, message) -> None:
    case = place("V-4")
    with pytest.raises(InvalidInput) as error:
        book.plan(case, *terms)
    assert error.value.field == "installments"
    assert message in str(error.value)
    assert book.count(PaymentPlan) == 0 and book.count(Promise) == 0


def test_only_the_cases_agent_or_a_supervisor_takes_promises(book, place, users) -> None:
    case = place("V-5")
    with pytest.raises(Forbidden):
        book.promise(case, 100, TODAY, actor=users["bob"])
    with pytest.raises(Forbidden):
        book.pay(case, 100, actor=users["bob"])
    book.promise(case, 100, TODAY, actor=users["sam"])
    assert book.count(Promise) == 1


# --- promises and plans ------------------------------------------------------------------------


def test_a_promise_then_its_cancellation_move_the_status(book, place, store, users) -> None:
    case = place("P-1")
    promise_id = book.promise(case, 20_000, TODAY + timedelta(days=3), grace_days=0)
    assert book.case(case).status == "promised"
    assert book.get(Promise, promise_id).grace_days == 0
    with store.write() as session, pytest.raises(InvalidInput) as error:
        promises.cancel_promise(
            session=session,
            now=datetime(2026, 11, 20, 15, tzinfo=UTC),
            actor=users["alice"],
            promise_id=promise_id,
            settings=Settings(),
            reason="  ",
        )
    assert error.value.field == "reason"
    with store.write() as session:
        promises.cancel_promise(
            session=session,
            now=datetime(2026, 11, 20, 15, tzinfo=UTC),
            actor=users["alice"],
            promise_id=promise_id,
            settings=Settings(),
            reason="debtor withdrew it",
        )
    assert book.get(Promise, promise_id).status == "cancelled"
    assert book.case(case).status == "active"
    with store.write() as session, pytest.raises(InvalidInput, match="already cancelled"):
        promises.cancel_promise(
            session=session,
            now=datetime(2026, 11, 20, 15, tzinfo=UTC),
            actor=users["alice"],
            promise_id=promise_id,
            settings=Settings(),
            reason="again",
        )


def test_a_plan_sets_status_plan_and_cancelling_an_installment_cancels_the_plan(
    book, place, store, users
) -> None:
    case = place("P-2")
    plan_id = book.plan(
        case, (10_000, TODAY + timedelta(days=10)), (10_000, TODAY + timedelta(days=40))
    )
    assert book.case(case).status == "plan"
    first = book.promises_of(case)[0]
    with store.write() as session:
        promises.cancel_promise(
            session=session,
            now=datetime(2026, 11, 21, tzinfo=UTC),
            actor=users["alice"],
            promise_id=first.id,
            settings=Settings(),
            reason="new terms coming",
        )
    assert book.get(PaymentPlan, plan_id).status == "cancelled"
    assert [p.status for p in book.promises_of(case)] == ["cancelled", "cancelled"]
    assert book.case(case).status == "active"


# --- payments ----------------------------------------------------------------------------------


def test_payments_pay_the_oldest_due_promise_first(book, place) -> None:
    case = place("M-1")
    later = book.promise(case, 30_000, TODAY + timedelta(days=20))
    sooner = book.promise(case, 20_000, TODAY + timedelta(days=5))  # taken second, due first
    posted = book.pay(case, 25_000)
    assert posted.allocations == ((sooner, 20_000), (later, 5_000))
    assert posted.balance_after == 75_000
    assert book.get(Promise, sooner).status == "kept"  # before its due date: at once
    assert book.get(Promise, later).paid_amount == 5_000
    assert book.get(Promise, later).status == "pending"
    assert posted.case_status == "promised"
    assert book.count(PaymentAllocation) == 2


def test_a_payment_keeps_a_promise_at_once_and_the_case_goes_back_to_active(book, place) -> None:
    case = place("M-2")
    promise_id = book.promise(case, 40_000, TODAY + timedelta(days=7))
    posted = book.pay(case, 40_000, method="bank", reference="TX-1")
    kept = book.get(Promise, promise_id)
    assert (kept.status, kept.paid_amount) == ("kept", 40_000)
    assert kept.resolved_at == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    assert posted.case_status == book.case(case).status == "active"
    assert book.case(case).balance == 60_000
    payment = book.get(Payment, posted.payment_id)
    assert (payment.amount, payment.method, payment.reference) == (40_000, "bank", "TX-1")


def test_a_plan_paid_installment_by_installment_completes(book, place) -> None:
    case = place("M-3")
    plan_id = book.plan(
        case, (10_000, TODAY + timedelta(days=10)), (15_000, TODAY + timedelta(days=40))
    )
    book.pay(case, 10_000)
    assert book.get(PaymentPlan, plan_id).status == "active"
    assert book.case(case).status == "plan"
    book.pay(case, 15_000)
    assert book.get(PaymentPlan, plan_id).status == "completed"
    assert [p.status for p in book.promises_of(case)] == ["kept", "kept"]
    assert book.case(case).status == "active"


def test_paying_in_full_closes_the_case_and_its_follow_ups(book, place, store, users, now) -> None:
    case = place("M-4")
    with store.write() as session:
        followups.create_follow_up(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            follow_up=FollowUpInput(now + timedelta(days=1), "call back"),
            settings=Settings(),
        )
    book.promise(case, 50_000, TODAY + timedelta(days=3))
    posted = book.pay(case, 100_000)
    assert (posted.balance_after, posted.case_status) == (0, "paid")
    assert posted.allocations[0][1] == 50_000
    after = book.case(case)
    assert after.queue_tier == TIER_NONE
    with store.read() as session:
        (follow_up,) = session.exec(select(FollowUp).where(FollowUp.case_id == case.id)).all()
    assert follow_up.done_at == now


@pytest.mark.parametrize(
    ("amount", "received_on", "field", "message"),
    [
        (0, TODAY, "amount", "a payment needs an amount above zero"),
        (-1, TODAY, "amount", "a payment needs an amount above zero"),
        (100_001, TODAY, "amount", "payment of 1,000.01 CNY exceeds the balance 1,000.00 CNY"),
        (100, TODAY + timedelta(days=1), "received_on", "cannot be received in the future"),
    ],
)
def test_bad_payments_are_refused(book, place, amount, received_on, field, message) -> None:
    case = place("M-5")
    with pytest.raises(InvalidInput) as error:
        book.pay(case, amount, received_on=received_on)
    assert error.value.field == field and message in str(error.value)
    assert book.count(Payment) == 0 and book.case(case).balance == 100_000


def test_the_same_reference_twice_on_a_case_is_refused(book, place) -> None:
    case = place("M-6")
    other = place("M-7")
    book.pay(case, 1_000, reference="BANK-42")
    with pytest.raises(InvalidInput) as error:
        book.pay(case, 1_000, reference=" BANK-42 ")
    assert error.value.field == "reference"
    book.pay(other, 1_000, reference="BANK-42")  # another case may carry the same bank reference
    assert book.count(Payment) == 2
    assert book.case(case).balance == 99_000


def test_b2b_payments_pay_the_oldest_invoice_first(book, place, store) -> None:
    case = place(
        "M-8",
        principal=0,
        invoices=(
            InvoiceInput("INV-2", date(2026, 8, 1), 30_000),
            InvoiceInput("INV-1", date(2026, 7, 1), 20_000),
        ),
    )
    book.pay(case, 25_000)
    with store.read() as session:
        left = {i.number: i.open_amount for i in session.exec(select(Invoice))}
    assert left == {"INV-1": 0, "INV-2": 25_000}
    assert book.case(case).balance == 25_000


# --- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_judges_at_the_grace_boundary(book, place) -> None:
    case_broken = place("S-1")
    case_partial = place("S-2")
    due = TODAY + timedelta(days=3)
    broken_id = book.promise(case_broken, 10_000, due, grace_days=2)
    partial_id = book.promise(case_partial, 10_000, due, grace_days=2)
    book.pay(case_partial, 4_000)

    # Due date + grace == today: still pending.
    assert book.sweep(due + timedelta(days=2)) == sweep.SweepResult(0, 0, 0)
    assert book.get(Promise, broken_id).status == "pending"
    # One day later: judged.
    assert book.sweep(due + timedelta(days=3)) == sweep.SweepResult(kept=0, partial=1, broken=1)
    broken, partial = book.get(Promise, broken_id), book.get(Promise, partial_id)
    assert (broken.status, partial.status) == ("broken", "partial")
    assert broken.resolved_at == datetime(2026, 11, 26, 9, tzinfo=UTC)
    for case in (case_broken, case_partial):
        assert book.case(case).status == "active"
    assert book.case(case_broken).queue_tier == TIER_BROKEN_PROMISE
    # Idempotent: nothing pending is left to judge.
    assert book.sweep(due + timedelta(days=4)) == sweep.SweepResult(0, 0, 0)


def test_the_sweep_counts_a_paid_up_promise_as_kept(book, place, store) -> None:
    case = place("S-3")
    promise_id = book.promise(case, 10_000, TODAY, grace_days=0)
    # Paid in full but still pending (e.g. written by an older version): the sweep keeps it.
    with store.write() as session:
        session.exec(
            update(Promise).where(col(Promise.id) == promise_id).values(paid_amount=Promise.amount)
        )
    assert book.sweep(TODAY + timedelta(days=1)) == sweep.SweepResult(1, 0, 0)
    assert book.get(Promise, promise_id).status == "kept"


def test_a_broken_installment_breaks_its_plan(book, place) -> None:
    case = place("S-4")
    plan_id = book.plan(
        case,
        (10_000, TODAY + timedelta(days=1)),
        (10_000, TODAY + timedelta(days=31)),
        (10_000, TODAY + timedelta(days=61)),
    )
    result = book.sweep(TODAY + timedelta(days=1 + 2 + 1))
    assert result == sweep.SweepResult(kept=0, partial=0, broken=1)
    assert book.get(PaymentPlan, plan_id).status == "broken"
    assert [p.status for p in book.promises_of(case)] == ["broken", "cancelled", "cancelled"]
    assert book.case(case).status == "active"
    assert book.count(AuditEvent) > 0


def test_the_sweep_can_be_limited_to_an_agent_or_to_cases(book, place, users) -> None:
    alices = place("S-5")
    bobs = place("S-6", assigned_to_id=users["bob"].user_id)
    book.promise(alices, 100, TODAY, grace_days=0)
    book.promise(bobs, 100, TODAY, grace_days=0, actor=users["bob"])
    later = TODAY + timedelta(days=1)
    assert book.sweep(later, agent_id=users["alice"].user_id) == sweep.SweepResult(0, 0, 1)
    assert book.case(bobs).status == "promised"
    assert book.sweep(later, case_ids=[]) == sweep.SweepResult(0, 0, 0)
    assert book.sweep(later, case_ids=[alices.id]) == sweep.SweepResult(0, 0, 0)
    assert book.sweep(later, case_ids=[bobs.id]) == sweep.SweepResult(0, 0, 1)
    assert book.case(bobs).status == "active"


@pytest.mark.sqlite_only  # SQLite's query plan
def test_the_sweep_selects_in_sql_through_the_status_due_index(book, place, store) -> None:
    case = place("S-7")
    book.promise(case, 100, TODAY, grace_days=0)
    statements: list[tuple[str, Any]] = []

    def spy(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM promise" in statement:
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", spy)
    try:
        assert book.sweep(TODAY + timedelta(days=1)).broken == 1
    finally:
        event.remove(store.engine, "before_cursor_execute", spy)
    first, parameters = statements[0]
    assert "promise.status = ?" in first and "promise.due_date < ?" in first
    with store.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {first}", parameters).all()
    assert "ix_promise_status_due" in " ".join(str(row) for row in plan)


def test_a_short_installment_made_good_later_completes_the_plan(book, place) -> None:
    case = place("S-8")
    plan_id = book.plan(
        case, (10_000, TODAY + timedelta(days=1)), (10_000, TODAY + timedelta(days=31))
    )
    book.pay(case, 4_000)
    assert book.sweep(TODAY + timedelta(days=4)) == sweep.SweepResult(0, 1, 0)
    first, second = book.promises_of(case)
    assert first.status == "partial" and book.get(PaymentPlan, plan_id).status == "active"
    # The live installment is served before the late one.
    posted = book.pay(case, 16_000, at=datetime(2026, 11, 25, tzinfo=UTC))
    assert posted.allocations == ((second.id, 10_000), (first.id, 6_000))
    first, second = book.promises_of(case)
    assert (first.status, first.paid_amount, second.status) == ("partial", 10_000, "kept")
    assert book.get(PaymentPlan, plan_id).status == "completed"
    assert book.case(case).status == "active"
