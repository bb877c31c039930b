"""The agent's queue: callable cases in priority order, and the held ones with their reason."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from textual.worker import Worker

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.commands import QueueCommands
from collector_tui.tui.formatting import agent_time, amount_text, relative
from collector_tui.tui.messages import CasePeeked, CaseReadToOpen, HeldLoaded, QueueLoaded
from collector_tui.tui.screens.base import CollectorScreen
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader
from collector_tui.tui.widgets.tables import fill_fitted

if TYPE_CHECKING:
    from textual.timer import Timer

    from collector_tui.services.casework.casefile import CaseFile
    from collector_tui.services.casework.queue import QueueEntry, QueuePage

QUEUE_LIMIT = 100
# The first build of a fresh screen asks for a screenful first (at least this many rows): in a
# process just started it judges every candidate cold (compliance rules, phone metadata,
# statements not yet compiled), and a screenful of rows needs a fraction of the candidates.
FIRST_ROWS_MIN = 10
# How long the first build waits for the login's warm-up still judging the same cases.
WARM_UP_WAIT_S = 10.0
HELD_LIMIT = 200
# The file of the case under the cursor is read once the cursor rests this long on its row, and
# opens that case at once (its screen reads it again behind) while it is this fresh.
PEEK_AFTER_S = 0.12
PEEK_FRESH_S = 30.0

# Short tier names keep the first column narrow enough for 80 columns.
TIER_LABELS: dict[int, str] = {
    1: N_("callback"),
    2: N_("broken"),
    3: N_("reminder"),
    4: N_("new"),
    5: N_("workable"),
}
TIER_STYLES: dict[int, str] = {1: "bold yellow", 2: "bold red", 3: "cyan", 4: "green", 5: ""}


# The debtor's name is cut shorter below WIDE_AT columns. When the columns do not fit, the two time
# columns go first (the case screen has them), then the days past due: the reason, the most useful
# column, keeps at least MIN_REASON_WIDTH cells, and a balance is never cut.
WIDE_AT = 100
QUEUE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("tier", N_("Tier")),
    ("debtor", N_("Debtor")),
    ("balance", N_("Balance")),
    ("dpd", N_("DPD")),
    ("last", N_("Last try")),
    ("next", N_("Next action")),
    ("reason", N_("Reason")),
)
QUEUE_DROP_ORDER = ("next", "last", "dpd", "tier", "reason")
MIN_REASON_WIDTH = 24
HELD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("debtor", N_("Debtor")),
    ("balance", N_("Balance")),
    ("status", N_("Status")),
    ("callable_at", N_("Callable at")),
    ("reason", N_("Why held")),
)
HELD_DROP_ORDER = ("status", "callable_at", "reason")


def first_rows(app: Any) -> int:
    """The rows of the queue's first paint: a screenful."""
    return min(QUEUE_LIMIT, max(FIRST_ROWS_MIN, app.size.height))


def tier_cell(tier: int, name: str) -> Text:
    label = _(TIER_LABELS[tier]) if tier in TIER_LABELS else name
    return Text(label, style=TIER_STYLES.get(tier, ""))


class QueueScreen(CollectorScreen):
    COMMANDS = {QueueCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_case",
            N_("Open"),
            id="queue.open",
            tooltip=N_("Open the highlighted case"),
            priority=True,
        ),
        Binding(
            "n",
            "next_case",
            N_("Next case"),
            id="queue.next",
            tooltip=N_("Open the next callable case"),
        ),
        Binding(
            "slash",
            "search",
            N_("Search"),
            id="queue.search",
            tooltip=N_("Find a case by name, client reference or phone"),
            key_display="/",
        ),
        Binding(
            "r", "refresh", N_("Refresh"), id="queue.refresh", tooltip=N_("Rebuild the queue now")
        ),
        Binding(
            "h",
            "toggle_held",
            N_("Held"),
            id="queue.held",
            tooltip=N_("The held cases, why and when callable (again: back to the call queue)"),
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page: QueuePage | None = None
        self.page_partial = False  # only the top of the queue so far (load_queue)
        self.built_at: datetime | None = None
        self.finding_next = False
        self.opening = False
        self.peeked: CaseFile | None = None
        self.peeked_at = 0.0
        self._peek_timer: Timer | None = None

    @property
    def accepts_keys(self) -> bool:
        """Keys typed while `n` looks for the next case, or while the case to open is read, are
        for that case (tui/typeahead.py)."""
        return not (self.finding_next or self.opening)

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(_("Loading the queue…"), id="queue-counts")
        with TabbedContent(id="queue-tabs", initial="queue"):
            with TabPane(_("Call queue"), id="queue"):
                yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="queue-empty", classes="empty-note")
            with TabPane(_("Held"), id="held"):
                yield DataTable(id="held-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        actor = self.actor
        self.title = _("Queue")
        self.sub_title = actor.display_name
        queue = self.query_one("#queue-table", DataTable)
        self._fill_queue(())
        self._fill_held(())
        self.query_one("#queue-empty", Static).display = False
        queue.focus()

    def on_screen_resume(self) -> None:
        # Back from a case: what was read ahead may have changed there.
        self.peeked = None
        self.load_queue()

    # -- loading ----------------------------------------------------------------------------------

    @work(
        thread=True, exclusive=True, group="queue", exit_on_error=False, description="build queue"
    )
    def load_queue(self) -> None:
        from collector_tui.services.casework.queue import build_queue

        context = self.context
        agent_id = self.actor.user_id
        # Both halves as of one instant. The callable page comes first: finding the held cases
        # means judging many more candidates (bench/README).
        top_rows = first_rows(self.app)
        if self.page is None:
            self.collector.warm_up_idle.wait(WARM_UP_WAIT_S)
        now = context.now()
        if self.page is None and top_rows < QUEUE_LIMIT:
            # Nothing shown yet: the top of the queue as soon as it is judged. The same walk in
            # the same order at the same instant, so these rows are the first of the page that
            # replaces them, each as lawful to call as there.
            top = context.run(build_queue, now=now, agent_id=agent_id, limit=top_rows)
            self.post_message(QueueLoaded(top, partial=True))
        page = context.run(build_queue, now=now, agent_id=agent_id, limit=QUEUE_LIMIT)
        self.post_message(QueueLoaded(page))
        held = context.run(
            build_queue,
            now=now,
            agent_id=agent_id,
            limit=0,
            include_held=True,
            held_limit=HELD_LIMIT,
        ).held
        self.post_message(HeldLoaded(held))

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        # The held list of the previous build stays until the new one arrives.
        held = self.page.held if self.page is not None else ()
        self.page = replace(message.page, held=held)
        self.page_partial = message.partial
        self.built_at = self.collector.clock.now()
        # A partial page's counts stop where its walk stopped: the line keeps saying the queue
        # is loading until the whole page brings them, and no "nothing to call" is said early.
        if not message.partial:
            self._show_counts(message.page)
        with self.app.batch_update():
            self._fill_queue(message.page.entries, empty_note=not message.partial)

    def on_held_loaded(self, message: HeldLoaded) -> None:
        if self.page is None:
            return
        self.page = replace(self.page, held=message.held)
        self._fill_held(message.held)

    def _show_counts(self, page: QueuePage) -> None:
        counts = page.counts
        text = Text()
        for label, value, style in (
            (_("Follow-ups due"), counts.follow_ups_due, "bold yellow"),
            (_("Broken promises"), counts.broken_promises, "bold red"),
            (_("Callable"), counts.callable, "bold green"),
            (_("Held"), counts.held, "bold"),
        ):
            if text:
                text.append("  │  ", style="dim")
            text.append(f"{label} ")
            text.append(str(value), style=style)
        self.query_one("#queue-counts", Static).update(text)
        tabs = self.query_one("#queue-tabs", TabbedContent)
        tabs.get_tab("queue").label = _("Call queue ({count})").format(count=len(page.entries))
        tabs.get_tab("held").label = _("Held ({count})").format(count=counts.held)

    def _wide(self) -> bool:
        return self.app.size.width >= WIDE_AT

    def _width(self) -> int:
        # The tables span the screen; the screen has its new size before they do.
        return self.size.width or self.app.size.width

    def on_resize(self) -> None:
        if not self.is_mounted:
            return
        entries = self.page.entries if self.page is not None else ()
        self._fill_queue(entries, empty_note=self.page is not None and not self.page_partial)
        self._fill_held(self.page.held if self.page is not None else ())

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

    def _fill_queue(self, entries: tuple[QueueEntry, ...], *, empty_note: bool = True) -> None:
        table = self.query_one("#queue-table", DataTable)
        actor = self.actor
        now = self.built_at or self.collector.clock.now()
        rows = {str(e.case_id): self._queue_row(e, now, actor.time_zone) for e in entries}
        fill_fitted(
            table,
            [(key, _(label)) for key, label in QUEUE_COLUMNS],
            rows,
            width=self._width(),
            drop=QUEUE_DROP_ORDER,
            flex="reason",
            flex_texts={str(e.case_id): e.reason for e in entries},
            min_flex=MIN_REASON_WIDTH,
        )
        empty = self.query_one("#queue-empty", Static)
        empty.display = empty_note and not entries
        if empty_note and not entries:
            empty.update(
                _(
                    "Nothing to call right now. Held cases and the moment they become callable "
                    "are in the Held tab; press r to refresh."
                )
            )

    def _fill_held(self, entries: tuple[QueueEntry, ...]) -> None:
        from collector_tui.models import case_status_label

        table = self.query_one("#held-table", DataTable)
        actor = self.actor
        now = self.built_at or self.collector.clock.now()
        rows = {
            str(e.case_id): {
                "debtor": first_line(e.debtor, 22),
                "balance": amount_text(e.balance, e.currency),
                "status": safe_text(case_status_label(e.status)),
                "callable_at": Text(agent_time(e.callable_at, actor.time_zone, now)),
            }
            for e in entries
        }
        fill_fitted(
            table,
            [(key, _(label)) for key, label in HELD_COLUMNS],
            rows,
            width=self._width(),
            drop=HELD_DROP_ORDER,
            flex="reason",
            flex_texts={str(e.case_id): e.reason for e in entries},
            min_flex=MIN_REASON_WIDTH,
        )

    # -- actions ----------------------------------------------------------------------------------

    def _active_table(self) -> DataTable[Text]:
        active = self.query_one("#queue-tabs", TabbedContent).active
        return self.query_one("#held-table" if active == "held" else "#queue-table", DataTable)

    def action_open_case(self) -> None:
        table = self._active_table()
        if table.row_count == 0:
            self.collector.tell(_("No case to open here."))
            return
        row_key, _column = table.coordinate_to_cell_key(table.cursor_coordinate)
        if row_key.value is not None:
            self.open_case(uuid.UUID(row_key.value))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.open_case(uuid.UUID(event.row_key.value))

    def open_case(
        self,
        case_id: uuid.UUID,
        *,
        from_queue: bool = True,
        case_file: CaseFile | None = None,
    ) -> None:
        """Open the case with its file already read, so its screen never paints empty: the file
        read ahead (`case_file`, or while the cursor rested on the row), or read now (keys typed
        meanwhile wait for it)."""
        from collector_tui.tui.screens.case import CaseScreen

        if case_file is not None and case_file.case_id == case_id:
            self.app.push_screen(CaseScreen(case_id, case_file, from_queue=from_queue))
            return
        peeked = self.peeked
        if (
            peeked is not None
            and peeked.case_id == case_id
            and monotonic() - self.peeked_at < PEEK_FRESH_S
        ):
            self.peeked = None
            self.app.push_screen(CaseScreen(case_id, peeked, from_queue=from_queue))
            return
        self.opening = True
        self.read_case_to_open(case_id, from_queue)

    @work(thread=True, exclusive=True, group="open", exit_on_error=False, description="open case")
    def read_case_to_open(self, case_id: uuid.UUID, from_queue: bool) -> None:
        from collector_tui.services.casework.casefile import load_case_file

        case_file = self.context.run(load_case_file, case_id=case_id)
        self.post_message(CaseReadToOpen(case_file, from_queue))

    @on(DataTable.RowHighlighted, "#queue-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._peek_timer is not None:
            self._peek_timer.stop()
        key = event.row_key.value
        if key is None or not self.is_current:
            return
        case_id = uuid.UUID(key)
        if self.peeked is not None and self.peeked.case_id == case_id:
            return
        self._peek_timer = self.set_timer(PEEK_AFTER_S, lambda: self.peek_case(case_id))

    @work(thread=True, exclusive=True, group="peek", exit_on_error=False, description="peek case")
    def peek_case(self, case_id: uuid.UUID) -> None:
        from collector_tui.services.casework.casefile import load_case_file

        case_file = self.context.run(load_case_file, case_id=case_id)
        self.post_message(CasePeeked(case_file))

    def on_case_peeked(self, message: CasePeeked) -> None:
        self.peeked = message.case_file
        self.peeked_at = monotonic()

    def on_case_read_to_open(self, message: CaseReadToOpen) -> None:
        from collector_tui.tui.screens.case import CaseScreen

        self.opening = False
        self.finding_next = False
        case_file = message.case_file
        if case_file is None:
            keys_may_flow(self)
            self.collector.tell(_("No callable case right now."), severity="warning")
            return
        self.app.push_screen(
            CaseScreen(case_file.case_id, case_file, from_queue=message.from_queue)
        )

    def action_next_case(self) -> None:
        self.finding_next = True
        self.find_next_case()

    @work(thread=True, exclusive=True, group="next", exit_on_error=False, description="next case")
    def find_next_case(self) -> None:
        from collector_tui.services.casework.casefile import load_case_file
        from collector_tui.services.casework.queue import next_case

        app = self.collector
        entry = self.context.run(next_case, agent_id=self.actor.user_id, exclude=tuple(app.skipped))
        case_file = None
        if entry is not None:
            case_file = self.context.run(load_case_file, case_id=entry.case_id)
        self.post_message(CaseReadToOpen(case_file, from_queue=True))

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        if worker.group == "peek":
            return  # only read ahead: enter reads it again
        super().worker_failed(worker, error)
        if worker.group in ("next", "open"):
            self.finding_next = False
            self.opening = False
            keys_may_flow(self)
            self.load_queue()  # the case may have left the queue meanwhile

    def action_search(self) -> None:
        from collector_tui.tui.screens.search import SearchScreen

        search = SearchScreen()

        def opened(case_id: uuid.UUID | None) -> None:
            if case_id is not None:
                # Looked up, not worked from the queue.
                self.open_case(case_id, from_queue=False, case_file=search.read_ahead(case_id))

        self.app.push_screen(search, opened)

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
