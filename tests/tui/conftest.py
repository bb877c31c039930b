"""Fixtures for the TUI: a seeded demo database per test, an app on a fixed clock, helpers to drive
it with real keys and to wait for its workers instead of sleeping."""

from __future__ import annotations

import asyncio
import io
import shutil
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual import _wait, events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerFailed

from collector_tui import bootstrap, db
from collector_tui.clock import FixedClock
from collector_tui.config import Settings
from collector_tui.tui.app import CollectorApp, make_app
from collector_tui.tui.widgets.footer import KeyFooter

from .seed import NOW, PASSWORD, Seeded, seed

# Pilot waits after each key and pause until the process has used (almost) no CPU for one sample
# of 20 ms: 40–60 ms a key, most of a test's time when it types a note key by key. Samples of 5 ms
# tell the same (no CPU used meanwhile, at the same 5% ratio) four times sooner; what a test must
# not run ahead of (workers, screen switches, the keys in flight) `settle` and `typed` wait for
# explicitly.
_wait.SLEEP_GRANULARITY = 0.005
_wait.SLEEP_IDLE = _wait.SLEEP_GRANULARITY / 20.0


def _template(folder: Path, *, hostile: bool) -> tuple[Path, Seeded]:
    path = folder / ("hostile.db" if hostile else "demo.db")
    store = bootstrap.open_store(path)
    db.upgrade(store)
    seeded = seed(store, Settings(), hostile=hostile)
    store.dispose()
    # Fold the WAL into the main file so a plain file copy carries everything.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, seeded


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    return _template(tmp_path_factory.mktemp("tui-template"), hostile=False)


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    return _template(tmp_path_factory.mktemp("tui-hostile"), hostile=True)


def _copy(template: tuple[Path, Seeded], tmp_path: Path) -> Iterator[Seeded]:
    source, seeded = template
    target = tmp_path / source.name
    shutil.copyfile(source, target)
    store = bootstrap.open_store(target)
    yield Seeded(store=store, settings=Settings(), users=seeded.users, cases=seeded.cases)
    store.dispose()


@pytest.fixture
def demo(demo_template: tuple[Path, Seeded], tmp_path: Path) -> Iterator[Seeded]:
    """A fresh copy of the seeded demo database for this test."""
    yield from _copy(demo_template, tmp_path)


@pytest.fixture
def hostile(hostile_template: tuple[Path, Seeded], tmp_path: Path) -> Iterator[Seeded]:
    """The demo plus debtors named with markup and escape sequences."""
    yield from _copy(hostile_template, tmp_path)


def build_app(
    seeded: Seeded,
    username: str | None = "alice",
    language: str | None = None,
    *,
    collect_in_pauses: bool = False,
) -> CollectorApp:
    app = make_app(
        store=seeded.store,
        settings=seeded.settings,
        clock=FixedClock(NOW),
        username=username,
        language=language,
    )
    app.cursor_blink = False
    # A full collection in this process walks every test module and fixture as well: half a
    # second per test, for nothing the test looks at. test_pauses.py runs the app's schedule.
    app.pauses.collecting = collect_in_pauses
    return app


@pytest.fixture
def app(demo: Seeded) -> CollectorApp:
    return build_app(demo)


async def settle(pilot: Pilot[None], rounds: int = 6) -> None:
    """Let workers finish and their messages be handled: a worker's result may start a screen
    switch, which starts another worker (a switch takes a moment since Textual 8)."""
    for done in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass  # the screen shows the failure (the test reads what it shows)
        except WorkerCancelled:
            pass  # a read-ahead superseded by the next highlight (exclusive workers)
        await pilot.pause()
        if done >= 1 and not any(worker.is_running for worker in pilot.app.workers):
            # A message handled in that pause may start the next worker (a dialog's answer
            # starts the save): look once more before calling the app settled.
            await pilot.pause()
            if not any(worker.is_running for worker in pilot.app.workers):
                await footer_built(pilot)
                return
    await footer_built(pilot)


async def footer_built(pilot: Pilot[None], limit_s: float = 2) -> None:
    """Wait until the screen shows what its widgets hold: a footer rebuild it has scheduled or
    started finished, and the layout and repaint it asked for done. Pilot's pause can end in
    between (more often on a loaded machine), and a test reading the screen's lines then reads
    the frame before: a blank footer, which a terminal never shows (the rebuild is one batch)."""
    waited = 0.0
    while waited < limit_s:
        app = pilot.app
        try:
            screen = app.screen
            footers = list(screen.query(KeyFooter))
        except Exception:  # no screen (the app has quit)
            return
        pending = (
            any(footer.rebuild_pending or footer.rebuilding for footer in footers)
            or app._batch_count
            or screen._layout_required
            or screen._repaint_required
            or screen._dirty_widgets
        )
        if not pending:
            return
        await pilot.pause(0.005)
        waited += 0.005


async def login(pilot: Pilot[None], password: str = PASSWORD) -> None:
    """From the login screen (user preselected) to the queue, with real keys."""
    await settle(pilot, 1)
    await pilot.press(*password)
    await pilot.press("enter")
    await settle(pilot)


async def type_text(pilot: Pilot[None], text: str) -> None:
    # pilot.press takes key names; a space and some punctuation have names of their own.
    names = {" ": "space", "-": "minus", ".": "full_stop", ",": "comma", ":": "colon", "/": "slash"}
    await pilot.press(*(names.get(char, char) for char in text))


# Key names a burst takes as one key rather than as text to type character by character.
KEY_NAMES = frozenset(
    {"tab", "shift+tab", "enter", "escape", "backspace", "space", "up", "down", "slash"}
)
KEY_CHARACTERS = {"space": " ", "enter": "\r", "slash": "/", "tab": "\t"}


def _key_event(part: str) -> list[events.Key]:
    if part in KEY_NAMES or "+" in part[1:]:
        return [events.Key(part, KEY_CHARACTERS.get(part))]
    return [events.Key(char if char.isalnum() else _character_to_key(char), char) for char in part]


async def burst(pilot: Pilot[None], *parts: str | events.Paste) -> None:
    """Send keys the way a terminal delivers them when they arrive in one read (a fast typist, a
    paste without bracketed paste, keys typed while the app was busy): all queued at once, none
    waiting for the one before to be handled. `pilot.press` waits for the app to be idle after
    every key, which hides what this shows. A part is a key name (`ctrl+s`, `tab`), text typed
    character by character, or a Paste event."""
    app = pilot.app
    for part in parts:
        if isinstance(part, events.Paste):
            app.post_message(part)
            continue
        for event in _key_event(part):
            app.post_message(event)
    await settle(pilot)
    await typed(pilot)


async def typed(pilot: Pilot[None], limit_s: float = 20) -> None:
    """Wait until every key sent has been handled (the app takes them one after another)."""
    order = pilot.app.key_order  # type: ignore[attr-defined]
    waited = 0.0
    # An app that quit (the last key was ctrl+q) handles no more keys: nothing to wait for.
    while (order.waiting or order.in_flight is not None) and waited < limit_s:
        if not pilot.app.is_running:
            return
        await pilot.pause(0.02)
        waited += 0.02
    await settle(pilot)


def rendered(widget: Static) -> str:
    """The plain text a Static shows (Rich tables and grids rendered wide, without styles)."""
    content = widget.content
    if isinstance(content, str | Text):
        return str(content)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def drive(
    app: CollectorApp,
    scenario: Callable[[Pilot[None]], Awaitable[None]],
    *,
    size: tuple[int, int] = (120, 40),
) -> None:
    """Run `scenario` against the app headless (no async test plugin needed)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await scenario(pilot)

    asyncio.run(main())
