"""Reading what an agent types into a form field: dates, times, counts, durations.

Each parser raises `FieldError` with a message fit to show under the field. Amounts are read by
`money.parse_money` in the case's currency; this module only adds the small calendar conveniences
an agent expects ("today", "tomorrow", "+7"). Digits follow money's one rule (`amount_text`):
full-width ０-９ read as 0-9, digits of other scripts refused, as in amounts.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from collector_tui.dates import DateOutOfRange, check_day, parse_day
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.money import MoneyError, amount_text


class FieldError(ValueError):
    """A field's content cannot be read; `field` is the form field's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_RELATIVE = re.compile(r"\+\s*([0-9]{1,4})\s*([dw]?)", re.IGNORECASE)


def _digits(text: str, field: str) -> str:
    """`text` with full-width digits and signs folded to ASCII; FieldError for digits of another
    script ("٣", "³"), which int() and \\d would otherwise take or choke on."""
    try:
        return amount_text(text)
    except MoneyError as error:
        raise FieldError(field, str(error)) from None


def parse_date(text: str, today: date, *, field: str) -> date:
    """YYYY-MM-DD, "today", "tomorrow", "yesterday", or "+N" days ("+2w" for weeks); always
    inside the accepted range (`collector_tui.dates`), whichever way it was typed."""
    value = _digits(text, field).strip().lower()
    if not value:
        raise FieldError(field, _("enter a date (YYYY-MM-DD, today, tomorrow or +N days)"))
    if value in ("today", "今天", _("today")):
        day = today
    elif value in ("tomorrow", "明天", _("tomorrow")):
        day = today + timedelta(days=1)
    elif value in ("yesterday", "昨天", _("yesterday")):
        # The payment form's hint offers it (money that came in yesterday).
        day = today - timedelta(days=1)
    elif relative := _RELATIVE.fullmatch(value):
        count = int(relative.group(1))
        day = today + timedelta(days=count * (7 if relative.group(2) == "w" else 1))
    else:
        try:
            # 2026-11-25, and the ways Chinese users write it (2026/11/25, 2026年11月25日).
            day = parse_day(value)
        except DateOutOfRange as error:
            raise FieldError(field, str(error)) from None
        except ValueError:
            raise FieldError(
                field,
                _("{value} is not a date like 2026-11-25").format(value=repr(text.strip()[:20])),
            ) from None
    try:
        return check_day(day)
    except DateOutOfRange as error:
        raise FieldError(field, str(error)) from None


def parse_time(text: str, *, field: str) -> time:
    """HH:MM (24-hour) or H."""
    value = _digits(text, field).strip()
    if not value:
        raise FieldError(field, _("enter a time (HH:MM)"))
    match = re.fullmatch(r"([0-9]{1,2})(?::([0-9]{2}))?", value)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise FieldError(field, _("{value} is not a time like 14:30").format(value=repr(value[:20])))


def parse_count(text: str, *, field: str, low: int, high: int) -> int:
    value = _digits(text, field).strip()
    if not (value.isascii() and value.isdigit()):
        raise FieldError(
            field, _("enter a whole number from {low} to {high}").format(low=low, high=high)
        )
    number = int(value)
    if not low <= number <= high:
        raise FieldError(
            field, _("enter a whole number from {low} to {high}").format(low=low, high=high)
        )
    return number


def parse_duration(text: str, *, field: str) -> int | None:
    """Seconds from "", "90" (seconds), "3:20" (minutes:seconds) or "5m"."""
    value = _digits(text, field).strip().lower()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    match = re.fullmatch(r"([0-9]{1,3}):([0-5][0-9])", value)
    if match:
        return int(match.group(1)) * 60 + int(match.group(2))
    match = re.fullmatch(r"([0-9]{1,3})\s*m(?:in)?", value)
    if match:
        return int(match.group(1)) * 60
    raise FieldError(field, _("a duration is seconds (90), minutes:seconds (3:20) or minutes (5m)"))


INTERVALS: dict[str, str] = {
    "weekly": N_("every week"),
    "biweekly": N_("every 2 weeks"),
    "monthly": N_("every month"),
}


def local_instant(day: date, at: time, tz: object) -> datetime:
    """An aware instant from a wall-clock date and time in `tz` (a ZoneInfo)."""
    return datetime.combine(day, at, tzinfo=tz)  # type: ignore[arg-type]
