"""Hybrid logical clocks: an order for changes made on machines whose clocks disagree.

A clock value is `PPPPPPPPPPPPP-CCCCC-NODE`: milliseconds since the epoch (13 digits), a counter
for changes within the same millisecond (5 digits), and the node that issued it (a device id in
hex, or `master`). The text sorts exactly as the clocks order, so SQL can `ORDER BY hlc`.

`tick` issues the next value for a local change: never lower than the last one issued, nor than
the wall clock. `receive` folds in a value seen from elsewhere (a pull carries the master's), so
every change made after a pull orders after everything the pull brought.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MAX_COUNTER = 99_999
ZERO = "0000000000000-00000-0"


@dataclass(frozen=True, order=True)
class Hlc:
    wall_ms: int
    counter: int
    node: str

    def text(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:05d}-{self.node}"

    @property
    def instant(self) -> datetime:
        return datetime.fromtimestamp(self.wall_ms / 1000, tz=UTC)


def parse(text: str | None) -> Hlc:
    """The clock in `text`; an empty or malformed value is the zero clock (orders first)."""
    if not text:
        return Hlc(0, 0, "0")
    wall, _sep, rest = text.partition("-")
    counter, _sep2, node = rest.partition("-")
    try:
        return Hlc(int(wall), int(counter), node or "0")
    except ValueError:
        return Hlc(0, 0, "0")


def wall_ms(instant: datetime) -> int:
    return int(instant.astimezone(UTC).timestamp() * 1000)


def of_instant(instant: datetime | None, node: str = "master") -> str:
    """The clock of a change known only by its wall time (a row's `updated_at` on the master)."""
    if instant is None:
        return ZERO
    return Hlc(wall_ms(instant), 0, node).text()


def tick(last: str | None, instant: datetime, node: str) -> str:
    """The next clock value after `last` for a change made at wall time `instant`."""
    previous = parse(last)
    now_ms = wall_ms(instant)
    if now_ms > previous.wall_ms:
        return Hlc(now_ms, 0, node).text()
    if previous.counter >= MAX_COUNTER:
        # A burst beyond the counter borrows the next millisecond rather than wrap around.
        return Hlc(previous.wall_ms + 1, 0, node).text()
    return Hlc(previous.wall_ms, previous.counter + 1, node).text()


def receive(last: str | None, seen: str | None) -> str:
    """`last` advanced past a value seen from another node (for the next local `tick`)."""
    return max(last or ZERO, seen or ZERO, key=parse)
