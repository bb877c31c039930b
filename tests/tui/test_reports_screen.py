"""The reports dashboard: its tables equal `collector-tui report ... --json` on the demo database,
an agent sees their own numbers only, the selectors change what is shown, the palette opens it,
and snapshots at 80x24 and 120x40 on a fixed clock.

Update the snapshots after an intended change with
`pytest tests/tui/test_reports_screen.py --snapshot-update` and look at the report.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from collector_tui import bootstrap, cli, db
from collector_tui.clock import FixedClock
from collector_tui.config import Settings
from collector_tui.demo import DEMO_NOW, DEMO_NOW_TEXT, DEMO_PASSWORD, fresh_demo_copy
from collector_tui.services.casework import payments, sweep
from collector_tui.services.reporting import reports
from collector_tui.tui.app import CollectorApp, make_app
from collector_tui.tui.screens.reports import ReportsScreen
from collector_tui.tui.widgets.charts import Chart

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import NOW, Seeded

SIZES = [(80, 24), (120, 40)]


# --- helpers -------------------------------------------------------------------------------------


def rows_of(table: DataTable[Text]) -> list[dict[str, str]]:
    keys = [str(key.value) for key in table.columns]
    return [
        dict(zip(keys, (str(cell) for cell in table.get_row_at(row)), strict=True))
        for row in range(table.row_count)
    ]


def amount(text: str | None) -> Decimal:
    """A table cell ("1,234.50") or a JSON amount ("1234.50") as a number."""
    return Decimal((text or "0").replace(",", ""))


def rate(text: str | None) -> str | None:
    return None if text in (None, "", "—") else text


async def open_dashboard(pilot: Pilot[None]) -> ReportsScreen:
    """From wherever the user landed, through the command palette, as a user would."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await type_text(pilot, "dashboard")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReportsScreen)
    assert screen.dashboard is not None
    return screen


async def show(pilot: Pilot[None], screen: ReportsScreen, currency: str) -> None:
    screen.set_currency(currency)
    await pilot.pause()


# --- the demo database against the command line --------------------------------------------


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database `collector-tui --demo` opens (sample_db/demo.db brought to the schema)."""
    return fresh_demo_copy(tmp_path_factory.mktemp("reports-demo"))


@pytest.fixture
def demo_file(demo_copy: Path, tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "demo.db"
    target.write_bytes(demo_copy.read_bytes())
    yield target


@pytest.fixture
def cli_json(
    demo_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> Any:
    """`cli_json(user, "report", "aging")` -> the parsed `--json` output of the real command."""
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLLECTOR_PASSWORD", DEMO_PASSWORD)

    def run(user: str, *args: str) -> Any:
        capsys.readouterr()
        argv = ["--db", str(demo_file), "--user", user, "--now", DEMO_NOW_TEXT, *args, "--json"]
        assert cli.main(argv) == 0
        return json.loads(capsys.readouterr().out)

    return run


def demo_app(path: Path, username: str) -> tuple[CollectorApp, db.Store]:
    store = bootstrap.open_store(path)
    app = make_app(store=store, settings=Settings(), clock=FixedClock(DEMO_NOW), username=username)
    app.cursor_blink = False
    return app, store


@pytest.mark.parametrize("user", ["sam", "alice"])
def test_dashboard_tables_equal_the_report_commands(
    demo_file: Path, cli_json: Any, user: str
) -> None:
    aging = cli_json(user, "report", "aging")
    promise_rows = cli_json(user, "report", "promises")
    agents = cli_json(user, "report", "agents")
    collections = cli_json(user, "report", "collections")
    app, store = demo_app(demo_file, user)
    checked: list[str] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot, DEMO_PASSWORD)
        screen = await open_dashboard(pilot)
        assert screen.dashboard is not None
        currencies = screen.dashboard.currencies
        assert set(currencies) == {row["currency"] for row in aging if row["count"]}
        for currency in currencies:
            await show(pilot, screen, currency)
            # Aging: every bucket, its count and balance.
            shown = rows_of(screen.query_one("#aging-table", DataTable))
            expected = [row for row in aging if row["currency"] == currency]
            assert [(r["bucket"], int(r["count"]), amount(r["balance"])) for r in shown] == [
                (r["bucket"], r["count"], amount(r["balance"])) for r in expected
            ]
            # Promises per agent.
            shown = rows_of(screen.query_one("#promises-table", DataTable))
            expected = [row for row in promise_rows if row["currency"] == currency]
            assert len(shown) == len(expected)
            for got, want in zip(shown, expected, strict=True):
                assert got["agent"] == (want["agent"] or "(none)")
                for key in ("made", "kept", "partial", "broken", "pending"):
                    assert int(got[key]) == want[key], (currency, key)
                if "cancelled" in got:
                    assert int(got["cancelled"]) == want["cancelled"]
                for key in ("amount_promised", "amount_kept"):
                    assert amount(got[key]) == amount(want[key]), (currency, key)
                for key in ("kept_rate_count", "kept_rate_amount"):
                    assert rate(got[key]) == want[key], (currency, key)
            # Agent activity, with the money of this currency.
            shown = rows_of(screen.query_one("#agents-table", DataTable))
            assert [
                (
                    r["agent"],
                    int(r["attempts"]),
                    int(r["right_party_contacts"]),
                    int(r["promises"]),
                    amount(r["collected"]),
                )
                for r in shown
            ] == [
                (
                    r["agent"],
                    r["attempts"],
                    r["right_party_contacts"],
                    r["promises"],
                    amount(r["collected_by_currency"].get(currency)),
                )
                for r in agents
            ]
            # The summary's collected and promised-due totals are the collections report's.
            summary = rendered(screen.query_one("#reports-summary", Static))
            of_currency = [row for row in collections if row["currency"] == currency]
            if of_currency:  # Decimal sums of "1234.50" keep the currency's decimals
                collected = sum(amount(r["collected"]) for r in of_currency)
                promised = sum(amount(r["promised_due"]) for r in of_currency)
                assert f"collected {collected:,}" in summary
                assert f"of {promised:,} promised due" in summary
            # Every chart drew something.
            assert all(chart._empty is None for chart in screen.query(Chart)), currency
            checked.append(currency)

    drive(app, scenario, size=(120, 40))
    store.dispose()
    assert checked  # the demo has figures in several currencies
    if user == "alice":
        assert all(row["agent"] == "alice" for row in agents)


def collection_rows(table: DataTable[Text]) -> list[tuple[str, Decimal, Decimal, int]]:
    return [
        (r["period_start"], amount(r["collected"]), amount(r["promised_due"]), int(r["payments"]))
        for r in rows_of(table)
    ]


def expected_collections(report: list[dict[str, Any]], currency: str) -> list[Any]:
    return [
        (r["period_start"], amount(r["collected"]), amount(r["promised_due"]), r["payments"])
        for r in report
        if r["currency"] == currency
    ]


def dso_words(report: list[dict[str, Any]], currency: str) -> str:
    """What the summary says of `report dso --json` for one currency."""
    rows = {r["basis"]: r for r in report if r["currency"] == currency}
    if not rows:
        return f"no DSO: no open invoices in {currency}"
    row = rows.get("issue_date")
    words = "DSO {days} days over {invoices} open {noun} ({amount:,})"
    if row is None:  # no issue dates: days past due, said so
        row = rows["days_past_due"]
        words = "no DSO (no issue dates): {days} days past due, open invoices: {invoices}"
        words += " ({amount:,})"
    return words.format(
        days=row["days"],
        invoices=row["invoices"],
        noun="invoice" if row["invoices"] == 1 else "invoices",
        amount=amount(row["open_receivables"]),
    )


@pytest.mark.parametrize("user", ["sam", "alice"])
def test_dso_and_collections_equal_the_report_commands(
    demo_file: Path, cli_json: Any, user: str
) -> None:
    """Whatever the demo holds: the summary's DSO is `report dso`, the collections table is
    `report collections` (per day over 30 days, per week over 90), currency by currency as the
    `c` key switches them."""
    dso = cli_json(user, "report", "dso")
    per_day = cli_json(user, "report", "collections")
    last = DEMO_NOW.astimezone(UTC).date()
    first = last - timedelta(days=89)
    per_week = cli_json(
        user,
        "report",
        "collections",
        *("--period", "week", "--from", first.isoformat(), "--to", last.isoformat()),
    )
    app, store = demo_app(demo_file, user)
    shown: dict[str, tuple[str, list[Any]]] = {}

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot, DEMO_PASSWORD)
        screen = await open_dashboard(pilot)
        assert screen.dashboard is not None
        currencies = screen.dashboard.currencies
        summary = screen.query_one("#reports-summary", Static)
        table = screen.query_one("#collections-table", DataTable)
        for index, currency in enumerate(currencies):
            if index:
                await pilot.press("c")
                await pilot.pause()
            assert screen.currency == currency
            text = rendered(summary)
            assert dso_words(dso, currency) in text, currency
            rows = collection_rows(table)
            assert rows == expected_collections(per_day, currency), currency
            shown[currency] = (dso_words(dso, currency).split(" in ")[0], rows)

        # Ninety days: one row per ISO week, as `--period week` over the same dates.
        await pilot.press("p")
        await settle(pilot)
        dashboard = screen.dashboard
        assert dashboard is not None and dashboard.per == "week"
        assert (dashboard.first, dashboard.last) == (first, last)
        for currency in dashboard.currencies:
            screen.set_currency(currency)
            await pilot.pause()
            assert collection_rows(table) == expected_collections(per_week, currency), currency
            assert dso_words(dso, currency) in rendered(summary)  # DSO is as of today

    drive(app, scenario, size=(120, 40))
    store.dispose()
    # The currencies' figures differ, so a switch that kept the last currency's would have failed.
    assert len(shown) > 1
    assert len({repr(figures) for figures in shown.values()}) == len(shown)


# --- the seeded workspace: scope, selectors, snapshots -------------------------------------------


def with_payments(demo: Seeded) -> Seeded:
    """The TUI seed plus money: CNY and USD payments inside the 30 days, one before them."""
    alice = demo.users["alice"]
    sam = demo.users["sam"]
    paid = (
        ("REF-1001", 150_000, 3),
        ("REF-1002", 20_050, 12),
        ("REF-1004", 280_000, 6),  # keeps the seed's promise
        ("REF-2001", 25_000, 2),
        ("REF-9001", 5_000, 40),  # Bob's, before the period
    )
    for ref, minor, days_ago in paid:
        with demo.store.write() as session:
            payments.post_payment(
                session=session,
                now=NOW,
                actor=sam,
                case_id=demo.cases[ref],
                amount=minor,
                received_on=(NOW - timedelta(days=days_ago)).date(),
                settings=demo.settings,
                reference=f"BANK-{ref}",
            )
    with demo.store.write() as session:
        sweep.sweep(session=session, now=NOW, settings=demo.settings)
    assert alice.username == "alice"
    return demo


def test_an_agent_sees_their_own_numbers_only(demo: Seeded) -> None:
    with_payments(demo)
    app = build_app(demo, "bob")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        screen = await open_dashboard(pilot)
        assert screen.dashboard is not None
        # Bob holds one USD case: no CNY anywhere, one agent row, his own.
        assert screen.dashboard.currencies == ("USD",)
        aging = rows_of(screen.query_one("#aging-table", DataTable))
        assert [(r["bucket"], r["count"]) for r in aging if r["count"] != "0"] == [("91-180", "1")]
        assert sum(amount(r["balance"]) for r in aging) == Decimal("450.00")
        agents = rows_of(screen.query_one("#agents-table", DataTable))
        assert [r["agent"] for r in agents] == ["bob"]
        assert amount(agents[0]["collected"]) == 0  # his payment is before the period
        assert "your cases only" in rendered(screen.query_one("#reports-summary", Static))

    drive(app, scenario)


def test_currency_and_period_selectors(demo: Seeded) -> None:
    with_payments(demo)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        screen = await open_dashboard(pilot)
        assert screen.dashboard is not None
        assert screen.dashboard.currencies == ("CNY", "USD")  # the bigger book first
        assert screen.currency == "CNY"
        summary = screen.query_one("#reports-summary", Static)
        assert "collected 4,500.50" in rendered(summary)  # 1,500.00 + 200.50 + 2,800.00
        await pilot.press("c")
        await pilot.pause()
        assert screen.query_one("#reports-currency", Select).value == "USD"
        assert "collected 250.00" in rendered(summary)  # Bob's 50.00 is before the period
        assert "4,500.50" not in rendered(summary)  # never added across currencies

        # Period: 7 days leaves out the payment of 12 days ago; 90 days is per week.
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("p")
        await settle(pilot)
        assert screen.days == 90 and screen.dashboard.per == "week"
        assert "collected 4,500.50" in rendered(summary)
        screen.query_one("#reports-period", Select).value = 7
        await settle(pilot)
        assert screen.days == 7 and screen.dashboard.first == date(2026, 11, 14)
        assert "collected 4,300.00" in rendered(summary)
        assert screen.currency == "CNY"  # the currency stays when the period changes

        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ReportsScreen)

    drive(app, scenario)


def test_a_currency_without_invoices_says_it_has_no_dso(demo: Seeded) -> None:
    """The seed's CNY book has invoices (REF-1003), its USD book none: a DSO for CNY, words for
    USD, and the collections table follows the currency."""
    with_payments(demo)
    with demo.store.read() as session:
        dso = reports.dso(session=session, now=NOW, actor=demo.users["sam"])
        per_day = reports.collections(session=session, now=NOW, actor=demo.users["sam"])
    assert [(r.currency, r.basis) for r in dso] == [("CNY", "days_past_due")]

    def expected(currency: str) -> list[tuple[str, Decimal, Decimal, int]]:
        return [
            (
                r.period_start.isoformat(),
                Decimal(r.collected).scaleb(-2),  # CNY and USD have two decimals
                Decimal(r.promised_due).scaleb(-2),
                r.payments,
            )
            for r in per_day
            if r.currency == currency
        ]

    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        screen = await open_dashboard(pilot)
        summary = screen.query_one("#reports-summary", Static)
        table = screen.query_one("#collections-table", DataTable)
        assert screen.currency == "CNY"
        open_cny = Decimal(dso[0].open_receivables).scaleb(-2)
        # The seed's invoices carry no issue date: days past due, not called a DSO.
        assert (
            f"no DSO (no issue dates): {dso[0].days} days past due, open invoices: 2 ({open_cny:,})"
        ) in rendered(summary)
        assert collection_rows(table) == expected("CNY")
        # The chart's colour key is below the axes, not plotext's legend over the lines.
        chart = screen.query_one("#chart-collections", Chart)
        legend = Content.from_markup(chart.border_subtitle or "").plain
        assert legend.split() == ["━━", "collected", "━━", "promised", "due"]
        assert "collected" not in str(chart.render())  # the title says "Collected vs ..."
        await pilot.press("c")
        await pilot.pause()
        assert screen.currency == "USD"
        assert "no DSO: no open invoices in USD" in rendered(summary)
        assert "days over" not in rendered(summary)  # no figure, not even 0
        assert collection_rows(table) == expected("USD") != expected("CNY")
        title = rendered(screen.query_one("#collections-title", Static))
        assert title.startswith("Collections per day in USD")

    drive(app, scenario)


@pytest.mark.parametrize(("user", "may_import"), [("alice", False), ("sam", True)])
def test_the_palette_offers_import_to_supervisors_only(
    demo: Seeded, user: str, may_import: bool
) -> None:
    app = build_app(demo, user)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "import cases or payments")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert (type(app.screen).__name__ == "ImportScreen") is may_import

    drive(app, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_snapshot(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    with_payments(demo)

    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(ReportsScreen())
        await settle(pilot)

    assert snap_compare(build_app(demo, "sam"), terminal_size=size, run_before=run_before)


def test_dashboard_snapshot_of_the_tables(snap_compare: Any, demo: Seeded) -> None:
    with_payments(demo)

    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(ReportsScreen())
        await settle(pilot)
        await pilot.press("end")
        await pilot.pause()

    assert snap_compare(build_app(demo, "sam"), terminal_size=(80, 24), run_before=run_before)


def test_an_empty_book_says_so(tmp_path: Path) -> None:
    from collector_tui.services import accounts

    store = bootstrap.open_store(tmp_path / "empty.db")
    db.upgrade(store)
    with store.write() as session:
        accounts.create_user(
            session=session, now=NOW, username="sam", password="demo", role="supervisor"
        )
    app = make_app(store=store, settings=Settings(), clock=FixedClock(NOW), username="sam")
    app.cursor_blink = False

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(ReportsScreen())
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReportsScreen)
        assert "Nothing to report yet" in rendered(screen.query_one("#reports-summary", Static))
        assert all(chart._empty for chart in screen.query(Chart))

    drive(app, scenario)
    store.dispose()


def test_export_from_the_dashboard(demo: Seeded, tmp_path: Path) -> None:
    with_payments(demo)
    app = build_app(demo, "alice")
    target = tmp_path / "out" / "paid.csv"
    target.parent.mkdir()

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await open_dashboard(pilot)
        await pilot.press("e")
        await pilot.pause()
        dialog = pilot.app.screen
        dialog.query_one("#export-what", Select).value = "payments"
        await pilot.pause()
        path = dialog.query_one("#export-path", Input)
        assert path.value == "payments.csv"  # the suggested name follows the kind
        path.value = str(tmp_path / "missing" / "x.csv")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "No folder" in rendered(dialog.query_one("#export-error", Static))
        path.value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReportsScreen)

    drive(app, scenario)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM box starts ticked: Excel
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Alice's own payments only (not Bob's), in their currencies, as decimal strings.
    assert sorted((r["client_ref"], r["currency"], r["amount"]) for r in rows) == [
        ("REF-1001", "CNY", "1500.00"),
        ("REF-1002", "CNY", "200.50"),
        ("REF-1004", "CNY", "2800.00"),
        ("REF-2001", "USD", "250.00"),
    ]
    assert {r["debtor_name"] for r in rows} >= {"王小明", "李娜"}


def test_keys_carry_ids_and_tooltips_and_are_in_the_help() -> None:
    from textual.binding import Binding

    from collector_tui.tui.screens.help import help_sections
    from collector_tui.tui.screens.imports import ImportScreen

    for screen, keys in (
        (ReportsScreen, {"c": "next_currency", "p": "next_period", "e": "export"}),
        (ImportScreen, {"ctrl+r": "check", "ctrl+s": "run_import", "ctrl+o": "browse"}),
    ):
        bindings = {b.key: b for b in screen.BINDINGS if isinstance(b, Binding)}
        assert {key: bindings[key].action for key in keys} == keys
        assert all(b.id and b.tooltip for b in bindings.values())
    titles = [title for title, _ in help_sections(ReportsScreen)]
    assert titles[0] == "Reports" and "Import" in titles
