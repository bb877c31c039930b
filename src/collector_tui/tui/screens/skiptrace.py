"""Cases to trace (`t` on the supervisor's screen): no callable number left (every one wrong,
disconnected, do-not-call or retired) or mail returned. What services/contacts/skiptrace lists;
`skiptrace export` on the command line writes the same cases for a tracing agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.phones import mask_phone
from collector_tui.tui.commands import SkipTraceCommands
from collector_tui.tui.screens.base import CollectorScreen
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader
from collector_tui.tui.widgets.tables import fill_fitted

if TYPE_CHECKING:
    from collector_tui.services.contacts.skiptrace import SkipTraceCase

COLUMNS = (
    ("ref", N_("Case")),
    ("debtor", N_("Debtor")),
    ("why", N_("Why")),
    ("agent", N_("Agent")),
    ("contacts", N_("Numbers · addresses")),
)
# Why a case is to trace, as the service names it (services/contacts/skiptrace.py).
REASON_WORDS = {
    "no callable number": N_("no callable number"),
    "returned mail": N_("returned mail"),
}


@dataclass
class SkipTraceLoaded(Message):
    cases: tuple[SkipTraceCase, ...]


def _numbers_text(case: SkipTraceCase) -> str:
    parts = []
    for number, status in case.numbers:
        # A list: which numbers failed, masked (the tracer's file carries them in full).
        parts.append(f"{mask_phone(number)} {status}")
    for text, status in case.addresses:
        if status != "valid":
            parts.append(f"{text} {status}")
    return "; ".join(parts) or _("no number on file")


class SkipTraceScreen(CollectorScreen):
    """The cases to trace, a row each: why, and the numbers and addresses that failed."""

    COMMANDS = {SkipTraceCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_case", N_("Open"), id="skiptrace.open", tooltip=N_("Open the case")),
        Binding(
            "r", "reload", N_("Reload"), id="skiptrace.reload", tooltip=N_("Read the list again")
        ),
        Binding(
            "escape", "back", N_("Back"), id="skiptrace.back", tooltip=N_("Back to the supervisor")
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cases: tuple[SkipTraceCase, ...] = ()

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(_("Reading the cases to trace…"), id="skiptrace-summary")
        yield DataTable(id="skiptrace-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("Skip tracing")
        self.query_one("#skiptrace-table", DataTable).focus()
        self.load_cases()

    def language_changed(self) -> None:
        super().language_changed()
        self.title = _("Skip tracing")
        self.query_one("#skiptrace-table", DataTable).clear(columns=True)
        self._show()

    @work(thread=True, exclusive=True, group="skiptrace", exit_on_error=False, description="trace")
    def load_cases(self) -> None:
        from collector_tui.services.contacts.skiptrace import skip_trace_cases

        self.post_message(SkipTraceLoaded(self.context.run(skip_trace_cases)))

    def on_skip_trace_loaded(self, message: SkipTraceLoaded) -> None:
        self.cases = message.cases
        self._show()

    def on_resize(self) -> None:
        if self.cases:
            self._show()

    def _show(self) -> None:
        table = self.query_one("#skiptrace-table", DataTable)
        rows: dict[str, dict[str, Text]] = {}
        texts: dict[str, str | None] = {}
        for index, case in enumerate(self.cases):
            key = str(index)
            ref = safe_text(case.client_ref, style="bold")
            rows[key] = {
                "ref": ref,
                "debtor": first_line(case.debtor_name, 24),
                "why": Text(
                    ", ".join(str(REASON_WORDS.get(reason, reason)) for reason in case.reasons),
                    style="yellow",
                ),
                "agent": first_line(case.assigned_to or _("unassigned"), 12, style="dim"),
            }
            texts[key] = _numbers_text(case)
        fill_fitted(
            table,
            [(key, str(label)) for key, label in COLUMNS],
            rows,
            width=table.size.width or self.app.size.width,
            drop=("agent", "debtor"),
            flex="contacts",
            flex_texts=texts,
        )
        count = len(self.cases)
        summary = Text(
            (_("{count} case to trace") if count == 1 else _("{count} cases to trace")).format(
                count=count
            ),
            style="bold",
        )
        summary.append(
            "  ·  " + _("enter: open the case  ·  skiptrace export FILE.csv"), style="dim"
        )
        self.query_one("#skiptrace-summary", Static).update(summary)

    def _current(self) -> SkipTraceCase | None:
        table = self.query_one("#skiptrace-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.cases[int(key)] if key is not None else None

    @on(DataTable.RowSelected, "#skiptrace-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_case()

    def action_open_case(self) -> None:
        from collector_tui.tui.screens.case import CaseScreen

        case = self._current()
        if case is not None:
            self.app.push_screen(CaseScreen(case.case_id))

    def action_reload(self) -> None:
        self.load_cases()

    def action_back(self) -> None:
        self.app.pop_screen()
