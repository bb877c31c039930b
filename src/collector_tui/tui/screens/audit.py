"""A case's audit trail (`h` on the supervisor's screen): who changed what, when, before and after.

The trail is append-only in the database; this screen only shows what supervision.audit_trail's
`case_audit_view` made readable (amounts in the case's currency, user names, local times), every
stored value through the display helpers (a debtor's name may hold markup or escape sequences).
The full entry also shows the values as recorded (JSON).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker

from collector_tui.display import first_line, printable, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import Forbidden, NotFound
from collector_tui.tui.commands import AuditCommands
from collector_tui.tui.formatting import agent_time
from collector_tui.tui.screens.base import CollectorModal, CollectorScreen
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader

if TYPE_CHECKING:
    from collector_tui.services.supervision.audit_trail import AuditLine, ShownChange

ACTION_STYLES = {
    "assign": "bold cyan",
    "write_off": "bold red",
    "close": "bold red",
    "legal": "bold magenta",
    "route": "yellow",
    "unroute": "yellow",
    "settlement": "bold yellow",
}


@dataclass
class AuditLoaded(Message):
    lines: list[AuditLine]


def change_text(change: ShownChange) -> Text:
    """ "status: active → written_off", or "amount = 100.00 CNY" for a value set from nothing."""
    text = Text()
    text.append(printable(change.name), style="bold")
    if change.before is None:
        text.append(" = ")
        text.append_text(safe_text(change.after))
    else:
        text.append(": ")
        text.append_text(safe_text(change.before, style="dim"))
        text.append(" → ")
        text.append_text(safe_text(change.after))
    return text


class AuditScreen(CollectorScreen):
    """Every audited change of one case, newest first."""

    COMMANDS = {AuditCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show", N_("Full entry"), id="audit.show", tooltip=N_("Before and after")),
        Binding("r", "reload", N_("Reload"), id="audit.reload", tooltip=N_("Read the trail again")),
        Binding("escape", "back", N_("Back"), id="audit.back", tooltip=N_("Close the history")),
    ]

    def __init__(self, case_id: uuid.UUID, *, heading: str = "") -> None:
        super().__init__()
        self.case_id = case_id
        self.heading = heading
        self.lines: list[AuditLine] = []

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(_("Reading the audit trail…"), id="audit-summary")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("History")
        self.sub_title = printable(self.heading)
        table = self.query_one("#audit-table", DataTable)
        for label, key in (
            (_("When"), "at"),
            (_("Who"), "user"),
            (_("What"), "what"),
            (_("Change"), "change"),
        ):
            table.add_column(label, key=key)
        table.focus()
        self.load_trail()

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False, description="audit")
    def load_trail(self) -> None:
        from collector_tui.services.supervision import audit_trail

        lines = self.context.run(audit_trail.case_audit_view, case_id=self.case_id)
        self.post_message(AuditLoaded(lines))

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        super().worker_failed(worker, error)
        if isinstance(error, NotFound | Forbidden):
            self.app.pop_screen()

    def on_audit_loaded(self, message: AuditLoaded) -> None:
        self.lines = message.lines
        table = self.query_one("#audit-table", DataTable)
        actor = self.actor
        now = self.collector.clock.now()
        # When (11), who (10), what (~16), cell padding and the scrollbar: the rest is the change.
        width = max(20, (table.size.width or self.app.size.width) - 47)
        with self.app.batch_update():
            table.clear()
            for index, line in enumerate(message.lines):
                entry = line.entry
                what = Text(f"{entry.entity} ")
                what.append(entry.action, style=ACTION_STYLES.get(entry.action, "bold"))
                table.add_row(
                    Text(agent_time(entry.at, actor.time_zone, now)),
                    first_line(line.user, 10),
                    what,
                    first_line(line.summary, width),
                    key=str(index),
                )
        count = len(message.lines)
        text = Text(
            (
                _("{count} change, newest first")
                if count == 1
                else _("{count} changes, newest first")
            ).format(count=count),
            style="bold",
        )
        text.append("  ·  " + _("enter: before and after"), style="dim")
        self.query_one("#audit-summary", Static).update(text)

    def _current(self) -> AuditLine | None:
        table = self.query_one("#audit-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.lines[int(key)] if key is not None else None

    @on(DataTable.RowSelected, "#audit-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show()

    def action_show(self) -> None:
        line = self._current()
        if line is None:
            return
        self.app.push_screen(
            AuditEntryScreen(line, tz=self.actor.time_zone, now=self.collector.clock.now())
        )

    def action_reload(self) -> None:
        self.load_trail()

    def action_back(self) -> None:
        self.app.pop_screen()


class AuditEntryScreen(CollectorModal[None]):
    """One audit event in full: every field before and after."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "close", N_("Close"), id="audit_entry.close", tooltip=N_("Back to the list")
        ),
        Binding("enter", "close", N_("Close"), show=False, id="audit_entry.close_enter"),
    ]

    def __init__(self, line: AuditLine, *, tz: str, now: datetime) -> None:
        super().__init__()
        self.line = line
        self.tz = tz
        self.now = now

    def compose(self) -> ComposeResult:
        line = self.line
        entry = line.entry
        heading = Text(f"{entry.entity} {entry.action}", style="bold")
        heading.append(f"\n{agent_time(entry.at, self.tz, self.now)} · ", style="dim")
        heading.append_text(safe_text(line.user, style="dim"))
        heading.append(f" · {entry.entity_id}", style="dim")
        body = Text()
        for change in line.changes:
            if body:
                body.append("\n")
            body.append_text(change_text(change))
        for label, raw in (
            (_("recorded before:"), line.raw_before),
            (_("recorded after:"), line.raw_after),
        ):
            if raw is not None:
                body.append(f"\n\n{label}\n", style="bold dim")
                body.append_text(safe_text(raw, style="dim", multiline=True))
        with Vertical(id="entry-dialog", classes="dialog"):
            yield Static(heading, classes="dialog-title")
            with VerticalScroll(id="entry-body"):
                yield Static(body or Text(_("(nothing recorded)")), id="audit-entry-body")
        yield KeyFooter(compact=True, show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)
