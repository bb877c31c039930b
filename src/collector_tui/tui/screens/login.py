"""Login: user name and password; the refusal is shown next to the password field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState

from collector_tui.i18n import gettext as _
from collector_tui.tui.messages import LoggedIn
from collector_tui.tui.screens.base import CollectorScreen, error_text
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader

if TYPE_CHECKING:
    # The login paints before the database layer is imported (the app opens the store in a
    # thread meanwhile): the accounts service is imported by the login's worker.
    from collector_tui.services.accounts import Actor


class LoginScreen(CollectorScreen):
    AUTO_FOCUS = None

    def __init__(self, *, username: str | None = None) -> None:
        super().__init__()
        self.username = username
        self._ready = False

    @property
    def accepts_keys(self) -> bool:
        """A password typed while the app starts waits for its field (tui/typeahead.py)."""
        return self._ready

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Center(id="login-center"):
            with Vertical(id="login-box"):
                yield Static(_("Sign in"), id="login-title")
                yield FormField(
                    _("User name"),
                    Input(value=self.username or "", id="username", placeholder=_("e.g. alice")),
                    name="username",
                )
                yield FormField(
                    _("Password"),
                    Input(password=True, id="password", placeholder=_("password")),
                    name="password",
                )
                yield Button(_("Log in"), id="login", variant="primary")
        yield KeyFooter()

    def language_changed(self) -> None:
        # Set the words again rather than recompose: what is typed and the focus stay.
        super().language_changed()
        self.query_one("#login-title", Static).update(_("Sign in"))
        self.query_one("#field-username", FormField).set_caption(_("User name"))
        self.query_one("#field-password", FormField).set_caption(_("Password"))
        self.query_one("#username", Input).placeholder = _("e.g. alice")
        self.query_one("#password", Input).placeholder = _("password")
        self.query_one("#login", Button).label = _("Log in")
        for name in ("username", "password"):
            self.query_one(f"#field-{name}", FormField).set_error(None)

    def on_mount(self) -> None:
        super().on_mount()
        target = "#password" if self.username else "#username"
        self.query_one(target, Input).focus()
        self.app.call_later(self._take_keys)
        self._warm_up()

    @work(thread=True, group="warm-up", exit_on_error=False, description="warm up")
    def _warm_up(self) -> None:
        # While the password is typed (and beside the password check, which waits outside the
        # interpreter): the imports and mappers the queue needs, not after the login's answer.
        idle = self.collector.warm_up_idle
        idle.clear()
        try:
            # Once the store is open (the app opens it in a thread from its start): one thread
            # imports the database layer, not two at once.
            context = self.collector.context
            from collector_tui import bootstrap

            bootstrap.warm_up()
            from collector_tui.tui.screens import queue

            # The name given on the command line: the top of that agent's queue judged now into
            # the verdict cache, so the queue after the login paints from it. Nothing is shown
            # or written; a wrong password still shows nothing.
            if self.username and not context.store.locked:
                from collector_tui.services.casework.queue import prepare_queue

                context.run(prepare_queue, username=self.username, limit=queue.first_rows(self.app))
        finally:
            idle.set()

    def _take_keys(self) -> None:
        self._ready = True
        keys_may_flow(self)

    @on(Input.Submitted, "#username")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        user_field = self.query_one("#field-username", FormField)
        password_field = self.query_one("#field-password", FormField)
        user_field.set_error(None)
        password_field.set_error(None)
        if not username:
            user_field.set_error(_("enter your user name"))
            self.query_one("#username", Input).focus()
            return
        if not password:
            password_field.set_error(_("enter your password"))
            self.query_one("#password", Input).focus()
            return
        self.query_one("#login", Button).disabled = True
        self.authenticate(username, password)

    @work(thread=True, exclusive=True, group="login", exit_on_error=False, description="log in")
    def authenticate(self, username: str, password: str) -> None:
        from collector_tui.services import accounts

        store = self.collector.context.store
        if store.locked:  # an encrypted file opens with the password of one of its users
            from collector_tui import bootstrap

            bootstrap.unlock(store, username, password)
        actor = self.collector.context.run(
            accounts.authenticate, username=username, password=password
        )
        self.post_message(LoggedIn(actor))

    def on_logged_in(self, message: LoggedIn) -> None:
        actor: Actor = message.actor
        self.collector.logged_in(actor)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "login":
            return  # the warm-up: whatever it missed is done again after the login
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#login", Button).disabled = False
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker, event.worker.error)

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        # Shown next to the password, the field an agent retypes; the text never says which
        # of the two was wrong (no user enumeration).
        password = self.query_one("#password", Input)
        self.query_one("#field-password", FormField).set_error(error_text(error))
        password.value = ""
        password.focus()
