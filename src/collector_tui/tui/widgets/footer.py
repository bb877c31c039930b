"""The footer of every screen: Textual's, without the keys it forgets to let go of.

Textual's `Footer` builds its keys anew each time the screen's bindings change (a focus move, a
form opening over it), and each `FooterKey` it builds subscribes to the footer's `compact` value.
Textual drops the subscriptions of closed keys only when `compact` changes, which in this app it
never does: a queue screen open all day kept every key it had ever shown — hundreds after a few
cases, each holding its old widget tree — and every full garbage collection walked them.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self.forget_closed_keys()

    def forget_closed_keys(self) -> None:
        # Textual's own rule for a watcher that may go (reactive._check_watchers): its node closed.
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if not node._closing]
