"""A yes/no question before something the agent cannot take back (the case leaves their queue, a
hold is placed, a case is written off): `ConfirmScreen` answers True or False.

"Yes" has the focus, so `enter` (or `y`) confirms at once: the question only comes after a
deliberate key, a typed reason and the save key, and an agent who meant it should not pay a
second look and a tab for every case. What makes that safe is that the dialog takes no key typed
before it appeared (`answers_keys_after`, tui/typeahead.py): a burst of type-ahead that ran past
the save key, or text typed on the wrong screen, can never answer it. `n` or `escape` says no.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from collector_tui.display import safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.screens.base import CollectorModal
from collector_tui.tui.typeahead import event_clock, keys_may_flow
from collector_tui.tui.widgets.footer import KeyFooter


class ConfirmScreen(CollectorModal[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", N_("Yes"), id="confirm.yes", tooltip=N_("Do it")),
        Binding("n", "answer(False)", N_("No"), id="confirm.no", tooltip=N_("Back, nothing done")),
        Binding("escape", "answer(False)", N_("No"), show=False, id="confirm.escape"),
    ]

    def __init__(self, question: str, detail: str | None = None, *, yes: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes or _("Yes")
        self.answers_keys_after: float | None = None
        self._shown = False

    @property
    def accepts_keys(self) -> bool:
        return self._shown

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(safe_text(self.question), classes="dialog-title")
            if self.detail:
                yield Static(safe_text(self.detail, multiline=True), classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    Text(_("{answer} (y)").format(answer=self.yes)),
                    id="confirm-yes",
                    variant="warning",
                )
                yield Button(Text(_("No (n)")), id="confirm-no")
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#confirm-yes", Button).focus()
        self.app.call_later(self._show)

    def _show(self) -> None:
        self.answers_keys_after = event_clock()
        self._shown = True
        keys_may_flow(self)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
