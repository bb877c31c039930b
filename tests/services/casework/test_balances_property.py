"""Random sequences of payments, reversals, disputes, resolutions, promises, charges and waivers
on one B2B case
(invoices plus placed fees and interest), under a random allocation order: the balance always
equals the sum of its components (>= 0, each invoice's open amount its own components' sum), the
payments' parts add up to payments less reversals, promises hold what was allocated to them, and a
refusal leaves nothing behind.

One migrated database serves the whole module; each example works on a fresh case in it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from collector_tui import db
from collector_tui.config import COMPONENTS, Settings
from collector_tui.models import (
    AuditEvent,
    BalanceComponent,
    Case,
    CaseCharge,
    Invoice,
    InvoiceDispute,
    Payment,
    PaymentAllocation,
    PaymentPart,
    Promise,
    PromiseStatus,
)
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import (
    balances,
    charges,
    disputes,
    payments,
    promises,
    reversals,
)
from collector_tui.services.casework.cases import InvoiceInput, PlacementInput, add_placement
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import ServiceError

if TYPE_CHECKING:
    from conftest import TestDatabases

START = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
ORDERS = list(itertools.permutations(COMPONENTS))


@dataclass
class Book:
    store: db.Store
    agent: Actor
    supervisor: Actor
    cases: int = 0


@pytest.fixture(scope="module")
def book(databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    store = databases.open(tmp_path_factory.mktemp("balances"), "property.db")
    with store.write() as session:
        agent = accounts.create_user(
            session=session, now=START, username="alice", password="demo", role="agent"
        )
        supervisor = accounts.create_user(
            session=session, now=START, username="sam", password="demo", role="supervisor"
        )
    yield Book(store, agent, supervisor)
    store.dispose()


percent = st.one_of(st.integers(-5, 110), st.sampled_from([0, 1, 50, 99, 100, 101]))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), percent),
        st.tuples(st.just("pay"), percent),
        st.tuples(st.just("reverse"), st.integers(0, 5)),
        st.tuples(st.just("dispute"), st.integers(0, 2), st.one_of(st.none(), percent)),
        st.tuples(
            st.just("resolve"),
            st.integers(0, 3),
            st.sampled_from(["upheld", "rejected", "partly"]),
            percent,
        ),
        st.tuples(st.just("promise"), percent, st.integers(0, 10)),
        st.tuples(st.just("wait"), st.integers(0, 6)),
        st.tuples(
            st.just("charge"),
            st.sampled_from(["costs", "fees", "interest"]),
            st.integers(0, 2),  # INV-1, INV-2 or the case itself
            st.one_of(st.integers(-5, 20_000), st.sampled_from([0, 1, 10**16])),
        ),
        st.tuples(st.just("waive"), st.integers(0, 3), st.one_of(st.none(), percent)),
    ),
    min_size=1,
    max_size=14,
)


def share(amount: int, pct: int) -> int:
    return pct if pct <= 0 else max(1, amount * pct // 100)


def footprint(session: Session) -> tuple[int, ...]:
    def count(model: type) -> int:
        return session.exec(select(func.count()).select_from(model)).one()

    return (
        count(Payment),
        count(PaymentPart),
        count(PaymentAllocation),
        count(InvoiceDispute),
        count(CaseCharge),
        count(AuditEvent),
        session.exec(select(func.coalesce(func.sum(BalanceComponent.amount), 0))).one(),
    )


def check(session: Session, case_id: uuid.UUID, credited: int, original: int, charged: int) -> None:
    case = session.get(Case, case_id)
    assert case is not None
    rows = session.exec(select(BalanceComponent).where(BalanceComponent.case_id == case_id)).all()
    if rows:
        assert all(row.amount >= 0 for row in rows)
        assert sum(row.amount for row in rows) == case.balance
        for invoice in session.exec(select(Invoice).where(Invoice.case_id == case_id)).all():
            mine = sum(row.amount for row in rows if row.invoice_id == invoice.id)
            assert invoice.open_amount == mine >= 0
    assert balances.case_components(session, case).total == case.balance >= 0
    paid = session.exec(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.case_id == case_id)
    ).one()
    parts = session.exec(
        select(func.coalesce(func.sum(PaymentPart.amount), 0)).where(PaymentPart.case_id == case_id)
    ).one()
    assert parts == paid  # allocations = payments - reversals
    assert case.balance == original - paid - credited + charged
    on_record = session.exec(
        select(func.coalesce(func.sum(CaseCharge.amount), 0)).where(CaseCharge.case_id == case_id)
    ).one()
    assert on_record == charged  # charges less waivers
    assert 0 <= balances.disputed_total(session, case_id) <= case.balance
    for promise in session.exec(select(Promise).where(Promise.case_id == case_id)).all():
        allocated = session.exec(
            select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
                PaymentAllocation.promise_id == promise.id
            )
        ).one()
        assert allocated == promise.paid_amount
        assert 0 <= promise.paid_amount <= promise.amount
        if promise.status == PromiseStatus.kept:
            assert promise.paid_amount == promise.amount


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amounts=st.tuples(st.integers(1, 50_000), st.integers(1, 50_000)),
    extra=st.tuples(st.integers(0, 5_000), st.integers(0, 5_000)),
    order=st.sampled_from(ORDERS),
    steps=operations,
)
def test_balance_is_always_its_components(
    book: Book,
    amounts: tuple[int, int],
    extra: tuple[int, int],
    order: tuple[str, ...],
    steps: list[tuple[object, ...]],
) -> None:
    store = book.store
    book.cases += 1
    settings = replace(Settings(), allocation_order={"Property": list(order)})
    fees, interest = extra
    original = sum(amounts) + fees + interest
    with store.write() as session:
        case_id = add_placement(
            session=session,
            now=START,
            placement=PlacementInput(
                client="Property",
                client_ref=f"B-{book.cases}-{uuid.uuid4().hex[:8]}",
                debtor_name="深圳华信贸易有限公司",
                debtor_kind="company",
                country="CN",
                currency="CNY",
                principal=sum(amounts),
                fees=fees,
                interest=interest,
                balance=original,
                due_date=date(2026, 9, 1),
                placed_date=date(2026, 10, 1),
                invoices=(
                    InvoiceInput("INV-1", date(2026, 8, 1), amounts[0]),
                    InvoiceInput("INV-2", date(2026, 9, 1), amounts[1]),
                ),
                assigned_to_id=book.agent.user_id,
            ),
            settings=settings,
        ).id
    now = START
    credited = 0
    charged = 0
    for step in steps:
        with store.write() as session:
            case = session.get(Case, case_id)
            assert case is not None
            before = footprint(session)
            kind = step[0]
            try:
                if kind == "pay":
                    payments.post_payment(
                        session=session,
                        now=now,
                        actor=book.agent,
                        case_id=case_id,
                        amount=share(case.balance, int(step[1])),  # type: ignore[call-overload]
                        received_on=now.date(),
                        settings=settings,
                    )
                elif kind == "reverse":
                    made = session.exec(
                        select(Payment.id)
                        .where(Payment.case_id == case_id)
                        .order_by(Payment.created_at, Payment.id)
                    ).all()
                    target = made[int(step[1]) % len(made)] if made else uuid.uuid4()  # type: ignore[call-overload]
                    reversals.reverse_payment(
                        session=session,
                        now=now,
                        actor=book.supervisor,
                        settings=settings,
                        payment_id=target,
                        reason="bounced",
                    )
                elif kind == "dispute":
                    _, which, pct = step
                    invoice = session.exec(
                        select(Invoice).where(Invoice.case_id == case_id).order_by(Invoice.number)
                    ).all()[int(which) % 2]  # type: ignore[call-overload]
                    disputes.open_dispute(
                        session=session,
                        now=now,
                        actor=book.agent,
                        settings=settings,
                        case_id=case_id,
                        invoice="INV-9" if which == 2 else invoice.number,
                        category="price",
                        reason="priced above the quote",
                        amount=None if pct is None else share(invoice.open_amount, int(pct)),  # type: ignore[call-overload]
                    )
                elif kind == "resolve":
                    _, which, outcome, pct = step
                    made = session.exec(
                        select(InvoiceDispute)
                        .where(InvoiceDispute.case_id == case_id)
                        .order_by(InvoiceDispute.opened_at, InvoiceDispute.id)
                    ).all()
                    if not made:
                        continue
                    dispute = made[int(which) % len(made)]  # type: ignore[call-overload]
                    done = disputes.resolve_dispute(
                        session=session,
                        now=now,
                        actor=book.supervisor,
                        settings=settings,
                        dispute_id=dispute.id,
                        outcome=str(outcome),
                        reason="checked with the client",
                        amount=share(dispute.amount, int(pct)) if outcome == "partly" else None,  # type: ignore[call-overload]
                    )
                    credited += done.credited
                elif kind == "promise":
                    _, pct, days = step
                    promises.create_promise(
                        session=session,
                        now=now,
                        actor=book.agent,
                        case_id=case_id,
                        promise=PromiseInput(
                            share(case.balance, int(pct)),  # type: ignore[call-overload]
                            now.date() + timedelta(days=int(days)),  # type: ignore[call-overload]
                        ),
                        settings=settings,
                    )
                elif kind == "wait":
                    now += timedelta(days=int(step[1]))  # type: ignore[call-overload]
                elif kind == "charge":
                    _, component, which, amount = step
                    added = charges.add_charge(
                        session=session,
                        now=now,
                        actor=book.supervisor,
                        settings=settings,
                        case_id=case_id,
                        amount=int(amount),  # type: ignore[call-overload]
                        component=str(component),
                        reason="legal costs of the claim",
                        invoice=("INV-1", "INV-2", None)[int(which)],  # type: ignore[call-overload]
                    )
                    charged += added.amount
                elif kind == "waive":
                    _, which, pct = step
                    made_charges = session.exec(
                        select(CaseCharge)
                        .where(CaseCharge.case_id == case_id)
                        .order_by(CaseCharge.created_at, CaseCharge.id)
                    ).all()
                    if not made_charges:
                        continue
                    target_charge = made_charges[int(which) % len(made_charges)]  # type: ignore[call-overload]
                    waived = charges.waive_charge(
                        session=session,
                        now=now,
                        actor=book.supervisor,
                        settings=settings,
                        charge_id=target_charge.id,
                        reason="the client forgives it",
                        amount=None if pct is None else share(abs(target_charge.amount), int(pct)),  # type: ignore[call-overload]
                    )
                    charged -= waived.amount
            except ServiceError:
                session.rollback()
                assert footprint(session) == before  # nothing written by a refusal
            check(session, case_id, credited, original, charged)
