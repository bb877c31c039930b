"""`dispute open / resolve / list` and `payment reverse` beside `payment CASE_REF AMOUNT`
(in-process through `cli.main`, on the test database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.models import InvoiceDispute, Payment
from collector_tui.services.casework.cases import InvoiceInput

Run = Callable[..., tuple[int, str, str]]  # run(*args, user=...) -> (status, out, err)


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


def _refused(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert code == 1, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and message in err, err


@pytest.fixture
def b2b(place):  # noqa: ANN001, ANN201
    return place(
        "B2B-7",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            InvoiceInput("INV-1", date(2026, 8, 1), 6_000),
            InvoiceInput("INV-2", date(2026, 9, 1), 4_000),
        ),
    )


def _disputes(store: db.Store) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(InvoiceDispute)).one()


def test_open_list_resolve(run: Run, store: db.Store, users, b2b) -> None:  # noqa: ANN001
    opened = json.loads(
        _ok(
            run(
                "dispute", "open", "B2B-7", "--invoice", "INV-1", "--amount", "25.00",
                "--category", "quality", "--reason", "half the goods arrived broken", "--json",
                user="alice",
            )
        )
    )  # fmt: skip
    assert opened["status"] == "open"
    assert (opened["balance"], opened["disputed"], opened["collectible"]) == (
        "100.00",
        "25.00",
        "75.00",
    )
    listed = json.loads(_ok(run("dispute", "list", "--json")))
    assert [row["id"] for row in listed] == [opened["dispute_id"]]
    assert listed[0]["invoice"] == "INV-1"
    assert listed[0]["owner"] == "alice"
    assert listed[0]["resolve_by"] == "2026-12-20"
    assert listed[0]["amount"] == "25.00"
    text = _ok(run("dispute", "list", user="alice"))
    assert "INV-1" in text and "quality" in text

    resolved = json.loads(
        _ok(
            run(
                "dispute", "resolve", opened["dispute_id"], "--partly", "10.00",
                "--reason", "the supplier credits the broken part", "--json",
            )
        )
    )  # fmt: skip
    assert (resolved["status"], resolved["credited"], resolved["balance"]) == (
        "partly",
        "10.00",
        "90.00",
    )
    assert json.loads(_ok(run("dispute", "list", "--json"))) == []
    assert len(json.loads(_ok(run("dispute", "list", "--all", "--json")))) == 1
    _refused(
        run(
            "dispute", "resolve", opened["dispute_id"], "--upheld",
            "--reason", "try it again after all",
        ),
        "already resolved",
    )  # fmt: skip


def test_bad_input_one_line_nothing_written(run: Run, store: db.Store, users, b2b) -> None:  # noqa: ANN001
    base = ("dispute", "open", "B2B-7", "--category", "price", "--reason", "priced above quote")
    _refused(run(*base, "--invoice", "INV-1", "--amount", "60.01"), "exceeds the open amount")
    _refused(run(*base, "--invoice", "NOPE"), "no invoice")
    _refused(run(*base, "--invoice", "INV-1", "--amount", "abc"), "")
    _refused(
        run("dispute", "resolve", "not-an-id", "--upheld", "--reason", "a good reason"),
        "not a dispute id",
    )
    _refused(
        run(
            "dispute", "resolve", "00000000-0000-0000-0000-000000000000", "--rejected",
            "--reason", "a good reason",
        ),
        "no such dispute",
    )  # fmt: skip
    code, _, err = run("dispute", "resolve", "x", "--upheld", "--rejected", "--reason", "r")
    assert code == 2 and "not allowed with" in err
    assert _disputes(store) == 0


def _payments(store: db.Store) -> list[tuple[int, object]]:
    with store.read() as session:
        return sorted(session.exec(select(Payment.amount, Payment.voids_id)).all(), key=str)


def test_payment_and_payment_reverse(run: Run, store: db.Store, users, b2b) -> None:  # noqa: ANN001
    posted = json.loads(_ok(run("payment", "B2B-7", "30.00", "--json", user="alice")))
    assert posted["balance_after"] == "70.00"
    # The older form still works as before, without --json too.
    assert "posted 5.00" in _ok(run("payment", "B2B-7", "5.00", user="alice")).replace("\xa0", " ")
    _refused(
        run("payment", "reverse", posted["payment_id"], "--reason", "bounced", user="alice"),
        "only a supervisor",
    )
    done = json.loads(
        _ok(run("payment", "reverse", posted["payment_id"], "--reason", "bounced", "--json"))
    )
    assert (done["amount"], done["balance_after"], done["reason"]) == ("30.00", "95.00", "bounced")
    with store.read() as session:
        reversal_id = session.exec(select(Payment.id).where(Payment.amount < 0)).one()
    assert done["reversal_id"] == str(reversal_id)
    written = _payments(store)
    _refused(
        run("payment", "reverse", posted["payment_id"], "--reason", "bounced"), "already reversed"
    )
    _refused(
        run("payment", "reverse", str(reversal_id), "--reason", "error"),
        "a reversal cannot be reversed",
    )
    _refused(
        run("payment", "reverse", "00000000-0000-0000-0000-000000000000", "--reason", "error"),
        "no such payment",
    )
    _refused(run("payment", "reverse", "nope", "--reason", "error"), "not a payment id")
    _refused(run("payment", "reverse", posted["payment_id"], "--reason", "lost"), "unknown reason")
    code, _, err = run("payment", "reverse", posted["payment_id"])
    assert code == 2 and "needs --reason" in err
    code, _, err = run("payment", "reverse", posted["payment_id"], "--reason", "error", "--on",
                       "2026-11-20")  # fmt: skip
    assert code == 2 and "--on does not go" in err
    code, _, err = run("payment", "B2B-7", "1.00", "--reason", "bounced")
    assert code == 2 and "--reason goes with" in err
    assert _payments(store) == written


def test_statement_json_csv_and_bad_period(run: Run, store: db.Store, users, b2b) -> None:  # noqa: ANN001
    _ok(run("payment", "B2B-7", "30.00", user="alice"))
    period = ("--from", "2026-11-01", "--to", "2026-11-30")
    data = json.loads(_ok(run("statement", "ACME Bank", *period, "--json")))
    assert (data["client"], data["from"], data["to"]) == ("ACME Bank", "2026-11-01", "2026-11-30")
    assert data["commission"] == "no commission configured"
    assert data["cases"] == [
        {"client_ref": "B2B-7", "currency": "CNY", "payments": 1, "collected": "30.00",
         "reversed": "0.00", "principal": "30.00", "fees": "0.00", "interest": "0.00",
         "costs": "0.00", "commission": "0.00", "net_to_remit": "30.00"}
    ]  # fmt: skip
    assert data["totals"][0]["collected"] == "30.00"
    lines = _ok(run("statement", "ACME Bank", *period, "--csv")).splitlines()
    assert lines[0].startswith("client_ref,currency,payments,collected")
    assert lines[1].startswith("B2B-7,CNY,1,30.00") and lines[2].startswith("total,CNY,1,30.00")
    assert "Statement of ACME Bank" in _ok(run("statement", "ACME Bank", *period))
    _refused(
        run("statement", "ACME Bank", "--from", "2026-12-01", "--to", "2026-11-01"),
        "after it ends",
    )
    _refused(run("statement", "ACME Bank", *period, user="alice"), "only a supervisor")
    _refused(run("statement", "Nobody", *period), "no cases of client")


def test_closures_csv(run: Run, store: db.Store, users, b2b) -> None:  # noqa: ANN001
    _ok(run("payment", "B2B-7", "100.00", user="alice"))
    period = ("--from", "2026-11-01", "--to", "2026-11-30")
    lines = _ok(run("closures", "ACME Bank", *period, "--csv")).splitlines()
    assert lines == [
        "client_ref,status,closed_on,currency,placed,collected,credited,balance,charged",
        "B2B-7,paid,2026-11-20,CNY,100.00,100.00,0.00,0.00,0.00",
    ]
    assert json.loads(_ok(run("closures", "ACME Bank", *period, "--json")))[0]["status"] == "paid"
    _refused(
        run("closures", "ACME Bank", "--from", "2026-12-01", "--to", "2026-11-01"),
        "after it ends",
    )
