"""The case screen's `M`: pick a reminder (channel and template), see it rendered for the case
with what the checks say, and queue it after a yes; the supervisors' outbox is
tui/screens/outbox.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from collector_tui.display import safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.screens.base import CollectorModal
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from collector_tui.services.reminders.outbox import (
        OutboxEntry,
        ReminderChoice,
        ReminderPreview,
    )


@dataclass
class ChoicesLoaded(Message):
    choices: list[ReminderChoice]


@dataclass
class PreviewLoaded(Message):
    choice: ReminderChoice
    preview: ReminderPreview | None
    error: str | None = None


@dataclass
class ReminderQueued(Message):
    entry: OutboxEntry | None
    error: str | None = None


# A reminder's channel in the agent's words (the codes are the outbox's).
CHANNELS = {"sms": N_("SMS"), "email": N_("e-mail"), "letter": N_("letter")}


def channel_word(channel: str, *, pad: bool = False) -> str:
    """The channel; `pad`: to six cells, lining the templates up (a CJK character is two)."""
    shown = _(CHANNELS[channel]) if channel in CHANNELS else channel
    return shown + " " * max(0, 6 - cell_len(shown)) if pad else shown


class ReminderScreen(CollectorModal[str | None]):
    """Pick a template for a channel, see it rendered for this case, queue it (after a yes).
    Dismissed with the message to show on the case screen, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "queue",
            N_("Queue"),
            id="reminder.queue",
            tooltip=N_("Queue the highlighted reminder (the next send run sends it)"),
        ),
        Binding(
            "escape",
            "cancel",
            N_("Cancel"),
            id="reminder.cancel",
            tooltip=N_("Back, nothing queued"),
        ),
    ]

    def __init__(self, case_id: uuid.UUID, client_ref: str) -> None:
        super().__init__()
        self.case_id = case_id
        self.client_ref = client_ref
        self.choices: list[ReminderChoice] = []
        self.previews: dict[tuple[str, str], ReminderPreview] = {}
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="reminder-dialog", classes="dialog"):
            yield Static(
                safe_text(_("Reminder for {case}").format(case=self.client_ref)),
                classes="dialog-title",
            )
            yield OptionList(id="reminder-choices")
            yield Static("", id="reminder-message", classes="field-error")
            with VerticalScroll(id="reminder-preview-box"):
                yield Static(_("Loading the templates…"), id="reminder-preview")
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reminder-choices", OptionList).focus()
        self.load_choices()

    @work(thread=True, exclusive=True, group="reminder-choices", exit_on_error=False)
    def load_choices(self) -> None:
        from collector_tui.services.reminders.outbox import reminder_choices

        self.post_message(ChoicesLoaded(list(reminder_choices(self.collector.settings))))

    def on_choices_loaded(self, message: ChoicesLoaded) -> None:
        self.choices = message.choices
        options = self.query_one("#reminder-choices", OptionList)
        options.clear_options()
        options.add_options(
            [Option(safe_text(f"{channel_word(c.channel, pad=True)}  {c.template}"),
                    id=f"{c.channel}/{c.template}")
             for c in self.choices]
        )  # fmt: skip
        if not self.choices:
            self.query_one("#reminder-preview", Static).update(_("No template to choose from."))
            return
        options.highlighted = 0

    @on(OptionList.OptionHighlighted, "#reminder-choices")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        choice = self.current()
        if choice is None:
            return
        cached = self.previews.get((choice.channel, choice.template))
        if cached is not None:
            self._show_preview(choice, cached, None)
            return
        self.query_one("#reminder-preview", Static).update(Text(_("Rendering…"), style="dim"))
        self.load_preview(choice)

    def current(self) -> ReminderChoice | None:
        options = self.query_one("#reminder-choices", OptionList)
        index = options.highlighted
        if index is None or not 0 <= index < len(self.choices):
            return None
        return self.choices[index]

    @work(thread=True, exclusive=True, group="reminder-preview", exit_on_error=False)
    def load_preview(self, choice: ReminderChoice) -> None:
        from collector_tui.services.errors import ServiceError
        from collector_tui.services.reminders.outbox import preview_reminder

        try:
            preview = self.context.run(
                preview_reminder,
                case_id=self.case_id,
                channel=choice.channel,
                template=choice.template,
            )
        except ServiceError as error:
            self.post_message(PreviewLoaded(choice, None, error.message))
            return
        self.post_message(PreviewLoaded(choice, preview, None))

    def on_preview_loaded(self, message: PreviewLoaded) -> None:
        if message.preview is not None:
            self.previews[(message.choice.channel, message.choice.template)] = message.preview
        if self.current() == message.choice:
            self._show_preview(message.choice, message.preview, message.error)

    def _show_preview(
        self, choice: ReminderChoice, preview: ReminderPreview | None, error: str | None
    ) -> None:
        note = self.query_one("#reminder-message", Static)
        body = self.query_one("#reminder-preview", Static)
        if preview is None:
            note.update(safe_text(error or _("cannot show this reminder")))
            body.update("")
            return
        check = preview.check
        refusal = check.refusal or preview.error
        if refusal:
            note.update(safe_text(_("Cannot queue: {why}").format(why=refusal)))
        elif check.waits:
            note.update(safe_text(_("Queued now, it waits: {why}").format(why=check.waits)))
        else:
            note.update("")
        text = Text()
        text.append(
            _("To: {destination}").format(destination=check.destination or "—"), style="bold"
        )
        text.append("\n")
        if preview.subject:
            text.append(_("Subject:") + " ", style="bold")
            text.append(safe_text(preview.subject))
            text.append("\n")
        text.append("\n")
        text.append(safe_text(preview.text or "", multiline=True))
        body.update(text)

    def action_queue(self) -> None:
        if self.busy:
            return
        choice = self.current()
        if choice is None:
            self.query_one("#reminder-message", Static).update(_("Choose a reminder first."))
            return
        preview = self.previews.get((choice.channel, choice.template))
        if preview is not None and (preview.check.refusal or preview.error):
            refusal = preview.check.refusal or preview.error or ""
            self.query_one("#reminder-message", Static).update(
                safe_text(_("Cannot queue: {why}").format(why=refusal))
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.busy = True
                self.queue_it(choice)

        self.app.push_screen(
            ConfirmScreen(
                _("Queue the {template} reminder by {channel}?").format(
                    template=choice.template, channel=channel_word(choice.channel)
                ),
                _("The next send run checks the case again and sends it."),
                yes=_("Queue"),
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="reminder-queue", exit_on_error=False)
    def queue_it(self, choice: ReminderChoice) -> None:
        from collector_tui.services.errors import ServiceError
        from collector_tui.services.reminders.outbox import queue_reminder

        try:
            entry = self.context.run(
                queue_reminder,
                case_id=self.case_id,
                channel=choice.channel,
                template=choice.template,
            )
        except ServiceError as error:
            self.post_message(ReminderQueued(None, error.message))
            return
        self.post_message(ReminderQueued(entry))

    def on_reminder_queued(self, message: ReminderQueued) -> None:
        self.busy = False
        if message.entry is None:
            self.query_one("#reminder-message", Static).update(
                safe_text(_("Cannot queue: {why}").format(why=message.error))
            )
            return
        entry = message.entry
        self.dismiss(
            _("Reminder queued: {template} by {channel}.").format(
                template=entry.template, channel=channel_word(entry.channel)
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
