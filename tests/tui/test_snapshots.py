"""Snapshots of the main screens at 80x24 and 120x40, on the fixed clock and the seeded data.

Update after an intended change with `pytest tests/tui --snapshot-update` and look at the report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from .conftest import build_app, login, settle
from .seed import Seeded, open_disputes

SIZES = [(80, 24), (120, 40)]


def opening(ref: str, demo: Seeded, *then: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        if ref:
            pilot.app.screen.open_case(demo.cases[ref])  # type: ignore[attr-defined]
            await settle(pilot)
        for key in then:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_screen(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    assert snap_compare(build_app(demo), terminal_size=size, run_before=opening("", demo))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case_screen(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    assert snap_compare(build_app(demo), terminal_size=size, run_before=opening("REF-1001", demo))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_promise_form_with_an_error(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1001", demo, "p")(pilot)
        pilot.app.screen.query_one("#amount", Input).value = "12.3.4"
        pilot.app.screen.query_one("#due_date", Input).value = "2026-11-25"
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_contact_form_disposition_typed(
    snap_compare: Any, demo: Seeded, size: tuple[int, int]
) -> None:
    # "p" then "l": the hot key of "promise", narrowed on to "plan"; the hint says what was typed.
    assert snap_compare(
        build_app(demo), terminal_size=size, run_before=opening("REF-1001", demo, "c", "p", "l")
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_confirmation_before_a_dispute(
    snap_compare: Any, demo: Seeded, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1001", demo, "d")(pilot)
        pilot.app.screen.query_one("#reason", Input).value = "says it was paid in March"
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoices_with_a_dispute(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    open_disputes(demo)

    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1003", demo)(pilot)
        # Stacked at 80 columns: the invoices are the last panel.
        pilot.app.screen.query_one("#case-details").scroll_end(animate=False)
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_open_disputes_view(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    open_disputes(demo)
    assert snap_compare(
        build_app(demo, "sam"), terminal_size=size, run_before=opening("", demo, "d")
    )
