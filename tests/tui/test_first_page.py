"""The queue's first paint: the top of the queue before the whole page, and never a case the
rules forbid calling now, even before the full build arrives."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from collector_tui.services.casework.queue import build_queue
from collector_tui.tui.messages import QueueLoaded
from collector_tui.tui.screens import queue as queue_screen
from collector_tui.tui.screens.queue import QueueScreen

from .conftest import build_app, drive, login, rendered
from .seed import NOW, Seeded


def test_first_paint_is_the_lawful_top_of_the_queue(
    demo: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two rows first, so the partial page is shorter than the queue (a screenful is more rows
    # than the demo has).
    monkeypatch.setattr(queue_screen, "first_rows", lambda app: 2)
    seen: list[tuple[bool, tuple[uuid.UUID, ...], int]] = []
    handled = QueueScreen.on_queue_loaded

    def spy(self: QueueScreen, message: QueueLoaded) -> None:
        handled(self, message)
        rows = self.query_one("#queue-table", DataTable).row_count
        seen.append((message.partial, tuple(e.case_id for e in message.page.entries), rows))

    monkeypatch.setattr(QueueScreen, "on_queue_loaded", spy)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "Follow-ups due 1" in rendered(app.screen.query_one("#queue-counts", Static))

    drive(app, scenario)

    alice = demo.users["alice"]
    with demo.store.write() as session:
        full = build_queue(
            session=session, now=NOW, agent_id=alice.user_id, settings=demo.settings, limit=100
        )
        held = build_queue(
            session=session,
            now=NOW,
            agent_id=alice.user_id,
            settings=demo.settings,
            limit=0,
            include_held=True,
        ).held
    callable_ids = [entry.case_id for entry in full.entries]
    held_ids = {entry.case_id for entry in held}
    assert held_ids, "the demo has held cases: the test needs some"
    assert len(callable_ids) > 2
    # A partial page, when one is sent, comes before the whole one and is the top of the queue in
    # the queue's order: no held case, none skipped. Under CI's load (many test workers on two
    # cores, the screen built twice at its start) none may be sent at all, and the whole page is
    # then the first paint; how soon the first rows show is the bench's to measure.
    partials = [ids for partial, ids, _rows in seen if partial]
    if partials:
        assert seen.index(next(s for s in seen if s[0])) < len(seen) - 1
    for ids in partials:
        assert list(ids) == callable_ids[:2]
        assert not held_ids & set(ids)
    if seen[0][0]:  # painted alone, before anything else
        assert seen[0][2] == 2
    last_partial, last_ids, last_rows = seen[-1]
    assert not last_partial and list(last_ids) == callable_ids and last_rows == len(callable_ids)


def test_the_login_warm_up_prepares_the_queue_it_then_shows(
    demo: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The login screen's warm-up judges the top of alice's queue while the password is typed;
    # the first build waits for it (the same cases) and shows the queue a cold build gives.
    from collector_tui.services.casework import queue as queue_service

    prepared: list[int] = []
    prepare = queue_service.prepare_queue

    @functools.wraps(prepare)
    def spy(**arguments: Any) -> int:
        prepared.append(prepare(**arguments))
        return prepared[-1]

    monkeypatch.setattr(queue_service, "prepare_queue", spy)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.warm_up_idle.is_set()
        rows = app.screen.query_one("#queue-table", DataTable).row_count
        assert prepared == [rows]

    drive(app, scenario)
