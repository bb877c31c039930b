"""The footer of every screen: Textual's, rebuilt once per change of keys, letting go of old keys.

Textual's `Footer` schedules a rebuild of all its keys each time the screen's bindings change (a
focus move, a form opening over it, each `refresh_bindings`), and a burst of such changes within
one refresh rebuilt it once per change: about 6 ms each, a dozen of them for one case opened. A
rebuild reads the bindings as they are when it runs, so the burst needs only the last one; and most
changes (a focus move between fields, a worker done) leave the keys shown as they were, which need
no rebuild at all.

Each rebuilt key also watches the footer's `compact`, which never changes here, so the old keys
stayed alive: see tui/watchers.py.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

from collector_tui.tui.watchers import forget_closed_watchers


class KeyFooter(Footer):
    rebuild_pending = False
    rebuilding = False  # between removing the old keys and mounting the new ones
    keys_built: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self.rebuild_pending:
            self.rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self.rebuild_pending = False
        if self.is_attached and self._keys_shown() != self.keys_built:
            await self.recompose()

    def _keys_shown(self) -> tuple[Any, ...]:
        """What Footer.compose draws from the bindings: keys, labels, state, grouping."""
        app = self.app
        return (
            self.show_command_palette,
            tuple(
                (
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    enabled,
                    tooltip,
                    id(binding.group) if binding.group is not None else None,
                )
                for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
                if binding.show or binding.key == app.COMMAND_PALETTE_BINDING
            ),
        )

    async def recompose(self) -> None:
        self.keys_built = self._keys_shown() if self._bindings_ready else None
        self.rebuilding = True
        try:
            await super().recompose()
        finally:
            self.rebuilding = False
        forget_closed_watchers(self)
