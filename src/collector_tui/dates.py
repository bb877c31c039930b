"""The one accepted range for dates and instants that come from outside: 1900-01-01 … 2200-12-31.

Every date or instant a person or a file gives (command-line options, form fields, import columns)
goes through `parse_day` / `parse_instant`, or through `check_day` / `check_instant` when another
parser already read it. Outside the range is a typo ("0226-01-31", "9999-12-31"), never a real
date for a debt; refusing it here also keeps every later `astimezone`, `+ timedelta` and database
write far from the calendar's ends, where Python raises OverflowError instead of a clear message.

An instant is in range when its UTC date is. Its wall-clock date is checked first, before any
conversion, because converting `9999-12-31T23:59:59-23:59` or `0001-01-01T00:00:00+14:00` to UTC
is itself what overflows.

This module imports only the standard library and `i18n` (its messages are in the user's
language): the command line, the app and the importers all use it. A day is read in ISO form and
in the forms Chinese users write and see (`2026/12/01`, `2026年12月1日`): the zh_CN date style
shows days with slashes, so a day shown can be typed back.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "RANGE_TEXT",
    "DateOutOfRange",
    "check_day",
    "check_in_range",
    "check_instant",
    "parse_day",
    "parse_instant",
]

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)
RANGE_TEXT = f"{FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()}"


class DateOutOfRange(ValueError):
    """A date or instant that reads fine but lies outside FIRST_DAY … LAST_DAY."""


def _shown(text: str) -> str:
    # The value goes back into one error line: short, and no control character reaches a terminal.
    return repr(text.strip()[:40])


def check_day(day: date, *, what: str = N_("date")) -> date:
    """`day` itself, or DateOutOfRange naming `what` and the range."""
    if isinstance(day, datetime):
        return check_instant(day, what=what).date()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DateOutOfRange(
            _("{what} {value} is outside {range}").format(
                what=_(what), value=day.isoformat(), range=RANGE_TEXT
            )
        )
    return day


def check_instant(instant: datetime, *, what: str = N_("time")) -> datetime:
    """`instant` in UTC (aware; a naive value counts as UTC), or DateOutOfRange."""
    if not FIRST_DAY <= instant.date() <= LAST_DAY:  # wall clock first: converting may overflow
        raise DateOutOfRange(
            _("{what} {value} is outside {range}").format(
                what=_(what), value=instant.isoformat(), range=RANGE_TEXT
            )
        )
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    utc = instant.astimezone(UTC)
    if not FIRST_DAY <= utc.date() <= LAST_DAY:
        raise DateOutOfRange(
            _("{what} {value} is {utc} in UTC, outside {range}").format(
                what=_(what), value=instant.isoformat(), utc=utc.isoformat(), range=RANGE_TEXT
            )
        )
    return utc


def check_in_range(value: date | datetime, *, what: str = N_("date")) -> date | datetime:
    """For parsers elsewhere (the CSV importers): the value (an instant in UTC) when it lies in
    FIRST_DAY … LAST_DAY; DateOutOfRange (a ValueError) with a one-line message otherwise."""
    if isinstance(value, datetime):
        return check_instant(value, what=what)
    return check_day(value, what=what)


def parse_day(text: str, *, what: str = N_("date")) -> date:
    """An ISO date (YYYY-MM-DD; also YYYY/MM/DD and YYYY年M月D日, the forms Chinese users
    write) in range; ValueError with a one-line message otherwise."""
    written = _SLASHED_DAY.fullmatch(text.strip()) or _CHINESE_DAY.fullmatch(text.strip())
    try:
        if written is not None:
            year, month, day_of_month = (int(part) for part in written.groups())
            day = date(year, month, day_of_month)
        else:
            day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            _("{what} {value} is not a date like 2026-12-01").format(
                what=_(what), value=_shown(text)
            )
        ) from None
    return check_day(day, what=what)


# 2026/12/01, 2026/12/1, 2026年12月1日: one order only (year, month, day), never a guess.
_SLASHED_DAY = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})", re.ASCII)
_CHINESE_DAY = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?", re.ASCII)


def parse_instant(text: str, *, what: str = N_("time")) -> datetime:
    """An ISO 8601 instant in range, in UTC; without an offset it is UTC (the command line's
    convention). ValueError with a one-line message otherwise."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            _("{what} {value} is not a date and time like 2026-11-20T09:30:00+08:00").format(
                what=_(what), value=_shown(text)
            )
        ) from None
    return check_instant(value, what=what)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, kept inside shorter months (Jan 31 + 1 -> Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
