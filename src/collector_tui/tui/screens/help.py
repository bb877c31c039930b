"""Help (`?`): the keys of every screen, read from the screens' own bindings so it never lies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.screens.base import CollectorModal
from collector_tui.tui.widgets.footer import KeyFooter


def _key_name(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "enter": "enter"}
    # Keys are named as printed on the keyboard, in every language.
    return ", ".join(names.get(key, key) for key in binding.key.split(","))


def _section(title: str, bindings: list[BindingType]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", min_width=10)
    table.add_column()
    table.title = _(title)
    table.title_justify = "left"
    table.title_style = "bold underline"
    for item in bindings:
        if not isinstance(item, Binding) or item.action == "noop":
            continue
        table.add_row(Text(_key_name(item)), Text(_(item.tooltip or item.description)))
    return table


_ELSEWHERE = 1_000  # the rank of a section about another screen: deeper than any class tree


def _rank(context: type | None, classes: tuple[type, ...]) -> int:
    """How close a section is to the screen the agent came from: 0 for that very screen, 1 for
    its parent class, ...; sections about other screens come after, in their own order."""
    mro = context.__mro__ if context is not None else ()
    return min((mro.index(cls) for cls in classes if cls in mro), default=_ELSEWHERE)


def help_sections(
    context: type | None = None, everywhere: Sequence[BindingType] = ()
) -> list[tuple[str, list[BindingType]]]:
    """Sections of keys; the one for the screen the agent came from (`context`) first.

    Every screen with keys of its own has a section here (tests/tui/test_help_sections.py finds
    them all): the screen's own BINDINGS, so the help never lies. `everywhere` is the app's own
    keys (the running app's class gives them: screens never import the app)."""
    from collector_tui.tui.screens.audit import AuditEntryScreen, AuditScreen
    from collector_tui.tui.screens.case import CaseScreen, EntryScreen
    from collector_tui.tui.screens.confirm import ConfirmScreen
    from collector_tui.tui.screens.contact import ContactForm, picker_keys
    from collector_tui.tui.screens.dispute_list import DisputesScreen
    from collector_tui.tui.screens.forms import CallTimeForm, FormScreen
    from collector_tui.tui.screens.imports import ImportScreen
    from collector_tui.tui.screens.outbox import OutboxScreen
    from collector_tui.tui.screens.queue import QueueScreen
    from collector_tui.tui.screens.reminders import ReminderScreen
    from collector_tui.tui.screens.reports import ExportDialog, ReportsScreen
    from collector_tui.tui.screens.search import SearchScreen
    from collector_tui.tui.screens.skiptrace import SkipTraceScreen
    from collector_tui.tui.screens.supervision_forms import SupervisorForm
    from collector_tui.tui.screens.supervisor import SupervisorQueueScreen, SupervisorScreen
    from collector_tui.tui.screens.sync import SyncScreen
    from collector_tui.tui.widgets.timeline import Timeline

    palette = Binding(
        "ctrl+p", "command_palette", N_("Palette"), tooltip=N_("Every action, by name")
    )
    # The case timeline's and the audit trail's "full entry" share their keys: one section.
    entry: list[BindingType] = [
        Binding("escape", "close", N_("Close"), tooltip=N_("Close the entry, back to the list")),
        Binding("enter", "close", N_("Close"), tooltip=N_("Close the entry too")),
    ]
    # A supervisor's dialog is a form without "save and next"; enter in its reason line saves.
    dialogs: list[BindingType] = [
        item
        for item in FormScreen.BINDINGS
        if not (isinstance(item, Binding) and item.action == "save_next")
    ]
    dialogs.append(
        Binding("enter", "save", N_("Save"), tooltip=N_("In the reason line: save"), show=False)
    )
    sections: list[tuple[str, tuple[type, ...], list[BindingType]]] = [
        (N_("Queue"), (QueueScreen,), list(QueueScreen.BINDINGS)),
        (N_("Case"), (CaseScreen,), [*CaseScreen.BINDINGS, *Timeline.BINDINGS]),
        (N_("Forms"), (FormScreen,), list(FormScreen.BINDINGS)),
        # The follow-up form, a callback's, moving a follow-up: the same ctrl+t.
        (N_("Follow-up"), (CallTimeForm,), list(CallTimeForm.BINDINGS)),
        (N_("Log contact: what happened"), (ContactForm,), picker_keys()),
        (N_("Confirmation"), (ConfirmScreen,), list(ConfirmScreen.BINDINGS)),
        (N_("Search"), (SearchScreen,), list(SearchScreen.BINDINGS)),
        (N_("Full entry"), (EntryScreen, AuditEntryScreen), entry),
        (N_("Supervisor"), (SupervisorScreen,), list(SupervisorScreen.BINDINGS)),
        (N_("Open disputes"), (DisputesScreen,), list(DisputesScreen.BINDINGS)),
        (N_("Reminder outbox"), (OutboxScreen,), list(OutboxScreen.BINDINGS)),
        (N_("Reminder for a case"), (ReminderScreen,), list(ReminderScreen.BINDINGS)),
        (
            N_("Supervisor's own queue"),
            (SupervisorQueueScreen,),
            list(SupervisorQueueScreen.BINDINGS),
        ),
        (N_("Supervisor's dialogs"), (SupervisorForm,), dialogs),
        (N_("Skip tracing"), (SkipTraceScreen,), list(SkipTraceScreen.BINDINGS)),
        (N_("Audit trail"), (AuditScreen,), list(AuditScreen.BINDINGS)),
        (N_("Reports"), (ReportsScreen,), list(ReportsScreen.BINDINGS)),
        (N_("Export"), (ExportDialog,), list(ExportDialog.BINDINGS)),
        (N_("Import"), (ImportScreen,), list(ImportScreen.BINDINGS)),
        (N_("Sync"), (SyncScreen,), list(SyncScreen.BINDINGS)),
    ]
    sections.sort(key=lambda section: _rank(context, section[1]))
    return [
        *((title, bindings) for title, _, bindings in sections),
        (N_("Everywhere"), [*everywhere, palette]),
    ]


class HelpScreen(CollectorModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Close"), id="help.close", tooltip=N_("Close the help")),
        Binding(
            "question_mark", "close", N_("Close"), id="help.toggle", show=False, key_display="?"
        ),
    ]

    def __init__(self, *, context: type | None = None) -> None:
        super().__init__()
        self.came_from = context

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(_("Keys"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                for title, bindings in help_sections(self.came_from, type(self.app).BINDINGS):
                    yield Static(_section(title, bindings), classes="help-section")
        yield KeyFooter()

    def language_changed(self) -> None:
        # Nothing here is typed or chosen: compose it again in the new language.
        super().language_changed()
        self.refresh(recompose=True)

    def action_close(self) -> None:
        self.dismiss(None)
