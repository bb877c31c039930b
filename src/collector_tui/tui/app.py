"""CollectorApp: the agent's workspace. Built by `make_app`, which the CLI and the tests both call.

The app holds one `Context` (services/context.py: the store, the clock, the settings and who is
logged in); screens call `context.run(service, **arguments)` in a thread worker, one short unit of
work per call, and render the frozen dataclasses it returns.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from collector_tui import i18n
from collector_tui.config import Settings
from collector_tui.display import printable
from collector_tui.i18n import N_
from collector_tui.services.context import Context
from collector_tui.tui.commands import SessionCommands
from collector_tui.tui.pauses import Pauses
from collector_tui.tui.typeahead import KeyOrder

if TYPE_CHECKING:
    from collector_tui.clock import Clock
    from collector_tui.services.accounts import Actor
    from collector_tui.services.context import Store


# How often the idle lock looks at the time since the last key.
IDLE_CHECK_S = 15


class CollectorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "collector"
    # Below 100 columns the case screen stacks its panels instead of showing them side by side.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    COMMANDS = App.COMMANDS | {SessionCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "question_mark",
            "help",
            N_("Help"),
            id="app.help",
            tooltip=N_("Every key of this screen and the others"),
            key_display="?",
        ),
    ]

    def __init__(
        self,
        *,
        store: Store | Callable[[], Store],
        settings: Settings,
        clock: Clock,
        username: str | None = None,
        language: str | None = None,
    ) -> None:
        super().__init__()
        # Who acts changes at login and logout (`acting_as`), and the language with the user.
        # A store given as a function is opened in a thread from now on (StoreOpening).
        self._services: Context | None = None
        self._opening: StoreOpening | None = None
        self._services_pending = Context(store=None, clock=clock, settings=settings)  # type: ignore[arg-type]
        self._services_lock = threading.Lock()
        if callable(store):
            self._opening = StoreOpening(store)
        else:
            self._services = Context(store=store, clock=clock, settings=settings)
        self.initial_username = username
        # --lang holds for the whole session; without it the user's own language replaces the
        # environment's at login (and the environment's comes back at logout).
        self.forced_language = i18n.normalize(language) if language else None
        self.team_locale = settings.locale
        self._set_language(self.forced_language or i18n.environment_language())
        # Tests and snapshots switch this off so the screen is the same at every instant.
        self.cursor_blink = True
        # Cases the agent skipped with `n` in this session: the next case never offers them
        # again until the queue is refreshed on purpose (`r`).
        self.skipped: set[uuid.UUID] = set()
        # Cases whose numbers the user revealed (an audited action) in this session.
        self.revealed: set[uuid.UUID] = set()
        self.key_order = KeyOrder(self, lambda event: App.on_event(self, event))
        # The idle lock measures real time, whatever clock the work runs on (--now, tests).
        self.idle_clock: Callable[[], float] = time.monotonic
        self.last_activity = self.idle_clock()
        # Clear while the login's warm-up runs (its thread clears and sets it): the queue's first
        # build waits for it rather than judge the same cases again beside it.
        self.warm_up_idle = threading.Event()
        self.warm_up_idle.set()
        # The garbage collector runs in the agent's pauses (tui/pauses.py).
        self.pauses = Pauses(self)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.Paste | events.MouseDown):
            self.last_activity = self.idle_clock()
            self.pauses.activity()
        # Keys and pastes from the terminal are handled one after another (tui/typeahead.py).
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            await self.key_order.arrived(event)
            return
        await super().on_event(event)

    def on_mount(self) -> None:
        from collector_tui.tui.screens.login import LoginScreen

        self.push_screen(LoginScreen(username=self.initial_username))
        self.set_interval(IDLE_CHECK_S, self.lock_if_idle)

    def on_unmount(self) -> None:
        self.pauses.release()

    def lock_if_idle(self) -> None:
        """Cover the workspace when nobody has typed for `idle_lock_minutes` (0: never)."""
        from collector_tui.tui.screens.lock import LockScreen, lock_screen

        minutes = self.settings.idle_lock_minutes
        if not minutes or self.actor is None:
            return
        if any(isinstance(screen, LockScreen) for screen in self.screen_stack):
            return
        if self.idle_clock() - self.last_activity >= minutes * 60:
            self.push_screen(lock_screen(self))

    @property
    def context(self) -> Context:
        """The services' context. While the store is still being opened (StoreOpening), asking
        for it waits until it is open and raises what the opening raised: the login's workers
        ask for it, the login screen paints without it."""
        context = self._services
        if context is not None:
            return context
        assert self._opening is not None
        store = self._opening.result()
        with self._services_lock:
            if self._services is None:
                self._services = replace(self._services_pending, store=store)
            return self._services

    @context.setter
    def context(self, context: Context) -> None:
        self._services = context

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def settings(self) -> Settings:
        return (self._services or self._services_pending).settings

    @property
    def clock(self) -> Clock:
        return (self._services or self._services_pending).clock

    @property
    def actor(self) -> Actor | None:
        return (self._services or self._services_pending).actor

    # -- session -------------------------------------------------------------------------------

    def home_screen(self, actor: Actor) -> Screen[None]:
        """Where a user lands after logging in: agents work their queue; supervisors and admins
        see the workloads and the case browser (their own queue is one key away there)."""
        if actor.is_supervisor:
            from collector_tui.tui.screens.supervisor import SupervisorScreen

            return SupervisorScreen()
        from collector_tui.tui.screens.queue import QueueScreen

        return QueueScreen()

    # -- language ------------------------------------------------------------------------------

    def _set_language(self, language: str) -> str:
        chosen = i18n.set_language(language)
        # Amounts are read and written in the user's locale when it is not English; in English (and
        # the tests' pseudo-locale, no real locale) the team's configured locale stays.
        spoken = chosen != i18n.ENGLISH and chosen in i18n.LANGUAGES
        locale = chosen if spoken else self.team_locale
        with self._services_lock:
            # Before the store is open the settings wait in `_pending` (the context is made
            # from it); no one waits for the store here.
            current = self._services or self._services_pending
            if current.settings.locale != locale:
                changed = replace(current, settings=replace(current.settings, locale=locale))
                if self._services is None:
                    self._services_pending = changed
                else:
                    self._services = changed
        return chosen

    def switch_language(self, language: str) -> None:
        """Show the whole interface in `language` now: every open screen is told
        (`language_changed`), the footers follow, nothing is restarted or lost."""
        self._set_language(language)
        for screen in self.screen_stack:
            changed = getattr(screen, "language_changed", None)
            if changed is not None:
                changed()
        self.refresh_bindings()

    def action_set_language(self, language: str) -> None:
        """The palette's "Language: ...": this session only (a user's lasting choice is
        `user set --lang`, kept in the master's user table)."""
        self.switch_language(language)

    def logged_in(self, actor: Actor) -> None:
        self.context = self.context.acting_as(actor)
        if self.forced_language is None and actor.language:
            self.switch_language(actor.language)
        self.skipped.clear()
        self.sub_title = printable(f"{actor.display_name} ({actor.role})")
        self.switch_screen(self.home_screen(actor))
        self.pauses.activity(logged_in=True)

    def _leave_work_then(self, go: Callable[[], object]) -> None:
        """Run `go` once the screen being worked lets the agent leave it: the topmost full screen
        decides (a case from the queue asks for its wrap-up), whatever modal is above it."""
        from collector_tui.tui.screens.base import CollectorScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, CollectorScreen):
                screen.leave_then(go)
                return
        go()

    def action_logout(self) -> None:
        self._leave_work_then(lambda: self.call_later(self._log_out))

    async def action_quit(self) -> None:
        self._leave_work_then(self.exit)

    async def _log_out(self) -> None:
        from collector_tui.tui.screens.login import LoginScreen

        self.context = self.context.acting_as(None)
        self.revealed.clear()
        self.sub_title = ""
        self._set_language(self.forced_language or i18n.environment_language())
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        self.store.lock()
        await self.switch_screen(LoginScreen(username=None))

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise RuntimeError("no one is logged in")  # a bug, never shown to a user
        return self.actor

    # -- helpers for screens ----------------------------------------------------------------------

    def tell(
        self, message: str, *, severity: str = "information", timeout: float | None = None
    ) -> None:
        """A notification whose text is shown literally (messages may quote stored text)."""
        self.notify(
            printable(message),
            severity=severity,  # type: ignore[arg-type]
            timeout=timeout,
            markup=False,
        )

    def action_help(self) -> None:
        from collector_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(context=type(self.screen)))


class StoreOpening:
    """A store being opened in a thread, started when the app is made: importing SQLAlchemy,
    SQLModel and the models is most of the start-up's work, and the login screen needs none of
    it to paint (docs/decisions.md, performance)."""

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open_store = open_store
        self._opened: Future[Store] = Future()
        threading.Thread(target=self._open, name="open the store", daemon=True).start()

    def _open(self) -> None:
        try:
            self._opened.set_result(self._open_store())
        except BaseException as failure:  # given to whoever asks for the store
            self._opened.set_exception(failure)

    def result(self) -> Store:
        return self._opened.result()


def make_app(
    *,
    store: Store | Callable[[], Store],
    settings: Settings,
    clock: Clock,
    username: str | None = None,
    language: str | None = None,
) -> CollectorApp:
    """The workspace on `store` (or the store a function opens, in a thread, while the login
    screen paints), with `clock` as the only source of now; `username` preselects
    the login field and puts the cursor in the password field; `language` (--lang) holds for the
    session, else the user's own, else the environment's."""
    return CollectorApp(
        store=store, settings=settings, clock=clock, username=username, language=language
    )
