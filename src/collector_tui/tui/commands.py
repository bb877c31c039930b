"""Command palette providers (ctrl+p), one per concern, each listing what its screen can do.

Every action that has a key also has a palette entry with the same words, so an agent who forgets
a key can type what they want ("promise", "next") instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider


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

    async def discover(self) -> Hits:
        for command in self._available():
            yield DiscoveryHit(command.name, self._runner(command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._available():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.name), self._runner(command), help=command.help
                )


class QueueCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Queue: open the selected case", "Open the highlighted case", "open_case"),
        PaletteCommand("Queue: next callable case", "Open the first callable case", "next_case"),
        PaletteCommand("Queue: search cases", "By name, client reference or phone", "search"),
        PaletteCommand("Queue: refresh", "Rebuild the queue now", "refresh"),
        PaletteCommand("Queue: show the call queue", "The callable cases tab", "show_tab('queue')"),
        PaletteCommand(
            "Queue: show held cases", "Cases not callable now, and why", "show_tab('held')"
        ),
    )


class CaseCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Case: log contact", "Record a call attempt and its outcome", "log_contact"),
        PaletteCommand("Case: promise to pay", "Record a promise (amount and date)", "promise"),
        PaletteCommand("Case: payment plan", "Record a plan of several installments", "plan"),
        PaletteCommand("Case: follow-up", "Schedule a callback", "follow_up"),
        PaletteCommand("Case: note", "Add a note to the case", "note"),
        PaletteCommand(
            "Case: reminder by SMS, e-mail or letter", "Preview it, then queue it", "remind"
        ),
        PaletteCommand("Case: dispute", "Record a dispute (stops contact)", "dispute"),
        PaletteCommand(
            "Case: dispute an invoice",
            "All or part of one invoice; the rest stays workable",
            "dispute_invoice",
        ),
        PaletteCommand(
            "Case: resolve a dispute", "Upheld, rejected or partly (a credit)", "resolve_dispute"
        ),
        PaletteCommand(
            "Case: reverse a payment",
            "The highlighted payment: bounced, chargeback, error (supervisors)",
            "reverse_payment",
        ),
        PaletteCommand(
            "Case: add a charge",
            "Legal costs, fees or interest after placement (supervisors)",
            "add_charge",
        ),
        PaletteCommand(
            "Case: assess the debtor",
            "Income and expenses (a company: its standing), the risk grade",
            "assess",
        ),
        PaletteCommand(
            "Case: settlement",
            "Settle for less than the balance (above your limit: approval)",
            "settle",
        ),
        PaletteCommand("Case: ask for legal action", "A supervisor decides", "legal"),
        PaletteCommand("Case: send to a supervisor", "Route the case, saying why", "route"),
        PaletteCommand(
            "Case: payment received", "Post a payment, applied to the promises", "payment"
        ),
        PaletteCommand(
            "Case: lift a hold or end a dispute", "Saying why (agents: hardship)", "lift_hold"
        ),
        PaletteCommand(
            "Case: void a contact", "The highlighted one, logged by mistake", "void_contact"
        ),
        PaletteCommand(
            "Case: withdraw a promise or cancel a plan", "The highlighted promise", "withdraw"
        ),
        PaletteCommand(
            "Case: reschedule the payment plan", "A new schedule replaces it", "reschedule_plan"
        ),
        PaletteCommand("Case: move a follow-up", "A new date and time", "move_follow_up"),
        PaletteCommand(
            "Case: add a contact",
            "A number the debtor gives, an e-mail, a postal address, a third party",
            "add_contact",
        ),
        PaletteCommand(
            "Case: mark a contact",
            "Wrong, disconnected, do not call, returned mail; a third party's objection",
            "mark_contact",
        ),
        PaletteCommand(
            "Case: edit a contact", "A number's type, primary and consent; opt-in", "edit_contact"
        ),
        PaletteCommand(
            "Case: retire a contact", "No longer in use (kept in the history)", "retire_contact"
        ),
        PaletteCommand("Case: next case", "Open the next callable case", "next_case"),
        PaletteCommand("Case: reload", "Read the case again", "reload"),
        PaletteCommand("Case: show the full note", "The highlighted timeline entry", "show_entry"),
        PaletteCommand("Case: back to the queue", "Close the case", "back"),
    )


class SessionCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Help: keys", "Every key of every screen", "app.help"),
        PaletteCommand("Log out", "Back to the login screen", "app.logout"),
        PaletteCommand(
            "Reports: dashboard",
            "Aging, collections, promise outcomes, agent activity (charts and tables)",
            "open:reports",
        ),
        PaletteCommand(
            "Import: cases or payments from a CSV file",
            "Check the file first (dry run), then import (supervisors)",
            "open:import",
        ),
    )

    # Offline laptops: the sync screen, once someone is logged in.
    async def discover(self) -> Hits:
        async for hit in super().discover():
            yield hit
        if getattr(self.app, "actor", None) is not None:
            yield DiscoveryHit(SYNC_NAME, partial(open_sync, self.app), help=SYNC_HELP)

    async def search(self, query: str) -> Hits:
        async for hit in super().search(query):
            yield hit
        if getattr(self.app, "actor", None) is not None:
            matcher = self.matcher(query)
            score = matcher.match(SYNC_NAME)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(SYNC_NAME),
                    partial(open_sync, self.app),
                    help=SYNC_HELP,
                )


# -- offline laptops -------------------------------------------------------------------

SYNC_NAME = "Sync with the master"
SYNC_HELP = "Send this laptop's changes and bring the briefcase back"


def open_sync(app: object) -> None:
    open_screen(app, "sync")


# -- supervisors ----------------------------------------------------------------------


class SupervisorCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Supervisor: open the case", "The highlighted case", "open_case"),
        PaletteCommand(
            "Supervisor: reminder outbox", "Due, sent, failed, skipped; a send run", "reminders"
        ),
        PaletteCommand(
            "Supervisor: select or unselect the case", "For assign and balance", "toggle_select"
        ),
        PaletteCommand("Supervisor: select every case shown", "The cases loaded", "select_all"),
        PaletteCommand("Supervisor: clear the selection", "Unselect every case", "clear_selection"),
        PaletteCommand(
            "Supervisor: assign cases", "The selected cases (or the highlighted one)", "assign"
        ),
        PaletteCommand(
            "Supervisor: balance workloads",
            "Spread the selected (or the unassigned) cases over agents",
            "balance",
        ),
        PaletteCommand("Supervisor: filter cases", "Agent, status, aging, balance...", "filter"),
        PaletteCommand(
            "Supervisor: cases routed to supervisors",
            "Deceased, bankrupt, legal, settlements",
            "routed",
        ),
        PaletteCommand("Supervisor: load more cases", "The next page of the list", "more"),
        PaletteCommand("Supervisor: case history", "The audit trail of the case", "history"),
        PaletteCommand("Supervisor: escalate to legal", "Status legal, legal hold", "legal"),
        PaletteCommand("Supervisor: write off", "Close the case as written off", "write_off"),
        PaletteCommand("Supervisor: close case", "Recalled, sold, duplicate...", "close_case"),
        PaletteCommand(
            "Supervisor: approve or reject a settlement", "Above the agent's limit", "settlement"
        ),
        PaletteCommand("Supervisor: send back to the agent", "Un-route the case", "unroute"),
        PaletteCommand("Supervisor: reports dashboard", "Aging, promises, agents", "reports"),
        PaletteCommand(
            "Supervisor: open disputes", "Invoice disputes by owner and age", "disputes"
        ),
        PaletteCommand(
            "Supervisor: import a file", "Placements or payments from CSV", "import_file"
        ),
        PaletteCommand(
            "Supervisor: skip-trace cases",
            "No callable number or returned mail: to trace",
            "skip_trace",
        ),
        PaletteCommand("Supervisor: my call queue", "The queue of cases you hold", "queue"),
        PaletteCommand("Supervisor: search cases", "By name, reference or phone", "search"),
        PaletteCommand("Supervisor: refresh", "Read workloads and cases again", "refresh"),
    )


class SkipTraceCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Skip tracing: open the case", "The highlighted case", "open_case"),
        PaletteCommand("Skip tracing: reload", "Read the list again", "reload"),
        PaletteCommand("Skip tracing: back", "To the supervisor screen", "back"),
    )


class DisputesCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand(
            "Disputes: resolve", "The highlighted dispute: upheld, rejected or partly", "resolve"
        ),
        PaletteCommand("Disputes: open the case", "The highlighted dispute's case", "open_case"),
        PaletteCommand("Disputes: refresh", "Read the open disputes again", "refresh"),
        PaletteCommand("Disputes: back", "Back to the supervisor screen", "back"),
    )


class AuditCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("History: show the full entry", "Before and after, every field", "show"),
        PaletteCommand("History: reload", "Read the trail again", "reload"),
        PaletteCommand("History: back", "Close the history", "back"),
    )


# -- reports, exports and imports -----------------------------------------------------


class ReportsCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Reports: next currency", "Figures are never added up", "next_currency"),
        PaletteCommand("Reports: last 7 days", "Period of the dashboard", "period(7)"),
        PaletteCommand("Reports: last 30 days", "Period of the dashboard", "period(30)"),
        PaletteCommand("Reports: last 90 days", "Period of the dashboard (per week)", "period(90)"),
        PaletteCommand("Reports: refresh", "Read the figures again", "refresh"),
        PaletteCommand(
            "Export: cases, activities, promises or payments",
            "Write a CSV file (UTF-8, BOM for Excel)",
            "export",
        ),
        PaletteCommand("Reports: close", "Back to the previous screen", "back"),
    )


class ExportCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Export: write the file", "With the choices shown", "save"),
        PaletteCommand("Export: cancel", "Write nothing", "cancel"),
    )


class ImportCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Import: check the file (dry run)", "Writes nothing", "check"),
        PaletteCommand("Import: import the checked file", "After a clean check", "run_import"),
        PaletteCommand("Import: browse for the file", "Show or hide the folder tree", "browse"),
        PaletteCommand("Import: close", "Back to the previous screen", "back"),
    )
