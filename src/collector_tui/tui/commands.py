"""Command palette providers (ctrl+p), one per concern, each listing what its screen can do.

Every action that has a key also has a palette entry with the same words, so an agent who forgets
a key can type what they want ("promise", "next") instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    help: str
    action: str  # an action of the screen the palette was opened from ("app." for the app's)


class ScreenCommands(Provider):
    """Offers `COMMANDS_LIST` as palette entries that run actions on the calling screen."""

    COMMANDS_LIST: tuple[PaletteCommand, ...] = ()

    def _available(self) -> list[PaletteCommand]:
        found: list[PaletteCommand] = []
        for command in self.COMMANDS_LIST:
            if command.action.startswith("app."):
                found.append(command)
                continue
            name = command.action.split("(", 1)[0]
            if hasattr(self.screen, f"action_{name}") and self.screen.check_action(name, ()):
                found.append(command)
        return found

    def _runner(self, command: PaletteCommand) -> partial[object]:
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
        PaletteCommand("Case: dispute", "Record a dispute (stops contact)", "dispute"),
        PaletteCommand("Case: next case", "Open the next callable case", "next_case"),
        PaletteCommand("Case: reload", "Read the case again", "reload"),
        PaletteCommand("Case: show the full note", "The highlighted timeline entry", "show_entry"),
        PaletteCommand("Case: back to the queue", "Close the case", "back"),
    )


class SessionCommands(ScreenCommands):
    COMMANDS_LIST = (
        PaletteCommand("Help: keys", "Every key of every screen", "app.help"),
        PaletteCommand("Log out", "Back to the login screen", "app.logout"),
    )
