"""Search (`/`): by debtor name, client reference, or a phone number in any format."""

from __future__ import annotations

import uuid
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input, Static

from collector_tui.display import first_line, safe_text
from collector_tui.tui.formatting import amount_text
from collector_tui.tui.messages import SearchFinished
from collector_tui.tui.screens.base import CollectorModal, error_text

SEARCH_LIMIT = 50


class SearchScreen(CollectorModal[uuid.UUID | None]):
    """Returns the id of the case to open, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="search.close", tooltip="Back without opening"),
        Binding("down", "to_results", "Results", show=False, id="search.results"),
        Binding(
            "enter",
            "noop",
            "Search / open",
            id="search.enter",
            key_display="⏎",
            tooltip="Search, or open the highlighted case",
        ),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog", classes="dialog"):
            yield Static("Find a case", classes="dialog-title")
            yield Input(
                placeholder="name, client reference or phone (any format), then enter",
                id="search-input",
            )
            yield Static("", id="search-status", classes="dialog-status")
            yield DataTable(id="search-results", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#search-results", DataTable)
        for label, key in (
            ("Ref", "ref"),
            ("Debtor", "debtor"),
            ("Balance", "balance"),
            ("Status", "status"),
            ("Agent", "agent"),
            ("Found by", "matched"),
        ):
            table.add_column(label, key=key)
        self.query_one("#search-input", Input).focus()

    @on(Input.Submitted, "#search-input")
    def _search(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#search-status", Static).update("Type something to look for.")
            return
        self.query_one("#search-status", Static).update("Searching…")
        self.run_search(text)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False, description="search")
    def run_search(self, text: str) -> None:
        from collector_tui.services.search import search_cases

        app = self.collector
        with app.store.read() as session:
            hits = search_cases(session=session, actor=self.actor, text=text, limit=SEARCH_LIMIT)
        self.post_message(SearchFinished(text, hits))

    def on_search_finished(self, message: SearchFinished) -> None:
        table = self.query_one("#search-results", DataTable)
        table.clear()
        for hit in message.hits:
            table.add_row(
                first_line(hit.client_ref, 18),
                first_line(hit.debtor, 24),
                amount_text(hit.balance, hit.currency),
                safe_text(hit.status),
                first_line(hit.assigned_to or "unassigned", 14),
                Text(hit.matched, style="dim"),
                key=str(hit.case_id),
            )
        status = self.query_one("#search-status", Static)
        count = len(message.hits)
        if not count:
            status.update(safe_text(f"Nothing found for {message.query!r}."))
            return
        more = " (first 50: refine the search)" if count >= SEARCH_LIMIT else ""
        status.update(safe_text(f"{count} found{more}. ↓ to the list, enter to open."))
        table.focus()

    def on_worker_state_changed(self, event: object) -> None:
        from textual.worker import Worker, WorkerState

        if isinstance(event, Worker.StateChanged) and event.state == WorkerState.ERROR:
            message = error_text(event.worker.error)
            self.query_one("#search-status", Static).update(safe_text(message))

    @on(DataTable.RowSelected, "#search-results")
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.dismiss(uuid.UUID(event.row_key.value))

    def action_to_results(self) -> None:
        table = self.query_one("#search-results", DataTable)
        if table.row_count:
            table.focus()

    def action_noop(self) -> None:
        """Only there so the footer says what enter does (the input and the list handle it)."""

    def action_close(self) -> None:
        self.dismiss(None)
