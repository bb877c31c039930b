"""The KPIs on hand-built books whose right numbers are counted here: liquidation by placement
month (a reversal lowers the curve from the month it is recorded), the right-party-contact rate per
agent, the promise-kept rate per amount band at the band edges, DSO from issue dates or, without
them, days past due said so; the `report` command's JSON and its refusals."""

from __future__ import annotations

import argparse
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from test_reports import NOW, TODAY, Book, at, days_ago

from collector_tui import db
from collector_tui.cli import reports as cli_report
from collector_tui.cli.parser import build_parser
from collector_tui.config import Settings
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.errors import InvalidInput
from collector_tui.services.reporting import kpis, reports
from collector_tui.services.reporting.tables import report_table


@pytest.fixture
def book(store: db.Store, settings: Settings, users: dict[str, Actor]) -> Book:
    return Book(store, settings, users)


def _json(store: db.Store, settings: Settings, *argv: str) -> list[dict]:
    out = io.StringIO()
    args: argparse.Namespace = build_parser().parse_args(["report", *argv, "--json"])
    cli_report.run_report(args, store=store, settings=settings, now=NOW, actor=None, out=out)
    return json.loads(out.getvalue())


# --- vintage -------------------------------------------------------------------------------------


@pytest.fixture
def vintage_book(book: Book) -> Book:
    # September 2026: two cases, 4,000.00 placed (fees and interest count as placed).
    v1 = book.place("V1", principal=80_000, fees=15_000, interest=5_000,
                    placed_date=date(2026, 9, 5))  # fmt: skip
    v2 = book.place("V2", principal=300_000, placed_date=date(2026, 9, 30))
    first = book.pay(v1, 10_000, date(2026, 9, 10))  # month 1
    book.pay(v2, 30_000, date(2026, 10, 3))  # month 2
    book.reverse(first, date(2026, 10, 15))  # bounced, recorded in month 2: -100.00
    book.pay(v2, 20_000, date(2026, 11, 1))  # month 3
    # October: one case, paid in November.
    v3 = book.place("V3", principal=50_000, placed_date=date(2026, 10, 1))
    book.pay(v3, 5_000, TODAY)
    # Bob's, in USD, placed in October.
    usd = book.place("V-USD", agent="bob", currency="USD", country="US", phones=(),
                     principal=10_000, placed_date=date(2026, 10, 1))  # fmt: skip
    book.pay(usd, 2_500, date(2026, 10, 20))
    # Placed thirteen months ago: outside the default twelve.
    old = book.place("V-OLD", principal=10_000, placed_date=date(2025, 10, 31))
    book.pay(old, 1_000, date(2025, 11, 2))
    return book


def test_vintage_curve_is_collected_over_placed_by_month(
    vintage_book: Book, store: db.Store
) -> None:
    with store.read() as session:
        rows = kpis.vintage(session=session, now=NOW)
    got = {
        (r.currency, r.placed_month): (r.cases, r.placed, [(p.collected, p.rate) for p in r.points])
        for r in rows
    }
    assert list(got) == [
        ("CNY", date(2026, 9, 1)),
        ("CNY", date(2026, 10, 1)),
        ("USD", date(2026, 10, 1)),
    ]
    # By hand: 100 in September; +300 -100 (the bounce) in October; +200 in November; of 4,000.
    assert got[("CNY", date(2026, 9, 1))] == (
        2,
        400_000,
        [
            (10_000, Decimal("0.0250")),
            (30_000, Decimal("0.0750")),
            (50_000, Decimal("0.1250")),
        ],
    )
    assert got[("CNY", date(2026, 10, 1))] == (
        1,
        50_000,
        [(0, Decimal("0.0000")), (5_000, Decimal("0.1000"))],
    )
    assert got[("USD", date(2026, 10, 1))] == (
        1,
        10_000,
        [(2_500, Decimal("0.2500")), (2_500, Decimal("0.2500"))],
    )


def test_vintage_months_currency_and_scope(
    vintage_book: Book, store: db.Store, users: dict[str, Actor]
) -> None:
    with store.read() as session:
        longer = kpis.vintage(session=session, now=NOW, months=14)
        usd = kpis.vintage(session=session, now=NOW, currency="usd")
        bobs = kpis.vintage(session=session, now=NOW, actor=users["bob"])
        with pytest.raises(InvalidInput, match="not a known currency"):
            kpis.vintage(session=session, now=NOW, currency="XXY")
        with pytest.raises(InvalidInput, match="months"):
            kpis.vintage(session=session, now=NOW, months=0)
    old = longer[0]
    assert (old.placed_month, old.cases, len(old.points)) == (date(2025, 10, 1), 1, 14)
    assert old.points[0].collected == 0 and old.points[1].rate == Decimal("0.1000")
    assert [(r.currency, r.placed_month) for r in usd] == [("USD", date(2026, 10, 1))]
    assert [(r.currency, r.cases) for r in bobs] == [("USD", 1)]


def test_report_vintage_json(vintage_book: Book, store: db.Store, settings: Settings) -> None:
    rows = _json(store, settings, "vintage", "--currency", "CNY")
    assert rows[:3] == [
        {
            "currency": "CNY",
            "placement_month": "2026-09",
            "cases": 2,
            "placed": "4000.00",
            "month": month,
            "collected": collected,
            "liquidation_rate": rate,
        }
        for month, collected, rate in (
            (1, "100.00", "0.0250"),
            (2, "300.00", "0.0750"),
            (3, "500.00", "0.1250"),
        )  # fmt: skip
    ]
    assert [(r["placement_month"], r["month"]) for r in rows[3:]] == [
        ("2026-10", 1),
        ("2026-10", 2),
    ]


def test_report_unknown_currency_is_refused(store: db.Store, settings: Settings) -> None:
    for kind in ("vintage", "aging", "agents"):
        args = build_parser().parse_args(["report", kind, "--currency", "EURO"])
        with pytest.raises(InvalidInput, match="not a known currency"):
            cli_report.run_report(args, store=store, settings=settings, now=NOW, actor=None)


# --- right-party-contact rate --------------------------------------------------------------------


def test_rpc_rate_per_agent(book: Book, store: db.Store, settings: Settings) -> None:
    mine = book.place("R-1")
    bobs = book.place("R-2", agent="bob")
    day = date(2026, 11, 18)
    for hour, disposition in enumerate(("no_answer", "right_party", "busy"), start=9):
        book.call(mine, disposition, at(day, hour))
    book.call(bobs, "no_answer", at(day, 9), by="bob")
    with store.read() as session:
        rows = {r.agent: r for r in reports.agent_activity(session=session, now=NOW)}
    assert (rows["alice"].attempts, rows["alice"].right_party_contacts) == (3, 1)
    assert rows["alice"].rpc_rate == Decimal("0.3333")
    assert rows["bob"].rpc_rate == Decimal("0.0000")
    out = _json(store, settings, "agents")
    by_agent = {row["agent"]: row for row in out}
    assert by_agent["alice"]["rpc_rate"] == "0.3333"
    assert by_agent["alice"]["attempts"] == 3 and by_agent["alice"]["right_party_contacts"] == 1
    # Nobody called: no rate, which is not a rate of 0.
    with store.read() as session:
        table = report_table(
            "agents", session=session, now=NOW, actor=None, date_from=date(2026, 1, 1),
            date_to=date(2026, 1, 31),
        )  # fmt: skip
    assert {row["rpc_rate"] for row in table.json_rows} == {None}
    assert {row[table.columns.index("rpc_rate")] for row in table.rows} == {"-"}


# --- promises by amount --------------------------------------------------------------------------


def test_promise_kept_rate_by_amount_band(book: Book, store: db.Store, settings: Settings) -> None:
    case = book.place("B-1", principal=5_000_000)
    made = at(date(2026, 11, 2))
    # CNY bands: up to 500, 500-2000, 2000-10000, over 10000 (yuan).
    book.promise(case, 50_000, date(2026, 11, 5), made=made)  # exactly 500: the first band, kept
    book.pay(case, 50_000, date(2026, 11, 4), now=at(date(2026, 11, 4)))
    book.promise(case, 50_001, date(2026, 11, 8), made=made)  # 500.01: the second band, broken
    book.promise(case, 60_000, date(2026, 11, 30), made=made)  # second band, pending
    book.promise(case, 1_500_000, date(2026, 11, 12), made=made)  # 15,000: the last band, broken
    book.sweep()
    with store.read() as session:
        rows = kpis.promise_bands(session=session, now=NOW, settings=settings)
    got = {r.band: (r.made, r.kept, r.broken, r.pending, r.due, r.kept_rate) for r in rows}
    assert list(got) == ["0-500", "500-2000", "2000-10000", "10000+"]
    assert got["0-500"] == (1, 1, 0, 0, 1, Decimal("1.0000"))
    assert got["500-2000"] == (2, 0, 1, 1, 1, Decimal("0.0000"))
    assert got["2000-10000"] == (0, 0, 0, 0, 0, None)
    assert got["10000+"] == (1, 0, 1, 0, 1, Decimal("0.0000"))

    out = _json(store, settings, "promises", "--by", "amount")
    assert out[0] == {
        "currency": "CNY",
        "band": "0-500",
        "band_from": "0.00",
        "band_to": "500.00",
        "made": 1,
        "kept": 1,
        "partial": 0,
        "broken": 0,
        "pending": 0,
        "cancelled": 0,
        "due": 1,
        "kept_rate": "1.0000",
        "amount_promised": "500.00",
    }
    assert out[-1]["band_to"] is None

    # Configured bands for the currency replace the defaults.
    custom = Settings(promise_amount_bands={"CNY": [1000], "*": [10]})
    with store.read() as session:
        rows = kpis.promise_bands(session=session, now=NOW, settings=custom)
    assert [(r.band, r.made) for r in rows] == [("0-1000", 3), ("1000+", 1)]


def test_promise_bands_config_is_checked() -> None:
    for bad in ({"CNY": [500, 100]}, {"CNY": []}, {"CNY": [0]}, {"yuan": [1]}, {"CNY": "500"}):
        with pytest.raises(ValueError, match="promise_amount_bands"):
            Settings(promise_amount_bands=bad)


# --- DSO -----------------------------------------------------------------------------------------


def test_dso_from_issue_dates_and_days_past_due_apart(
    book: Book, store: db.Store, settings: Settings
) -> None:
    book.place(
        "D-1",
        principal=0,
        invoices=(
            InvoiceInput("A", issue_date=days_ago(10), due_date=days_ago(0), amount=30_000),
            InvoiceInput("B", issue_date=days_ago(40), due_date=days_ago(10), amount=10_000),
        ),
    )
    book.place("D-2", principal=0,
               invoices=(InvoiceInput("C", due_date=days_ago(60), amount=10_000),))  # fmt: skip
    with store.read() as session:
        rows = reports.dso(session=session, now=NOW)
    # With issue dates: (300 x 10 + 100 x 40) / 400 = 17.5; without: 60 days past due.
    assert [(r.currency, r.basis, r.days, r.invoices) for r in rows] == [
        ("CNY", "issue_date", Decimal("17.5"), 2),
        ("CNY", "days_past_due", Decimal("60.0"), 1),
    ]
    out = _json(store, settings, "dso")
    assert [(r["basis"], r["days"]) for r in out] == [
        ("issue_date", "17.5"),
        ("days_past_due", "60.0"),
    ]
