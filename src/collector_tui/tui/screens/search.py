"""Search (`/`): by debtor name, client reference, or a phone number in any format.

The query line keeps the focus all along: letters always go into it (they never run a key of the
list or of the screen below), `up`/`down` move the highlighted result, and `enter` opens it, or
searches first when the line was changed since the results were shown. Keys typed while a search
runs wait for its results (tui/typeahead.py), so `REF-1003 enter enter` opens that case.

The highlighted result's case file is read ahead, as the queue reads the row under its cursor:
whoever opened the search takes it with `read_ahead` and opens the case filled at once.
"""

from __future__ import annotations

import uuid
from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.formatting import amount_text, word
from collector_tui.tui.messages import CasePeeked, SearchFinished
from collector_tui.tui.screens.base import CollectorModal, error_text
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from textual.timer import Timer

    from collector_tui.services.casework.casefile import CaseFile

SEARCH_LIMIT = 50
# What a case was found by (services/casework/search.py), in the agent's words.
FOUND_BY = {"reference": N_("reference"), "phone": N_("phone"), "name": N_("name")}
# As the queue: a result the cursor rests on this long is read ahead; a read older than
# PEEK_FRESH_S is read again when opened.
PEEK_AFTER_S = 0.12
PEEK_FRESH_S = 30.0


class SearchScreen(CollectorModal[uuid.UUID | None]):
    """Returns the id of the case to open, or None."""

    # Priority: the query line has bindings of its own for these keys (enter submits, up and
    # down scroll it), which would hide these from the footer.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "close", N_("Close"), id="search.close", tooltip=N_("Back without opening")
        ),
        Binding(
            "enter",
            "search_or_open",
            N_("Search / open"),
            id="search.enter",
            key_display="⏎",
            tooltip=N_("Search; once the results are shown, open the highlighted case"),
            priority=True,
        ),
        Binding(
            "down",
            "move(1)",
            N_("Next"),
            id="search.down",
            key_display="↓",
            tooltip=N_("Highlight the next result (the typing stays in the query line)"),
            priority=True,
        ),
        Binding(
            "up",
            "move(-1)",
            N_("Prev"),
            id="search.up",
            key_display="↑",
            tooltip=N_("Highlight the previous result"),
            priority=True,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown_query: str | None = None  # the query whose results the list shows
        self.searching = False
        self._focused_once = False
        self.peeked: CaseFile | None = None
        self.peeked_at = 0.0
        self._peek_timer: Timer | None = None

    @property
    def accepts_keys(self) -> bool:
        return self._focused_once and not self.searching

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog", classes="dialog"):
            yield Static(_("Find a case"), classes="dialog-title")
            yield Input(
                placeholder=_("name, client reference or phone (any format), then enter"),
                id="search-input",
            )
            yield Static("", id="search-status", classes="dialog-status")
            # Not focusable: the keys stay in the query line; a click still opens a row.
            table: DataTable[Text] = DataTable(
                id="search-results", cursor_type="row", zebra_stripes=True
            )
            table.can_focus = False
            yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#search-results", DataTable)
        for label, key in (
            (_("Ref"), "ref"),
            (_("Debtor"), "debtor"),
            (_("Balance"), "balance"),
            (_("Status"), "status"),
            (_("Agent"), "agent"),
            (_("Found by"), "matched"),
        ):
            table.add_column(label, key=key)
        self.query_one("#search-input", Input).focus()
        self.app.call_later(self._take_keys)

    def _take_keys(self) -> None:
        self._focused_once = True
        keys_may_flow(self)

    def action_search_or_open(self) -> None:
        text = self.query_one("#search-input", Input).value.strip()
        if not text:
            self.query_one("#search-status", Static).update(_("Type something to look for."))
            return
        table = self.query_one("#search-results", DataTable)
        if text == self.shown_query and table.row_count:
            self._open_highlighted()
            return
        self.query_one("#search-status", Static).update(_("Searching…"))
        self.searching = True
        self.run_search(text)

    def _open_highlighted(self) -> None:
        table = self.query_one("#search-results", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None:
            self.dismiss(uuid.UUID(key))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False, description="search")
    def run_search(self, text: str) -> None:
        from collector_tui.services.casework.search import search_cases

        hits = self.context.run(search_cases, text=text, limit=SEARCH_LIMIT)
        self.post_message(SearchFinished(text, hits))

    def on_search_finished(self, message: SearchFinished) -> None:
        from collector_tui.models import case_status_label

        self.searching = False
        keys_may_flow(self)
        self.shown_query = message.query
        table = self.query_one("#search-results", DataTable)
        table.clear()
        for hit in message.hits:
            table.add_row(
                first_line(hit.client_ref, 18),
                first_line(hit.debtor, 24),
                amount_text(hit.balance, hit.currency),
                safe_text(case_status_label(hit.status)),
                first_line(hit.assigned_to, 14) if hit.assigned_to else Text(_("unassigned")),
                Text(word(FOUND_BY, hit.matched), style="dim"),
                key=str(hit.case_id),
            )
        status = self.query_one("#search-status", Static)
        count = len(message.hits)
        if not count:
            status.update(
                safe_text(_("Nothing found for {query}.").format(query=repr(message.query)))
            )
            return
        if count >= SEARCH_LIMIT:
            said = _("{count} found (first 50: refine the search). ↑↓ choose, enter opens.")
        else:
            said = _("{count} found. ↑↓ choose, enter opens.")
        status.update(safe_text(said.format(count=count)))
        table.move_cursor(row=0, animate=False)

    def on_worker_state_changed(self, event: object) -> None:
        from textual.worker import Worker, WorkerState

        if isinstance(event, Worker.StateChanged) and event.state == WorkerState.ERROR:
            if event.worker.group == "peek":
                return  # only read ahead: opening reads it again
            self.searching = False
            keys_may_flow(self)
            message = error_text(event.worker.error)
            self.query_one("#search-status", Static).update(safe_text(message))

    @on(DataTable.RowSelected, "#search-results")
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.dismiss(uuid.UUID(event.row_key.value))

    @on(DataTable.RowHighlighted, "#search-results")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._peek_timer is not None:
            self._peek_timer.stop()
        key = event.row_key.value
        if key is None:
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

    def read_ahead(self, case_id: uuid.UUID) -> CaseFile | None:
        """The file of `case_id` if it was read ahead lately, else None (the opener reads it)."""
        peeked = self.peeked
        if (
            peeked is not None
            and peeked.case_id == case_id
            and monotonic() - self.peeked_at < PEEK_FRESH_S
        ):
            return peeked
        return None

    def action_move(self, step: int) -> None:
        table = self.query_one("#search-results", DataTable)
        if table.row_count:
            row = min(max(table.cursor_row + step, 0), table.row_count - 1)
            table.move_cursor(row=row, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
