"""How the workspace writes instants, amounts and durations for an agent.

Dates and instants have one style per language (i18n.DAY_PATTERNS, babel patterns): a day is
`2026-11-20` in English and `2026/11/20` in Chinese (`day_text`), an instant `2026-11-20 09:00` in
the user's zone (`agent_time`). The only shorter form is the same pattern cut at the front
(`11-20 09:00` for this year, `11-20` on a chart's axis), never another order. Instants are
stored in UTC and shown in the agent's own time zone (Actor.time_zone), except where a debtor's
local clock is meant, which says so.

Amounts in tables use the compact locale-free form ("1,234.50 CNY") so columns line up; headers use
the locale's currency form.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.text import Text

from collector_tui.i18n import N_, format_day, format_day_time
from collector_tui.i18n import gettext as _
from collector_tui.labels import HOLD_KINDS as HOLD_KINDS
from collector_tui.labels import word as word
from collector_tui.money import Money, format_money, format_plain

DAY_FORMAT = "%Y-%m-%d"
# The day without its year: the same pattern cut, where the year goes without saying.
SHORT_DAY_FORMAT = "%m-%d"
TIME_FORMAT = "%H:%M"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def plain_amount(minor: int, currency: str) -> str:
    return format_plain(Money(minor, currency))


def amount_text(minor: int, currency: str, *, style: str = "") -> Text:
    return Text(plain_amount(minor, currency), style=style, justify="right")


def locale_amount(minor: int, currency: str, locale: str) -> str:
    return format_money(Money(minor, currency), locale)


def plotext_day_forms() -> tuple[str, str]:
    """The day and the day without its year as plotext writes dates (strftime without "%"), in
    the current language's style, so a chart's axis reads the days `day_text` gives it."""
    separator = "/" if format_day(date(2000, 1, 2)).count("/") else "-"
    return separator.join(("Y", "m", "d")), separator.join(("m", "d"))


def day_text(day: date | None) -> str:
    """ "2026-11-20": a calendar day (a due date, a placement date), as it is."""
    if day is None:
        return "—"
    return format_day(day)


def agent_time(instant: datetime | None, tz: str, now: datetime | None = None) -> str:
    """ "2026-11-21 09:00" in the user's zone `tz`; given `now`, "11-21 09:00" when it falls in
    this year (tables, where the room is short)."""
    if instant is None:
        return "—"
    local = instant.astimezone(zone(tz))
    short = now is not None and local.year == now.astimezone(zone(tz)).year
    return format_day_time(local, short=short)


def relative(instant: datetime | None, now: datetime) -> str:
    """ "3h ago", "2d ago", "in 40m": short enough for a table column."""
    if instant is None:
        return _("never")
    delta = instant - now
    future = delta > timedelta(0)
    seconds = abs(int(delta.total_seconds()))
    if seconds < 60:
        return _("now")
    if seconds < 3600:
        text = _("{n}m").format(n=seconds // 60)
    elif seconds < 86400 * 2:
        text = _("{n}h").format(n=seconds // 3600)
    else:
        text = _("{n}d").format(n=seconds // 86400)
    return (_("in {time}") if future else _("{time} ago")).format(time=text)


def debtor_clock(local: datetime) -> str:
    """The debtor's local time for a phone line: "22:30 Fri" ("22:30 周五")."""
    return f"{local:%H:%M} {_(WEEKDAYS[local.weekday()])}"


WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))

# The words for stored codes (the codes themselves are stored, exported and printed in --json as
# they are); `word(LABELS, code)` is the code in the current language, an unknown one as it is.
DEBTOR_KINDS = {"person": N_("person"), "company": N_("company")}
DEBTOR_FLAGS = {"deceased": N_("DECEASED"), "bankrupt": N_("BANKRUPT")}
TIER_NAMES = {
    "follow-up due": N_("follow-up due"),
    "broken promise": N_("broken promise"),
    "promise reminder": N_("promise reminder"),
    "new placement": N_("new placement"),
    "workable": N_("workable"),
    "closed": N_("closed"),
}
AGING = {"current": N_("current")}
CONTACT_SOURCES = {
    "placement": N_("placement"),
    "debtor": N_("debtor"),
    "third party": N_("third party"),
    "skip trace": N_("skip trace"),
    "agent": N_("agent"),
}
RELATIONS = {
    "employer": N_("employer"),
    "relative": N_("relative"),
    "guarantor": N_("guarantor"),
    "reference": N_("reference"),
}
DISPUTE_CATEGORIES = {
    "goods_not_received": N_("goods not received"),
    "quality": N_("quality"),
    "price": N_("price"),
    "already_paid": N_("already paid"),
    "not_mine": N_("not mine"),
    "other": N_("other"),
}
CONTACT_STATUSES = {
    "valid": N_("valid"),
    "unverified": N_("unverified"),
    "wrong": N_("wrong"),
    "disconnected": N_("disconnected"),
    "dnc": N_("dnc"),
    "returned": N_("returned"),
}
# The factors of a case's score are stored with it (rules/scoring.py) in English: their names are
# a fixed set, shown in the current language; their details are shown as stored.
FACTOR_NAMES = {
    "expected recovery": N_("expected recovery"),
    "risk grade": N_("risk grade"),
    "days past due": N_("days past due"),
    "broken promises": N_("broken promises"),
    "recent contact": N_("recent contact"),
    "never contacted": N_("never contacted"),
    "urgency": N_("urgency"),
    "strategy": N_("strategy"),
}
