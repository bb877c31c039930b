"""The KPIs on the reports dashboard: the vintage chart and table, the promise-kept rate by amount
and the agents' right-party-contact rate are the command line's figures (`report vintage`,
`report promises --by amount`, `report agents`), currency by currency as `c` switches them; DSO
says days past due when the invoices carry no issue date; snapshots with several vintages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import DataTable

from collector_tui.demo import DEMO_PASSWORD
from collector_tui.services.casework import payments
from collector_tui.services.casework.cases import PlacementInput, add_placement
from collector_tui.tui.screens.reports import ReportsScreen
from collector_tui.tui.widgets.charts import VintageChart

from .conftest import build_app, drive, login, settle
from .seed import NOW, Seeded
from .test_reports_screen import (
    SIZES,
    amount,
    cli_json,  # noqa: F401 (a fixture)
    demo_app,
    demo_copy,  # noqa: F401 (a fixture)
    demo_file,  # noqa: F401 (a fixture)
    open_dashboard,
    rows_of,
    show,
    with_payments,
)


def percent(fraction: str | None) -> str:
    """A JSON rate ("0.3125") as the dashboard writes it ("31.3%")."""
    if fraction is None:
        return "-"
    return f"{(Decimal(fraction) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


@pytest.mark.parametrize("user", ["sam", "alice"])
def test_kpis_on_the_dashboard_equal_the_report_commands(
    demo_file: Path,  # noqa: F811
    cli_json: Any,  # noqa: F811
    user: str,
) -> None:
    vintage = cli_json(user, "report", "vintage", "--months", "6")
    bands = cli_json(user, "report", "promises", "--by", "amount")
    agents = cli_json(user, "report", "agents")
    app, store = demo_app(demo_file, user)
    checked: list[str] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot, DEMO_PASSWORD)
        screen = await open_dashboard(pilot)
        assert screen.dashboard is not None
        for index, currency in enumerate(screen.dashboard.currencies):
            if index:
                await pilot.press("c")
                await pilot.pause()
            assert screen.currency == currency
            # One row per placement month, newest first: where its curve stands today.
            latest: dict[str, dict[str, Any]] = {}
            for row in vintage:
                if row["currency"] == currency:
                    latest[row["placement_month"]] = row
            shown = rows_of(screen.query_one("#vintage-table", DataTable))
            assert [
                (r["placement_month"], int(r["cases"]), amount(r["placed"]), int(r["month"]),
                 amount(r["collected"]), r["liquidation_rate"])
                for r in shown
            ] == [
                (m, r["cases"], amount(r["placed"]), r["month"], amount(r["collected"]),
                 percent(r["liquidation_rate"]))
                for m, r in sorted(latest.items(), reverse=True)
            ], currency  # fmt: skip
            chart = screen.query_one("#chart-vintage", VintageChart)
            assert (chart._empty is None) == bool(latest), currency
            # The promise-kept rate per amount band.
            shown = rows_of(screen.query_one("#bands-table", DataTable))
            assert [(r["band"], int(r["made"]), int(r["due"]), int(r["kept"]), r["kept_rate"])
                    for r in shown] == [
                (r["band"], r["made"], r["due"], r["kept"], percent(r["kept_rate"]))
                for r in bands
                if r["currency"] == currency
            ], currency  # fmt: skip
            # The right-party-contact rate beside the counts behind it.
            shown = rows_of(screen.query_one("#agents-table", DataTable))
            assert [
                (r["agent"], int(r["attempts"]), int(r["right_party_contacts"]), r["rpc_rate"])
                for r in shown
            ] == [
                (r["agent"], r["attempts"], r["right_party_contacts"], percent(r["rpc_rate"]))
                for r in agents
            ]
            checked.append(currency)

    drive(app, scenario, size=(120, 40))
    store.dispose()
    assert checked


# --- the seeded workspace with several placement months -----------------------------------------


def with_vintages(demo: Seeded) -> Seeded:
    """The seed (placed in October) plus two earlier placement months with money since."""
    sam = demo.users["sam"]
    placed = (
        ("VIN-08", date(2026, 8, 3), 400_000, ((date(2026, 8, 20), 40_000),
                                              (date(2026, 9, 15), 60_000),
                                              (date(2026, 11, 2), 100_000))),
        ("VIN-09", date(2026, 9, 7), 250_000, ((date(2026, 10, 1), 20_000),
                                              (date(2026, 11, 10), 30_000))),
    )  # fmt: skip
    for ref, day, principal, paid in placed:
        with demo.store.write() as session:
            case_id = add_placement(
                session=session,
                now=NOW - timedelta(days=120),
                placement=PlacementInput(
                    client="ACME Bank", client_ref=ref, debtor_name=f"Debtor {ref}",
                    country="CN", currency="CNY", principal=principal, due_date=day,
                    placed_date=day, phones=(), assigned_to_id=demo.users["alice"].user_id,
                ),
                settings=demo.settings,
            ).id  # fmt: skip
        for received, minor in paid:
            with demo.store.write() as session:
                payments.post_payment(
                    session=session, now=NOW, actor=sam, case_id=case_id, amount=minor,
                    received_on=received, settings=demo.settings,
                )  # fmt: skip
    return with_payments(demo)


def test_the_vintage_chart_draws_one_curve_per_placement_month(demo: Seeded) -> None:
    with_vintages(demo)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(ReportsScreen())
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReportsScreen)
        chart = screen.query_one("#chart-vintage", VintageChart)
        legend = Content.from_markup(chart.border_subtitle or "").plain
        assert legend.split() == ["━━", "2026-10", "━━", "2026-09", "━━", "2026-08"]
        shown = rows_of(screen.query_one("#vintage-table", DataTable))
        # August: 400 + 600 + 1,000 of 4,000 by November, its fourth month.
        assert shown[-1] == {
            "placement_month": "2026-08",
            "cases": "1",
            "placed": "4,000.00",
            "month": "4",
            "collected": "2,000.00",
            "liquidation_rate": "50.0%",
        }

    drive(app, scenario, size=(120, 40))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_vintage_chart_snapshot(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    with_vintages(demo)

    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(ReportsScreen())
        await settle(pilot)
        pilot.app.screen.query_one("#chart-vintage").scroll_visible(animate=False, top=True)
        await pilot.pause(0.2)

    assert snap_compare(build_app(demo, "sam"), terminal_size=size, run_before=run_before)


__all__ = ["show"]
