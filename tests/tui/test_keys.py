"""Keys (docs/decisions.md, keyboard): in the footer, in the help screen, and every action in the
palette."""

from __future__ import annotations

from textual.binding import Binding
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.forms import PromiseForm
from collector_tui.tui.screens.help import HelpScreen
from collector_tui.tui.screens.login import LoginScreen
from collector_tui.tui.screens.queue import QueueScreen

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import Seeded

QUEUE_KEYS = {"enter": "open_case", "n": "next_case", "slash": "search", "r": "refresh"}
CASE_KEYS = {
    "c": "log_contact",
    "p": "promise",
    "l": "plan",
    "f": "follow_up",
    "t": "note",
    "d": "dispute",
    "n": "next_case",
    "escape": "back",
}


def keys_of(screen: type) -> dict[str, Binding]:
    return {b.key: b for b in screen.BINDINGS if isinstance(b, Binding)}


def test_default_keys_carry_ids_and_tooltips() -> None:
    for screen, expected in ((QueueScreen, QUEUE_KEYS), (CaseScreen, CASE_KEYS)):
        bindings = keys_of(screen)
        assert {key: bindings[key].action for key in expected} == expected
        assert all(b.id and b.tooltip for b in bindings.values())
    assert keys_of(CollectorApp)["question_mark"].action == "help"


def test_help_and_palette(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        sections = [rendered(s) for s in app.screen.query(".help-section").results(Static)]
        assert sections[0].lstrip().startswith("Queue")  # the screen we came from first
        assert "Log a contact attempt" in "".join(sections)
        await pilot.press("question_mark")  # ? again closes it
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)

        app.screen.open_case(demo.cases["REF-1001"])  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "promise to")
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromiseForm)

    drive(app, scenario)


def test_log_out_from_the_palette_and_in_as_someone_else(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "log out")
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and app.actor is None
        username = app.screen.query_one("#username", Input)
        assert username.value == "" and app.screen.focused is username
        await type_text(pilot, "bob")
        await pilot.press("enter")
        await type_text(pilot, "demo")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        # Bob's only debtor is in New York, asleep at this hour: nothing to call, one held.
        assert app.screen.query_one("#queue-table", DataTable).row_count == 0
        assert app.screen.query_one("#queue-empty", Static).display
        held = app.screen.query_one("#held-table", DataTable)
        assert [str(held.get_row_at(r)[0]) for r in range(held.row_count)] == ["Bob's Debtor"]

    drive(app, scenario, size=(80, 24))
