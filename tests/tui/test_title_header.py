"""The header survives a title set while its screen is taken down (Textual's own ends the app)."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets._header import HeaderTitle

from collector_tui.tui.widgets.header import TitleHeader


class OneHeader(App[None]):
    def compose(self) -> ComposeResult:
        yield TitleHeader()


def test_a_title_that_arrives_after_the_header_lost_its_children_is_dropped() -> None:
    async def main() -> None:
        app = OneHeader()
        async with app.run_test() as pilot:
            header = app.query_one(TitleHeader)
            app.title = "first"
            await pilot.pause()
            assert "first" in str(header.query_one(HeaderTitle).render())
            # What removal does first: the children go, the header's watches are still there.
            await header.query_one(HeaderTitle).remove()
            app.title = "late"
            app.sub_title = "late too"
            await pilot.pause()
            assert app.is_running and app._exception is None

    asyncio.run(main())


def test_the_header_shows_the_screen_title_and_follows_it() -> None:
    async def main() -> None:
        app = OneHeader()
        async with app.run_test() as pilot:
            app.screen.title = "Case"
            app.screen.sub_title = "ACME / REF-1"
            await pilot.pause()
            shown = str(app.query_one(HeaderTitle).render())
            assert "Case" in shown and "REF-1" in shown
            app.screen.title = "Wang Fang"
            await pilot.pause()
            assert "Wang Fang" in str(app.query_one(HeaderTitle).render())

    asyncio.run(main())
