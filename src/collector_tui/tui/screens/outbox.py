"""The supervisor's reminder outbox (`n` on the supervisor screen): due, sent, failed (and
uncertain), skipped with the reason; `s` starts a send run, whose progress shows in a bar; `x`
cancels a reminder and `u` settles an uncertain one, each with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static

from collector_tui.display import first_line
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.formatting import agent_time, day_text
from collector_tui.tui.screens.base import CollectorScreen, error_text
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader
from collector_tui.tui.widgets.tables import fill_fitted

if TYPE_CHECKING:
    from collector_tui.services.reminders.outbox import OutboxEntry, RunReport

# The outbox's views, in the order `f` cycles through them: (name, statuses shown).
VIEWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("due", ("queued", "sending")),
    ("sent", ("sent",)),
    ("failed", ("failed", "uncertain")),
    ("skipped", ("skipped", "cancelled")),
)
VIEW_WORDS = {
    "due": N_("due"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
}
OUTBOX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ref", N_("Reference")),
    ("channel", N_("Channel")),
    ("template", N_("Template")),
    ("status", N_("Status")),
    ("when", N_("When")),
    ("tries", N_("Tries")),
    ("reason", N_("Reason")),
)
# A reminder's status and channel as a person reads them; the codes stay in the data and --json.
STATUS_WORDS = {
    "queued": N_("queued"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "uncertain": N_("uncertain"),
    "skipped": N_("skipped"),
    "cancelled": N_("cancelled"),
}
CHANNEL_WORDS = {"sms": N_("SMS"), "email": N_("email"), "letter": N_("letter")}
OUTBOX_DROP_ORDER = ("tries", "template", "when")
CANCELLABLE = ("queued", "failed", "uncertain")
STATUS_STYLES = {
    "sent": "green",
    "failed": "bold red",
    "uncertain": "bold yellow",
    "skipped": "dim",
    "cancelled": "dim",
}


@dataclass
class OutboxLoaded(Message):
    rows: list[OutboxEntry]
    view: int  # the list they were read for: a slower read for an earlier `f` must not win


@dataclass
class SendRunDone(Message):
    report: RunReport | None
    error: str | None = None


def _word(words: dict[str, str], code: str) -> str:
    word = words.get(code)
    return str(word) if word is not None else code


def _when(entry: OutboxEntry, tz: str) -> str:
    """When it was sent or is tried next, in the user's zone; else the day it is due."""
    instant = entry.sent_at or entry.next_try_at
    if instant is not None:
        return agent_time(instant, tz)
    return day_text(entry.due)


class OutboxScreen(CollectorScreen):
    """The reminder outbox for supervisors."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f",
            "next_view",
            N_("Due/Sent/Failed/Skipped"),
            id="outbox.view",
            tooltip=N_("Show the next list: due, sent, failed (and uncertain), skipped"),
        ),
        Binding(
            "s",
            "send_run",
            N_("Send run"),
            id="outbox.send",
            tooltip=N_("Queue what the sequences make due and send the outbox now"),
        ),
        Binding(
            "enter",
            "open_case",
            N_("Open"),
            id="outbox.open",
            tooltip=N_("Open the reminder's case"),
            priority=True,
        ),
        Binding(
            "x",
            "cancel_reminder",
            N_("Cancel"),
            id="outbox.cancel",
            tooltip=N_("Cancel the highlighted reminder (queued, failed or uncertain), saying why"),
        ),
        Binding(
            "u",
            "settle_uncertain",
            N_("Settle"),
            id="outbox.settle",
            tooltip=N_(
                "The highlighted uncertain reminder: it arrived (record it sent) or queue it again"
            ),
        ),
        Binding(
            "r", "refresh", N_("Refresh"), id="outbox.refresh", tooltip=N_("Read the outbox again")
        ),
        Binding(
            "escape",
            "back",
            N_("Back"),
            id="outbox.back",
            tooltip=N_("Back to the supervisor screen"),
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = 0
        self.rows: dict[str, OutboxEntry] = {}
        self.running = False
        self.last_report: RunReport | None = None

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(_("Loading the outbox…"), id="outbox-summary")
        yield ProgressBar(id="outbox-progress", show_eta=False)
        yield DataTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("Reminders")
        self.query_one("#outbox-progress", ProgressBar).display = False
        self.query_one("#outbox-table", DataTable).focus()

    def language_changed(self) -> None:
        super().language_changed()
        self.query_one("#outbox-table", DataTable).clear(columns=True)
        self._show()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load_outbox()

    @property
    def view_name(self) -> str:
        return VIEWS[self.view][0]

    @work(thread=True, exclusive=True, group="outbox", exit_on_error=False,
          description="outbox")  # fmt: skip
    def load_outbox(self) -> None:
        from collector_tui.services.reminders.outbox import list_outbox

        view = self.view
        rows = self.context.run(list_outbox, statuses=VIEWS[view][1])
        self.post_message(OutboxLoaded(list(rows), view))

    def on_outbox_loaded(self, message: OutboxLoaded) -> None:
        if message.view != self.view:
            return
        self.rows = {str(row.id): row for row in message.rows}
        self._show()

    def on_resize(self) -> None:
        if self.rows:
            self._show()

    def _show(self) -> None:
        self.title = _("Reminders")
        self.sub_title = _word(VIEW_WORDS, self.view_name)
        tz = self.actor.time_zone
        cells: dict[str, dict[str, Text]] = {}
        for key, row in self.rows.items():
            cells[key] = {
                "ref": first_line(row.client_ref, 16),
                "channel": Text(_word(CHANNEL_WORDS, row.channel)),
                "template": first_line(row.template, 18),
                "status": Text(
                    _word(STATUS_WORDS, row.status), style=STATUS_STYLES.get(row.status, "")
                ),
                "when": Text(_when(row, tz)),
                "tries": Text(str(row.tries), justify="right"),
            }
        table = self.query_one("#outbox-table", DataTable)
        with self.app.batch_update():
            fill_fitted(
                table,
                [(key, str(label)) for key, label in OUTBOX_COLUMNS],
                cells,
                width=self.size.width or self.app.size.width,
                drop=OUTBOX_DROP_ORDER,
                flex="reason",
                flex_texts={
                    key: row.reason or row.destination or "" for key, row in self.rows.items()
                },
                min_flex=10,
            )
        text = Text()
        view = _word(VIEW_WORDS, self.view_name)
        text.append(_("Reminders {view}:").format(view=view) + " ", style="bold")
        text.append(str(len(self.rows)), style="bold")
        text.append("  " + _("(f: next list · s: send run · x: cancel · u: settle)"), style="dim")
        if self.last_report is not None:
            report = self.last_report
            text.append(
                "\n"
                + _(
                    "Last run: queued {queued}, sent {sent}, waiting {waiting}, skipped "
                    "{skipped}, to retry {retrying}, failed {failed}, uncertain {uncertain}"
                ).format(
                    queued=report.queued,
                    sent=report.sent,
                    waiting=report.waiting,
                    skipped=report.skipped,
                    retrying=report.retrying,
                    failed=report.failed,
                    uncertain=report.uncertain,
                )
            )
        self.query_one("#outbox-summary", Static).update(text)

    def action_next_view(self) -> None:
        self.view = (self.view + 1) % len(VIEWS)
        self.load_outbox()

    def action_refresh(self) -> None:
        self.load_outbox()

    def current(self) -> OutboxEntry | None:
        table = self.query_one("#outbox-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(key) if key is not None else None

    def action_open_case(self) -> None:
        row = self.current()
        if row is None:
            self.collector.tell(_("No reminder here."))
            return
        from collector_tui.tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(row.case_id))

    def action_cancel_reminder(self) -> None:
        row = self.current()
        if row is None or row.status not in CANCELLABLE:
            self.collector.tell(_("Only a queued, failed or uncertain reminder can be cancelled."))
            return
        from collector_tui.services.reminders.outbox import cancel_reminder
        from collector_tui.tui.screens.outbox_forms import CancelReminderForm

        context = self.context  # taken on the event loop: the save may outlive a logout
        form = CancelReminderForm(
            minimum=self.collector.settings.min_reason_length,
            saver=lambda reason: context.run(cancel_reminder, reminder_id=row.id, reason=reason),
            subtitle=" · ".join(
                (
                    row.client_ref,
                    _word(CHANNEL_WORDS, row.channel),
                    row.template,
                    _word(STATUS_WORDS, row.status),
                )
            ),
        )

        def closed(value: Any) -> None:
            if value is not None:
                self.collector.tell(_("{ref}: reminder cancelled.").format(ref=row.client_ref))
                self.load_outbox()

        self.app.push_screen(form, closed)

    def action_settle_uncertain(self) -> None:
        row = self.current()
        if row is None or row.status != "uncertain":
            self.collector.tell(
                _("Only an uncertain reminder is settled (the failed list shows them).")
            )
            return
        from collector_tui.services.reminders.outbox import settle_uncertain
        from collector_tui.tui.screens.outbox_forms import SettleReminderForm

        context = self.context

        def save(value: Any) -> Any:
            return context.run(
                settle_uncertain,
                reminder_id=row.id,
                delivered=value.delivered,
                reason=value.reason,
            )

        form = SettleReminderForm(
            minimum=self.collector.settings.min_reason_length,
            saver=save,
            subtitle=f"{row.client_ref} · {row.channel} · {row.destination or ''}",
        )

        def closed(value: Any) -> None:
            if value is None:
                return
            if value.delivered:
                said = _("{ref}: recorded sent.")
            else:
                said = _("{ref}: queued for the next run.")
            self.collector.tell(said.format(ref=row.client_ref))
            self.load_outbox()

        self.app.push_screen(form, closed)

    @on(DataTable.RowSelected, "#outbox-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_case()

    def action_send_run(self) -> None:
        if self.running:
            self.collector.tell(_("A send run is going on."))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._start_run()

        self.app.push_screen(
            ConfirmScreen(
                _("Send the reminders now?"),
                _(
                    "What the sequences make due is queued, then every reminder due is checked "
                    "again and sent."
                ),
                yes=_("Send"),
            ),
            answered,
        )

    def _start_run(self) -> None:
        self.running = True
        bar = self.query_one("#outbox-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#outbox-summary", Static).update(Text(_("Sending…"), style="bold"))
        self.send_run()

    @work(thread=True, exclusive=True, group="send-run", exit_on_error=False,
          description="send run")  # fmt: skip
    def send_run(self) -> None:
        from collector_tui.services.errors import ServiceError
        from collector_tui.services.reminders.couriers import couriers_from_settings
        from collector_tui.services.reminders.outbox import send_due

        app = self.collector

        def progress(done: int, total: int) -> None:
            app.call_from_thread(self._show_progress, done, total)

        now = app.clock.now()
        try:
            report = send_due(
                store=app.store,
                now=now,
                settings=app.settings,
                actor=self.actor,
                couriers=couriers_from_settings(app.settings, now=now),
                progress=progress,
            )
        except (ServiceError, ValueError, OSError) as error:
            self.post_message(SendRunDone(None, error_text(error)))
            return
        self.post_message(SendRunDone(report))

    def _show_progress(self, done: int, total: int) -> None:
        self.query_one("#outbox-progress", ProgressBar).update(total=max(total, 1), progress=done)

    def on_send_run_done(self, message: SendRunDone) -> None:
        self.running = False
        bar = self.query_one("#outbox-progress", ProgressBar)
        bar.update(total=max(bar.total or 1, 1), progress=max(bar.total or 1, 1))
        if message.report is None:
            self.collector.tell(message.error or _("the send run failed"), severity="error")
        else:
            self.last_report = message.report
            self.collector.tell(_("Send run done: {count} sent.").format(count=message.report.sent))
        self.load_outbox()

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        if worker.group == "send-run":
            self.running = False
        super().worker_failed(worker, error)

    def action_back(self) -> None:
        self.app.pop_screen()
