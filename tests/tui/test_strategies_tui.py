"""Strategies on screen: the case's strategy, group and why in the "why this case is here" panel
(an escalation due said first), and the reports dashboard's champion/challenger table equal to
`report strategies`; snapshots of that table at 80x24 and 120x40."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from collector_tui.services.reporting.tables import report_table
from collector_tui.services.strategies import assign
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.reports import ReportsScreen

from .conftest import build_app, drive, login, rendered, settle
from .seed import NOW, Seeded
from .test_reports_screen import with_payments

FILE = """
title = "TUI strategies"
[strategies.standard]
queue_weight = 100
escalations = [{ after_days = 0, p_below = 0.99 }]
[strategies.standard.challenger]
share = 50
queue_weight = 150
[strategies.large]
queue_weight = 130
[[rules]]
name = "large"
strategy = "large"
priority = 1
currency = "CNY"
balance_min = "5000.00"
[[rules]]
name = "default"
strategy = "standard"
"""


def apply(seeded: Seeded, tmp_path: Path, text: str = FILE) -> None:
    path = tmp_path / "strategies.toml"
    path.write_text(text, encoding="utf-8")
    with seeded.store.write() as session:
        assign.apply_strategy_file(
            session=session, now=NOW, actor=seeded.users["sam"], settings=seeded.settings,
            path=path,
        )  # fmt: skip


def test_the_case_screen_says_the_strategy_group_and_why(demo: Seeded, tmp_path: Path) -> None:
    apply(demo, tmp_path)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(CaseScreen(demo.cases["REF-1001"]))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.strategy is not None
        panel = rendered(screen.query_one("#why-panel", Static))
        assert "Strategy large (champion)" in panel
        assert "queue weight 130%" in panel and "rule large" in panel
        assert "strategy" in panel  # the weight's own factor in the score
        pilot.app.push_screen(CaseScreen(demo.cases["REF-1005"]))  # 900.00 CNY: standard
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        panel = rendered(screen.query_one("#why-panel", Static))
        assert panel.lstrip().startswith("Escalation due: legal"), panel
        assert "Strategy standard" in panel

    drive(app, scenario)


def test_no_strategy_applied_shows_no_strategy_line(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(CaseScreen(demo.cases["REF-1001"]))
        await settle(pilot)
        panel = rendered(app.screen.query_one("#why-panel", Static))
        assert "Strategy" not in panel

    drive(app, scenario)


def test_the_dashboard_table_equals_report_strategies(demo: Seeded, tmp_path: Path) -> None:
    apply(demo, tmp_path)
    with_payments(demo)
    with demo.store.read() as session:
        table = report_table("strategies", session=session, now=NOW, actor=demo.users["sam"])
    expected = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(ReportsScreen())
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        for currency in ("CNY", "USD"):
            screen.set_currency(currency)
            await pilot.pause()
            shown: DataTable[Text] = screen.query_one("#strategies-table", DataTable)
            rows = [
                [str(cell) for cell in shown.get_row_at(index)] for index in range(shown.row_count)
            ]
            wanted = [row for row in expected if row["currency"] == currency]
            assert [(r[0], r[1], r[2], r[6]) for r in rows] == [
                (w["strategy"], w["group"], w["cases"], w["collected"]) for w in wanted
            ]
            for row, want in zip(rows, wanted, strict=True):
                # The rate in percent, beside its count (120 columns are wide).
                contact = Decimal(want["contact_rate"]) * 100
                assert row[3] == f"{contact.quantize(Decimal('0.1'))} ({want['contacted']})"
                assert row[5] == f"{want['promises_kept']}/{want['promises_made']}"
            title = rendered(screen.query_one("#strategies-title", Static))
            assert "champion against challenger" in title

    drive(app, scenario)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_strategies_report_snapshot(
    snap_compare: Any, demo: Seeded, tmp_path: Path, size: tuple[int, int]
) -> None:
    apply(demo, tmp_path)
    with_payments(demo)

    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(ReportsScreen())
        await settle(pilot)
        pilot.app.screen.query_one("#strategies-table", DataTable).focus()
        await pilot.press("end")
        await pilot.pause()

    assert snap_compare(build_app(demo, "sam"), terminal_size=size, run_before=run_before)


def test_the_case_at_80x24_keeps_every_panel_with_a_strategy(demo: Seeded, tmp_path: Path) -> None:
    from textual.containers import VerticalScroll

    from collector_tui.tui.widgets.timeline import Timeline

    from .test_layout import inside

    apply(demo, tmp_path)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        pilot.app.push_screen(CaseScreen(demo.cases["REF-1001"]))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.strategy is not None
        details = screen.query_one("#case-details", VerticalScroll)
        assert details.max_scroll_y == 0
        for panel_id in ("contacts-panel", "debt-panel", "status-panel", "why-panel"):
            panel = screen.query_one(f"#{panel_id}", Static)
            assert panel.display and inside(panel, details), panel_id
        assert "Strategy large" in rendered(screen.query_one("#why-panel", Static))
        box = screen.query_one("#timeline-box")
        assert box.region.y >= details.region.bottom
        assert screen.query_one("#timeline", Timeline).region.height >= 3

    drive(app, scenario, size=(80, 24))
