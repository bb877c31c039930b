"""Python's garbage collector runs in the agent's pauses, not inside a keystroke.

Every screen the agent leaves (a case, a form) is a tree of widgets that point at each other, so it
only goes when Python's cyclic collector runs its oldest generation. Left to itself, that full
collection starts whenever enough objects piled up, wherever an allocation happens to be: in the
middle of `enter` or `ctrl+n`, and it walks every object of the process (Textual's, SQLAlchemy's,
the screens'), 0.3–0.5 s of CPU on this app after a few cases — the keystrokes' 95th percentile was
those pauses. So:

- once the agent's home screen is up (`settle`), whatever lives then (imported code, mappers,
  styles, the queue) is collected once and frozen: later full collections no longer walk it;
- the automatic full collection only runs far less often (a safety net: `FULL_EVERY`);
- instead, the full collection runs when nobody has typed for `QUIET_S` and no worker is reading
  (`Pauses.activity` arms it after each key, and at login): a key typed meanwhile waits at most
  for that one collection of what the session created since it was frozen.

Only the collector's schedule changes: what is garbage is still all freed, and nothing alive is
frozen after login; the app's end unfreezes it.
"""

from __future__ import annotations

import gc
from time import monotonic
from typing import TYPE_CHECKING, Any

from collector_tui.tui.watchers import forget_closed_watchers

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

# Nobody typed for this long: the agent reads the screen (a fast typist's keys come closer).
QUIET_S = 0.25
# Python's own full collection every this many collections of the middle generation (its default
# is 10): a session that never pauses still frees its garbage.
FULL_EVERY = 200


class Pauses:
    def __init__(self, app: App[Any], *, collecting: bool = True) -> None:
        self.app = app
        # Off, the collector keeps Python's own schedule (the test suite runs hundreds of apps in
        # one process, where a full collection walks far more than the app).
        self.collecting = collecting
        self.last_key = monotonic()
        self.timer: Timer | None = None
        self.settled = False
        self.logged_in = False
        self.threshold = gc.get_threshold()

    def settle(self) -> None:
        """The session's long-lived objects, collected once and frozen (after login)."""
        if self.settled or not self.collecting:
            return
        self.settled = True
        self.threshold = gc.get_threshold()
        young, middle, _ = self.threshold
        gc.set_threshold(young, middle, FULL_EVERY)
        gc.collect()
        gc.freeze()

    def release(self) -> None:
        """The app ends: what was frozen can be freed again (tests run many apps in one process)."""
        if self.settled:
            self.settled = False
            gc.unfreeze()
            gc.set_threshold(*self.threshold)

    def activity(self, *, logged_in: bool = False) -> None:
        """A key was typed (or someone logged in): collect once the agent pauses after it."""
        self.last_key = monotonic()
        self.logged_in = self.logged_in or logged_in
        if self.timer is None and self.logged_in and self.collecting:
            self.timer = self.app.set_timer(QUIET_S, self._quiet)

    def _quiet(self) -> None:
        self.timer = None
        waited = monotonic() - self.last_key
        busy = any(worker.is_running for worker in self.app.workers)
        if waited < QUIET_S or busy:
            self.timer = self.app.set_timer(max(QUIET_S - waited, 0.05), self._quiet)
        else:
            # Closed screens' headers stay on the app's watcher lists (tui/watchers.py): let go
            # of them first, or the collection below finds them alive.
            forget_closed_watchers(self.app)
            if not self.settled:
                self.settle()  # the home screen is up, its workers done
            else:
                gc.collect()
