"""Charges after placement (legal costs, fees, interest) and their waivers: the balance moves by
exactly the charge through its components, payments pay charges in each client's allocation order,
bad input writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    AuditEvent,
    BalanceComponent,
    Case,
    CaseCharge,
    Invoice,
    PaymentPart,
)
from collector_tui.services.casework import balances, charges, payments
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound, ServiceError

REASON = "court filing fee for the claim"


@pytest.fixture
def b2b(place):  # noqa: ANN001, ANN201
    """A company case of two invoices: INV-1 60.00 (older) and INV-2 40.00, balance 100.00."""
    return place(
        "B2B-C",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            InvoiceInput("INV-1", date(2026, 8, 1), 6_000),
            InvoiceInput("INV-2", date(2026, 9, 1), 4_000),
        ),
    )


def _charge(store: db.Store, users, case, now, settings, **kw):  # noqa: ANN001, ANN003, ANN202
    values: dict[str, object] = {"amount": 2_000, "component": "costs", "reason": REASON}
    values.update(kw)
    actor = values.pop("actor", users["sam"])
    with store.write() as session:
        return charges.add_charge(
            session=session, now=now, actor=actor, settings=settings, case_id=case.id, **values
        )


def _waive(store: db.Store, users, charge_id, now, settings, **kw):  # noqa: ANN001, ANN003, ANN202
    values: dict[str, object] = {"reason": "the client forgives the filing fee"}
    values.update(kw)
    actor = values.pop("actor", users["sam"])
    with store.write() as session:
        return charges.waive_charge(
            session=session,
            now=now,
            actor=actor,
            settings=settings,
            charge_id=charge_id,
            **values,
        )


def _footprint(store: db.Store) -> tuple[int, ...]:
    with store.read() as session:

        def count(model: type) -> int:
            return session.exec(select(func.count()).select_from(model)).one()

        return (
            count(CaseCharge),
            count(AuditEvent),
            count(BalanceComponent),
            session.exec(select(func.coalesce(func.sum(BalanceComponent.amount), 0))).one(),
            session.exec(select(func.coalesce(func.sum(Case.balance), 0))).one(),
            session.exec(select(func.coalesce(func.sum(Invoice.open_amount), 0))).one(),
        )


def _pay(store: db.Store, users, case, now, settings, amount: int):  # noqa: ANN001, ANN202
    with store.write() as session:
        return payments.post_payment(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            amount=amount,
            received_on=now.date(),
            settings=settings,
        )


def _components(store: db.Store, case) -> dict[str, int]:  # noqa: ANN001
    with store.read() as session:
        row = session.get(Case, case.id)
        assert row is not None
        found = balances.case_components(session, row)
        assert found.total == row.balance
        return found.as_dict()


def test_a_charge_raises_the_balance_through_its_component(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    case = place("C-COSTS", principal=10_000, fees=500)
    change = _charge(store, users, case, now, settings)
    assert (change.balance, change.component, change.amount, change.invoice) == (
        12_500,
        "costs",
        2_000,
        None,
    )
    assert change.components == {"principal": 10_000, "fees": 500, "interest": 0, "costs": 2_000}
    assert _components(store, case) == change.components
    with store.read() as session:
        charge = session.get(CaseCharge, change.charge_id)
        assert charge is not None
        assert (charge.amount, charge.reason, charge.created_by_id) == (
            2_000,
            REASON,
            users["sam"].user_id,
        )
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "charge")).all()
        assert [(e.action, e.after["amount"]) for e in events] == [("add", 2_000)]
        moved = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "case", AuditEvent.action == "update")
        ).all()
        assert any(e.after.get("balance") == 12_500 for e in moved)
    listed = _list(store, users, case)
    assert [(v.component, v.amount, v.waived, v.created_by) for v in listed] == [
        ("costs", 2_000, 0, "sam")
    ]


def _list(store: db.Store, users, case):  # noqa: ANN001, ANN202
    with store.read() as session:
        return charges.list_charges(session=session, actor=users["sam"], case_id=case.id)


def test_a_charge_on_an_invoice_raises_its_open_amount(
    store: db.Store, users, b2b, now, settings: Settings
) -> None:  # noqa: ANN001
    change = _charge(store, users, b2b, now, settings, component="interest", amount=300,
                     invoice=" INV-2 ")  # fmt: skip
    assert (change.balance, change.invoice) == (10_300, "INV-2")
    with store.read() as session:
        inv2 = session.exec(select(Invoice).where(Invoice.number == "INV-2")).one()
        assert (inv2.amount, inv2.open_amount) == (4_000, 4_300)
        rows = session.exec(
            select(BalanceComponent).where(BalanceComponent.invoice_id == inv2.id)
        ).all()
        assert sorted((r.component, r.amount) for r in rows) == [
            ("interest", 300),
            ("principal", 4_000),
        ]


def test_a_payment_pays_a_charge_in_each_clients_order(store: db.Store, users, place, now) -> None:  # noqa: ANN001
    """The same payment on the same debt: costs first for one client, principal first for the
    other (config `allocation_order` per client)."""
    settings = replace(
        Settings(),
        allocation_order={"Principal First": ["principal", "fees", "interest", "costs"]},
    )
    costs_first = place("C-CF", principal=10_000, fees=500, interest=200)
    principal_first = place("C-PF", client="Principal First", principal=10_000, fees=500,
                            interest=200)  # fmt: skip
    for case in (costs_first, principal_first):
        _charge(store, users, case, now, settings, amount=1_500)
        _pay(store, users, case, now, settings, 2_000)
    # Default order costs, interest, fees, principal: 15.00 costs, 2.00 interest, 3.00 fees.
    assert _components(store, costs_first) == {
        "principal": 10_000,
        "fees": 200,
        "interest": 0,
        "costs": 0,
    }
    assert _components(store, principal_first) == {
        "principal": 8_000,
        "fees": 500,
        "interest": 200,
        "costs": 1_500,
    }
    with store.read() as session:
        parts = session.exec(
            select(PaymentPart.component, PaymentPart.amount).where(
                PaymentPart.case_id == costs_first.id
            )
        ).all()
        assert sorted(parts) == [("costs", 1_500), ("fees", 300), ("interest", 200)]


def test_a_waiver_takes_back_what_is_left_of_a_charge(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    case = place("C-WAIVE", principal=10_000)
    charge = _charge(store, users, case, now, settings, amount=2_000)
    # A payment takes 5.00 of the costs first (default order): 15.00 of them is still open.
    _pay(store, users, case, now, settings, 500)
    with pytest.raises(InvalidInput, match="more than the 15.00 CNY left"):
        _waive(store, users, charge.charge_id, now, settings, amount=1_600)
    part = _waive(store, users, charge.charge_id, now, settings, amount=1_000)
    assert (part.amount, part.balance) == (1_000, 10_500)
    rest = _waive(store, users, charge.charge_id, now, settings)
    assert (rest.amount, rest.balance) == (500, 10_000)
    assert _components(store, case) == {"principal": 10_000, "fees": 0, "interest": 0, "costs": 0}
    with pytest.raises(InvalidInput, match="nothing of the costs is open"):
        _waive(store, users, charge.charge_id, now, settings)
    with pytest.raises(InvalidInput, match="a waiver cannot be waived"):
        _waive(store, users, rest.charge_id, now, settings)
    listed = _list(store, users, case)
    # One instant: the rows of that instant in any order.
    assert sorted((v.amount, v.waived) for v in listed) == [(-1_000, 0), (-500, 0), (2_000, 1_500)]


def test_a_case_waived_down_to_nothing_is_closed(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    case = place("C-ZERO", principal=1_000)
    charge = _charge(store, users, case, now, settings, amount=400)
    _pay(store, users, case, now, settings, 1_000)  # costs first: 600 of the principal left
    with store.read() as session:
        assert session.get(Case, case.id).balance == 400
    # The costs were paid; the rest is principal: nothing of the charge is left to waive.
    with pytest.raises(InvalidInput, match="nothing of the costs is open"):
        _waive(store, users, charge.charge_id, now, settings)
    principal_first = replace(
        Settings(), allocation_order={"ACME Bank": ["principal", "fees", "interest", "costs"]}
    )
    other = place("C-ZERO2", principal=1_000)
    second = _charge(store, users, other, now, principal_first, amount=400)
    _pay(store, users, other, now, principal_first, 1_000)
    done = _waive(store, users, second.charge_id, now, principal_first)
    assert (done.balance, done.case_status) == (0, "closed")


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"amount": 0}, InvalidInput, "a charge must be above zero"),
        ({"amount": -500}, InvalidInput, "a charge must be above zero"),
        ({"amount": 10**16}, InvalidInput, "beyond any real debt"),
        ({"amount": 12.5}, InvalidInput, "whole number of minor units"),
        ({"amount": True}, InvalidInput, "whole number of minor units"),
        ({"component": "principal"}, InvalidInput, "a charge is one of costs, fees, interest"),
        ({"component": "bribes"}, InvalidInput, "unknown component 'bribes'"),
        ({"reason": "fee"}, InvalidInput, "at least 10 characters"),
        ({"reason": "   "}, InvalidInput, "a reason is required"),
        ({"invoice": "INV-404"}, InvalidInput, "has no invoice 'INV-404'"),
        ({"actor": "alice"}, Forbidden, "only a supervisor can add a charge"),
    ],
)
def test_a_bad_charge_writes_nothing(
    store: db.Store, users, b2b, now, settings: Settings, values, error, message
) -> None:  # noqa: ANN001
    if values.get("actor") == "alice":
        values = {**values, "actor": users["alice"]}
    before = _footprint(store)
    with pytest.raises(error, match=message) as raised:
        _charge(store, users, b2b, now, settings, **values)
    assert isinstance(raised.value, ServiceError)
    assert _footprint(store) == before


def test_a_charge_on_a_closed_case_is_refused(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    case = place("C-PAID", principal=1_000)
    _pay(store, users, case, now, settings, 1_000)
    before = _footprint(store)
    with pytest.raises(InvalidInput, match="C-PAID is already paid: cannot add a charge"):
        _charge(store, users, case, now, settings)
    assert _footprint(store) == before


def test_a_bad_waiver_writes_nothing(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    import uuid

    case = place("C-BADW", principal=1_000)
    charge = _charge(store, users, case, now, settings, amount=400)
    before = _footprint(store)
    with pytest.raises(NotFound, match="no such charge"):
        _waive(store, users, uuid.uuid4(), now, settings)
    with pytest.raises(Forbidden, match="only a supervisor can waive a charge"):
        _waive(store, users, charge.charge_id, now, settings, actor=users["alice"])
    with pytest.raises(InvalidInput, match="a waiver must be above zero"):
        _waive(store, users, charge.charge_id, now, settings, amount=0)
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        _waive(store, users, charge.charge_id, now, settings, reason="no")
    assert _footprint(store) == before
