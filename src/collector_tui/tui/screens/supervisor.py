"""The supervisor's home: every agent's workload, and a browser over the whole book.

Top: one row per agent (open cases, balance per currency, follow-ups due today, pending promises,
attempts and right-party contacts today) and the unassigned cases; enter on a row shows that
agent's cases below. Below: the case browser, a page of ~100 cases at a time in a stable order
(`m` loads the next page), filtered with `f`; space selects cases for `a` (assign) and `b`
(balance). Decisions act on the highlighted case: `e` legal, `w` write off, `c` close, `v` a
settlement waiting for approval, `u` send back to the agent; `h` reads its audit trail.

Every service call runs in a thread worker; a decision carries the version of the row it was
taken on, so a case changed meanwhile is refused (StaleEdit) instead of overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.money import MoneyError, minor_digits
from collector_tui.tui.commands import SupervisorCommands
from collector_tui.tui.formatting import amount_text, plain_amount
from collector_tui.tui.screens.base import CollectorScreen
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.screens.supervision_forms import (
    AgentChoice,
    AssignChoice,
    AssignForm,
    BalanceChoice,
    BalanceForm,
    DecisionForm,
    FilterForm,
    SettlementDecision,
    SettlementForm,
)
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader
from collector_tui.tui.widgets.tables import fill_fitted, fill_measured

if TYPE_CHECKING:
    from collector_tui.services.casework.casefile import CaseFile
    from collector_tui.services.casework.settlements import SettlementView
    from collector_tui.services.supervision.decisions import CaseDecision
    from collector_tui.services.supervision.workload import (
        AgentWorkload,
        BrowserFilter,
        BrowserPage,
        BrowserRow,
        CurrencyAmount,
    )

PAGE = 100
MAX_RELOAD = 500  # a reload reads again at most this many of the rows already shown
WIDE_AT = 100
SELECTED_MARK = "●"
MIN_ROOM = 12
BROWSER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("sel", " "),
    ("ref", N_("Reference")),
    ("debtor", N_("Debtor")),
    ("country", N_("CC")),
    ("balance", N_("Balance")),
    ("dpd", N_("DPD")),
    ("status", N_("Status")),
    ("agent", N_("Agent")),
    ("routed", N_("Routed to supervisors")),
)
NARROW_BROWSER_COLUMNS = frozenset({"sel", "ref", "debtor", "balance", "status", "agent"})
# Too narrow for every column: these go first, in this order; a balance is never cut.
BROWSER_DROP_ORDER = ("routed", "dpd", "country", "agent", "status")
STATUS_STYLES = {
    "new": "green",
    "promised": "cyan",
    "plan": "cyan",
    "dispute": "yellow",
    "legal": "magenta",
    "written_off": "red",
    "closed": "dim",
    "settled": "dim",
    "paid": "dim",
}


@dataclass
class WorkloadLoaded(Message):
    rows: list[AgentWorkload]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WorkloadLoaded)


@dataclass
class CasesLoaded(Message):
    page: BrowserPage
    append: bool
    filters: BrowserFilter


@dataclass
class SettlementFound(Message):
    settlement: SettlementView | None
    client_ref: str


def compact_amount(minor: int, currency: str) -> str:
    """ "7.01M CNY", "291K GBP": three significant digits, for a summary column too narrow for
    every digit (the exact figure is one filter away). Decimal arithmetic, never float."""
    try:
        major = Decimal(minor).scaleb(-minor_digits(currency))
    except MoneyError:
        return f"{minor} {currency}"
    for size, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if abs(major) >= size:
            scaled = major / size
            places = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            return f"{scaled.quantize(Decimal(1).scaleb(-places))}{suffix} {currency}"
    return f"{major.quantize(Decimal(1))} {currency}"


def balances_text(balances: tuple[CurrencyAmount, ...], room: int) -> Text:
    """Every currency's balance, exact when it fits in `room` cells, else compact."""
    if not balances:
        return Text("—", style="dim")
    for shown in (
        [plain_amount(b.amount, b.currency) for b in balances],
        [compact_amount(b.amount, b.currency) for b in balances],
    ):
        line = " · ".join(shown)
        if cell_len(line) <= room:
            return Text(line)
    return first_line(" · ".join(shown), room)


def filter_summary(flt: BrowserFilter, agents: dict[uuid.UUID, str]) -> str:
    from collector_tui.services.supervision.workload import status_filter_label

    parts = [status_filter_label(flt.status)]
    if flt.unassigned:
        parts.append(_("unassigned"))
    elif flt.agent_id is not None:
        parts.append(agents.get(flt.agent_id, _("one agent")))
    else:
        parts.append(_("every agent"))
    if flt.routed:
        parts.append(_("routed to supervisors"))
    if flt.aging:
        parts.append(_("{aging} days").format(aging=flt.aging))
    if flt.country:
        parts.append(flt.country)
    if flt.currency:
        low, high = flt.balance_min, flt.balance_max
        if low is not None and high is not None:
            parts.append(f"{plain_amount(low, flt.currency)} – {plain_amount(high, flt.currency)}")
        elif low is not None:
            parts.append(f"≥ {plain_amount(low, flt.currency)}")
        elif high is not None:
            parts.append(f"≤ {plain_amount(high, flt.currency)}")
        else:
            parts.append(flt.currency)
    return " · ".join(parts)


class SupervisorQueueScreen(QueueScreen):
    """The supervisor's own call queue, opened from the supervisor screen; escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "back",
            N_("Back"),
            id="queue.back",
            tooltip=N_("Back to the supervisor screen"),
        ),
    ]

    def action_back(self) -> None:
        self.app.pop_screen()


class SupervisorScreen(CollectorScreen):
    COMMANDS = {SupervisorCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_case",
            N_("Open"),
            id="supervisor.open",
            tooltip=N_("Open the case (on an agent's row: show that agent's cases)"),
            priority=True,
        ),
        Binding(
            "space",
            "toggle_select",
            N_("Select"),
            id="supervisor.select",
            tooltip=N_("Select or unselect the case (for assign and balance)"),
        ),
        Binding(
            "a",
            "assign",
            N_("Assign"),
            id="supervisor.assign",
            tooltip=N_("Give the selected cases to…"),
        ),
        Binding(
            "b",
            "balance",
            N_("Rebalance"),
            id="supervisor.balance",
            tooltip=N_(
                "Spread the selected cases (none selected: the unassigned ones) over agents"
            ),
        ),
        Binding(
            "f", "filter", N_("Filter"), id="supervisor.filter", tooltip=N_("Narrow the case list")
        ),
        Binding(
            "h", "history", N_("History"), id="supervisor.history", tooltip=N_("The audit trail")
        ),
        # The case list's summary line says "m: more" when there is more: not in the footer,
        # which has no room left at 80 columns.
        Binding(
            "m",
            "more",
            N_("More"),
            id="supervisor.more",
            tooltip=N_("Load the next page of cases"),
            show=False,
        ),
        Binding(
            "g",
            "reports",
            N_("Reports"),
            id="supervisor.reports",
            tooltip=N_("The reports dashboard"),
        ),
        Binding(
            "d",
            "disputes",
            N_("Disputes"),
            id="supervisor.disputes",
            tooltip=N_("Open invoice disputes by owner and age (overdue marked)"),
            show=False,
        ),
        Binding(
            "i",
            "import_file",
            N_("Import"),
            id="supervisor.import",
            tooltip=N_("Import placements or payments from a CSV file"),
            show=False,
        ),
        Binding(
            "q",
            "queue",
            N_("My queue"),
            id="supervisor.queue",
            tooltip=N_("Your own call queue (escape comes back here)"),
            show=False,
        ),
        Binding(
            "t",
            "skip_trace",
            N_("Skip trace"),
            id="supervisor.skip_trace",
            tooltip=N_("Cases to trace: no callable number left, or mail returned"),
            show=False,
        ),
        Binding(
            "o",
            "routed",
            N_("Routed"),
            id="supervisor.routed",
            tooltip=N_("Only the cases routed to supervisors (press again for all)"),
            show=False,
        ),
        Binding(
            "e",
            "legal",
            N_("Legal"),
            id="supervisor.legal",
            tooltip=N_("Escalate to legal"),
            show=False,
        ),  # fmt: skip
        Binding(
            "w",
            "write_off",
            N_("Write off"),
            id="supervisor.write_off",
            tooltip=N_("Write the case off"),
            show=False,
        ),  # fmt: skip
        Binding(
            "c",
            "close_case",
            N_("Close"),
            id="supervisor.close",
            tooltip=N_("Close the case"),
            show=False,
        ),  # fmt: skip
        Binding(
            "v",
            "settlement",
            N_("Settlement"),
            id="supervisor.settlement",
            tooltip=N_("Approve or reject the case's settlement (above the agent's limit)"),
            show=False,
        ),
        Binding(
            "u",
            "unroute",
            N_("Send back"),
            id="supervisor.unroute",
            tooltip=N_("Back to the agent's queue (nothing to decide)"),
            show=False,
        ),  # fmt: skip
        Binding(
            "x",
            "clear_selection",
            N_("Unselect"),
            id="supervisor.clear",
            tooltip=N_("Unselect every case"),
            show=False,
        ),  # fmt: skip
        Binding(
            "asterisk",
            "select_all",
            N_("Select all"),
            id="supervisor.select_all",
            tooltip=N_("Select every case shown"),
            show=False,
            key_display="*",
        ),  # fmt: skip
        Binding(
            "slash",
            "search",
            N_("Search"),
            id="supervisor.search",
            key_display="/",
            tooltip=N_("Find a case by name, reference or phone"),
            show=False,
        ),  # fmt: skip
        Binding(
            "n",
            "reminders",
            N_("Reminders"),
            id="supervisor.reminders",
            tooltip=N_("The reminder outbox: due, sent, failed, skipped; start a send run"),
            show=False,
        ),
        Binding(
            "r",
            "refresh",
            N_("Refresh"),
            id="supervisor.refresh",
            tooltip=N_("Read workloads and cases again"),
            show=False,
        ),  # fmt: skip
    ]

    def __init__(self) -> None:
        super().__init__()
        from collector_tui.services.supervision.workload import BrowserFilter

        self.filters: BrowserFilter = BrowserFilter()
        self.workloads: list[AgentWorkload] = []
        self.rows: dict[str, BrowserRow] = {}  # case id -> row, in the order shown
        self.selected: set[str] = set()
        self.next_cursor: Any = None
        self.total: int | None = None
        self._wide: bool | None = None
        # Set while a worker looks up what a key asked for (the settlement to decide): the keys
        # typed meanwhile are for the dialog it opens, so they wait (tui/typeahead.py).
        self.looking_up = False

    @property
    def accepts_keys(self) -> bool:
        return not self.looking_up

    # -- building ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield DataTable(id="workload-table", cursor_type="row", zebra_stripes=True)
        yield Static(_("Loading cases…"), id="browser-summary")
        yield DataTable(id="browser-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("Supervisor")
        self.sub_title = self.actor.display_name
        if not self.actor.is_supervisor:
            # Home is the queue for agents; this screen is never theirs (the services refuse too).
            self.collector.tell(_("The supervisor screen is for supervisors."), severity="error")
            self.app.pop_screen()
            return
        self._set_columns()
        self.query_one("#browser-table", DataTable).focus()

    def language_changed(self) -> None:
        super().language_changed()
        self.title = _("Supervisor")
        if self._wide is None:
            return
        self._set_columns()
        self.query_one("#browser-table", DataTable).clear(columns=True)
        self._show_workloads()
        self._show_rows()

    def on_screen_resume(self) -> None:
        if self.actor.is_supervisor:
            self.refresh_all()

    def _is_wide(self) -> bool:
        return self.app.size.width >= WIDE_AT

    def _width(self) -> int:
        # The tables span the screen, which has its new size before they have theirs.
        return self.size.width or self.app.size.width

    def _set_columns(self) -> None:
        wide = self._is_wide()
        workload = self.query_one("#workload-table", DataTable)
        workload.clear(columns=True)
        for label, key in (
            (_("Agent"), "agent"),
            # "Open" here counts open cases; the key "Open" opens one: two words in Chinese.
            (_("open").capitalize(), "open"),
            (_("Due"), "due"),
            (_("Prom."), "promises"),
            (_("Tries"), "attempts"),
            (_("RPC"), "contacts"),
            (_("Balance"), "balance"),
        ):
            workload.add_column(label, key=key)
        self._wide = wide

    def on_resize(self) -> None:
        if self._wide is None:
            return
        if self._is_wide() != self._wide:
            self._set_columns()
        self._show_workloads()
        self._show_rows()

    # -- loading ----------------------------------------------------------------------------------

    def refresh_all(self) -> None:
        self.load_workloads()
        self.load_cases(reset=True)

    @work(thread=True, exclusive=True, group="workload", exit_on_error=False,
          description="workloads")  # fmt: skip
    def load_workloads(self) -> None:
        from collector_tui.services.supervision.workload import agent_workloads

        rows = self.context.run(agent_workloads)
        self.post_message(WorkloadLoaded(rows))

    def load_cases(self, *, reset: bool) -> None:
        if reset:
            limit = min(MAX_RELOAD, max(PAGE, len(self.rows)))
            self._read_cases(self.filters, None, limit, False)
        elif self.next_cursor is not None:
            self._read_cases(self.filters, self.next_cursor, PAGE, True)

    @work(thread=True, exclusive=True, group="browser", exit_on_error=False, description="cases")
    def _read_cases(self, filters: BrowserFilter, after: Any, limit: int, append: bool) -> None:
        from collector_tui.services.supervision.workload import browse_cases

        page = self.context.run(browse_cases, filters=filters, after=after, limit=limit)
        self.post_message(CasesLoaded(page, append, filters))

    def on_workload_loaded(self, message: WorkloadLoaded) -> None:
        self.workloads = message.rows
        self._show_workloads()

    def on_cases_loaded(self, message: CasesLoaded) -> None:
        if message.filters != self.filters:
            return  # an answer to an older filter
        page = message.page
        if not message.append:
            self.rows = {}
            self.total = page.total
        for row in page.rows:
            self.rows[str(row.case_id)] = row
        self.next_cursor = page.next_cursor
        self.selected &= set(self.rows)
        self._show_rows()

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        super().worker_failed(worker, error)
        if worker.group == "settlement":
            self.looking_up = False
            keys_may_flow(self)

    # -- showing ----------------------------------------------------------------------------------

    def agent_choices(self) -> list[AgentChoice]:
        return [
            AgentChoice(row.agent_id, row.username or "", row.display_name)
            for row in self.workloads
            if row.agent_id is not None and row.role == "agent"
        ]

    def _agent_names(self) -> dict[uuid.UUID, str]:
        return {row.agent_id: row.display_name for row in self.workloads if row.agent_id}

    def _show_workloads(self) -> None:
        table = self.query_one("#workload-table", DataTable)
        wide = self._is_wide()
        rows: dict[str, dict[str, Text]] = {}
        for row in self.workloads:
            style = "italic dim" if row.is_unassigned else ""
            rows[str(row.agent_id or "unassigned")] = {
                "agent": first_line(
                    _("unassigned") if row.is_unassigned else row.display_name,
                    20 if wide else 14,
                    style=style,
                ),
                "open": Text(str(row.open_cases), justify="right", style="bold"),
                "due": _count(row.follow_ups_due, "bold yellow", row.is_unassigned),
                "promises": _count(row.pending_promises, "cyan", False),
                "attempts": _count(row.attempts_today, "", row.is_unassigned),
                "contacts": _count(row.contacts_today, "green", row.is_unassigned),
            }
        room = _room(table, rows, "balance", self._width())
        for row in self.workloads:
            rows[str(row.agent_id or "unassigned")]["balance"] = balances_text(row.balances, room)
        fill_measured(table, rows)

    def _browser_cells(self, key: str, row: BrowserRow) -> dict[str, Text]:
        wide = self._is_wide()
        status = Text(row.status_label, style=STATUS_STYLES.get(row.status, ""))
        if row.routed_reason and not wide:
            # No room for the routed column: why it waits says more than its status.
            status = Text("⚑ ", style="bold yellow") + first_line(
                row.routed_reason, 14, style="yellow"
            )
        return {
            "sel": Text(SELECTED_MARK if key in self.selected else " ", style="bold green"),
            "ref": first_line(row.client_ref, 16 if wide else 12),
            "country": safe_text(row.debtor_country),
            "balance": amount_text(row.balance, row.currency),
            "dpd": Text(str(row.days_past_due), justify="right"),
            "status": status,
            "agent": first_line(row.assigned_to or "—", 10, style="" if row.assigned_to else "dim"),
            "routed": first_line(row.routed_reason or "", 26, style="bold yellow"),
        }

    def _show_rows(self) -> None:
        table = self.query_one("#browser-table", DataTable)
        wide = self._is_wide()
        columns = [
            (key, str(label))
            for key, label in BROWSER_COLUMNS
            if wide or key in NARROW_BROWSER_COLUMNS
        ]
        rows = {key: self._browser_cells(key, row) for key, row in self.rows.items()}
        # The debtor's name takes what the other columns leave (a row never scrolls sideways).
        with self.app.batch_update():
            fill_fitted(
                table,
                columns,
                rows,
                width=self._width(),
                drop=BROWSER_DROP_ORDER,
                flex="debtor",
                flex_texts={key: row.debtor for key, row in self.rows.items()},
                min_flex=MIN_ROOM,
            )
            self._show_summary()

    def _show_summary(self) -> None:
        text = Text()
        text.append(_("Cases") + " ", style="bold")
        text.append_text(safe_text(filter_summary(self.filters, self._agent_names())))
        shown = len(self.rows)
        text.append("  │  ", style="dim")
        if self.total is not None and self.total > shown:
            text.append(_("{shown} of {total}").format(shown=shown, total=self.total), style="bold")
            text.append("  " + _("m: more"), style="dim")
        else:
            text.append(_("{shown} found").format(shown=shown), style="bold")
        if self.selected:
            text.append("  │  ", style="dim")
            text.append(_("{count} selected").format(count=len(self.selected)), style="bold green")
        self.query_one("#browser-summary", Static).update(text)

    def _refresh_marks(self, keys: list[str]) -> None:
        table = self.query_one("#browser-table", DataTable)
        for key in keys:
            if key in self.rows:
                mark = SELECTED_MARK if key in self.selected else " "
                table.update_cell(key, "sel", Text(mark, style="bold green"))
        self._show_summary()

    # -- the highlighted case ---------------------------------------------------------------------

    def current_row(self) -> BrowserRow | None:
        table = self.query_one("#browser-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(key) if key is not None else None

    def _need_row(self) -> BrowserRow | None:
        row = self.current_row()
        if row is None:
            self.collector.tell(_("No case here: change the filter (f) or refresh (r)."))
        return row

    # -- actions: list ----------------------------------------------------------------------------

    def action_open_case(self) -> None:
        if self.focused is self.query_one("#workload-table", DataTable):
            self._filter_by_workload_row()
            return
        row = self._need_row()
        if row is not None:
            self.open_case(row.case_id)

    @on(DataTable.RowSelected, "#browser-table")
    def _browser_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value in self.rows:
            self.open_case(uuid.UUID(event.row_key.value))

    @on(DataTable.RowSelected, "#workload-table")
    def _workload_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._filter_by_workload_row()

    def _filter_by_workload_row(self) -> None:
        from dataclasses import replace

        table = self.query_one("#workload-table", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key == "unassigned":
            self.set_filters(replace(self.filters, agent_id=None, unassigned=True))
        elif key is not None:
            self.set_filters(replace(self.filters, agent_id=uuid.UUID(key), unassigned=False))
        self.query_one("#browser-table", DataTable).focus()

    def open_case(self, case_id: uuid.UUID, case_file: CaseFile | None = None) -> None:
        """Open a case; filled at once when its file was read ahead (by the search)."""
        from collector_tui.tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(case_id, case_file))

    def set_filters(self, filters: BrowserFilter) -> None:
        self.filters = filters
        self.rows = {}
        self.selected.clear()
        self.total = None
        self.next_cursor = None
        self._show_rows()
        self.load_cases(reset=True)

    def action_toggle_select(self) -> None:
        row = self._need_row()
        if row is None:
            return
        key = str(row.case_id)
        if key in self.selected:
            self.selected.discard(key)
        else:
            self.selected.add(key)
        self._refresh_marks([key])
        table = self.query_one("#browser-table", DataTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def action_select_all(self) -> None:
        self.selected = set(self.rows)
        self._refresh_marks(list(self.rows))

    def action_clear_selection(self) -> None:
        keys = list(self.selected)
        self.selected.clear()
        self._refresh_marks(keys)

    def action_more(self) -> None:
        if self.next_cursor is None:
            self.collector.tell(_("Every case of this list is shown."))
            return
        self.load_cases(reset=False)

    def action_filter(self) -> None:
        def chosen(filters: Any) -> None:
            if filters is not None:
                self.set_filters(filters)

        self.app.push_screen(
            FilterForm(
                agents=self.agent_choices(),
                current=self.filters,
                locale=self.collector.settings.locale,
            ),
            chosen,
        )

    def action_routed(self) -> None:
        from dataclasses import replace

        self.set_filters(replace(self.filters, routed=not self.filters.routed))

    def action_refresh(self) -> None:
        self.refresh_all()

    def action_queue(self) -> None:
        self.app.push_screen(SupervisorQueueScreen())

    def action_reports(self) -> None:
        from collector_tui.tui.commands import open_screen

        open_screen(self.app, "reports")

    def action_disputes(self) -> None:
        from collector_tui.tui.screens.dispute_list import DisputesScreen

        self.app.push_screen(DisputesScreen())

    def action_reminders(self) -> None:
        from collector_tui.tui.screens.outbox import OutboxScreen

        self.app.push_screen(OutboxScreen())

    def action_import_file(self) -> None:
        from collector_tui.tui.commands import open_screen

        open_screen(self.app, "import")

    def action_skip_trace(self) -> None:
        from collector_tui.tui.screens.skiptrace import SkipTraceScreen

        self.app.push_screen(SkipTraceScreen())

    def action_search(self) -> None:
        from collector_tui.tui.screens.search import SearchScreen

        search = SearchScreen()

        def opened(case_id: uuid.UUID | None) -> None:
            if case_id is not None:
                self.open_case(case_id, search.read_ahead(case_id))

        self.app.push_screen(search, opened)

    def action_history(self) -> None:
        from collector_tui.tui.screens.audit import AuditScreen

        row = self._need_row()
        if row is not None:
            self.app.push_screen(
                AuditScreen(row.case_id, heading=f"{row.client_ref} · {row.debtor}")
            )

    # -- actions: moving cases --------------------------------------------------------------------

    def _targets(self) -> list[uuid.UUID]:
        if self.selected:
            return [uuid.UUID(key) for key in self.rows if key in self.selected]
        row = self.current_row()
        return [row.case_id] if row is not None else []

    def action_assign(self) -> None:
        from collector_tui.services.supervision.assignment import assign_cases

        case_ids = self._targets()
        if not case_ids:
            self.collector.tell(_("No case to assign: select some with space."))
            return
        context = self.context

        def save(choice: AssignChoice) -> int:
            return context.run(
                assign_cases, case_ids=case_ids, to_user_id=choice.to_user_id, reason=choice.reason
            )

        form = AssignForm(
            agents=self.agent_choices(),
            saver=save,
            subtitle=self._which(case_ids),
        )

        def done(choice: Any) -> None:
            if choice is None:
                return
            moved = form.outcome or 0
            self.collector.tell(
                _("Moved {moved} of {count} case(s) to {agent}.").format(
                    moved=moved, count=len(case_ids), agent=choice.to_name
                )
            )
            self.selected.clear()
            self.refresh_all()

        self.app.push_screen(form, done)

    def _which(self, case_ids: list[uuid.UUID]) -> str:
        if len(case_ids) == 1:
            row = self.rows.get(str(case_ids[0]))
            if row is not None:
                return f"{row.client_ref} · {row.debtor}"
        return _("{count} selected cases").format(count=len(case_ids))

    def action_balance(self) -> None:
        from collector_tui.services.supervision.assignment import auto_balance, preview_balance

        case_ids = [uuid.UUID(key) for key in self.rows if key in self.selected] or None
        agents = self.agent_choices()
        if not agents:
            self.collector.tell(_("No agents to spread cases over."), severity="warning")
            return
        context = self.context

        def save(choice: BalanceChoice) -> Any:
            return context.run(
                auto_balance, agent_ids=choice.agent_ids, case_ids=case_ids, reason=choice.reason
            )

        unassigned = next((r.open_cases for r in self.workloads if r.is_unassigned), 0)
        subtitle = (
            _("spreads the {count} selected cases").format(count=len(case_ids))
            if case_ids
            else _("spreads every open unassigned case ({count})").format(count=unassigned)
        )

        def preview(agent_ids: tuple[uuid.UUID, ...]) -> Any:
            return context.run(preview_balance, agent_ids=agent_ids, case_ids=case_ids)

        form = BalanceForm(agents=agents, previewer=preview, saver=save, subtitle=subtitle)

        def done(choice: Any) -> None:
            if choice is None:
                return
            result = form.outcome
            if result is not None:
                shares = ", ".join(f"{s.username} {s.cases}" for s in result.shares)
                self.collector.tell(
                    _("Spread {count} case(s): {shares}.").format(
                        count=result.considered, shares=shares
                    )
                )
            self.selected.clear()
            self.refresh_all()

        self.app.push_screen(form, done)

    # -- actions: decisions on the highlighted case -----------------------------------------------

    def _decide(self, decision: str) -> None:
        from collector_tui.services.supervision import decisions

        row = self._need_row()
        if row is None:
            return
        # Called alike; only unroute's reason has a default, so mypy finds no common type alone.
        acts: dict[str, Callable[..., CaseDecision]] = {
            "legal": decisions.escalate_to_legal,
            "write_off": decisions.write_off,
            "close": decisions.close_case,
            "unroute": decisions.unroute_case,
        }
        act = acts[decision]
        context = self.context
        key = str(row.case_id)

        def save(reason: str) -> Any:
            current = self.rows.get(key)  # reloaded after a stale refusal: its new version
            return context.run(
                act,
                case_id=row.case_id,
                reason=reason,
                expected_version=current.version if current else None,
            )

        form = DecisionForm(
            decision=decision,
            saver=save,
            subtitle=f"{row.client_ref} · {row.debtor}",
            on_stale=self.refresh_all,
        )

        def done(reason: Any) -> None:
            from collector_tui.models import case_status_label

            if reason is None:
                return
            outcome = form.outcome
            if outcome is not None:
                self.collector.tell(
                    _("{reference}: status {status}.").format(
                        reference=outcome.client_ref, status=case_status_label(outcome.status)
                    )
                )
            self.refresh_all()

        self.app.push_screen(form, done)

    def action_legal(self) -> None:
        self._decide("legal")

    def action_write_off(self) -> None:
        self._decide("write_off")

    def action_close_case(self) -> None:
        self._decide("close")

    def action_unroute(self) -> None:
        row = self._need_row()
        if row is not None and not row.routed_reason:
            self.collector.tell(
                _("{reference} is not routed to the supervisors.").format(reference=row.client_ref)
            )
            return
        self._decide("unroute")

    def action_settlement(self) -> None:
        row = self._need_row()
        if row is not None:
            self.looking_up = True
            self._find_settlement(row.case_id, row.client_ref)

    @work(thread=True, exclusive=True, group="settlement", exit_on_error=False,
          description="settlement")  # fmt: skip
    def _find_settlement(self, case_id: uuid.UUID, client_ref: str) -> None:
        from collector_tui.services.casework import settlements

        views = self.context.run(settlements.case_settlements, case_id=case_id)
        waiting = next((view for view in views if view.status == "pending"), None)
        self.post_message(SettlementFound(waiting, client_ref))

    def on_settlement_found(self, message: SettlementFound) -> None:
        from collector_tui.services.casework import settlements

        self.looking_up = False
        keys_may_flow(self)
        view = message.settlement
        if view is None:
            self.collector.tell(
                _("No settlement of {reference} waits for approval.").format(
                    reference=message.client_ref
                )
            )
            return
        context = self.context

        def save(choice: SettlementDecision) -> Any:
            return context.run(
                settlements.decide_settlement,
                settlement_id=view.id,
                approve=choice.approve,
                note=choice.note,
            )

        form = SettlementForm(
            settlement=view,
            saver=save,
            subtitle=f"{view.client_ref} · {view.debtor}",
        )

        def done(choice: Any) -> None:
            if choice is None:
                return
            verdict = (
                _("Settlement of {reference} approved: the promise is recorded.")
                if choice.approve
                else _("Settlement of {reference} rejected.")
            )
            self.collector.tell(verdict.format(reference=view.client_ref))
            self.refresh_all()

        self.app.push_screen(form, done)


def _room(table: DataTable[Text], rows: dict[str, dict[str, Text]], key: str, width: int) -> int:
    """The cells left for column `key` once the other columns take their widest cell."""
    widths = [
        max(
            [cell_len(str(column.label))]
            + [row[column.key.value].cell_len for row in rows.values() if column.key.value in row]
        )
        for column in table.columns.values()
        if column.key.value != key
    ]
    # Two cells of padding per column, and the vertical scrollbar.
    spare = width - sum(widths) - 2 * len(table.columns) - 2
    return max(MIN_ROOM, spare)


def _count(value: int, style: str, blank: bool) -> Text:
    if blank:
        return Text("", justify="right")
    return Text(str(value), justify="right", style=style if value else "dim")
