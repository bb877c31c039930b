"""The idle lock: after `idle_lock_minutes` without a key the workspace is covered until the
logged-in user types their password; what was typed before is still there, and saves."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Input

from collector_tui.models import Activity
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.forms import NoteForm
from collector_tui.tui.screens.lock import LockScreen
from collector_tui.tui.screens.login import LoginScreen
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, burst, drive, login, settle, type_text
from .seed import PASSWORD, Seeded

NOTE = "Debtor says the salary comes on Friday"


def test_idle_workspace_is_covered_and_unlocks_with_the_password(demo: Seeded) -> None:
    app = build_app(demo)
    now = [1000.0]
    app.idle_clock = lambda: now[0]

    async def scenario(pilot: Pilot[None]) -> None:
        app.lock_if_idle()  # nobody logged in: nothing to cover
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        await burst(pilot, "t", NOTE)
        await settle(pilot)
        assert isinstance(app.screen, NoteForm)
        typed_at = now[0]

        now[0] = typed_at + 9 * 60 + 59  # not yet
        app.lock_if_idle()
        await settle(pilot)
        assert isinstance(app.screen, NoteForm)
        now[0] = typed_at + 10 * 60
        app.lock_if_idle()
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        shown = app.export_screenshot()
        assert "Locked" in shown and "salary" not in shown and "Friday" not in shown
        app.lock_if_idle()  # one lock, not a stack of them
        assert sum(isinstance(s, LockScreen) for s in app.screen_stack) == 1

        await pilot.press("ctrl+p")  # the palette would reach under the cover
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        await type_text(pilot, "wrong")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert app.screen.query_one("#field-lock-password", FormField).error == (
            "wrong user name or password"
        )
        await burst(pilot, PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, NoteForm)
        assert NOTE in app.screen.query_one("#note").text  # type: ignore[attr-defined]
        assert app.use_command_palette
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        notes = session.exec(select(Activity.note).where(Activity.note == NOTE)).all()
    assert notes == [NOTE]


def test_the_lock_can_be_turned_off(demo: Seeded) -> None:
    demo = replace(demo, settings=replace(demo.settings, idle_lock_minutes=0))
    app = build_app(demo)
    now = [0.0]
    app.idle_clock = lambda: now[0]

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        now[0] = 10 * 3600
        app.lock_if_idle()
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        await app.run_action("logout")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#password", Input).value == ""

    drive(app, scenario)
