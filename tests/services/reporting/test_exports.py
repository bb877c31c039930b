"""CSV exports: columns, exact money, scoping, streaming in batches, no half-written file."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from collector_tui.services.casework import activities
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.errors import InvalidInput
from collector_tui.services.reporting import exports


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_cases_writes_one_row_per_case_with_the_contract_columns(
    store, users, place, tmp_path
) -> None:
    place("E-1", debtor_name="王小明", principal=123_450, fees=50)
    place(
        "E-2",
        debtor_name="John Smith",
        country="US",
        currency="USD",
        principal=99,
        phones=("+1 212 555 0123",),
        assigned_to_id=None,
    )
    target = tmp_path / "cases.csv"

    with store.read() as session:
        count = exports.export_cases(session=session, path=target)

    rows = _read(target)
    assert count == 2
    assert list(rows[0]) == list(exports.CASE_COLUMNS)
    for column in ("client", "client_ref", "debtor_name", "currency", "balance", "status"):
        assert column in rows[0]
    by_ref = {row["client_ref"]: row for row in rows}
    assert by_ref["E-1"]["debtor_name"] == "王小明"
    assert by_ref["E-1"]["balance"] == "1235.00"  # 123,450 + 50 fen, a decimal string
    assert by_ref["E-1"]["currency"] == "CNY"
    assert by_ref["E-1"]["status"] == "new"
    assert by_ref["E-1"]["assigned_to"] == "alice"
    assert by_ref["E-2"]["balance"] == "0.99"
    assert by_ref["E-2"]["assigned_to"] == ""
    assert by_ref["E-2"]["due_date"] == "2026-09-01"


# The columns `export cases` had before the components: scripts read them by name and position.
FIRST_CASE_COLUMNS = (
    "case_id", "client", "client_ref", "debtor_name", "debtor_type", "country", "currency",
    "principal", "fees", "interest", "balance", "due_date", "placed_date", "status",
    "assigned_to", "risk_grade", "queue_tier", "score", "next_action_at", "last_attempt_at",
    "last_contact_at", "routed_reason",
)  # fmt: skip


def test_export_cases_shows_what_is_owed_by_component_and_what_is_disputed(
    store, users, place, now, settings, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    """After the older columns, in their order: the open principal, fees, interest and costs
    (a charge and a payment moved them), the disputed and the collectible amounts; a case no
    money has moved on shows its placed components."""
    from collector_tui.services.casework import charges, disputes, payments
    from collector_tui.services.casework.cases import InvoiceInput

    b2b = place(
        "K-1",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            InvoiceInput("INV-1", date(2026, 8, 1), 6_000),
            InvoiceInput("INV-2", date(2026, 9, 1), 4_000),
        ),
    )
    place("K-2", principal=5_000, fees=300, interest=200)
    with store.write() as session:
        charges.add_charge(session=session, now=now, actor=users["sam"], settings=settings,
                           case_id=b2b.id, amount=2_000, component="costs",
                           reason="court filing fee for the claim")  # fmt: skip
    with store.write() as session:
        payments.post_payment(session=session, now=now, actor=users["alice"], case_id=b2b.id,
                              amount=2_500, received_on=now.date(), settings=settings)  # fmt: skip
    with store.write() as session:
        charges.add_charge(session=session, now=now, actor=users["sam"], settings=settings,
                           case_id=b2b.id, amount=300, component="interest", invoice="INV-1",
                           reason="late interest on INV-1")  # fmt: skip
    with store.write() as session:
        disputes.open_dispute(session=session, now=now, actor=users["alice"], settings=settings,
                              case_id=b2b.id, invoice="INV-2", amount=1_500, category="price",
                              reason="priced above the quote")  # fmt: skip
    monkeypatch.setattr(exports, "BATCH_ROWS", 1)  # each case its own batch
    target = tmp_path / "owed.csv"
    with store.read() as session:
        assert exports.export_cases(session=session, path=target) == 2
    rows = _read(target)
    assert tuple(exports.CASE_COLUMNS[: len(FIRST_CASE_COLUMNS)]) == FIRST_CASE_COLUMNS
    assert list(rows[0]) == list(exports.CASE_COLUMNS)
    by_ref = {row["client_ref"]: row for row in rows}
    owed = by_ref["K-1"]
    # Costs first (20.00), then 5.00 of the oldest invoice's principal; then 3.00 interest
    # charged: 120.00 - 25.00 + 3.00 owed.
    assert (owed["balance"], owed["principal"]) == ("98.00", "100.00")
    assert [owed[f"{name}_open"] for name in ("principal", "fees", "interest", "costs")] == [
        "95.00",
        "0.00",
        "3.00",
        "0.00",
    ]
    assert (owed["disputed"], owed["collectible"]) == ("15.00", "83.00")
    placed = by_ref["K-2"]
    assert [placed[f"{name}_open"] for name in ("principal", "fees", "interest", "costs")] == [
        "50.00",
        "3.00",
        "2.00",
        "0.00",
    ]
    assert (placed["disputed"], placed["collectible"]) == ("0.00", "55.00")


def test_bom_for_spreadsheets(store, place, tmp_path) -> None:
    place("B-1", debtor_name="李娜")
    target = tmp_path / "bom.csv"
    with store.read() as session:
        exports.export_cases(session=session, path=target, bom=True)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert _read(target, "utf-8-sig")[0]["debtor_name"] == "李娜"


def test_an_agent_exports_only_their_cases(store, users, place, tmp_path) -> None:
    place("MINE-1")
    place("BOBS-1", assigned_to_id=users["bob"].user_id)
    target = tmp_path / "agent.csv"
    with store.read() as session:
        assert exports.export_cases(session=session, path=target, actor=users["alice"]) == 1
        assert [r["client_ref"] for r in _read(target)] == ["MINE-1"]
        assert exports.export_cases(session=session, path=target, actor=users["sam"]) == 2


def test_formulas_are_defused(store, place, tmp_path) -> None:
    place("F-1", debtor_name='=HYPERLINK("http://evil","x")')
    target = tmp_path / "f.csv"
    with store.read() as session:
        exports.export_cases(session=session, path=target)
    assert _read(target)[0]["debtor_name"].startswith("'=")


def test_rows_stream_in_batches(store, place, tmp_path, monkeypatch) -> None:
    for number in range(7):
        place(f"S-{number}")
    monkeypatch.setattr(exports, "BATCH_ROWS", 3)
    target = tmp_path / "s.csv"
    with store.read() as session:
        assert exports.export_cases(session=session, path=target) == 7
    assert sorted(r["client_ref"] for r in _read(target)) == [f"S-{n}" for n in range(7)]


def test_a_failed_export_leaves_no_file(store, place, tmp_path, monkeypatch) -> None:
    place("X-1")
    target = tmp_path / "x.csv"
    target.write_text("previous export\n")

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "_day", broken)
    with store.read() as session, pytest.raises(RuntimeError):
        exports.export_cases(session=session, path=target)
    assert target.read_text() == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".x.csv")) == []


def test_a_missing_folder_or_a_folder_as_target_is_refused(store, place, tmp_path) -> None:
    place("D-1")
    with store.read() as session:
        with pytest.raises(InvalidInput, match="no folder"):
            exports.export_cases(session=session, path=tmp_path / "nope" / "x.csv")
        with pytest.raises(InvalidInput, match="is a folder"):
            exports.export_cases(session=session, path=tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_export_activities(store, now, settings, users, place, tmp_path) -> None:
    mine = place("A-1")
    theirs = place("A-2", assigned_to_id=users["bob"].user_id)
    with store.write() as session:
        for case, actor, note in (
            (mine, users["alice"], "债务人称月底还款"),
            (theirs, users["bob"], None),
        ):
            activities.log_contact(
                session=session,
                now=now,
                actor=actor,
                case_id=case.id,
                contact=ContactInput(
                    disposition="right_party",
                    phone_e164="+8613800138000",
                    note=note,
                    duration_s=75,
                    occurred_at=now - timedelta(minutes=5),
                ),
                settings=settings,
            )
    target = tmp_path / "activities.csv"
    with store.read() as session:
        assert exports.export_activities(session=session, path=target) == 2
        rows = _read(target)
        assert list(rows[0]) == list(exports.ACTIVITY_COLUMNS)
        row = next(r for r in rows if r["client_ref"] == "A-1")
        assert row["user"] == "alice"
        assert row["disposition"] == "right_party"
        assert row["note"] == "债务人称月底还款"
        assert row["phone"] == "138****8000"  # which number was dialled, not the number
        assert row["duration_s"] == "75"
        assert row["occurred_at"] == (now - timedelta(minutes=5)).isoformat()

        assert exports.export_activities(session=session, path=target, actor=users["alice"]) == 1
        assert exports.export_activities(session=session, path=target, since=now, until=None) == 0
    assert date.fromisoformat(rows[0]["occurred_at"][:10]) == now.date()


# --- promises and payments ----------------------------------------------------------


def _promise_and_payments(store, now, settings, users, place):  # noqa: ANN001, ANN202
    """Alice's CNY case with a Chinese debtor, a promise kept by a payment, a reversed payment;
    Bob's USD case with a promise and a payment whose reference looks like a formula."""
    from collector_tui.models import Payment
    from collector_tui.services.casework import payments, promises
    from collector_tui.services.casework.promises import PromiseInput

    mine = place("PX-1", debtor_name="王小明", principal=123_450)
    bobs = place("PX-2", debtor_name="John Smith", country="US", currency="USD",
                 principal=99_999, phones=("+1 212 555 0123",),
                 assigned_to_id=users["bob"].user_id)  # fmt: skip
    with store.write() as session:
        promises.create_promise(
            session=session, now=now, actor=users["alice"], case_id=mine.id,
            promise=PromiseInput(amount=20_000, due_date=date(2026, 11, 25)), settings=settings,
        )  # fmt: skip
        promises.create_promise(
            session=session, now=now, actor=users["bob"], case_id=bobs.id,
            promise=PromiseInput(amount=5_000, due_date=date(2026, 11, 30)), settings=settings,
        )  # fmt: skip
    with store.write() as session:
        payments.post_payment(
            session=session, now=now, actor=users["sam"], case_id=mine.id, amount=20_000,
            received_on=date(2026, 11, 19), settings=settings, method="alipay",
            reference="支付宝-0001",
        )  # fmt: skip
        wrong = payments.post_payment(
            session=session, now=now, actor=users["sam"], case_id=mine.id, amount=1_050,
            received_on=date(2026, 11, 20), settings=settings, reference="B-2",
        )  # fmt: skip
        payments.post_payment(
            session=session, now=now, actor=users["sam"], case_id=bobs.id, amount=12_345,
            received_on=date(2026, 11, 18), settings=settings, reference="=1+2",
        )  # fmt: skip
    with store.write() as session:
        # No void service: a reversal is the append-only row models.Payment describes.
        session.add(Payment(case_id=mine.id, amount=-1_050, received_on=date(2026, 11, 20),
                            voids_id=wrong.payment_id, created_at=now))  # fmt: skip
    return mine, bobs, wrong.payment_id


def test_export_promises_columns_money_and_chinese(store, now, settings, users, place, tmp_path):  # noqa: ANN001
    mine, bobs, _ = _promise_and_payments(store, now, settings, users, place)
    target = tmp_path / "promises.csv"
    with store.read() as session:
        assert exports.export_promises(session=session, path=target, bom=True) == 2
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "王小明".encode() in raw  # UTF-8, not a code page
    rows = _read(target, "utf-8-sig")
    assert list(rows[0]) == list(exports.PROMISE_COLUMNS)
    by_ref = {row["client_ref"]: row for row in rows}
    cny, usd = by_ref["PX-1"], by_ref["PX-2"]
    assert (cny["debtor_name"], cny["currency"], cny["amount"], cny["paid_amount"]) == (
        "王小明", "CNY", "200.00", "200.00"
    )  # fmt: skip
    assert (cny["status"], cny["due_date"], cny["created_by"], cny["assigned_to"]) == (
        "kept", "2026-11-25", "alice", "alice"
    )  # fmt: skip
    assert cny["case_id"] == str(mine.id) and cny["plan_id"] == ""
    assert cny["created_at"] == now.isoformat()
    assert (usd["currency"], usd["amount"], usd["paid_amount"], usd["status"]) == (
        "USD", "50.00", "50.00", "kept"
    )  # fmt: skip

    with store.read() as session:
        assert exports.export_promises(session=session, path=target, actor=users["bob"]) == 1
    assert [row["client_ref"] for row in _read(target)] == ["PX-2"]
    assert not target.read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_payments_reversals_formulas_and_scope(
    store, now, settings, users, place, tmp_path
) -> None:
    mine, _, reversed_id = _promise_and_payments(store, now, settings, users, place)
    target = tmp_path / "payments.csv"
    with store.read() as session:
        assert exports.export_payments(session=session, path=target) == 4
    rows = _read(target)
    assert list(rows[0]) == list(exports.PAYMENT_COLUMNS)
    assert [row["received_on"] for row in rows] == [
        "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-20"
    ]  # fmt: skip
    usd, alipay = rows[:2]
    # The payment and its reversal share a date and an instant: their order is not defined.
    wrong, reversal = sorted(rows[2:], key=lambda row: row["voids_id"])
    assert (usd["currency"], usd["amount"], usd["reference"]) == ("USD", "123.45", "'=1+2")
    assert (alipay["amount"], alipay["reference"], alipay["method"]) == ("200.00", "支付宝-0001",
                                                                          "alipay")  # fmt: skip
    assert (alipay["debtor_name"], alipay["recorded_by"], alipay["assigned_to"]) == (
        "王小明", "sam", "alice"
    )  # fmt: skip
    assert (wrong["payment_id"], wrong["amount"], wrong["voids_id"]) == (str(reversed_id), "10.50",
                                                                         "")  # fmt: skip
    assert (reversal["amount"], reversal["voids_id"]) == ("-10.50", str(reversed_id))
    # The CNY amounts add up to what was really received.
    from decimal import Decimal

    assert sum(Decimal(r["amount"]) for r in rows if r["currency"] == "CNY") == Decimal("200.00")

    with store.read() as session:
        assert exports.export_payments(session=session, path=target, actor=users["alice"]) == 3
    assert {row["case_id"] for row in _read(target)} == {str(mine.id)}


def test_export_dispatch_refuses_an_unknown_kind(store, tmp_path) -> None:  # noqa: ANN001
    with store.read() as session, pytest.raises(InvalidInput, match="promises, payments"):
        exports.export("invoices", session=session, path=tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("what", ["promises", "payments"])
def test_export_command(store, now, settings, users, place, tmp_path, monkeypatch, capsys, what):  # noqa: ANN001
    from collector_tui import cli

    _promise_and_payments(store, now, settings, users, place)
    monkeypatch.setenv("COLLECTOR_PASSWORD", "demo")
    target = tmp_path / f"{what}.csv"
    database = str(tmp_path / "test.db")
    capsys.readouterr()
    code = cli.main(["--db", database, "--user", "alice", "export", what, str(target), "--bom",
                     "--json"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    import json

    expected = {"promises": 1, "payments": 3}[what]  # alice: her own case only
    assert json.loads(out) == {"exported": what, "rows": expected, "path": str(target)}
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    assert all(row["client_ref"] == "PX-1" for row in _read(target, "utf-8-sig"))


def test_export_cases_ends_with_the_first_invoice_issue_date(store, users, place, tmp_path) -> None:
    from collector_tui.services.casework.cases import InvoiceInput

    place(
        "I-1",
        principal=0,
        invoices=(
            InvoiceInput("A", issue_date=date(2026, 8, 3), due_date=date(2026, 9, 2), amount=100),
            InvoiceInput("B", issue_date=date(2026, 7, 1), due_date=date(2026, 8, 1), amount=100),
            InvoiceInput("C", due_date=date(2026, 6, 1), amount=100),
        ),
    )
    place("I-2")  # no invoices: no issue date
    target = tmp_path / "issued.csv"
    with store.read() as session:
        exports.export_cases(session=session, path=target)
    rows = _read(target)
    assert list(rows[0])[-1] == "issue_date"
    assert {row["client_ref"]: row["issue_date"] for row in rows} == {
        "I-1": "2026-07-01",
        "I-2": "",
    }
