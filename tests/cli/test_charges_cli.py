"""`charge add / waive / list` (in-process through `cli.main`, on the test database): the balance
moves by the charge, JSON carries the components, bad input is one line on stderr and writes
nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.models import AuditEvent, Case, CaseCharge
from collector_tui.services.casework.cases import InvoiceInput

Run = Callable[..., tuple[int, str, str]]  # run(*args, user=...) -> (status, out, err)
REASON = "court filing fee for the claim"


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


def _refused(result: tuple[int, str, str], message: str, code: int = 1) -> None:
    status, out, err = result
    assert status == code, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


@pytest.fixture
def b2b(place):  # noqa: ANN001, ANN201
    return place(
        "B2B-8",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            InvoiceInput("INV-1", date(2026, 8, 1), 6_000),
            InvoiceInput("INV-2", date(2026, 9, 1), 4_000),
        ),
    )


def _state(store: db.Store) -> tuple[int, int, int]:
    with store.read() as session:
        return (
            session.exec(select(func.count()).select_from(CaseCharge)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
            session.exec(select(func.sum(Case.balance))).one(),
        )


def _key(charge: dict[str, str]) -> tuple[bool, str]:
    return (charge["waives"] is not None, charge["component"])


def test_add_list_waive(run: Run, store: db.Store, users, b2b) -> None:  # noqa: ANN001
    added = json.loads(
        _ok(
            run(
                "charge",
                "add",
                "B2B-8",
                "350.00",
                "--component",
                "costs",
                "--reason",
                REASON,
                "--json",
            )
        )  # fmt: skip
    )
    assert added["amount"] == "350.00"
    assert added["balance"] == "450.00"
    assert added["components"] == {
        "principal": "100.00",
        "fees": "0.00",
        "interest": "0.00",
        "costs": "350.00",
    }
    assert added["invoice"] is None
    text = _ok(
        run(
            "charge",
            "add",
            "B2B-8",
            "2.00",
            "--component",
            "interest",
            "--invoice",
            "INV-2",
            "--reason",
            "late payment interest on INV-2",
        )  # fmt: skip
    )
    assert "of interest added to ACME Bank/B2B-8 on invoice INV-2" in text
    # One --now for every command: rows of one instant come in any order.
    listed = sorted(json.loads(_ok(run("charge", "list", "B2B-8", "--json"))), key=_key)
    assert [(c["component"], c["amount"], c["invoice"]) for c in listed] == [
        ("costs", "350.00", None),
        ("interest", "2.00", "INV-2"),
    ]
    waived = json.loads(
        _ok(
            run(
                "charge",
                "waive",
                listed[0]["id"],
                "--amount",
                "100",
                "--reason",
                "the client pays part of the fee",
                "--json",
            )
        )  # fmt: skip
    )
    assert (waived["amount"], waived["balance"]) == ("100.00", "352.00")
    listed = sorted(json.loads(_ok(run("charge", "list", "B2B-8", "--json"))), key=_key)
    assert [c["waived"] for c in listed] == ["100.00", "0.00", "0.00"]
    assert listed[2]["waives"] == listed[0]["id"]
    assert "waiver" in _ok(run("charge", "list", "B2B-8"))
    # In Chinese the kinds and components read as words, --json keeps the codes.
    shown = _ok(run("--lang", "zh_CN", "charge", "list", "B2B-8"))
    assert "减免" in shown and "加收" in shown
    kinds = [tuple(line.split()[1:3]) for line in shown.splitlines()]
    assert sorted(kinds) == [("减免", "成本"), ("加收", "利息"), ("加收", "成本")], shown
    added = _ok(run("--lang", "zh_CN", "charge", "add", "B2B-8", "1", "--component", "costs",
                    "--reason", REASON))  # fmt: skip
    assert "成本" in added and "已计入" in added and "costs" not in added, added
    assert {c["component"] for c in listed} <= {"costs", "fees", "interest"}


def test_bad_charges_are_one_line_and_write_nothing(
    run: Run, store: db.Store, users, b2b, place
) -> None:  # noqa: ANN001
    before = _state(store)
    costs = ("--component", "costs", "--reason", REASON)
    _refused(run("charge", "add", "B2B-8", "0", *costs), "a charge must be above zero")
    _refused(run("charge", "add", "B2B-8", "-5", *costs), "amount must not be negative")
    _refused(run("charge", "add", "B2B-8", "99999999999999999", *costs), "amount is too large")
    _refused(run("charge", "add", "B2B-8", "9999999999999.99", *costs), "beyond any real debt")
    _refused(run("charge", "add", "B2B-8", "12.345", *costs), "at most 2 decimal places")
    _refused(
        run("charge", "add", "B2B-8", "5", "--component", "costs", "--reason", "fee"),
        "at least 10 characters",
    )
    _refused(
        run("charge", "add", "B2B-8", "5", *costs, "--invoice", "INV-9"), "has no invoice 'INV-9'"
    )
    _refused(
        run("charge", "add", "B2B-8", "5", "--component", "principal", "--reason", REASON),
        "invalid choice",
        code=2,
    )
    _refused(run("charge", "add", "B2B-8", "5", *costs, user="alice"), "only a supervisor")
    _refused(run("charge", "add", "NOPE", "5", *costs), "NOPE")
    _refused(run("charge", "waive", "not-an-id", "--reason", REASON), "not a charge id")
    _refused(
        run(
            "charge",
            "waive",
            "00000000-0000-0000-0000-000000000000",
            "--amount",
            "1",
            "--reason",
            REASON,
        ),  # fmt: skip
        "no such charge",
    )
    assert _state(store) == before
    paid = place("PAID-1", principal=1_000)
    with store.write() as session:
        row = session.get(Case, paid.id)
        row.status = "paid"
        session.add(row)
    before = _state(store)
    _refused(run("charge", "add", "PAID-1", "5", *costs), "is already paid: cannot add a charge")
    assert _state(store) == before
