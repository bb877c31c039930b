"""Layout at 80x24 and 120x40: what an agent must see without scrolling is inside its container,
numbers and amounts are never cut, tables drop columns rather than digits, a plan is one row."""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from collections.abc import Callable, Coroutine
from datetime import date, timedelta
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Static

from collector_tui.money import Money, format_plain
from collector_tui.services.casework import promises
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.case_requests import SettlementRequestForm
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.tables import fit_line
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app, login, settle
from .seed import NOW, Seeded


def run(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """A Pilot scenario as a plain test (the suite runs no asyncio plugin)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def inside(widget: Widget, container: Widget) -> bool:
    region, outer = widget.region, container.region
    return (
        region.height > 0
        and region.y >= outer.y
        and region.bottom <= outer.bottom
        and region.x >= outer.x
        and region.right <= outer.right
    )


async def open_case(pilot: Pilot[None], seeded: Seeded, ref: str) -> CaseScreen:
    await login(pilot)
    pilot.app.screen.open_case(seeded.cases[ref])  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(pilot.app.screen, CaseScreen)
    return pilot.app.screen


@run
async def test_the_case_at_80x24_shows_every_panel_without_scrolling(demo: Seeded) -> None:
    app = build_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(pilot, demo, "REF-1001")  # two phones
        details = screen.query_one("#case-details", VerticalScroll)
        assert details.max_scroll_y == 0
        panels = ("contacts-panel", "debt-panel", "status-panel", "why-panel")
        for panel_id in panels:
            panel = screen.query_one(f"#{panel_id}", Static)
            assert panel.display and inside(panel, details), panel_id
            assert inside(panel, screen), panel_id
        # The placement's address is a contact row: shown once, in the contacts panel, so the
        # debtor panel (which held only the address at this width) makes way for the timeline.
        case = screen.case_file
        assert case is not None and case.debtor.address
        assert [a.source for a in case.addresses] == ["placement"]
        assert not screen.query_one("#debtor-panel", Static).display
        box = screen.query_one("#timeline-box")
        # The timeline starts under the last panel, never over a border, and shows entries.
        assert box.region.y >= details.region.bottom
        assert box.region.bottom <= screen.region.bottom - 1  # the footer
        assert screen.query_one("#timeline", Timeline).region.height >= 3


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@run
async def test_phones_in_words_and_never_cut(demo: Seeded, size: tuple[int, int]) -> None:
    app = build_app(demo)
    async with app.run_test(size=size) as pilot:
        screen = await open_case(pilot, demo, "REF-2001")  # +1 212: mobile or landline
        panel = screen.query_one("#contacts-panel", Static)
        text = "\n".join(strip.text for strip in panel.render_lines(panel.region.reset_offset))
        assert "+1 212-555-0123" in text
        assert "fixed_or_mobile" not in text and "mobile or landline" in text
        assert "…" not in text.split("mobile or landline")[0]


@run
async def test_the_settlement_dialog_fits_80x24(demo: Seeded) -> None:
    app = build_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_case(pilot, demo, "REF-1001")
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SettlementRequestForm)
        await pilot.press("9", "0", "0", "0", "ctrl+s")  # errors under the date: taller still
        await settle(pilot)
        body = form.query_one(".form-body", VerticalScroll)
        assert body.max_scroll_y == 0
        dialog = form.query_one("#dialog")
        assert inside(dialog, form)
        for name in ("amount", "due_date", "note"):
            assert inside(form.query_one(f"#field-{name}"), body), name


@run
async def test_the_supervisor_footer_fits_80_columns(demo: Seeded) -> None:
    app = build_app(demo, "sam")
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await settle(pilot)
        footer_text = app.export_screenshot()
        assert "Help" in footer_text and "Hel<" not in footer_text
        from collector_tui.tui.screens.help import help_sections
        from collector_tui.tui.screens.supervisor import SupervisorScreen

        keys = {b.key for _, bindings in help_sections(SupervisorScreen) for b in bindings}  # type: ignore[union-attr]
        assert "m" in keys


def amounts_whole(app: CollectorApp, table: DataTable, expected: set[str]) -> None:  # type: ignore[type-arg]
    """Every balance cell, as the table renders it, holds the whole figure."""
    column = table.get_column_index("balance")
    width = table.columns[table.ordered_columns[column].key].width
    for row in range(table.row_count):
        cell = table.get_cell_at((row, column))
        assert cell.plain in expected
        assert cell.cell_len <= width


@pytest.mark.parametrize("sizes", [[(120, 40), (80, 24), (60, 20), (120, 40)]])
@run
async def test_resizing_the_queue_never_cuts_an_amount(
    demo: Seeded, sizes: list[tuple[int, int]]
) -> None:
    app = build_app(demo)
    async with app.run_test(size=sizes[0]) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen) and screen.page is not None
        expected = {format_plain(Money(e.balance, e.currency)) for e in screen.page.entries}
        table = screen.query_one("#queue-table", DataTable)
        for size in sizes:
            await pilot.resize_terminal(*size)
            await pilot.pause()  # the first frame after the resize, before any idle measuring
            amounts_whole(app, table, expected)
            total = sum(column.width + 2 for column in table.columns.values())
            assert total <= size[0]
            if size[0] >= 80:
                assert "reason" in {c.key.value for c in table.columns.values()}
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        shown = {c.key.value for c in table.columns.values()}
        assert "balance" in shown and "next" not in shown


def test_a_cut_never_splits_a_figure() -> None:
    assert fit_line("broken promise of 4,100.00 USD due", 25).plain == "broken promise of…"
    assert fit_line("payment 2,500.00 CNY received", 22).plain == "payment 2,500.00 CNY…"
    assert fit_line("payment 2,500.00 CNY received", 19).plain == "payment…"
    for width in range(8, 40):
        shown = fit_line("promise reminder: 13,533.00 CNY due today", width).plain
        assert not re.search(r"\d…|\d [A-Z]{1,2}…", shown), shown


def _plan(seeded: Seeded, ref: str) -> uuid.UUID:
    with seeded.store.write() as session:
        return promises.create_plan(
            session=session,
            now=NOW,
            actor=seeded.users["alice"],
            case_id=seeded.cases[ref],
            plan=PlanInput(
                tuple(
                    PromiseInput(300_000, date(2026, 12, 1) + timedelta(days=31 * i))
                    for i in range(3)
                )
            ),
            settings=seeded.settings,
        )


@run
async def test_a_plan_is_one_row_that_opens_with_enter_and_space(demo: Seeded) -> None:
    plan_id = _plan(demo, "REF-1003")
    app = build_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(pilot, demo, "REF-1003")
        timeline = screen.query_one("#timeline", Timeline)
        plans = [e for e in timeline.entries if e.kind == "plan"]
        assert len(plans) == 1 and plans[0].plan_id == plan_id
        assert not [e for e in timeline.entries if e.plan_id == plan_id and e.kind == "promise"]
        timeline.move_cursor(row=timeline.entries.index(plans[0]))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen  # not the full entry: the plan opened
        installments = [e for e in timeline.entries if e.kind == "promise"]
        assert len(installments) == 3
        # Outcome and the agent's name in full, at 120x40.
        assert "outcome" in timeline._widths and "who" in timeline._widths
        row = timeline.entries.index(installments[0])
        cells = [c.plain for c in timeline.get_row_at(row)]
        assert "pending" in cells and "Alice Wang" in cells
        assert "3,000.00 CNY" in cells[1]
        await pilot.press("space")
        await settle(pilot)
        assert not [e for e in timeline.entries if e.kind == "promise" and e.plan_id == plan_id]
