"""The garbage collector's schedule (tui/pauses.py): the session's long-lived objects are frozen
once the agent's home screen is up, garbage made while working is freed in the agent's next pause
(not in a keystroke), and the app's end gives the process its own schedule back."""

from __future__ import annotations

import gc
import weakref

from textual.pilot import Pilot

from collector_tui.tui.pauses import FULL_EVERY, QUIET_S
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.queue import QueueScreen

from .conftest import build_app, drive, login, settle
from .seed import Seeded


class Cycle:
    """Garbage only the cyclic collector frees: it points at itself."""

    me: Cycle | None = None


def test_garbage_is_freed_in_the_agents_next_pause_and_the_end_restores_the_collector(
    demo: Seeded,
) -> None:
    before = gc.get_threshold()
    app = build_app(demo, collect_in_pauses=True)
    seen: dict[str, object] = {}

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.pause(3 * QUIET_S)  # the agent reads the queue: the session settles
        seen["frozen"] = gc.get_freeze_count()
        seen["threshold"] = gc.get_threshold()
        await pilot.press("enter")  # the agent works a case: keys arm the next pause
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        garbage = Cycle()
        garbage.me = garbage
        gone = weakref.ref(garbage)
        del garbage
        gc.disable()  # only the app's own pause may collect from here on
        try:
            await pilot.press("down")
            seen["freed while typing"] = gone() is None
            await pilot.pause(3 * QUIET_S)
            seen["freed in the pause"] = gone() is None
        finally:
            gc.enable()

    drive(app, scenario)
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 0
    threshold = seen["threshold"]
    assert isinstance(threshold, tuple) and threshold[2] == FULL_EVERY
    assert seen["freed while typing"] is False and seen["freed in the pause"] is True
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_with_collecting_off_the_app_leaves_the_collector_alone(demo: Seeded) -> None:
    before = gc.get_threshold()
    app = build_app(demo)
    seen: dict[str, object] = {}

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.pause(3 * QUIET_S)
        seen["frozen"] = gc.get_freeze_count()
        seen["threshold"] = gc.get_threshold()

    drive(app, scenario)
    assert seen == {"frozen": 0, "threshold": before}
