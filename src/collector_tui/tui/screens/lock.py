"""The idle lock: after `idle_lock_minutes` without a key, the workspace is covered until the
user who is logged in types their password again.

The screens underneath stay as they were, forms and their unsaved text included: the lock only
covers them. The command palette is off while locked (its actions would reach under the cover);
quitting stays possible. The password is checked as a login is (`accounts.authenticate`).
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from collector_tui.i18n import gettext as _
from collector_tui.services import accounts
from collector_tui.tui.screens.base import ActorMixin, error_text
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets.field import FormField


class LockScreen(ActorMixin, ModalScreen[None]):
    # No footer: the password field takes every key but ctrl+q, and the box says both.

    def compose(self) -> ComposeResult:
        with Center(id="lock-center"):
            with Vertical(id="lock-box"):
                yield Static(_("Locked"), id="lock-title")
                yield Static(
                    _(
                        "The workspace of {user} was idle. "
                        "Type your password to go on; nothing typed before is lost."
                    ).format(user=self.actor.display_name),
                    id="lock-text",
                    markup=False,
                )
                yield FormField(
                    _("Password"),
                    Input(password=True, id="lock-password", placeholder=_("password")),
                    name="lock-password",
                )
                yield Static(_("enter unlocks · ctrl+q quits"), id="lock-keys")

    def on_mount(self) -> None:
        self.capture_actor()
        self.query_one("#lock-password", Input).focus()
        keys_may_flow(self)

    @on(Input.Submitted, "#lock-password")
    def unlock(self) -> None:
        password = self.query_one("#lock-password", Input).value
        field = self.query_one("#field-lock-password", FormField)
        field.set_error(None if password else _("enter your password"))
        if password:
            self.check(password)

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False, description="unlock")
    def check(self, password: str) -> None:
        self.context.run(accounts.authenticate, username=self.actor.username, password=password)
        self.app.call_from_thread(self.dismiss)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.failed(event.worker.error)

    def failed(self, error: BaseException | None) -> None:
        password = self.query_one("#lock-password", Input)
        self.query_one("#field-lock-password", FormField).set_error(error_text(error))
        password.value = ""
        password.focus()

    def on_unmount(self) -> None:
        self.app.use_command_palette = True


def lock_screen(app: Any) -> LockScreen:
    """A lock for `app`, its palette switched off until the lock is gone."""
    app.use_command_palette = False
    return LockScreen()
