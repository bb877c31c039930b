"""The agent's queue: callable cases in priority order, and the held ones with their reason."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker

from collector_tui.display import first_line, safe_text
from collector_tui.tui.commands import QueueCommands
from collector_tui.tui.formatting import agent_time, amount_text, relative
from collector_tui.tui.messages import HeldLoaded, NextCaseFound, QueueLoaded
from collector_tui.tui.screens.base import CollectorScreen
from collector_tui.tui.typeahead import keys_may_flow

if TYPE_CHECKING:
    from collector_tui.services.casework.queue import QueueEntry, QueuePage

QUEUE_LIMIT = 100
HELD_LIMIT = 200

# Short tier names keep the first column narrow enough for 80 columns.
TIER_LABELS: dict[int, str] = {1: "callback", 2: "broken", 3: "reminder", 4: "new", 5: "workable"}
TIER_STYLES: dict[int, str] = {1: "bold yellow", 2: "bold red", 3: "cyan", 4: "green", 5: ""}


# Below WIDE_AT columns the queue leaves out the two time columns (the case screen has them) so
# the reason, the most useful column, stays readable at 80 columns.
WIDE_AT = 100
QUEUE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Tier", "tier"),
    ("Debtor", "debtor"),
    ("Balance", "balance"),
    ("DPD", "dpd"),
    ("Last try", "last"),
    ("Next action", "next"),
    ("Reason", "reason"),
)
MIN_REASON_WIDTH = 16
NARROW_QUEUE_COLUMNS = frozenset({"tier", "debtor", "balance", "dpd", "reason"})


def tier_cell(tier: int, name: str) -> Text:
    label = TIER_LABELS.get(tier, name)
    return Text(label, style=TIER_STYLES.get(tier, ""))


class QueueScreen(CollectorScreen):
    COMMANDS = {QueueCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_case",
            "Open",
            id="queue.open",
            tooltip="Open the highlighted case",
            priority=True,
        ),
        Binding(
            "n", "next_case", "Next case", id="queue.next", tooltip="Open the next callable case"
        ),
        Binding(
            "slash",
            "search",
            "Search",
            id="queue.search",
            tooltip="Find a case by name, client reference or phone",
            key_display="/",
        ),
        Binding("r", "refresh", "Refresh", id="queue.refresh", tooltip="Rebuild the queue now"),
        Binding(
            "h",
            "toggle_held",
            "Held",
            id="queue.held",
            tooltip="The held cases, why and when callable (again: back to the call queue)",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page: QueuePage | None = None
        self.built_at: datetime | None = None
        self._queue_wide: bool | None = None
        self.finding_next = False

    @property
    def accepts_keys(self) -> bool:
        """Keys typed while `n` looks for the next case are for that case (tui/typeahead.py)."""
        return not self.finding_next

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the queue…", id="queue-counts")
        with TabbedContent(id="queue-tabs", initial="queue"):
            with TabPane("Call queue", id="queue"):
                yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="queue-empty", classes="empty-note")
            with TabPane("Held", id="held"):
                yield DataTable(id="held-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        actor = self.actor
        self.title = "Queue"
        self.sub_title = actor.display_name
        queue = self.query_one("#queue-table", DataTable)
        self._set_queue_columns(queue)
        held = self.query_one("#held-table", DataTable)
        for label, key in (
            ("Debtor", "debtor"),
            ("Balance", "balance"),
            ("Status", "status"),
            ("Callable at", "callable_at"),
            ("Why held", "reason"),
        ):
            held.add_column(label, key=key)
        self.query_one("#queue-empty", Static).display = False
        queue.focus()

    def on_screen_resume(self) -> None:
        self.load_queue()

    # -- loading ----------------------------------------------------------------------------------

    @work(
        thread=True, exclusive=True, group="queue", exit_on_error=False, description="build queue"
    )
    def load_queue(self) -> None:
        from collector_tui.services.casework.queue import build_queue

        app = self.collector
        actor = self.actor
        now = app.clock.now()
        # build_queue sweeps due promises first, hence a write unit of work. The callable page
        # comes first: finding the held cases means judging many more candidates (bench/README).
        with app.store.write() as session:
            page = build_queue(
                session=session,
                now=now,
                agent_id=actor.user_id,
                settings=app.settings,
                limit=QUEUE_LIMIT,
            )
        self.post_message(QueueLoaded(page))
        with app.store.write() as session:
            held = build_queue(
                session=session,
                now=now,
                agent_id=actor.user_id,
                settings=app.settings,
                limit=0,
                include_held=True,
                held_limit=HELD_LIMIT,
            ).held
        self.post_message(HeldLoaded(held))

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        # The held list of the previous build stays until the new one arrives.
        held = self.page.held if self.page is not None else ()
        self.page = replace(message.page, held=held)
        self.built_at = self.collector.clock.now()
        self._show_counts(message.page)
        with self.app.batch_update():
            self._fill_queue(message.page.entries)

    def on_held_loaded(self, message: HeldLoaded) -> None:
        if self.page is None:
            return
        self.page = replace(self.page, held=message.held)
        self._fill_held(message.held)

    def _show_counts(self, page: QueuePage) -> None:
        counts = page.counts
        text = Text()
        for label, value, style in (
            ("Follow-ups due", counts.follow_ups_due, "bold yellow"),
            ("Broken promises", counts.broken_promises, "bold red"),
            ("Callable", counts.callable, "bold green"),
            ("Held", counts.held, "bold"),
        ):
            if text:
                text.append("  │  ", style="dim")
            text.append(f"{label} ")
            text.append(str(value), style=style)
        self.query_one("#queue-counts", Static).update(text)
        tabs = self.query_one("#queue-tabs", TabbedContent)
        tabs.get_tab("queue").label = f"Call queue ({len(page.entries)})"
        tabs.get_tab("held").label = f"Held ({counts.held})"

    def _wide(self) -> bool:
        return self.app.size.width >= WIDE_AT

    def _set_queue_columns(self, table: DataTable[Text]) -> None:
        wide = self._wide()
        table.clear(columns=True)
        for label, key in QUEUE_COLUMNS:
            if wide or key in NARROW_QUEUE_COLUMNS:
                table.add_column(label, key=key)
        self._queue_wide = wide

    def on_resize(self) -> None:
        if self._queue_wide is None:
            return
        if self._wide() != self._queue_wide:
            self._set_queue_columns(self.query_one("#queue-table", DataTable))
        if self.page is not None:
            # Reasons are cut to the width: cut them again for the new one.
            self._fill_queue(self.page.entries)
            self._fill_held(self.page.held)

    def _queue_row(self, entry: QueueEntry, now: datetime, tz: str) -> dict[str, Text]:
        wide = self._wide()
        return {
            "tier": tier_cell(entry.tier, entry.tier_name),
            "debtor": first_line(entry.debtor, 22 if wide else 18),
            "balance": amount_text(entry.balance, entry.currency),
            "dpd": Text(str(entry.days_past_due), justify="right"),
            "last": Text(relative(entry.last_attempt_at, now)),
            "next": Text(agent_time(entry.next_action_at, tz, now)),
        }

    def _fill_queue(self, entries: tuple[QueueEntry, ...]) -> None:
        table = self.query_one("#queue-table", DataTable)
        actor = self.actor
        now = self.built_at or self.collector.clock.now()
        rows = {str(e.case_id): self._queue_row(e, now, actor.time_zone) for e in entries}
        _fit_last_column(table, rows, {str(e.case_id): e.reason for e in entries}, "reason")
        _replace_rows(table, rows)
        empty = self.query_one("#queue-empty", Static)
        empty.display = not entries
        if not entries:
            empty.update(
                "Nothing to call right now. Held cases and the moment they become callable "
                "are in the Held tab; press r to refresh."
            )

    def _fill_held(self, entries: tuple[QueueEntry, ...]) -> None:
        table = self.query_one("#held-table", DataTable)
        actor = self.actor
        now = self.built_at or self.collector.clock.now()
        rows = {
            str(e.case_id): {
                "debtor": first_line(e.debtor, 22),
                "balance": amount_text(e.balance, e.currency),
                "status": safe_text(e.status),
                "callable_at": Text(agent_time(e.callable_at, actor.time_zone, now)),
            }
            for e in entries
        }
        _fit_last_column(table, rows, {str(e.case_id): e.reason for e in entries}, "reason")
        _replace_rows(table, rows)

    # -- actions ----------------------------------------------------------------------------------

    def _active_table(self) -> DataTable[Text]:
        active = self.query_one("#queue-tabs", TabbedContent).active
        return self.query_one("#held-table" if active == "held" else "#queue-table", DataTable)

    def action_open_case(self) -> None:
        table = self._active_table()
        if table.row_count == 0:
            self.collector.tell("No case to open here.")
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        if row_key.value is not None:
            self.open_case(uuid.UUID(row_key.value))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.open_case(uuid.UUID(event.row_key.value))

    def open_case(self, case_id: uuid.UUID) -> None:
        from collector_tui.tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(case_id))

    def action_next_case(self) -> None:
        self.finding_next = True
        self.find_next_case()

    @work(thread=True, exclusive=True, group="next", exit_on_error=False, description="next case")
    def find_next_case(self) -> None:
        from collector_tui.services.casework.queue import next_case

        app = self.collector
        actor = self.actor
        with app.store.write() as session:
            entry = next_case(
                session=session,
                now=app.clock.now(),
                agent_id=actor.user_id,
                settings=app.settings,
                exclude=tuple(app.skipped),
            )
        self.post_message(NextCaseFound(entry.case_id if entry else None))

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        super().worker_failed(worker, error)
        if worker.group == "next":
            self.finding_next = False
            keys_may_flow(self)

    def on_next_case_found(self, message: NextCaseFound) -> None:
        self.finding_next = False
        keys_may_flow(self)
        if message.case_id is None:
            self.collector.tell("No callable case right now.", severity="warning")
            return
        self.open_case(message.case_id)

    def action_search(self) -> None:
        from collector_tui.tui.screens.search import SearchScreen

        def opened(case_id: uuid.UUID | None) -> None:
            if case_id is not None:
                self.open_case(case_id)

        self.app.push_screen(SearchScreen(), opened)

    def action_refresh(self) -> None:
        self.collector.skipped.clear()
        self.load_queue()

    def action_toggle_held(self) -> None:
        tabs = self.query_one("#queue-tabs", TabbedContent)
        self.action_show_tab("queue" if tabs.active == "held" else "held")

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#queue-tabs", TabbedContent).active = tab
        self._active_table().focus()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self._active_table().focus()


def _fit_last_column(
    table: DataTable[Text], rows: dict[str, dict[str, Text]], texts: dict[str, str], key: str
) -> None:
    """Add column `key` to every row, its text cut to the width the other columns leave, so the
    table never scrolls sideways (the full reason is on the case screen)."""
    widths = [
        max(
            [cell_len(str(column.label))]
            + [row[column.key.value].cell_len for row in rows.values() if column.key.value in row]
        )
        for column in table.columns.values()
        if column.key.value != key
    ]
    spare = (table.size.width or table.app.size.width) - sum(widths)
    room = max(MIN_REASON_WIDTH, spare - 2 * (len(widths) + 1) - 2)
    for row_key, row in rows.items():
        row[key] = first_line(texts[row_key], room)


def _replace_rows(table: DataTable[Text], rows: dict[str, dict[str, Text]]) -> None:
    """Show `rows` (row key -> column key -> cell) in the table's columns, updating cells in place
    when the keys and their order are unchanged, else rebuilding; the cursor stays on the case it
    was on (clear() would reset it)."""
    current = [key.value for key in table.rows]
    columns = [key.value for key in table.columns if key.value is not None]
    if current == list(rows):
        for key, cells in rows.items():
            for column in columns:
                # A longer cell must widen its column, or its end is cut off silently.
                table.update_cell(key, column, cells[column], update_width=True)
        return
    selected: str | None = None
    if table.row_count and table.cursor_row < table.row_count:
        selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    table.clear()
    for key, cells in rows.items():
        table.add_row(*(cells[column] for column in columns), key=key)
    if selected is not None and selected in rows:
        table.move_cursor(row=table.get_row_index(selected), animate=False)
    elif rows:
        table.move_cursor(row=0, animate=False)
