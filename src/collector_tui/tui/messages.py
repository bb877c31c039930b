"""Messages that carry a worker's result back to the event loop: small dataclasses of plain data.

Workers post them from their thread (post_message is thread-safe); the screen that started the
worker handles them. Refresh results may replace an older one still waiting in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from collector_tui.services.accounts import Actor
    from collector_tui.services.assessment.outlook import CaseOutlook
    from collector_tui.services.casework.casefile import CaseFile
    from collector_tui.services.casework.queue import QueueEntry, QueuePage
    from collector_tui.services.casework.search import CaseHit
    from collector_tui.services.strategies.assign import CaseStrategy


@dataclass
class LoggedIn(Message):
    actor: Actor


@dataclass
class QueueLoaded(Message):
    page: QueuePage
    # The screen's first build: the top of the queue, a screenful, before the whole page and its
    # counts (which follow in another QueueLoaded).
    partial: bool = False

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, QueueLoaded)


@dataclass
class HeldLoaded(Message):
    """The held list, loaded after the callable page so the queue paints first."""

    held: tuple[QueueEntry, ...]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HeldLoaded)


@dataclass
class CaseLoaded(Message):
    case_file: CaseFile

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CaseLoaded)


@dataclass
class OutlookLoaded(Message):
    """The case's assessment and probability of payment (services/assessment/outlook.py), read
    after its file so the case paints first."""

    outlook: CaseOutlook

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, OutlookLoaded)


@dataclass
class StrategyLoaded(Message):
    """The case's strategy, group, why and any escalation due (services/strategies), read with
    the outlook after the case file."""

    strategy: CaseStrategy

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StrategyLoaded)


@dataclass
class CaseReadToOpen(Message):
    """A case of the queue read with its whole file before its screen opens, so the screen's first
    frame shows it filled; `case_file` None: `n` found no callable case."""

    case_file: CaseFile | None
    from_queue: bool


@dataclass
class CasePeeked(Message):
    """The file of the case under the queue's cursor, read while the agent looks at the row."""

    case_file: CaseFile


@dataclass
class NextCaseRead(Message):
    """The next case of the queue, read ahead with its file; None: the queue has no more."""

    case_file: CaseFile | None


@dataclass
class SearchFinished(Message):
    query: str
    hits: list[CaseHit]


@dataclass
class DraftLoaded(Message):
    payload: dict[str, Any]
    # The opening of the form it was read for (forms.Visit): a kept form opened again since
    # ignores it.
    visit: object | None = None
