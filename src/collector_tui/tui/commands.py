"""Command palette providers (ctrl+p), one per concern, each listing what its screen can do.

Every action that has a key also has a palette entry with the same words, so an agent who forgets
a key can type what they want ("promise", "next") instead. The words are `N_()` text shown in the
current language; a search matches the shown words and the English ones (an agent may type
"promise" in the Chinese interface too).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from collector_tui.i18n import LANGUAGES, N_
from collector_tui.i18n import gettext as _


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    help: str
    action: str  # an action of the screen the palette was opened from ("app." for the app's)


# "open:NAME" entries open a screen from anywhere: name -> (module, class, supervisors only). The
# module is imported only when the entry is chosen (the dashboard pulls in plotext).
OPEN_PREFIX = "open:"
SCREEN_OPENERS: dict[str, tuple[str, str, bool]] = {
    "reports": ("collector_tui.tui.screens.reports", "ReportsScreen", False),
    "import": ("collector_tui.tui.screens.imports", "ImportScreen", True),
    "sync": ("collector_tui.tui.screens.sync", "SyncScreen", False),
}


def open_screen(app: Any, name: str) -> None:
    """Push a new screen SCREEN_OPENERS names, unless it is the one showing already."""
    module, class_name, _ = SCREEN_OPENERS[name]
    screen_class = getattr(importlib.import_module(module), class_name)
    if not isinstance(app.screen, screen_class):
        app.push_screen(screen_class())


class ScreenCommands(Provider):
    """Offers `COMMANDS_LIST` as palette entries that run actions on the calling screen."""

    COMMANDS_LIST: tuple[PaletteCommand, ...] = ()

    def _available(self) -> list[PaletteCommand]:
        found: list[PaletteCommand] = []
        for command in self.COMMANDS_LIST:
            if command.action.startswith("app."):
                found.append(command)
                continue
            if command.action.startswith(OPEN_PREFIX):
                if self._may_open(command.action[len(OPEN_PREFIX) :]):
                    found.append(command)
                continue
            name = command.action.split("(", 1)[0]
            if hasattr(self.screen, f"action_{name}") and self.screen.check_action(name, ()):
                found.append(command)
        return found

    def _may_open(self, name: str) -> bool:
        _, class_name, supervisors_only = SCREEN_OPENERS[name]
        actor = getattr(self.app, "actor", None)
        if actor is None or (supervisors_only and not actor.is_supervisor):
            return False
        return type(self.screen).__name__ != class_name

    def _runner(self, command: PaletteCommand) -> Callable[[], object]:
        if command.action.startswith(OPEN_PREFIX):
            return partial(open_screen, self.app, command.action[len(OPEN_PREFIX) :])
        if command.action.startswith("app."):
            return partial(self.app.run_action, command.action[4:])
        return partial(self.screen.run_action, command.action)

    def _entries(self) -> list[tuple[str, str, str, Callable[[], object]]]:
        """(shown name, English name, shown help, runner) of every entry offered now."""
        return [
            (_(command.name), command.name, _(command.help), self._runner(command))
            for command in self._available()
        ]

    async def discover(self) -> Hits:
        for name, _english, help_text, runner in self._entries():
            yield DiscoveryHit(name, runner, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, english, help_text, runner in self._entries():
            score = max(matcher.match(name), matcher.match(english) if english != name else 0)
            if score > 0:
                yield Hit(score, matcher.highlight(name), runner, help=help_text)


class QueueCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(
            N_("Queue: open the selected case"), N_("Open the highlighted case"), "open_case"
        ),
        PaletteCommand(
            N_("Queue: next callable case"), N_("Open the first callable case"), "next_case"
        ),
        PaletteCommand(
            N_("Queue: search cases"), N_("By name, client reference or phone"), "search"
        ),
        PaletteCommand(N_("Queue: refresh"), N_("Rebuild the queue now"), "refresh"),
        PaletteCommand(
            N_("Queue: show the call queue"), N_("The callable cases tab"), "show_tab('queue')"
        ),
        PaletteCommand(
            N_("Queue: show held cases"), N_("Cases not callable now, and why"), "show_tab('held')"
        ),
    )


class CaseCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(
            N_("Case: log contact"), N_("Record a call attempt and its outcome"), "log_contact"
        ),
        PaletteCommand(
            N_("Case: promise to pay"), N_("Record a promise (amount and date)"), "promise"
        ),
        PaletteCommand(
            N_("Case: payment plan"), N_("Record a plan of several installments"), "plan"
        ),
        PaletteCommand(N_("Case: follow-up"), N_("Schedule a callback"), "follow_up"),
        PaletteCommand(N_("Case: note"), N_("Add a note to the case"), "note"),
        PaletteCommand(
            N_("Case: reminder by SMS, e-mail or letter"), N_("Preview it, then queue it"), "remind"
        ),
        PaletteCommand(N_("Case: dispute"), N_("Record a dispute (stops contact)"), "dispute"),
        PaletteCommand(
            N_("Case: dispute an invoice"),
            N_("All or part of one invoice; the rest stays workable"),
            "dispute_invoice",
        ),
        PaletteCommand(
            N_("Case: resolve a dispute"),
            N_("Upheld, rejected or partly (a credit)"),
            "resolve_dispute",
        ),
        PaletteCommand(
            N_("Case: reverse a payment"),
            N_("The highlighted payment: bounced, chargeback, error (supervisors)"),
            "reverse_payment",
        ),
        PaletteCommand(
            N_("Case: add a charge"),
            N_("Legal costs, fees or interest after placement (supervisors)"),
            "add_charge",
        ),
        PaletteCommand(
            N_("Case: assess the debtor"),
            N_("Income and expenses (a company: its standing), the risk grade"),
            "assess",
        ),
        PaletteCommand(
            N_("Case: settlement"),
            N_("Settle for less than the balance (above your limit: approval)"),
            "settle",
        ),
        PaletteCommand(N_("Case: ask for legal action"), N_("A supervisor decides"), "legal"),
        PaletteCommand(N_("Case: send to a supervisor"), N_("Route the case, saying why"), "route"),
        PaletteCommand(
            N_("Case: payment received"), N_("Post a payment, applied to the promises"), "payment"
        ),
        PaletteCommand(
            N_("Case: lift a hold or end a dispute"),
            N_("Saying why (agents: hardship)"),
            "lift_hold",
        ),
        PaletteCommand(
            N_("Case: void a contact"), N_("The highlighted one, logged by mistake"), "void_contact"
        ),
        PaletteCommand(
            N_("Case: withdraw a promise or cancel a plan"),
            N_("The highlighted promise"),
            "withdraw",
        ),
        PaletteCommand(
            N_("Case: reschedule the payment plan"),
            N_("A new schedule replaces it"),
            "reschedule_plan",
        ),
        PaletteCommand(N_("Case: move a follow-up"), N_("A new date and time"), "move_follow_up"),
        PaletteCommand(
            N_("Case: add a contact"),
            N_("A number the debtor gives, an e-mail, a postal address, a third party"),
            "add_contact",
        ),
        PaletteCommand(
            N_("Case: mark a contact"),
            N_("Wrong, disconnected, do not call, returned mail; a third party's objection"),
            "mark_contact",
        ),
        PaletteCommand(
            N_("Case: edit a contact"),
            N_("A number's type, primary and consent; opt-in"),
            "edit_contact",
        ),
        PaletteCommand(
            N_("Case: retire a contact"),
            N_("No longer in use (kept in the history)"),
            "retire_contact",
        ),
        PaletteCommand(N_("Case: next case"), N_("Open the next callable case"), "next_case"),
        PaletteCommand(N_("Case: reload"), N_("Read the case again"), "reload"),
        PaletteCommand(
            N_("Case: show the full note"), N_("The highlighted timeline entry"), "show_entry"
        ),
        PaletteCommand(N_("Case: back to the queue"), N_("Close the case"), "back"),
    )


class SessionCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(N_("Help: keys"), N_("Every key of every screen"), "app.help"),
        PaletteCommand(N_("Log out"), N_("Back to the login screen"), "app.logout"),
        PaletteCommand(
            N_("Reports: dashboard"),
            N_("Aging, collections, promise outcomes, agent activity (charts and tables)"),
            "open:reports",
        ),
        PaletteCommand(
            N_("Import: cases or payments from a CSV file"),
            N_("Check the file first (dry run), then import (supervisors)"),
            "open:import",
        ),
    )

    def _entries(self) -> list[tuple[str, str, str, Callable[[], object]]]:
        found = super()._entries()
        # Offline laptops: the sync screen, once someone is logged in.
        if getattr(self.app, "actor", None) is not None:
            found.append((_(SYNC_NAME), SYNC_NAME, _(SYNC_HELP), partial(open_sync, self.app)))
        # The interface's language, from any screen (the login screen too): each language by its
        # own name, so it can be found whichever language is showing.
        for code, own_name in LANGUAGES.items():
            found.append(
                (
                    f"{_(LANGUAGE_NAME)}: {own_name}",
                    f"{LANGUAGE_NAME}: {own_name}",
                    _(LANGUAGE_HELP).format(language=own_name),
                    partial(self.app.run_action, f"set_language({code!r})"),
                )
            )
        return found


# -- offline laptops -------------------------------------------------------------------

SYNC_NAME = N_("Sync with the master")
SYNC_HELP = N_("Send this laptop's changes and bring the briefcase back")


LANGUAGE_NAME = N_("Language")
LANGUAGE_HELP = N_("Show the interface in {language} (this session)")


def open_sync(app: object) -> None:
    open_screen(app, "sync")


# -- supervisors ----------------------------------------------------------------------


class SupervisorCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(N_("Supervisor: open the case"), N_("The highlighted case"), "open_case"),
        PaletteCommand(
            N_("Supervisor: reminder outbox"),
            N_("Due, sent, failed, skipped; a send run"),
            "reminders",
        ),
        PaletteCommand(
            N_("Supervisor: select or unselect the case"),
            N_("For assign and balance"),
            "toggle_select",
        ),
        PaletteCommand(
            N_("Supervisor: select every case shown"), N_("The cases loaded"), "select_all"
        ),
        PaletteCommand(
            N_("Supervisor: clear the selection"), N_("Unselect every case"), "clear_selection"
        ),
        PaletteCommand(
            N_("Supervisor: assign cases"),
            N_("The selected cases (or the highlighted one)"),
            "assign",
        ),
        PaletteCommand(
            N_("Supervisor: balance workloads"),
            N_("Spread the selected (or the unassigned) cases over agents"),
            "balance",
        ),
        PaletteCommand(
            N_("Supervisor: filter cases"), N_("Agent, status, aging, balance..."), "filter"
        ),
        PaletteCommand(
            N_("Supervisor: cases routed to supervisors"),
            N_("Deceased, bankrupt, legal, settlements"),
            "routed",
        ),
        PaletteCommand(N_("Supervisor: load more cases"), N_("The next page of the list"), "more"),
        PaletteCommand(
            N_("Supervisor: case history"), N_("The audit trail of the case"), "history"
        ),
        PaletteCommand(
            N_("Supervisor: escalate to legal"), N_("Status legal, legal hold"), "legal"
        ),
        PaletteCommand(
            N_("Supervisor: write off"), N_("Close the case as written off"), "write_off"
        ),
        PaletteCommand(
            N_("Supervisor: close case"), N_("Recalled, sold, duplicate..."), "close_case"
        ),
        PaletteCommand(
            N_("Supervisor: approve or reject a settlement"),
            N_("Above the agent's limit"),
            "settlement",
        ),
        PaletteCommand(
            N_("Supervisor: send back to the agent"), N_("Un-route the case"), "unroute"
        ),
        PaletteCommand(
            N_("Supervisor: reports dashboard"), N_("Aging, promises, agents"), "reports"
        ),
        PaletteCommand(
            N_("Supervisor: open disputes"), N_("Invoice disputes by owner and age"), "disputes"
        ),
        PaletteCommand(
            N_("Supervisor: import a file"), N_("Placements or payments from CSV"), "import_file"
        ),
        PaletteCommand(
            N_("Supervisor: skip-trace cases"),
            N_("No callable number or returned mail: to trace"),
            "skip_trace",
        ),
        PaletteCommand(N_("Supervisor: my call queue"), N_("The queue of cases you hold"), "queue"),
        PaletteCommand(N_("Supervisor: search cases"), N_("By name, reference or phone"), "search"),
        PaletteCommand(N_("Supervisor: refresh"), N_("Read workloads and cases again"), "refresh"),
    )


class SkipTraceCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(N_("Skip tracing: open the case"), N_("The highlighted case"), "open_case"),
        PaletteCommand(N_("Skip tracing: reload"), N_("Read the list again"), "reload"),
        PaletteCommand(N_("Skip tracing: back"), N_("To the supervisor screen"), "back"),
    )


class DisputesCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(
            N_("Disputes: resolve"),
            N_("The highlighted dispute: upheld, rejected or partly"),
            "resolve",
        ),
        PaletteCommand(
            N_("Disputes: open the case"), N_("The highlighted dispute's case"), "open_case"
        ),
        PaletteCommand(N_("Disputes: refresh"), N_("Read the open disputes again"), "refresh"),
        PaletteCommand(N_("Disputes: back"), N_("Back to the supervisor screen"), "back"),
    )


class AuditCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(
            N_("History: show the full entry"), N_("Before and after, every field"), "show"
        ),
        PaletteCommand(N_("History: reload"), N_("Read the trail again"), "reload"),
        PaletteCommand(N_("History: back"), N_("Close the history"), "back"),
    )


# -- reports, exports and imports -----------------------------------------------------


class ReportsCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(
            N_("Reports: next currency"), N_("Figures are never added up"), "next_currency"
        ),
        PaletteCommand(N_("Reports: last 7 days"), N_("Period of the dashboard"), "period(7)"),
        PaletteCommand(N_("Reports: last 30 days"), N_("Period of the dashboard"), "period(30)"),
        PaletteCommand(
            N_("Reports: last 90 days"), N_("Period of the dashboard (per week)"), "period(90)"
        ),
        PaletteCommand(N_("Reports: refresh"), N_("Read the figures again"), "refresh"),
        PaletteCommand(
            N_("Export: cases, activities, promises or payments"),
            N_("Write a CSV file (UTF-8, BOM for Excel)"),
            "export",
        ),
        PaletteCommand(N_("Reports: close"), N_("Back to the previous screen"), "back"),
    )


class ExportCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(N_("Export: write the file"), N_("With the choices shown"), "save"),
        PaletteCommand(N_("Export: cancel"), N_("Write nothing"), "cancel"),
    )


class ImportCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(N_("Import: check the file (dry run)"), N_("Writes nothing"), "check"),
        PaletteCommand(
            N_("Import: import the checked file"), N_("After a clean check"), "run_import"
        ),
        PaletteCommand(
            N_("Import: browse for the file"), N_("Show or hide the folder tree"), "browse"
        ),
        PaletteCommand(N_("Import: close"), N_("Back to the previous screen"), "back"),
    )
