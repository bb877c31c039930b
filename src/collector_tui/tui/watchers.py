"""Textual's watchers of closed widgets, let go of.

A widget that watches another object's reactive value (`self.watch(obj, name, callback)`,
`data_bind`) is put on that object's list of watchers, and Textual takes it off only when the value
next changes (reactive._check_watchers drops the closed ones then). Values that rarely change keep
closed widgets alive, with everything they hold:

- every screen's `Header` watches the app's `title` and `sub_title`, which this app never changes
  after start: each case screen opened and closed left its header (and its rendered lines, about
  8,000 objects a case) on the app's lists for the rest of the session;
- a `Footer` rebuilds its keys each time the screen's bindings change, and each key watches the
  footer's `compact`, which never changes: a queue screen open all day kept every key it showed.

The memory grows through a working day and every full garbage collection walks it (the keys'
pauses of tui/pauses.py). `forget_closed_watchers` applies Textual's own rule without waiting for
the value to change.
"""

from __future__ import annotations

from typing import Any


def forget_closed_watchers(watched: Any) -> None:
    """Drop the watchers of `watched` whose widget has closed (Textual's rule: `_closing`)."""
    lists: dict[str, list[tuple[Any, Any]]] = getattr(watched, "__watchers", {})
    for watchers in lists.values():
        if any(node._closing for node, _callback in watchers):
            watchers[:] = [(node, back) for node, back in watchers if not node._closing]
