"""Closed widgets are let go of (tui/watchers.py): the queue screen, open all day, builds its
footer's keys anew each time its bindings change (a case opened over it and closed, a focus move),
and every case screen's header watched the app's title. Textual kept each old key and each closed
header on the watched object's list until the value changed, which here it never does: the
memory grew case after case, and every full garbage collection walked it."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from collector_tui.tui.pauses import QUIET_S
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.footer import KeyFooter

from .conftest import build_app, drive, login, settle
from .seed import Seeded


def test_the_queue_footer_keeps_only_the_keys_it_shows(demo: Seeded) -> None:
    app = build_app(demo, collect_in_pauses=True)
    seen: dict[str, int] = {}

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        footer = queue.query_one(KeyFooter)
        for _ in range(4):  # open the top case and come back: the footer is rebuilt each time
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CaseScreen)
            await pilot.press("escape")
            await settle(pilot)
            if isinstance(app.screen, ConfirmScreen):  # leave without a wrap-up: yes
                await pilot.press("y")
                await settle(pilot)
            assert app.screen is queue
        await settle(pilot)
        await pilot.pause(3 * QUIET_S)  # the agent reads the screen: closed headers let go of
        watching_title = [node for node, _ in getattr(app, "__watchers", {}).get("title", [])]
        seen["closed headers"] = sum(node._closing for node in watching_title)
        seen["watching the title"] = len(watching_title)
        shown = list(footer.query(FooterKey))
        subscribed = [node for node, _ in getattr(footer, "__watchers", {}).get("compact", [])]
        seen["shown"], seen["subscribed"] = len(shown), len(subscribed)
        assert shown, "the footer shows keys"
        assert all(not node._closing for node in subscribed)
        assert set(subscribed) <= set(shown)

    drive(app, scenario)
    assert seen["subscribed"] <= seen["shown"]
    # The queue's header and the default screen's at most, not one per case opened.
    assert seen["closed headers"] == 0 and seen["watching the title"] <= 2
