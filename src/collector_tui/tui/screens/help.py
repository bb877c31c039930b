"""Help (`?`): the keys of every screen, read from the screens' own bindings so it never lies."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from collector_tui.tui.screens.base import CollectorModal


def _key_name(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "enter": "enter"}
    return ", ".join(names.get(key, key) for key in binding.key.split(","))


def _section(title: str, bindings: list[BindingType]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", min_width=10)
    table.add_column()
    table.title = title
    table.title_justify = "left"
    table.title_style = "bold underline"
    for item in bindings:
        if not isinstance(item, Binding) or item.action == "noop":
            continue
        table.add_row(Text(_key_name(item)), Text(item.tooltip or item.description))
    return table


def help_sections(context: type | None = None) -> list[tuple[str, list[BindingType]]]:
    """Sections of keys; the one for the screen the agent came from (`context`) first."""
    from collector_tui.tui.app import CollectorApp
    from collector_tui.tui.screens.audit import AuditScreen
    from collector_tui.tui.screens.case import CaseScreen
    from collector_tui.tui.screens.forms import FormScreen
    from collector_tui.tui.screens.imports import ImportScreen
    from collector_tui.tui.screens.queue import QueueScreen
    from collector_tui.tui.screens.reports import ReportsScreen
    from collector_tui.tui.screens.search import SearchScreen
    from collector_tui.tui.screens.supervisor import SupervisorScreen

    palette = Binding("ctrl+p", "command_palette", "Palette", tooltip="Every action, by name")
    sections = [
        ("Queue", QueueScreen, list(QueueScreen.BINDINGS)),
        ("Case", CaseScreen, list(CaseScreen.BINDINGS)),
        ("Forms", FormScreen, list(FormScreen.BINDINGS)),
        ("Search", SearchScreen, list(SearchScreen.BINDINGS)),
        ("Supervisor", SupervisorScreen, list(SupervisorScreen.BINDINGS)),
        ("Audit trail", AuditScreen, list(AuditScreen.BINDINGS)),
        ("Reports", ReportsScreen, list(ReportsScreen.BINDINGS)),
        ("Import", ImportScreen, list(ImportScreen.BINDINGS)),
    ]
    sections.sort(key=lambda section: not (context and issubclass(context, section[1])))
    return [
        *((title, bindings) for title, _, bindings in sections),
        ("Everywhere", [*CollectorApp.BINDINGS, palette]),
    ]


class HelpScreen(CollectorModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close", tooltip="Close the help"),
        Binding("question_mark", "close", "Close", id="help.toggle", show=False, key_display="?"),
    ]

    def __init__(self, *, context: type | None = None) -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                for title, bindings in help_sections(self.context):
                    yield Static(_section(title, bindings), classes="help-section")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
