"""Type-ahead: the terminal's keys are handled one after another, in the order they were typed.

Textual routes a key when the app takes it from its queue: a priority binding (`ctrl+s`) runs at
once, any other key is posted to the widget focused at that moment. When several keys arrive in
one read (a fast typist, a paste without bracketed paste, keys typed while the app was busy), the
app routes all of them before the first is handled, so:

- `ctrl+s` runs before the characters typed ahead of it reach the field: a note is saved cut
  short, or refused as empty next to a full field;
- the keys after the one that opens a form go to the screen underneath (the form is not mounted
  yet) and are lost, or worse, run that screen's one-letter actions;
- the keys after `tab` go to the field that had the focus before the tab.

`KeyOrder` holds the keys (and pastes) and gives the app the next one only when the one before has
been handled all the way: by the widget it was posted to, and, when that widget let it through,
by every container above it up to the app's own bindings. It follows a key by posting a callback
behind it into each queue it passes through; the callback runs once that queue has handled the
key. A key that reached the app's bindings is followed once more from where it started, so what
its action posted on the way (an input's Submitted) has been handled too.

A screen that cannot take keys yet (a form before its first field has the focus, a case still
loading) says so with `accepts_keys`; its keys wait until it can. A screen that must not be
answered by keys typed before it appeared (a confirmation) says so with `answers_keys_after`.

A key never waits forever: past `STUCK_AFTER_S` after a key whose handling was lost, or past
`NOT_READY_AFTER_S` on a screen that still cannot take keys, the next one goes anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import TYPE_CHECKING, Any

from textual import _time, events

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.screen import Screen

TypedEvent = events.Key | events.Paste
# The key after one whose handling was lost (its widget closed meanwhile) goes after this long.
STUCK_AFTER_S = 3.0
# A screen still loading (a case read on a busy database, a form mounting on a loaded machine)
# takes the keys anyway after this long. Long, because a key let through early is a key lost:
# the first letter of a note typed into a form whose field has no focus yet.
NOT_READY_AFTER_S = 10.0


def accepts_keys(screen: Screen[object]) -> bool:
    return bool(getattr(screen, "accepts_keys", True))


def typed_too_early(screen: Screen[object], event: TypedEvent) -> bool:
    """A key typed before `screen` was shown, which it asked not to be answered by."""
    after: float | None = getattr(screen, "answers_keys_after", None)
    return after is not None and event.time < after


def event_clock() -> float:
    """The clock of Textual's event times (`Message.time`): monotonic, not the business clock."""
    return _time.get_time()


def keys_may_flow(node: DOMNode) -> None:
    """Call when a screen may take keys again (mounted, loaded, saved, shown)."""
    order: KeyOrder | None = getattr(node.app, "key_order", None)
    if order is not None:
        node.app.call_later(order.pump)


class KeyOrder:
    def __init__(self, app: App[Any], dispatch: Callable[[TypedEvent], Awaitable[None]]) -> None:
        self.app = app
        self.dispatch = dispatch  # Textual's own routing of a key or a paste
        self.waiting: deque[TypedEvent] = deque()
        self.in_flight: TypedEvent | None = None
        self.flight_since = 0.0
        self.wait_since: float | None = None  # since when the screen has made keys wait
        self.pumping = False
        self.timer_armed = False

    async def arrived(self, event: TypedEvent) -> None:
        self.waiting.append(event)
        await self.pump()

    async def pump(self) -> None:
        if self.pumping:
            return
        self.pumping = True
        try:
            await self._pump()
        finally:
            self.pumping = False

    async def _pump(self) -> None:
        while self.waiting:
            if self.in_flight is not None:
                if monotonic() - self.flight_since < STUCK_AFTER_S:
                    self._arm_timer()
                    return
                self.in_flight = None
            screen = self.app.screen
            if not accepts_keys(screen):
                if self.wait_since is None:
                    self.wait_since = monotonic()
                if monotonic() - self.wait_since < NOT_READY_AFTER_S:
                    self._arm_timer()
                    return
            self.wait_since = None
            event = self.waiting.popleft()
            if typed_too_early(screen, event):
                continue
            target: DOMNode = self.app.focused or screen
            await self.dispatch(event)
            if event.is_forwarded and event._stop_propagation:
                continue
            self.in_flight = event
            self.flight_since = monotonic()
            if event.is_forwarded:
                self._follow(target, event, target)
            else:
                # A priority binding ran it here and now; what its action left for the screen
                # now on top (a dismissed dialog's answer, say, which opens the case) comes first.
                self._follow(self.app.screen, event, self.app.screen, again=True)

    def _arm_timer(self) -> None:
        if self.timer_armed:
            return
        self.timer_armed = True

        async def tick() -> None:
            self.timer_armed = False
            await self.pump()

        self.app.set_timer(STUCK_AFTER_S / 6, tick)

    def _follow(
        self, pump: DOMNode, event: TypedEvent, origin: DOMNode, *, again: bool = False
    ) -> None:
        """Post a callback behind `event` into `pump`'s queue; once it runs, the key has been
        handled there: done, or on to the parent it bubbled to. A key that went all the way up to
        the app's bindings is followed once more from where it started: what its binding posted
        on the way (an input's Submitted, say) is handled by then too."""
        app = self.app

        def handled_here() -> None:
            if pump is app:
                if again:
                    app.call_later(self._landed, event)
                else:
                    self._follow(origin, event, origin, again=True)
            elif pump.parent is None or (
                event._stop_propagation and pump.parent is not app and not again
            ):
                app.call_later(self._landed, event)  # a widget took it: nothing bubbled on
            else:
                self._follow(pump.parent, event, origin, again=again)

        if not pump.call_later(handled_here):
            app.call_later(self._landed, event)  # closed meanwhile: the key ends there

    async def _landed(self, event: TypedEvent) -> None:
        if self.in_flight is event:
            self.in_flight = None
        await self.pump()
