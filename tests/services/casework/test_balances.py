"""Balance components: a payment pays them in the client's configured order (SQLite and
PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Case
from collector_tui.services.casework import balances, payments


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (None, {"principal": 5_000, "fees": 300, "interest": 0, "costs": 0}),
        (
            ["principal", "fees", "interest", "costs"],
            {"principal": 3_800, "fees": 1_000, "interest": 500, "costs": 0},
        ),
    ],
)
def test_a_payment_follows_the_clients_allocation_order(
    store: db.Store, users, place, now, order, expected
) -> None:  # noqa: ANN001
    settings = (
        Settings() if order is None else replace(Settings(), allocation_order={"ACME Bank": order})
    )
    case = place("C-ORDER", principal=5_000, fees=1_000, interest=500)
    with store.write() as session:
        payments.post_payment(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            amount=1_200,
            received_on=now.date(),
            settings=settings,
        )
    with store.read() as session:
        row = session.get(Case, case.id)
        components = balances.case_components(session, row)
    assert components.as_dict() == expected
    assert components.total == 5_300


def test_an_allocation_order_must_name_each_component_once() -> None:
    with pytest.raises(ValueError, match="each of principal, fees, interest, costs once"):
        Settings(allocation_order={"ACME Bank": ["principal", "fees"]})
