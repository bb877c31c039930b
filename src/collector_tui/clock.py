"""The one source of "now".

Everything that depends on time takes a `now` argument; the CLI and the app get it from a `Clock`.
`--now` (training, demos, tests) installs a fixed clock, so nothing else may call `datetime.now()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still (or moves only when told): demos, training and tests."""

    instant: datetime

    def __post_init__(self) -> None:
        self.instant = as_utc(self.instant)

    def now(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.instant = self.instant + timedelta(**delta)


def as_utc(instant: datetime) -> datetime:
    """Aware UTC instant; a naive value is refused rather than guessed."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry a time zone")
    return instant.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; without an offset it is taken as UTC (the CLI's convention).
    Only instants in the accepted range (`collector_tui.dates`) are read; anything else is a
    ValueError with a one-line message."""
    from collector_tui.dates import parse_instant as parse_in_range

    return parse_in_range(text)


def clock_for(now: str | None) -> Clock:
    return FixedClock(parse_instant(now)) if now else SystemClock()
