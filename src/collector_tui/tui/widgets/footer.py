"""The footer of every screen: Textual's, letting go of the keys it rebuilt.

Textual's `Footer` builds its keys anew each time the screen's bindings change (a focus move, a
form opening over it), and each key watches the footer's `compact`, which never changes here: see
tui/watchers.py.
"""

from __future__ import annotations

from textual.widgets import Footer

from collector_tui.tui.watchers import forget_closed_watchers


class KeyFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        forget_closed_watchers(self)
