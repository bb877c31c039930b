"""What every screen of the workspace shares: typed access to the app, and one place where a
failed worker becomes a message for the agent instead of a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual._context import NoActiveAppError
from textual.binding import ActiveBinding
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import ServiceError
from collector_tui.tui.typeahead import keys_may_flow

if TYPE_CHECKING:
    from collector_tui.services.accounts import Actor
    from collector_tui.services.context import Context
    from collector_tui.tui.app import CollectorApp

log = logging.getLogger(__name__)

ResultType = TypeVar("ResultType")


def error_text(error: BaseException | None) -> str:
    """What to tell the agent about a failed action: a service's own words, or a safe summary."""
    if isinstance(error, ServiceError):
        return error.message
    if error is None:
        return _("something went wrong")
    log.exception("unexpected error in a worker", exc_info=error)
    # SQLAlchemy messages can be pages long; the first line says what happened.
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return _("could not finish: {detail}").format(detail=first[:200])


# Textual's own keys the footer shows (the app's quit, the palette): their words are Textual's,
# translated here like ours.
TEXTUAL_WORDS = (
    N_("palette"),
    N_("Open the command palette"),
    N_("Quit"),
    N_("Quit the app and return to the command prompt."),
)


def translated(active: ActiveBinding) -> ActiveBinding:
    """A binding as the footer shows it: its description and tooltip in the current language
    (they are written in English, often as lazy `N_()` text fixed at import time)."""
    binding = active.binding
    shown = replace(
        binding,
        description=_(binding.description) if binding.description else "",
        tooltip=_(binding.tooltip) if binding.tooltip else "",
    )
    return active._replace(binding=shown, tooltip=_(active.tooltip) if active.tooltip else "")


class LanguageMixin:
    """What makes a screen follow the interface's language: the footer's words translated when
    it draws them, and `language_changed`, which the app calls on every screen when the language
    is switched (tui/app.py)."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        found: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        return {key: translated(active) for key, active in found.items()}

    def language_changed(self) -> None:
        """Show this screen's words in the new language. The footer follows by itself; a screen
        whose words were composed once overrides this to set them again (tui/screens/login.py)
        or recompose (tui/screens/help.py)."""
        self.refresh_bindings()  # type: ignore[attr-defined]


def apply_breakpoints(screen: Screen[Any]) -> None:
    """Give a new screen the width class (`-narrow`, `-wide`) it will have, before its first
    frame: Textual adds it on the screen's first Resize, after a frame in the other layout has
    already been painted (a visible jump at 80 columns on every next case)."""
    try:
        app = screen.app
    except NoActiveAppError:  # built outside a running app (a test of the screen alone)
        return
    width = app.size.width
    breakpoints = sorted(app.HORIZONTAL_BREAKPOINTS or [], reverse=True)
    chosen = next((name for at, name in breakpoints if width >= at), None)
    screen.update_classes({name: name == chosen for _, name in breakpoints}, animate=False)


def apply_blink(screen: Screen[Any]) -> None:
    blink = getattr(screen.app, "cursor_blink", True)
    for widget in screen.query(Input):
        widget.cursor_blink = blink
    for area in screen.query(TextArea):
        area.cursor_blink = blink


class ActorMixin:
    """The user a screen works for, taken once on the event loop when the screen mounts.

    Workers read it from their thread, and a result that arrives after a logout still finds it:
    asking the app again then would find nobody.
    """

    _actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            self._actor = self.app.require_actor()  # type: ignore[attr-defined]
        return self._actor

    @property
    def context(self) -> Context:
        """The app's context, acting as this screen's user: what every service call goes through
        (`self.context.run(service, **arguments)`). Take it on the event loop when a worker or a
        form's saver may outlive a logout."""
        app_context: Context = self.app.context  # type: ignore[attr-defined]
        return app_context.acting_as(self.actor)

    def capture_actor(self) -> None:
        if self._actor is None and getattr(self.app, "actor", None) is not None:  # type: ignore[attr-defined]
            self._actor = self.app.actor  # type: ignore[attr-defined]


class StyledOnceMixin:
    """Skips Textual's restyle of a whole screen when it is shown again (`ScreenResume` asks
    for one by default) while nothing its styles depend on has changed since they were last
    worked out: every form opened and every case shown would otherwise pay for its styles twice
    (on mount, then on resume), and the case screen once more behind each closed form — the
    largest single share of the time from a key to its frame (bench/run.py, keys). A theme
    change bumps the app's CSS count (Textual's own marker), which restyles as before; a class
    or a widget changed while the screen was hidden restyles its own nodes at once anyway."""

    _styles_as_of: int | None = None

    def _css_count(self) -> int | None:
        count = getattr(self.app, "_css_update_count", None)  # type: ignore[attr-defined]
        return count if isinstance(count, int) else None

    def _on_mount(self, event: events.Mount) -> None:
        self._styles_as_of = self._css_count()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler (the MRO order Textual dispatches in).
        count = self._css_count()
        if count is not None and count == self._styles_as_of:
            event.refresh_styles = False
        self._styles_as_of = count


class CollectorScreen(LanguageMixin, ActorMixin, StyledOnceMixin, Screen[None]):
    """A full screen of the workspace."""

    @property
    def collector(self) -> CollectorApp:
        return self.app  # type: ignore[return-value]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        apply_breakpoints(self)

    def on_mount(self) -> None:
        self.capture_actor()
        apply_blink(self)

    def on_screen_resume(self) -> None:
        keys_may_flow(self)  # keys typed while another screen was on top may wait for this one

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker, event.worker.error)

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        self.collector.tell(error_text(error), severity="error", timeout=8)

    def leave_then(self, go: Callable[[], object]) -> None:
        """Leave this screen by `go` (back, log out, quit), once the screen lets it go: a case
        worked from the queue asks for its wrap-up first, whichever way the agent leaves."""
        go()


class CollectorModal(LanguageMixin, ActorMixin, StyledOnceMixin, ModalScreen[ResultType]):
    """A modal of the workspace (forms, search, help)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        apply_breakpoints(self)

    @property
    def collector(self) -> CollectorApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.capture_actor()
        apply_blink(self)

    def on_screen_resume(self) -> None:
        keys_may_flow(self)
