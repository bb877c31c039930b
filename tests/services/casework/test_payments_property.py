"""Random sequences of promises, plans, payments, cancellations and the passage of time on one
case: the money always adds up, and every refusal leaves nothing behind.

One migrated database serves the whole module; each example works on a fresh case in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import Session, col, func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    AuditEvent,
    Case,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    Promise,
    PromiseStatus,
)
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import payments, promises, sweep
from collector_tui.services.casework.cases import PlacementInput, add_placement
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.services.errors import InvalidInput

if TYPE_CHECKING:
    from conftest import TestDatabases

START = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
SETTINGS = Settings()


@dataclass
class Book:
    store: db.Store
    agent: Actor
    cases: int = 0


@pytest.fixture(scope="module")
def book(databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    store = databases.open(tmp_path_factory.mktemp("payments"), "property.db")
    with store.write() as session:
        agent = accounts.create_user(
            session=session, now=START, username="alice", password="demo", role="agent"
        )
    yield Book(store, agent)
    store.dispose()


# Amounts are drawn as percentages of the balance at that moment, so that most steps are
# acceptable and partial payments, exact payoffs and just-too-much amounts all come up often.
percent = st.one_of(st.integers(-5, 110), st.sampled_from([0, 1, 50, 99, 100, 101]))
promise_op = st.tuples(st.just("promise"), percent, st.integers(-2, 40))
plan_op = st.tuples(st.just("plan"), st.lists(percent, min_size=1, max_size=4), st.integers(0, 9))
pay_op = st.tuples(st.just("pay"), percent, st.sampled_from([None, None, "TX-1", "TX-2"]))
wait_op = st.tuples(st.just("wait"), st.integers(0, 12))
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 3))
operations = st.lists(
    st.one_of(promise_op, promise_op, plan_op, pay_op, pay_op, pay_op, wait_op, cancel_op),
    min_size=1,
    max_size=12,
)


def share(balance: int, pct: object) -> int:
    """pct percent of the balance, at least one unit when pct is positive."""
    assert isinstance(pct, int)
    if pct <= 0:
        return pct
    return max(1, balance * pct // 100)


@dataclass
class Expected:
    original: int
    paid: int = 0
    references: set[str] = field(default_factory=set)


def footprint(session: Session, case_id: uuid.UUID) -> tuple[object, ...]:
    count = lambda model: session.exec(select(func.count()).select_from(model)).one()  # noqa: E731
    case = session.get(Case, case_id)
    assert case is not None
    return (
        count(Payment),
        count(PaymentAllocation),
        count(Promise),
        count(PaymentPlan),
        count(AuditEvent),
        case.version,
        session.exec(select(func.sum(Promise.version))).one(),
    )


def check_invariants(session: Session, case_id: uuid.UUID, expected: Expected) -> None:
    case = session.get(Case, case_id)
    assert case is not None
    payments = session.exec(select(Payment).where(Payment.case_id == case_id)).all()
    assert case.balance >= 0
    assert sum(p.amount for p in payments) == expected.paid
    assert case.balance == expected.original - expected.paid
    for payment in payments:
        allocated = session.exec(
            select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
                PaymentAllocation.payment_id == payment.id
            )
        ).one()
        assert 0 <= allocated <= payment.amount
    rows = session.exec(select(Promise).where(Promise.case_id == case_id)).all()
    promise_ids = [p.id for p in rows]
    allocated_to_promises = (
        session.exec(
            select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
                col(PaymentAllocation.promise_id).in_(promise_ids)
            )
        ).one()
        if promise_ids
        else 0
    )
    assert allocated_to_promises == sum(p.paid_amount for p in rows)
    for promise in rows:
        assert 0 <= promise.paid_amount <= promise.amount
        if promise.status == PromiseStatus.pending:
            assert promise.paid_amount < promise.amount  # a paid-up promise is kept at once
            assert promise.resolved_at is None
        else:
            assert promise.resolved_at is not None
        if promise.status == PromiseStatus.kept:
            assert promise.paid_amount == promise.amount
    pending = [p for p in rows if p.status == PromiseStatus.pending]
    assert sum(p.amount - p.paid_amount for p in pending) <= case.balance
    if case.balance == 0:
        assert case.status == "paid" and not pending
    elif any(p.plan_id for p in pending):
        assert case.status == "plan"
    elif pending:
        assert case.status == "promised"


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    balance=st.integers(1, 150_000),
    steps=operations,
)
def test_money_always_adds_up(book: Book, balance: int, steps: list[tuple[object, ...]]) -> None:
    store, agent = book.store, book.agent
    book.cases += 1
    with store.write() as session:
        case_id = add_placement(
            session=session,
            now=START,
            placement=PlacementInput(
                client="Property",
                client_ref=f"P-{book.cases}-{uuid.uuid4().hex[:8]}",
                debtor_name="张三",
                country="CN",
                currency="CNY",
                principal=balance,
                due_date=date(2026, 9, 1),
                placed_date=date(2026, 10, 1),
                assigned_to_id=agent.user_id,
            ),
            settings=SETTINGS,
        ).id
    expected = Expected(original=balance)
    now = START
    for step in steps:
        kind = step[0]
        with store.write() as session:
            balance_before = session.get(Case, case_id).balance  # type: ignore[union-attr]
            before = footprint(session, case_id)
            try:
                if kind == "promise":
                    _, pct, days = step
                    amount = share(balance_before, pct)
                    promises.create_promise(
                        session=session,
                        now=now,
                        actor=agent,
                        case_id=case_id,
                        promise=PromiseInput(amount, now.date() + timedelta(days=days)),  # type: ignore[arg-type]
                        settings=SETTINGS,
                    )
                elif kind == "plan":
                    _, pcts, start = step
                    first = now.date() + timedelta(days=start)  # type: ignore[arg-type]
                    plan = PlanInput(
                        tuple(
                            PromiseInput(share(balance_before, p), first + timedelta(days=30 * i))
                            for i, p in enumerate(pcts)  # type: ignore[arg-type]
                        )
                    )
                    promises.create_plan(
                        session=session,
                        now=now,
                        actor=agent,
                        case_id=case_id,
                        plan=plan,
                        settings=SETTINGS,
                    )
                elif kind == "pay":
                    _, pct, reference = step
                    amount = share(balance_before, pct)
                    should_refuse = (
                        amount <= 0 or amount > balance_before or reference in expected.references
                    )
                    posted = payments.post_payment(
                        session=session,
                        now=now,
                        actor=agent,
                        case_id=case_id,
                        amount=amount,
                        received_on=now.date(),
                        settings=SETTINGS,
                        reference=reference,  # type: ignore[arg-type]
                    )
                    assert not should_refuse, f"payment {step} was taken"
                    assert sum(part for _, part in posted.allocations) <= amount
                    assert posted.balance_after == balance_before - amount
                    expected.paid += amount
                    if reference is not None:
                        expected.references.add(reference)  # type: ignore[arg-type]
                elif kind == "wait":
                    now += timedelta(days=step[1])  # type: ignore[arg-type]
                    sweep.sweep(session=session, now=now, settings=SETTINGS, case_ids=[case_id])
                elif kind == "cancel":
                    pending = session.exec(
                        select(Promise.id)
                        .where(Promise.case_id == case_id, Promise.status == "pending")
                        .order_by(col(Promise.due_date))
                    ).all()
                    if pending:
                        promises.cancel_promise(
                            session=session,
                            now=now,
                            actor=agent,
                            promise_id=pending[step[1] % len(pending)],  # type: ignore[operator]
                            settings=SETTINGS,
                            reason="changed their mind",
                        )
            except InvalidInput:
                # The session still commits: a refusal must have written nothing at all.
                assert footprint(session, case_id) == before
                if kind == "pay":
                    assert should_refuse, f"payment {step} was refused"
        with store.read() as session:
            check_invariants(session, case_id, expected)
