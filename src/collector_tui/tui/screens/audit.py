"""A case's audit trail (`h` on the supervisor's screen): who changed what, when, before and after.

The trail is append-only in the database; this screen only reads it (services.supervision). User
ids in the recorded values are shown as user names, every stored value through the display
helpers (a debtor's name may hold markup or escape sequences).
"""

from __future__ import annotations

import json
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
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from collector_tui.display import first_line, printable, safe_text
from collector_tui.services.errors import Forbidden, NotFound
from collector_tui.tui.commands import AuditCommands
from collector_tui.tui.formatting import agent_time
from collector_tui.tui.screens.base import CollectorModal, CollectorScreen

if TYPE_CHECKING:
    from collector_tui.services.supervision import AuditChange, AuditEntry

# Recorded values that name a user: shown by user name instead of an id.
USER_FIELDS = frozenset(
    {"assigned_to_id", "owner_id", "from_user_id", "to_user_id", "moved_by_id", "user_id"}
)
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
    entries: list[AuditEntry]
    users: dict[str, str]  # user id (text) -> user name


def show_value(name: str, value: Any, users: dict[str, str]) -> str:
    """A recorded JSON value as one line of text."""
    if value is None:
        return "—"
    if name in USER_FIELDS and isinstance(value, str) and value in users:
        return users[value]
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False)


def change_text(change: AuditChange, users: dict[str, str]) -> Text:
    """ "status: active → written_off", or "amount = 10000" for a value set from nothing."""
    text = Text()
    text.append(printable(change.name), style="bold")
    after = show_value(change.name, change.after, users)
    if change.before is None:
        text.append(" = ")
        text.append_text(safe_text(after))
    else:
        text.append(": ")
        text.append_text(safe_text(show_value(change.name, change.before, users), style="dim"))
        text.append(" → ")
        text.append_text(safe_text(after))
    return text


# Left out of the one-line summary (the list is about one case); the full entry shows them.
SUMMARY_SKIPS = frozenset({"case_id"})


def summary(entry: AuditEntry, users: dict[str, str]) -> str:
    parts = []
    for change in entry.changes:
        if change.name in SUMMARY_SKIPS:
            continue
        after = show_value(change.name, change.after, users)
        if change.before is None:
            parts.append(f"{change.name}={after}")
        else:
            parts.append(f"{change.name}: {show_value(change.name, change.before, users)}→{after}")
    return "; ".join(parts)


class AuditScreen(CollectorScreen):
    """Every audited change of one case, newest first."""

    COMMANDS = {AuditCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show", "Full entry", id="audit.show", tooltip="Before and after"),
        Binding("r", "reload", "Reload", id="audit.reload", tooltip="Read the trail again"),
        Binding("escape", "back", "Back", id="audit.back", tooltip="Close the history"),
    ]

    def __init__(self, case_id: uuid.UUID, *, heading: str = "") -> None:
        super().__init__()
        self.case_id = case_id
        self.heading = heading
        self.entries: list[AuditEntry] = []
        self.users: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the audit trail…", id="audit-summary")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = "History"
        self.sub_title = printable(self.heading)
        table = self.query_one("#audit-table", DataTable)
        for label, key in (("When", "at"), ("Who", "user"), ("What", "what"), ("Change", "change")):
            table.add_column(label, key=key)
        table.focus()
        self.load_trail()

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False, description="audit")
    def load_trail(self) -> None:
        from collector_tui.services import accounts, supervision

        app = self.collector
        with app.store.read() as session:
            entries = supervision.case_audit_trail(
                session=session, actor=self.actor, case_id=self.case_id
            )
            users = {str(u.user_id): u.username for u in accounts.list_users(session=session)}
        self.post_message(AuditLoaded(entries, users))

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        super().worker_failed(worker, error)
        if isinstance(error, NotFound | Forbidden):
            self.app.pop_screen()

    def on_audit_loaded(self, message: AuditLoaded) -> None:
        self.entries = message.entries
        self.users = message.users
        table = self.query_one("#audit-table", DataTable)
        actor = self.actor
        now = self.collector.clock.now()
        # When (11), who (10), what (~16), cell padding and the scrollbar: the rest is the change.
        width = max(20, (table.size.width or self.app.size.width) - 47)
        with self.app.batch_update():
            table.clear()
            for index, entry in enumerate(message.entries):
                what = Text(f"{entry.entity} ")
                what.append(entry.action, style=ACTION_STYLES.get(entry.action, "bold"))
                table.add_row(
                    Text(agent_time(entry.at, actor.time_zone, now)),
                    first_line(entry.user or "system", 10),
                    what,
                    first_line(summary(entry, message.users), width),
                    key=str(index),
                )
        count = len(message.entries)
        text = Text(f"{count} change{'s' if count != 1 else ''}, newest first", style="bold")
        text.append("  ·  enter: before and after", style="dim")
        self.query_one("#audit-summary", Static).update(text)

    def _current(self) -> AuditEntry | None:
        table = self.query_one("#audit-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.entries[int(key)] if key is not None else None

    @on(DataTable.RowSelected, "#audit-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show()

    def action_show(self) -> None:
        entry = self._current()
        if entry is None:
            return
        actor = self.actor
        self.app.push_screen(
            AuditEntryScreen(
                entry, users=self.users, tz=actor.time_zone, now=self.collector.clock.now()
            )
        )

    def action_reload(self) -> None:
        self.load_trail()

    def action_back(self) -> None:
        self.app.pop_screen()


class AuditEntryScreen(CollectorModal[None]):
    """One audit event in full: every field before and after."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="audit_entry.close", tooltip="Back to the list"),
        Binding("enter", "close", "Close", show=False, id="audit_entry.close_enter"),
    ]

    def __init__(self, entry: AuditEntry, *, users: dict[str, str], tz: str, now: datetime) -> None:
        super().__init__()
        self.entry = entry
        self.users = users
        self.tz = tz
        self.now = now

    def compose(self) -> ComposeResult:
        entry = self.entry
        heading = Text(f"{entry.entity} {entry.action}", style="bold")
        heading.append(f"\n{agent_time(entry.at, self.tz, self.now)} · ", style="dim")
        heading.append_text(safe_text(entry.user or "system", style="dim"))
        heading.append(f" · {entry.entity_id}", style="dim")
        body = Text()
        for change in entry.changes:
            if body:
                body.append("\n")
            body.append_text(change_text(change, self.users))
        with Vertical(id="entry-dialog", classes="dialog"):
            yield Static(heading, classes="dialog-title")
            with VerticalScroll(id="entry-body"):
                yield Static(body or Text("(nothing recorded)"), id="audit-entry-body")
        yield Footer(compact=True, show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)
