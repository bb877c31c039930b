"""The header of every screen: Textual's, safe against a title set while its screen closes.

Textual's `Header` watches the app's and the screen's titles with an async callback that runs on
the header's next turn. A case screen sets its title when a case it read arrives; when that
happens while the screen is being replaced (save & next onto a case that was taken meanwhile),
the callback runs after the header's children were removed and Textual's own callback raises
`NoMatches`, which ends the app. This header does what Textual's does, and lets a title that has
nowhere to go drop.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class TitleHeader(Header):
    def _on_mount(self, event: Mount) -> None:
        # Instead of Header._on_mount (same watches), not in addition to it.
        event.prevent_default()
        Widget._on_mount(self, event)

        async def set_title() -> None:
            if self._pruning or self._closing:
                return
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except (NoMatches, NoScreen):
                pass  # the header is being taken down with its screen

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
