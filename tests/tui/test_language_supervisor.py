"""The supervisor's screens in the pseudo-locale (tests/tui/pseudo.py): every word on them went
through the catalog, apart from stored data, key names and codes shown as they are.

Each run opens the screen the way a supervisor does (its key on the supervisor screen), in `xx`,
and lists the lines with a word outside the ⟦…⟧ brackets."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from collector_tui import i18n

from . import pseudo
from .conftest import build_app, drive, login, settle
from .seed import Seeded, open_disputes

# Stored data on these screens (people, debtors, clients, references), codes shown as they are
# (currencies, countries), key names and the app's name.
STORED = (
    "collector",
    "Sam Lee",
    "Alice Wang",
    "Bob Miller",
    "Bob's Debtor",
    "John Smith",
    "alice",
    "bob",
    "sam",
    "REF",
    "INV",
    "CNY",
    "USD",
    "CN",
    "US",
    "esc",
    "space",
    "enter",
    "ctrl",
    "supervisor",  # the header's role: a code (the app's header, not these screens)
)


# In the pseudo-locale no message comes out in Chinese: Chinese on the screen is stored data (the
# seeded debtors' names), left out before looking for words outside the brackets.
_CJK = re.compile("[\u3400-\u9fff]+")


def _outside(lines: list[str], allowed: tuple[str, ...]) -> list[str]:
    return pseudo.untranslated([_CJK.sub(" ", line) for line in lines], STORED + allowed)


@pytest.fixture(autouse=True)
def pseudo_locale() -> None:
    pseudo.install()


def _check(
    demo: Seeded,
    keys: tuple[str, ...],
    expected: str,
    *,
    allowed: tuple[str, ...] = (),
    prepare: Callable[[Seeded], object] | None = None,
    rows: slice = slice(None),
) -> None:
    if prepare is not None:
        prepare(demo)
    app = build_app(demo, "sam", language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert i18n.current_language() == pseudo.PSEUDO
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any(expected in line for line in lines), "\n".join(lines)
        assert _outside(lines[rows], allowed) == []

    drive(app, scenario, size=(120, 40))


def test_supervisor_screen(demo: Seeded) -> None:
    _check(demo, (), "⟦Routed to supervisors⟧")


def test_supervisor_screen_at_80_columns(demo: Seeded) -> None:
    app = build_app(demo, "sam", language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("down", "space")
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦{count} selected⟧" not in line and "⟦" in line for line in lines)
        assert _outside(lines, ()) == []

    drive(app, scenario, size=(80, 24))


def test_reports_dashboard(demo: Seeded) -> None:
    # Chart axes draw numbers and the aging buckets' own names (codes such as "1-30").
    _check(demo, ("g",), "⟦Aging: balance", allowed=("current",))


def test_reminder_outbox(demo: Seeded) -> None:
    _check(demo, ("n",), "⟦Reminders ⟦due⟧:⟧")


def test_open_disputes(demo: Seeded) -> None:
    # The disputes' reasons are what alice typed.
    stored = ("part of the goods arrived", "price differs from the")
    _check(demo, ("d",), "⟦Open disputes⟧", prepare=open_disputes, allowed=stored)


def test_import_screen(demo: Seeded) -> None:
    _check(demo, ("i",), "⟦Import a CSV file.", allowed=("csv", "path", "to", "file"))


def test_audit_trail(demo: Seeded) -> None:
    # The rows are the trail as recorded: entity and action codes, field names and values; the
    # frame (title, summary, column titles) and the footer are checked.
    _check(demo, ("h",), "⟦History⟧", rows=slice(0, 3))
    _check(demo, ("h",), "⟦History⟧", rows=slice(-1, None))


def test_skip_tracing(demo: Seeded) -> None:
    _check(demo, ("t",), "⟦Skip tracing⟧", allowed=("skiptrace", "export", "FILE"))


# -- zh_CN snapshots: CJK labels are two cells wide; nothing may be cut or overflow at 80x24 -------

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_supervisor_in_chinese(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("down", "space")
        await settle(pilot)
        await pilot.pause(0.2)  # DataTable settles its column widths when idle
        await settle(pilot)

    app = build_app(demo, "sam", language="zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_in_chinese(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)

    app = build_app(demo, "sam", language="zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_the_supervisor_switches_language_from_the_palette(demo: Seeded) -> None:
    from textual.widgets import DataTable

    from .conftest import type_text

    open_disputes(demo)
    app = build_app(demo, "sam")

    def headers(table_id: str) -> list[str]:
        table = app.screen.query_one(table_id, DataTable)
        return [str(column.label) for column in table.ordered_columns]

    async def switch(pilot: Pilot[None], name: str) -> None:
        await pilot.press("ctrl+p")
        await type_text(pilot, name)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert app.screen.title == "Supervisor"
        assert "Agent" in headers("#workload-table") and "Status" in headers("#browser-table")
        await switch(pilot, "language: 中")
        assert i18n.current_language() == "zh_CN"
        assert app.screen.title == "主管"
        assert headers("#workload-table")[:2] == ["催收员", "未结"]
        assert "状态" in headers("#browser-table")
        text = "\n".join(pseudo.screen_text(app))
        assert "催收中" in text and "找到" in text  # statuses and the summary line
        await pilot.press("d")
        await settle(pilot)
        assert app.screen.title == "未结争议"
        assert "负责人" in headers("#disputes-table")
        await switch(pilot, "english")
        assert app.screen.title == "Open disputes" and "Owner" in headers("#disputes-table")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.title == "Supervisor" and "Status" in headers("#browser-table")

    drive(app, scenario, size=(120, 40))
