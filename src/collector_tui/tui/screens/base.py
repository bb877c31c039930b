"""What every screen of the workspace shares: typed access to the app, and one place where a
failed worker becomes a message for the agent instead of a traceback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

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
        return "something went wrong"
    log.exception("unexpected error in a worker", exc_info=error)
    # SQLAlchemy messages can be pages long; the first line says what happened.
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"could not finish: {first[:200]}"


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


class CollectorScreen(ActorMixin, Screen[None]):
    """A full screen of the workspace."""

    @property
    def collector(self) -> CollectorApp:
        return self.app  # type: ignore[return-value]

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


class CollectorModal(ActorMixin, ModalScreen[ResultType]):
    """A modal of the workspace (forms, search, help)."""

    @property
    def collector(self) -> CollectorApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.capture_actor()
        apply_blink(self)

    def on_screen_resume(self) -> None:
        keys_may_flow(self)
