"""The sync screen: opened from the command palette, it pushes, pulls, shows progress."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Button, Input, Log, ProgressBar, Static

from collector_tui import bootstrap, db
from collector_tui.clock import FixedClock
from collector_tui.config import Settings
from collector_tui.models import Activity
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities
from collector_tui.services.sync import engine
from collector_tui.tui.app import make_app
from collector_tui.tui.screens.sync import SyncScreen

pytestmark = pytest.mark.sqlite_only


async def _settle(pilot: Pilot[None], rounds: int = 8) -> None:
    for done in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if done >= 1 and not any(worker.is_running for worker in pilot.app.workers):
            return


async def _type(pilot: Pilot[None], text: str) -> None:
    names = {" ": "space", "-": "minus", ".": "full_stop", "/": "slash", "_": "underscore"}
    await pilot.press(*(names.get(char, char) for char in text))


def test_sync_from_the_palette_pushes_and_pulls(
    store: db.Store, users: dict[str, Actor], place, now, tmp_path: Path
) -> None:
    case = place("A-1")
    laptop = bootstrap.open_store(tmp_path / "laptop.db")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=now, settings=Settings())
    with laptop.write() as session:
        activities.log_contact(
            session=session, now=now, actor=users["alice"], case_id=case.id,
            contact=activities.ContactInput(disposition="right_party", note="on the train"),
            settings=Settings(),
        )  # fmt: skip
    master_path = str(tmp_path / "test.db")
    app = make_app(
        store=laptop,
        settings=Settings(master=master_path),
        clock=FixedClock(now + timedelta(hours=1)),
        username="alice",
    )
    app.cursor_blink = False

    async def scenario(pilot: Pilot[None]) -> None:
        await _settle(pilot, 2)
        await pilot.press(*"demo", "enter")
        await _settle(pilot)
        await pilot.press("ctrl+p")
        await _settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await _type(pilot, "sync with")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        status = str(app.screen.query_one("#sync-status", Static).content)
        assert "Changes waiting to go to the master: " in status and ": 0" not in status
        # The master the laptop was pulled from is unknown to this laptop: it comes from config.
        assert app.screen.query_one("#sync-master", Input).value == master_path
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert app.screen.query_one("#sync-progress", ProgressBar).progress == 100
        log = "\n".join(app.screen.query_one("#sync-log", Log).lines)
        assert "accepted" in log and "Pulled 1 case(s)" in log
        assert not app.screen.query_one("#sync-run", Button).disabled
        await pilot.press("escape")
        await _settle(pilot)
        assert not isinstance(app.screen, SyncScreen)

    async def main() -> None:
        async with app.run_test(size=(110, 36)) as pilot:
            await scenario(pilot)

    try:
        asyncio.run(main())
        with store.read() as session:
            assert session.exec(select(Activity).where(Activity.note == "on the train")).one()
        info = engine.laptop_info(laptop)
        assert info is not None and info.master == master_path and info.last_push_at is not None
    finally:
        laptop.dispose()


def test_the_sync_screen_on_a_database_that_is_not_a_laptop(
    store: db.Store, users: dict[str, Actor], now
) -> None:
    app = make_app(store=store, settings=Settings(), clock=FixedClock(now), username="alice")
    app.cursor_blink = False

    async def main() -> None:
        async with app.run_test(size=(110, 36)) as pilot:
            await _settle(pilot, 2)
            await pilot.press(*"demo", "enter")
            await _settle(pilot)
            app.push_screen(SyncScreen())
            await _settle(pilot)
            assert "not a laptop" in str(app.screen.query_one("#sync-status", Static).content)
            assert app.screen.query_one("#sync-run", Button).disabled
            await pilot.press("ctrl+s")  # nothing happens
            await _settle(pilot)
            assert app.screen.query_one("#sync-log", Log).line_count == 0

    asyncio.run(main())
