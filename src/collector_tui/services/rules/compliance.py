"""Compliance: contact hours, call-frequency caps and holds, from rule packs
(docs/decisions.md, compliance).

A rule pack is TOML data shipped in `collector_tui/packs/` (`us`, `cn`, `uk`, and the strict
`default`), chosen per case by the debtor's country (`Settings.country_packs`, else
`Settings.default_pack`). A file `<name>.toml` in `Settings.packs_dir` overrides the shipped pack of
that name key by key (tables merge, lists and values replace); a name that is not shipped builds on
`extends = "<pack>"`, or on the strict `default` when it says nothing.

Decisions this module takes, in the collector's words:

- The debtor's local time comes from each number's time zones. A number that spans several zones is
  callable only while every one of them is inside the hours. A number phonenumbers cannot place, or
  one that maps to a whole numbering plan (toll-free, a country-wide mobile range), falls back to
  the debtor's country: the pack's `fallback_zones` for it, else every zone tzdata lists for the
  country (the strictest reading when the country spans several zones).
- Day-based rules count calendar days in the debtor's local calendar. When the debtor's numbers span
  several zones, a day's count starts at the earliest midnight among them and ends at the latest,
  so no zone ever sees a longer day than the rule allows.
- Regulation F counting (`us`): per debt (one case) across every number of the debtor; outbound
  calls count whether answered or not; calls that never connected to the dialled number
  (`disconnected`: number not in service) do not; a wrong number connected, so it counts; calls
  made with prior consent (`Activity.with_consent`) do not, and a phone whose consent is current
  (`Phone.consent_until`) is exempt from the frequency rules; an inbound call does not count toward
  the seven, but a conversation in it starts the seven-day quiet period (the day of the
  conversation is day 1). SMS, letters and e-mail never count, but they keep to the hours.
- The `cn` caps: unanswered calls (no answer, busy, voicemail, out of service, or no disposition)
  per number per local day, counted across every case that dialled that number; connected calls
  per debtor per local day, across all the debtor's debts.
- Third-party numbers (phone kinds listed by the pack) are offered only when no number of the
  debtor's own can be called, with a reminder not to disclose the debt; a third party who asks not
  to be called again gets the number marked do-not-call.
- A void (a later row whose `voids_id` names a wrongly logged contact, casework/corrections.py)
  never counts itself. Whether the voided attempt still counts toward the caps is the pack's
  `voided_attempts_count`: a void says the record was wrong, not that no call was placed, so the
  packs whose caps are counted from the call records keep counting it (over-counting only delays
  the next call; under-counting breaks the rule, and would let a void reset a cap).
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import or_
from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.db import select_columns
from collector_tui.i18n import N_, format_day
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    Case,
    Debtor,
    Hold,
    Phone,
    ThirdParty,
    case_status_label,
)
from collector_tui.phones import mask_phone, zones_for

__all__ = [
    "BUILTIN_COUNTRY_PACKS",
    "CaseFacts",
    "PackError",
    "RulePack",
    "Verdict",
    "check_case",
    "clear_pack_cache",
    "contact_block",
    "country_zones",
    "evaluate_cases",
    "hours_block",
    "load_pack",
    "local_window_open",
    "pack_for_country",
    "phone_zones",
]

BUILTIN_COUNTRY_PACKS: dict[str, str] = {"US": "us", "CN": "cn", "GB": "uk"}

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)
# How far ahead the next open window is looked for; a pack closed longer than this is "no hours".
HORIZON_DAYS = 40

Hours = tuple[time, time] | None  # [start, end) local; end 00:00 means midnight ending the day


class PackError(ValueError):
    """A rule pack that cannot be found or read; the message names the pack and the key."""


@dataclass(frozen=True)
class RulePack:
    name: str
    title: str
    weekday_hours: Hours
    weekend_hours: Hours
    holiday_hours: Hours
    weekend_days: frozenset[int]  # date.weekday() numbers, Monday = 0
    holidays: frozenset[date]
    calls_per_debt: int  # 0 = no cap
    calls_per_debt_days: int
    quiet_after_conversation_days: int  # 0 = none
    unanswered_per_number_per_day: int  # 0 = no cap
    connected_per_debtor_per_day: int  # 0 = no cap
    counted_channels: frozenset[str]
    inbound_counts: bool
    consent_exempt: bool
    voided_attempts_count: bool
    not_connected: frozenset[str]
    unanswered: frozenset[str]
    conversation: frozenset[str]
    suspending_holds: frozenset[str]
    held_statuses: frozenset[str]
    third_party_kinds: frozenset[str]
    third_parties_only_when_unreachable: bool
    channels: frozenset[str]
    fallback_zones: tuple[tuple[str, tuple[str, ...]], ...]
    # The debtor's prior consent (Phone.consent_until) lifts the hours until it ends.
    consent_lifts_hours: bool = False
    # Contacts with one third party before they must ask for another (FDCPA 804(3)); 0: no limit.
    third_party_contacts: int = 0

    def day_kind(self, day: date) -> str:
        if day in self.holidays:
            return "holiday"
        return "weekend" if day.weekday() in self.weekend_days else "weekday"

    def hours_on(self, day: date) -> Hours:
        kind = self.day_kind(day)
        if kind == "holiday":
            return self.holiday_hours
        return self.weekend_hours if kind == "weekend" else self.weekday_hours

    def zones_for_country(self, country: str) -> tuple[str, ...]:
        code = country.strip().upper()
        for listed, zones in self.fallback_zones:
            if listed == code:
                return zones
        return country_zones(code)

    @property
    def history_days(self) -> int:
        """How many days of attempts the caps need to look back on."""
        days = 0
        if self.calls_per_debt:
            days = max(days, self.calls_per_debt_days)
        days = max(days, self.quiet_after_conversation_days)
        if self.unanswered_per_number_per_day or self.connected_per_debtor_per_day:
            days = max(days, 1)
        return days


@dataclass(frozen=True)
class Verdict:
    """May the case be called now. `reason` says why not (or, when callable, a caveat such as a
    third-party-only number); `callable_at` is when it becomes callable if nothing else happens,
    None when callable now or when only a person can lift the block (hold, do-not-call)."""

    callable: bool
    reason: str | None
    callable_at: datetime | None
    phone_ids: tuple[uuid.UUID, ...]  # the numbers that may be dialled now


@dataclass(frozen=True)
class CaseFacts:
    """What the compliance check needs to know about a case besides its phones and history."""

    case_id: uuid.UUID
    debtor_id: uuid.UUID
    country: str
    status: str
    routed_reason: str | None = None
    deceased: bool = False
    bankrupt: bool = False


# --- Loading packs --------------------------------------------------------------------------------

_SECTIONS: dict[str, frozenset[str]] = {
    "hours": frozenset({"weekday", "weekend", "holiday", "consent_lifts"}),
    "frequency": frozenset(
        {
            "calls_per_debt",
            "calls_per_debt_days",
            "quiet_after_conversation_days",
            "unanswered_per_number_per_day",
            "connected_per_debtor_per_day",
            "counted_channels",
            "inbound_counts",
            "consent_exempt",
            "voided_attempts_count",
        }
    ),
    "dispositions": frozenset({"not_connected", "unanswered", "conversation"}),
    "holds": frozenset({"suspending", "statuses"}),
    "third_parties": frozenset(
        {"phone_kinds", "only_when_unreachable", "contacts_without_request"}
    ),
    "channels": frozenset({"allowed"}),
    "fallback_zones": frozenset(),  # any country code
}
_TOP_LEVEL = frozenset({"title", "extends", "weekend_days", "holidays", *_SECTIONS})
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _shipped(name: str) -> dict[str, Any] | None:
    resource = resources.files("collector_tui").joinpath("packs", f"{name}.toml")
    if not resource.is_file():
        return None
    try:
        return tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise PackError(_("rule pack {name}: {error}").format(name=name, error=error)) from error


def _override(name: str, packs_dir: str | None) -> dict[str, Any] | None:
    if not packs_dir:
        return None
    path = Path(packs_dir).expanduser() / f"{name}.toml"
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PackError(_("rule pack {path}: {error}").format(path=path, error=error)) from error


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _raw_pack(name: str, packs_dir: str | None, seen: frozenset[str]) -> dict[str, Any]:
    if not _NAME.match(name):
        raise PackError(
            _("{name!r} is not a rule pack name (letters, digits, - and _)").format(name=name)
        )
    if name in seen:
        raise PackError(_("rule pack {name}: 'extends' goes round in a circle").format(name=name))
    shipped = _shipped(name)
    override = _override(name, packs_dir)
    if override is None:
        if shipped is None:
            raise PackError(_("no rule pack named {name!r}").format(name=name))
        return shipped
    extends = override.get("extends")
    if extends is not None:
        if not isinstance(extends, str):
            raise PackError(_("rule pack {name}: 'extends' must be a pack name").format(name=name))
        base = _raw_pack(extends.strip().lower(), packs_dir, seen | {name})
    elif shipped is not None:
        base = shipped
    else:
        # A new pack leaves out what it does not change: the strict default fills the gaps.
        base = _raw_pack("default", packs_dir, seen | {name})
    return _merge(base, {key: value for key, value in override.items() if key != "extends"})


def _hours(value: Any, where: str) -> Hours:
    if value is None or value == "none" or value == []:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise PackError(
            _('{where}: write hours as ["HH:MM", "HH:MM"] or "none"').format(where=where)
        )
    start, end = (_clock_time(text, where) for text in value)
    if end != MIDNIGHT and end <= start:
        raise PackError(_("{where}: the hours end before they start").format(where=where))
    return start, end


def _clock_time(text: str, where: str) -> time:
    if text.strip() == "24:00":
        return MIDNIGHT
    try:
        return time.fromisoformat(text.strip())
    except ValueError as error:
        raise PackError(
            _("{where}: {text!r} is not a time of day (HH:MM)").format(where=where, text=text)
        ) from error


def _strings(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PackError(_("{where}: expected a list of names").format(where=where))
    return frozenset(v.strip() for v in value)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PackError(_("{where}: expected a whole number, 0 or more").format(where=where))
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PackError(_("{where}: expected true or false").format(where=where))
    return value


def _pack_from_data(name: str, data: dict[str, Any]) -> RulePack:
    for key, value in data.items():
        if key not in _TOP_LEVEL:
            raise PackError(_("rule pack {name}: unknown key {key!r}").format(name=name, key=key))
        known = _SECTIONS.get(key)
        if known:
            if not isinstance(value, dict):
                raise PackError(
                    _("rule pack {name}: [{key}] must be a table").format(name=name, key=key)
                )
            for inner in value:
                if inner not in known:
                    raise PackError(
                        _("rule pack {name}: unknown key {key}.{inner}").format(
                            name=name, key=key, inner=inner
                        )
                    )

    def section(key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise PackError(
                _("rule pack {name}: [{key}] must be a table").format(name=name, key=key)
            )
        return value

    def need(table: dict[str, Any], key: str, where: str) -> Any:
        if key not in table:
            raise PackError(
                _("rule pack {name}: {where} is missing").format(name=name, where=where)
            )
        return table[key]

    hours, frequency = section("hours"), section("frequency")
    dispositions, holds = section("dispositions"), section("holds")
    third, channels = section("third_parties"), section("channels")
    weekend_names = _strings(data.get("weekend_days", ["sat", "sun"]), f"{name}: weekend_days")
    unknown_days = weekend_names - set(WEEKDAY_NAMES)
    if unknown_days:
        raise PackError(
            _("rule pack {name}: unknown weekend day {day!r}").format(
                name=name, day=sorted(unknown_days)[0]
            )
        )
    holidays: set[date] = set()
    for value in data.get("holidays", []):
        if isinstance(value, date) and not isinstance(value, datetime):
            holidays.add(value)
        elif isinstance(value, str):
            try:
                holidays.add(date.fromisoformat(value.strip()))
            except ValueError as error:
                raise PackError(
                    _("rule pack {name}: holiday {day!r} is not a date").format(
                        name=name, day=value
                    )
                ) from error
        else:
            raise PackError(
                _("rule pack {name}: holiday {day!r} is not a date").format(name=name, day=value)
            )
    fallback: list[tuple[str, tuple[str, ...]]] = []
    for country, zones in section("fallback_zones").items():
        listed = tuple(sorted(_strings(zones, f"{name}: fallback_zones.{country}")))
        for zone in listed:
            if _zone(zone) is None:
                raise PackError(
                    _("rule pack {name}: unknown time zone {zone!r}").format(name=name, zone=zone)
                )
        fallback.append((country.strip().upper(), listed))
    where = f"rule pack {name}"
    return RulePack(
        name=name,
        title=str(data.get("title", name)),
        weekday_hours=_hours(need(hours, "weekday", "hours.weekday"), f"{where}: hours.weekday"),
        weekend_hours=_hours(need(hours, "weekend", "hours.weekend"), f"{where}: hours.weekend"),
        holiday_hours=_hours(need(hours, "holiday", "hours.holiday"), f"{where}: hours.holiday"),
        weekend_days=frozenset(WEEKDAY_NAMES.index(day) for day in weekend_names),
        holidays=frozenset(holidays),
        calls_per_debt=_count(frequency.get("calls_per_debt", 0), f"{where}: calls_per_debt"),
        calls_per_debt_days=max(
            1, _count(frequency.get("calls_per_debt_days", 7), f"{where}: calls_per_debt_days")
        ),
        quiet_after_conversation_days=_count(
            frequency.get("quiet_after_conversation_days", 0),
            f"{where}: quiet_after_conversation_days",
        ),
        unanswered_per_number_per_day=_count(
            frequency.get("unanswered_per_number_per_day", 0),
            f"{where}: unanswered_per_number_per_day",
        ),
        connected_per_debtor_per_day=_count(
            frequency.get("connected_per_debtor_per_day", 0),
            f"{where}: connected_per_debtor_per_day",
        ),
        counted_channels=_strings(
            frequency.get("counted_channels", ["call"]), f"{where}: counted_channels"
        ),
        inbound_counts=_flag(frequency.get("inbound_counts", False), f"{where}: inbound_counts"),
        consent_exempt=_flag(frequency.get("consent_exempt", False), f"{where}: consent_exempt"),
        # Absent: counted, the strict reading.
        voided_attempts_count=_flag(
            frequency.get("voided_attempts_count", True), f"{where}: voided_attempts_count"
        ),
        not_connected=_strings(dispositions.get("not_connected", []), f"{where}: not_connected"),
        unanswered=_strings(dispositions.get("unanswered", []), f"{where}: unanswered"),
        conversation=_strings(dispositions.get("conversation", []), f"{where}: conversation"),
        suspending_holds=_strings(holds.get("suspending", []), f"{where}: holds.suspending"),
        held_statuses=_strings(holds.get("statuses", []), f"{where}: holds.statuses"),
        third_party_kinds=_strings(third.get("phone_kinds", []), f"{where}: phone_kinds"),
        third_parties_only_when_unreachable=_flag(
            third.get("only_when_unreachable", True), f"{where}: only_when_unreachable"
        ),
        channels=_strings(channels.get("allowed", ["call"]), f"{where}: channels.allowed"),
        fallback_zones=tuple(sorted(fallback)),
        consent_lifts_hours=_flag(hours.get("consent_lifts", False), f"{where}: consent_lifts"),
        third_party_contacts=_count(
            third.get("contacts_without_request", 0), f"{where}: contacts_without_request"
        ),
    )


@lru_cache(maxsize=64)
def _load_cached(name: str, packs_dir: str | None) -> RulePack:
    return _pack_from_data(name, _raw_pack(name, packs_dir, frozenset()))


def load_pack(name: str, settings: Settings) -> RulePack:
    """The pack `name`: shipped TOML, overridden by `<packs_dir>/<name>.toml` when there is one."""
    return _load_cached(name.strip().lower(), settings.packs_dir)


def clear_pack_cache() -> None:
    """Forget loaded packs (after editing an override file in a running process)."""
    _load_cached.cache_clear()


def pack_for_country(country: str, settings: Settings) -> RulePack:
    code = (country or "").strip().upper()
    mapping = {**BUILTIN_COUNTRY_PACKS}
    mapping.update({key.strip().upper(): value for key, value in settings.country_packs.items()})
    return load_pack(mapping.get(code, settings.default_pack), settings)


# --- Time zones and hours -------------------------------------------------------------------------


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1)
def _zone_table() -> dict[str, tuple[str, ...]]:
    # The names only: a zone is loaded (and a name this system cannot load left out) when its
    # country is asked for, not ~420 zone files for the first queue of a process.
    try:
        text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        text = Path("/usr/share/zoneinfo/zone.tab").read_text(encoding="utf-8")
    table: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            table[parts[0].upper()].append(parts[2])
    return {country: tuple(sorted(zones)) for country, zones in table.items()}


@lru_cache(maxsize=512)
def country_zones(country: str) -> tuple[str, ...]:
    """Every zone tzdata lists for an ISO 3166 country (empty for an unknown code)."""
    listed = _zone_table().get((country or "").strip().upper(), ())
    return tuple(zone for zone in listed if _zone(zone) is not None)


@lru_cache(maxsize=65536)
def _placed(e164: str | None, stored: str) -> tuple[tuple[str, ...], bool]:
    """The number's own zones, and whether they are a whole numbering plan rather than a place."""
    zones = {zone.strip() for zone in stored.split(",") if zone.strip()}
    if not zones and e164:
        zones = set(zones_for(e164))
    known = tuple(sorted(zone for zone in zones if _zone(zone) is not None))
    whole_plan = False
    if len(known) > 1 and e164:
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None:
            number_type = phonenumbers.number_type(number)
            whole_plan = not phonenumbers.is_number_type_geographical(
                number_type, number.country_code or 0
            )
    return known, whole_plan


def phone_zones(e164: str | None, stored: str, country: str, pack: RulePack) -> tuple[str, ...]:
    """The zones a call to this number must respect (see the module notes on the fallback)."""
    zones, whole_plan = _placed(e164, stored or "")
    if zones and not whole_plan:
        return zones
    fallback = pack.zones_for_country(country)
    return fallback or zones


def _at(day: date, clock: time, zone: ZoneInfo, *, latest: bool) -> datetime:
    # A wall time that falls in a DST gap or repeats in an overlap has two readings; take the one
    # that keeps the window narrower (the later start, the earlier end).
    first = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
    second = datetime.combine(day, clock, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return max(first, second) if latest else min(first, second)


@lru_cache(maxsize=8192)
def _zone_intervals(
    zone_name: str, pack: RulePack, first: date, days: int
) -> tuple[tuple[datetime, datetime], ...]:
    zone = _zone(zone_name)
    assert zone is not None
    intervals: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        hours = pack.hours_on(day)
        if hours is None:
            continue
        start_clock, end_clock = hours
        start = _at(day, start_clock, zone, latest=True)
        end_day = day + timedelta(days=1) if end_clock == MIDNIGHT else day
        end = _at(end_day, end_clock, zone, latest=False)
        if end <= start:
            continue
        if intervals and intervals[-1][1] >= start:
            intervals[-1] = (intervals[-1][0], max(intervals[-1][1], end))
        else:
            intervals.append((start, end))
    return tuple(intervals)


def _intersect(
    left: Sequence[tuple[datetime, datetime]], right: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


@lru_cache(maxsize=4096)
def _open_intervals(
    zones: tuple[str, ...], pack: RulePack, utc_day: date
) -> tuple[tuple[datetime, datetime], ...]:
    # Starting two UTC days back covers the local day of every zone (offsets reach ±14 h).
    first = utc_day - timedelta(days=2)
    combined: list[tuple[datetime, datetime]] | None = None
    for zone in zones:
        own = _zone_intervals(zone, pack, first, HORIZON_DAYS + 3)
        combined = list(own) if combined is None else _intersect(combined, own)
    return tuple(combined or ())


def _next_open(zones: tuple[str, ...], at: datetime, pack: RulePack) -> datetime | None:
    if not zones:
        return None
    for start, end in _open_intervals(zones, pack, at.astimezone(UTC).date()):
        if end > at:
            return max(start, at)
    return None


def local_window_open(
    zones: Sequence[str], now: datetime, pack: RulePack
) -> tuple[bool, datetime | None]:
    """(open now in every zone, the first instant from `now` on when every zone is open).

    The instant is `now` itself when open now, None when no zone list is given or the hours stay
    shut for the next `HORIZON_DAYS` days. Pure: no database.
    """
    known = tuple(sorted({zone for zone in zones if _zone(zone) is not None}))
    if not known:
        return False, None
    instant = now.astimezone(UTC)
    opens = _next_open(known, instant, pack)
    return opens is not None and opens <= instant, opens


def _hours_text(hours: Hours) -> str:
    if hours is None:
        return _("none")
    start, end = hours
    return f"{start:%H:%M}–{'24:00' if end == MIDNIGHT else f'{end:%H:%M}'}"


def _window_reason(zones: Sequence[str], now: datetime, pack: RulePack) -> str:
    for zone_name in zones:
        zone = _zone(zone_name)
        if zone is None:
            continue
        local = now.astimezone(zone)
        hours = pack.hours_on(local.date())
        kind = pack.day_kind(local.date())
        if hours is None:
            return _("no calls on a {kind} in {zone} ({pack})").format(
                kind=_(_DAY_KINDS.get(kind, kind)), zone=zone_name, pack=pack.name
            )
        start, end = hours
        inside = local.time() >= start and (end == MIDNIGHT or local.time() < end)
        if not inside:
            return _("outside calling hours: {time} in {zone} (calls {hours}, {pack})").format(
                time=f"{local:%H:%M}", zone=zone_name, hours=_hours_text(hours), pack=pack.name
            )
    return _("outside calling hours ({pack})").format(pack=pack.name)


# --- Counting days in the debtor's calendar -------------------------------------------------------


def _day_start(instant: datetime, zones: Sequence[str], days_back: int) -> datetime:
    """Earliest local midnight, among the zones, of the day `days_back` days before `instant`'s."""
    starts = []
    for zone_name in zones:
        zone = _zone(zone_name)
        assert zone is not None
        local_day = instant.astimezone(zone).date() - timedelta(days=days_back)
        starts.append(_at(local_day, MIDNIGHT, zone, latest=False))
    return min(starts)


def _days_after(instant: datetime, zones: Sequence[str], days: int) -> datetime:
    """Latest local midnight, among the zones, `days` days after the start of `instant`'s day."""
    ends = []
    for zone_name in zones:
        zone = _zone(zone_name)
        assert zone is not None
        local_day = instant.astimezone(zone).date() + timedelta(days=days)
        ends.append(_at(local_day, MIDNIGHT, zone, latest=True))
    return max(ends)


def _cap_reached(
    times: Iterable[datetime], cap: int, days: int, zones: Sequence[str], at: datetime
) -> tuple[int, datetime] | None:
    """(count, the instant the count drops below `cap`) when `cap` or more fall in the `days`
    calendar days ending with `at`'s day; None while under the cap."""
    if cap <= 0:
        return None
    start = _day_start(at, zones, days - 1)
    recent = sorted((t for t in times if t >= start), reverse=True)
    if len(recent) < cap:
        return None
    # Once the cap-th most recent call has left the window, so have all the older ones.
    return len(recent), _days_after(recent[cap - 1], zones, days)


# --- The check ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PhoneRow:
    id: uuid.UUID
    debtor_id: uuid.UUID
    e164: str | None
    kind: str
    valid: bool
    do_not_call: bool
    time_zones: str
    consent_until: datetime | None
    status: str = "valid"
    retired_at: datetime | None = None
    # A third party's number: they objected (never again), or their contacts so far.
    third_party_objected: bool = False
    third_party_contacts: int = 0

    @property
    def dialable(self) -> bool:
        """The mark allows dialling (services/contacts keeps `valid`/`do_not_call` in step)."""
        return (
            self.valid
            and bool(self.e164)
            and not self.do_not_call
            and self.status not in ("wrong", "disconnected", "dnc")
            and self.retired_at is None
            and not self.third_party_objected
        )


@dataclass(frozen=True, slots=True)
class _Attempt:
    id: uuid.UUID
    case_id: uuid.UUID
    debtor_id: uuid.UUID
    occurred_at: datetime
    channel: str
    direction: str
    phone_id: uuid.UUID | None
    e164: str | None
    disposition: str | None
    with_consent: bool
    voids_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class _Block:
    until: datetime
    reason: str
    presumption: bool  # a frequency rule that prior consent lifts (Regulation F)


# Lazy (i18n.N_): the verdicts are worded in the interface's language where they are made.
_HOLD_REASONS = {
    "cease": N_("cease communication"),
    "dispute": N_("dispute hold"),
    "complaint": N_("complaint hold"),
    "hardship": N_("hardship hold"),
    "legal": N_("legal hold"),
    "bankruptcy": N_("bankruptcy hold"),
    "deceased": N_("deceased hold"),
}
_STATUS_REASONS = {"dispute": N_("open dispute"), "legal": N_("with legal")}
_DAY_KINDS = {"weekday": N_("weekday"), "weekend": N_("weekend"), "holiday": N_("holiday")}
THIRD_PARTY_NOTE = N_(
    "third-party number only: ask how to reach the debtor; never disclose the debt"
)


def routed_reason_text(routed_reason: str) -> str:
    """Why a case routed to the supervisors is held, as the queue and the verdict say it."""
    return _("routed to a supervisor: {reason}").format(reason=routed_reason)


def _held(reason: str) -> Verdict:
    return Verdict(False, reason, None, ())


def contact_block(
    case: CaseFacts, holds: Sequence[tuple[str, str | None]], pack: RulePack
) -> str | None:
    """Why no one may contact the debtor about this case by any channel (a closed case, a hold the
    pack suspends on, a held status, a deceased or bankrupt debtor, a case routed to the
    supervisors), or None. `holds` are the case's active holds as (kind, reason)."""
    if case.status in CLOSED_STATUSES:
        return _("case {status}").format(status=case_status_label(case.status))
    for kind, reason in holds:
        if kind in pack.suspending_holds:
            label = _HOLD_REASONS.get(kind)
            text = _(label) if label is not None else _("{kind} hold").format(kind=kind)
            return f"{text}: {reason}" if reason else text
    if case.status in pack.held_statuses:
        label = _STATUS_REASONS.get(case.status)
        return _(label) if label is not None else _("status {status}").format(status=case.status)
    if case.deceased:
        return _("debtor deceased")
    if case.bankrupt:
        return _("debtor bankrupt")
    if case.routed_reason:
        return routed_reason_text(case.routed_reason)
    return None


def hours_block(
    zones: Sequence[str], now: datetime, pack: RulePack
) -> tuple[str, datetime | None] | None:
    """(why not now, when the hours open in every zone) while `now` is outside the pack's contact
    hours in one of `zones`; None inside them. Written messages (SMS, e-mail) keep to the hours
    as calls do. Pure: no database."""
    open_now, opens = local_window_open(zones, now, pack)
    if open_now:
        return None
    known = tuple(zone for zone in zones if _zone(zone) is not None)
    if not known:
        return _("the debtor's time zone is unknown"), None
    return _window_reason(known, now.astimezone(UTC), pack), opens


def _counts_toward_cap(attempt: _Attempt, pack: RulePack) -> bool:
    return (
        attempt.channel in pack.counted_channels
        and (attempt.direction != "inbound" or pack.inbound_counts)
        and attempt.disposition not in pack.not_connected
        and not (pack.consent_exempt and attempt.with_consent)
    )


def _is_conversation(attempt: _Attempt, pack: RulePack) -> bool:
    if attempt.channel != "call":
        return False
    if attempt.direction == "inbound":
        # The debtor called: a conversation unless the log says nobody was there.
        return attempt.disposition not in pack.unanswered | pack.not_connected
    return attempt.disposition in pack.conversation


def _is_unanswered(attempt: _Attempt, pack: RulePack) -> bool:
    return (
        attempt.channel == "call"
        and attempt.direction != "inbound"
        and (attempt.disposition is None or attempt.disposition in pack.unanswered)
        and not (pack.consent_exempt and attempt.with_consent)
    )


def _is_connected(attempt: _Attempt, pack: RulePack) -> bool:
    return (
        attempt.channel == "call"
        and attempt.direction != "inbound"
        and attempt.disposition is not None
        and attempt.disposition not in pack.unanswered
        and attempt.disposition not in pack.not_connected
        and not (pack.consent_exempt and attempt.with_consent)
    )


def _first_zone_day(instant: datetime, zones: Sequence[str]) -> date:
    zone = _zone(zones[0]) if zones else None
    return instant.astimezone(zone or UTC).date()


def _evaluate(
    *,
    case: CaseFacts,
    pack: RulePack,
    phones: Sequence[_PhoneRow],
    holds: Sequence[tuple[str, str | None]],
    case_attempts: Sequence[_Attempt],
    debtor_attempts: Sequence[_Attempt],
    number_attempts: Mapping[str, Sequence[_Attempt]],
    now: datetime,
    not_before: datetime,
) -> Verdict:
    """One case's verdict; `number_attempts` maps numbers to their calls, whoever's case they were
    made on, and `debtor_attempts` also carries the debtor's calls logged without a number."""
    blocked = contact_block(case, holds, pack)
    if blocked is not None:
        return _held(blocked)
    if "call" not in pack.channels:
        return _held(_("calls not allowed ({pack})").format(pack=pack.name))
    if not phones:
        return _held(_("no phone number"))
    usable = [p for p in phones if p.dialable]
    if pack.third_party_contacts:
        usable = [
            p
            for p in usable
            if p.kind not in pack.third_party_kinds
            or p.third_party_contacts < pack.third_party_contacts
        ]
    if not usable:
        if any(p.third_party_contacts for p in phones if p.dialable):
            return _held(
                _(
                    "no number: the third party was contacted already; again only at their "
                    "request ({pack})"
                ).format(pack=pack.name)
            )
        return _held(_("all numbers do-not-call or invalid"))
    own = [p for p in usable if p.kind not in pack.third_party_kinds]
    third_party_only = False
    targets = usable
    if pack.third_parties_only_when_unreachable:
        targets = own or usable
        third_party_only = not own

    zones_of = {p.id: phone_zones(p.e164, p.time_zones, case.country, pack) for p in targets}
    day_zones = tuple(sorted({zone for zones in zones_of.values() for zone in zones}))
    day_zones = day_zones or pack.zones_for_country(case.country) or ("UTC",)
    t0 = max(now, not_before)

    blocks: list[_Block] = []
    if pack.calls_per_debt:
        counted = [a.occurred_at for a in case_attempts if _counts_toward_cap(a, pack)]
        reached = _cap_reached(
            counted, pack.calls_per_debt, pack.calls_per_debt_days, day_zones, t0
        )
        if reached:
            count, until = reached
            blocks.append(
                _Block(
                    until,
                    _(
                        "call cap: {count} calls about this debt in {days} days "
                        "(limit {limit}, {pack})"
                    ).format(
                        count=count,
                        days=pack.calls_per_debt_days,
                        limit=pack.calls_per_debt,
                        pack=pack.name,
                    ),
                    True,
                )
            )
    if pack.quiet_after_conversation_days:
        talks = [a.occurred_at for a in case_attempts if _is_conversation(a, pack)]
        if talks:
            latest = max(talks)
            until = _days_after(latest, day_zones, pack.quiet_after_conversation_days)
            if until > t0:
                blocks.append(
                    _Block(
                        until,
                        _("conversation on {day}: {days}-day quiet period ({pack})").format(
                            day=format_day(_first_zone_day(latest, day_zones)),
                            days=pack.quiet_after_conversation_days,
                            pack=pack.name,
                        ),
                        True,
                    )
                )
    if pack.connected_per_debtor_per_day:
        connected = [a.occurred_at for a in debtor_attempts if _is_connected(a, pack)]
        reached = _cap_reached(connected, pack.connected_per_debtor_per_day, 1, day_zones, t0)
        if reached:
            count, until = reached
            blocks.append(
                _Block(
                    until,
                    _(
                        "{count} connected calls to this debtor today (limit {limit}, {pack})"
                    ).format(count=count, limit=pack.connected_per_debtor_per_day, pack=pack.name),
                    False,
                )
            )

    known_numbers = {p.id for p in phones}
    unknown_number = [
        a
        for a in debtor_attempts
        if a.e164 is None and (a.phone_id is None or a.phone_id not in known_numbers)
    ]
    results: list[tuple[_PhoneRow, datetime | None, str | None]] = []
    for phone in targets:
        zones = zones_of[phone.id]
        if not zones:
            unknown = _("local time unknown for {number}").format(
                number=mask_phone(phone.e164 or "")
            )
            results.append((phone, None, unknown))
            continue
        phone_blocks = list(blocks)
        if pack.unanswered_per_number_per_day and phone.e164:
            # A call logged without its number may have been to this one: count it here too.
            dialled = [*number_attempts.get(phone.e164, ()), *unknown_number]
            unanswered = [a.occurred_at for a in dialled if _is_unanswered(a, pack)]
            reached = _cap_reached(unanswered, pack.unanswered_per_number_per_day, 1, zones, t0)
            if reached:
                count, until = reached
                phone_blocks.append(
                    _Block(
                        until,
                        _(
                            "{count} unanswered calls today to {number} (limit {limit}, {pack})"
                        ).format(
                            count=count,
                            number=mask_phone(phone.e164),
                            limit=pack.unanswered_per_number_per_day,
                            pack=pack.name,
                        ),
                        False,
                    )
                )
        ready = max([t0, *(b.until for b in phone_blocks)])
        opens = _next_open(zones, ready, pack)
        binding = phone_blocks
        consent = phone.consent_until
        if pack.consent_exempt and consent is not None and consent > t0:
            lifted = [b for b in phone_blocks if not b.presumption]
            other = _next_open(zones, max([t0, *(b.until for b in lifted)]), pack)
            if other is not None and other < consent and (opens is None or other < opens):
                opens, binding = other, lifted
        if pack.consent_lifts_hours and consent is not None and consent > t0:
            # Prior consent to be called at otherwise inconvenient times: the hours do not bind
            # until it ends; the caps still do (those consent lifts were lifted above).
            lifted = [b for b in phone_blocks if not (pack.consent_exempt and b.presumption)]
            at = max([t0, *(b.until for b in lifted)])
            if at < consent and (opens is None or at < opens):
                opens, binding = at, lifted
        if opens is None:
            none_soon = _("no calling hours in the next {days} days").format(days=HORIZON_DAYS)
            results.append((phone, None, none_soon))
            continue
        if opens <= now:
            results.append((phone, opens, None))
            continue
        blocking_now = [b for b in binding if b.until > now]
        if blocking_now:
            reason = max(blocking_now, key=lambda b: b.until).reason
        elif not_before > now:
            reason = None  # the caller knows why it waits (a follow-up, a retry)
        else:
            reason = _window_reason(zones, now, pack)
        results.append((phone, opens, reason))

    callable_now = tuple(phone.id for phone, at, _ in results if at is not None and at <= now)
    if callable_now:
        note = _(THIRD_PARTY_NOTE) if third_party_only else None
        return Verdict(True, note, None, callable_now)
    timed = [(at, reason) for _, at, reason in results if at is not None]
    if timed:
        at, reason = min(timed, key=lambda item: item[0])
        return Verdict(False, reason, at, ())
    return _held(next(reason for _, _, reason in results if reason) or _("not callable"))


def evaluate_cases(
    *,
    session: Session,
    cases: Sequence[CaseFacts],
    now: datetime,
    settings: Settings,
    not_before: Mapping[uuid.UUID, datetime] | None = None,
    lasting: dict[uuid.UUID, tuple[datetime, tuple[str, ...]]] | None = None,
) -> dict[uuid.UUID, Verdict]:
    """Verdicts for a batch of cases with a fixed number of queries (not one per case).

    `not_before` asks, per case, for the first callable instant from then on (a future follow-up);
    such a case is not callable now, and its verdict's reason is None unless something else holds.
    Given `lasting`, it receives per case (the instant until which the verdict stays the same if
    no data changes, the debtor's numbers): what a cache of verdicts needs (rules/verdicts.py).
    """
    if not cases:
        return {}
    now = now.astimezone(UTC)
    packs: dict[str, RulePack] = {}
    for case in cases:
        if case.country not in packs:
            packs[case.country] = pack_for_country(case.country, settings)
    case_ids = [case.case_id for case in cases]
    debtor_ids = list({case.debtor_id for case in cases})

    holds: dict[uuid.UUID, list[tuple[str, str | None]]] = defaultdict(list)
    for case_id, kind, reason in session.exec(
        select(Hold.case_id, Hold.kind, Hold.reason)
        .where(col(Hold.case_id).in_(case_ids), col(Hold.released_at).is_(None))
        .order_by(col(Hold.placed_at))
    ):
        holds[case_id].append((kind, reason))

    phones: dict[uuid.UUID, list[_PhoneRow]] = defaultdict(list)
    for row in session.exec(
        select_columns(
            Phone.id,
            Phone.debtor_id,
            Phone.e164,
            Phone.kind,
            Phone.valid,
            Phone.do_not_call,
            Phone.time_zones,
            Phone.consent_until,
            Phone.status,
            Phone.retired_at,
        )
        .where(col(Phone.debtor_id).in_(debtor_ids))
        .order_by(col(Phone.is_primary).desc(), col(Phone.created_at), col(Phone.id))
    ):
        phones[row[1]].append(_PhoneRow(*row))
    _third_parties(session, phones, debtor_ids, packs)

    history_days = max(pack.history_days for pack in packs.values())
    attempts: dict[uuid.UUID, _Attempt] = {}
    if history_days:
        # One more day than the rules need: a local day can start up to 14 hours before UTC's.
        since = now - timedelta(days=history_days + 1)
        channels = channels_of(packs)
        columns = (
            Activity.id,
            Activity.case_id,
            Case.debtor_id,
            Activity.occurred_at,
            Activity.channel,
            Activity.direction,
            Activity.phone_id,
            Activity.phone_e164,
            Activity.disposition,
            Activity.with_consent,
            Activity.voids_id,
        )
        statement = (
            select_columns(*columns)
            .join(Case, col(Case.id) == col(Activity.case_id))
            .where(
                col(Case.debtor_id).in_(debtor_ids),
                col(Activity.occurred_at) >= since,
                # The voids too (notes that name a voided attempt): a void comes after what it
                # voids, so the window holds it.
                or_(
                    col(Activity.channel).in_(sorted(channels)),
                    col(Activity.voids_id).is_not(None),
                ),
            )
        )
        for row in session.exec(statement):
            attempts[row[0]] = _Attempt(*row)
        # A number shared by several debtors (a family landline) has one daily count: read the
        # other debtors' calls to the numbers that such a cap applies to (ours are in already).
        capped = {c.debtor_id for c in cases if packs[c.country].unanswered_per_number_per_day}
        numbers = sorted(
            {
                p.e164
                for debtor_id in capped
                for p in phones.get(debtor_id, ())
                if p.e164 and p.dialable
            }
        )
        if numbers:
            shared = (
                select_columns(*columns)
                .join(Case, col(Case.id) == col(Activity.case_id))
                .where(
                    col(Activity.phone_e164).in_(numbers),
                    col(Activity.occurred_at) >= now - timedelta(days=2),
                    col(Activity.channel) == "call",
                    col(Case.debtor_id).not_in(debtor_ids),
                )
            )
            for row in session.exec(shared):
                attempts.setdefault(row[0], _Attempt(*row))

    voided = {a.voids_id for a in attempts.values() if a.voids_id is not None}
    # The rows that are attempts (never a void or a correction row itself), with and without the
    # voided ones; each case reads the set its pack's `voided_attempts_count` chooses.
    attempt_channels = channels_of(packs)
    logged = [a for a in attempts.values() if a.voids_id is None and a.channel in attempt_channels]
    e164_of_phone = {p.id: p.e164 for rows in phones.values() for p in rows}
    groups = {
        True: _group(logged, e164_of_phone),
        False: _group([a for a in logged if a.id not in voided], e164_of_phone),
    }

    waits = not_before or {}
    verdicts: dict[uuid.UUID, Verdict] = {}
    for case in cases:
        pack = packs[case.country]
        by_case, by_debtor, by_number = groups[pack.voided_attempts_count]
        wait = max(now, waits.get(case.case_id, now).astimezone(UTC))
        own_phones = phones.get(case.debtor_id, ())
        verdict = _evaluate(
            case=case,
            pack=pack,
            phones=own_phones,
            holds=holds.get(case.case_id, ()),
            case_attempts=by_case.get(case.case_id, ()),
            debtor_attempts=by_debtor.get(case.debtor_id, ()),
            number_attempts=by_number,
            now=now,
            not_before=wait,
        )
        verdicts[case.case_id] = verdict
        if lasting is not None:
            lasting[case.case_id] = (
                verdict_lasts_until(case, pack, own_phones, now, wait, verdict),
                tuple(sorted({p.e164 for p in own_phones if p.e164})),
            )
    return verdicts


def _next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def verdict_lasts_until(
    case: CaseFacts,
    pack: RulePack,
    phones: Sequence[_PhoneRow],
    now: datetime,
    not_before: datetime,
    verdict: Verdict,
) -> datetime:
    """The first instant after `now` at which `_evaluate` could answer otherwise with the same
    data: the verdict holds on [now, that instant).

    Time enters the rules only through these instants, each counted here (a superset is safe: it
    only ends a cached verdict early): a local midnight in a zone the rules may read (the day a
    cap or quiet period counts from, the day's hours, and every block's end, which is such a
    midnight), UTC midnight (the horizon of calling hours), a start or end of calling hours in
    one of those zones (the intersection of several zones' hours starts and ends at one of them),
    a consent's end, the wait asked for, the verdict's own callable instant, and, for a reason
    that quotes the local time ("outside calling hours: 21:30 in ..."), the next minute.
    """
    zones = set(pack.zones_for_country(case.country)) | {"UTC"}
    for phone in phones:
        zones.update(phone_zones(phone.e164, phone.time_zones, case.country, pack))
    utc_day = now.date()
    candidates = [datetime.combine(utc_day + timedelta(days=1), MIDNIGHT, tzinfo=UTC)]
    for name in zones:
        zone = _zone(name)
        if zone is None:
            continue
        local_day = now.astimezone(zone).date()
        for offset in (1, 2):
            day = local_day + timedelta(days=offset)
            for latest in (False, True):
                at = _at(day, MIDNIGHT, zone, latest=latest)
                if at > now:
                    candidates.append(at)
        for start, end in _open_intervals((name,), pack, utc_day):
            if end > now:
                candidates.append(start if start > now else end)
                break
    candidates.extend(
        phone.consent_until
        for phone in phones
        if phone.consent_until is not None and phone.consent_until > now
    )
    if not_before > now:
        candidates.append(not_before)
    if verdict.callable_at is not None and verdict.callable_at > now:
        candidates.append(verdict.callable_at)
    if not verdict.callable and (verdict.reason or "").startswith("outside calling hours:"):
        candidates.append(_next_minute(now))
    return min(candidates)


def _third_parties(
    session: Session,
    phones: dict[uuid.UUID, list[_PhoneRow]],
    debtor_ids: Sequence[uuid.UUID],
    packs: Mapping[str, RulePack],
) -> None:
    """Mark the third parties' numbers: objected (or retired) ones are never dialled again, and
    where a pack limits the contacts with a third party, count them (all time, since the request
    to be called again when there is one)."""
    parties = session.exec(
        select(
            ThirdParty.phone_id,
            ThirdParty.objected_at,
            ThirdParty.retired_at,
            ThirdParty.recontact_requested_at,
        ).where(col(ThirdParty.debtor_id).in_(debtor_ids), col(ThirdParty.phone_id).is_not(None))
    ).all()
    if not parties:
        return
    of_phone = {
        phone_id: (objected, retired, asked) for phone_id, objected, retired, asked in parties
    }
    contacts: dict[uuid.UUID, int] = defaultdict(int)
    if any(pack.third_party_contacts for pack in packs.values()):
        gone = set(
            session.exec(
                select(Activity.voids_id).where(
                    col(Activity.voids_id).is_not(None),
                    col(Activity.case_id).in_(
                        select(Case.id).where(col(Case.debtor_id).in_(debtor_ids))
                    ),
                )
            ).all()
        )
        silent = set().union(*(pack.unanswered | pack.not_connected for pack in packs.values()))
        for attempt_id, phone_id, occurred_at, disposition in session.exec(
            select(
                Activity.id, Activity.phone_id, Activity.occurred_at, Activity.disposition
            ).where(
                col(Activity.phone_id).in_(list(of_phone)),
                Activity.channel == "call",
                col(Activity.voids_id).is_(None),
            )
        ):
            asked = of_phone[phone_id][2] if phone_id is not None else None
            if attempt_id in gone or disposition is None or disposition in silent:
                continue
            if asked is not None and occurred_at < asked:
                continue
            if phone_id is not None:
                contacts[phone_id] += 1
    for rows in phones.values():
        for position, phone in enumerate(rows):
            found = of_phone.get(phone.id)
            if found is None:
                continue
            objected, retired, _asked = found
            rows[position] = replace(
                phone,
                third_party_objected=objected is not None or retired is not None,
                third_party_contacts=contacts.get(phone.id, 0),
            )


def channels_of(packs: Mapping[str, RulePack]) -> frozenset[str]:
    """The channels whose rows are attempts for some pack here (calls always are)."""
    return frozenset({"call"}.union(*(pack.counted_channels for pack in packs.values())))


def _group(
    attempts: Iterable[_Attempt], e164_of_phone: Mapping[uuid.UUID, str | None]
) -> tuple[
    dict[uuid.UUID, list[_Attempt]], dict[uuid.UUID, list[_Attempt]], dict[str, list[_Attempt]]
]:
    """Attempts by case, by debtor and by number dialled."""
    by_case: dict[uuid.UUID, list[_Attempt]] = defaultdict(list)
    by_debtor: dict[uuid.UUID, list[_Attempt]] = defaultdict(list)
    by_number: dict[str, list[_Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_case[attempt.case_id].append(attempt)
        by_debtor[attempt.debtor_id].append(attempt)
        number = attempt.e164 or (
            e164_of_phone.get(attempt.phone_id) if attempt.phone_id is not None else None
        )
        if number:
            by_number[number].append(attempt)
    return by_case, by_debtor, by_number


def check_case(*, session: Session, case: Case, now: datetime, settings: Settings) -> Verdict:
    """May this case be called now: holds, status, phones, hours and caps."""
    debtor = session.get(Debtor, case.debtor_id)
    facts = CaseFacts(
        case_id=case.id,
        debtor_id=case.debtor_id,
        country=debtor.country if debtor is not None else "",
        status=case.status,
        routed_reason=case.routed_reason,
        deceased=bool(debtor and debtor.deceased),
        bankrupt=bool(debtor and debtor.bankrupt),
    )
    return evaluate_cases(session=session, cases=[facts], now=now, settings=settings)[case.id]


# --- One case's zones: the debtor's "today" and the next allowed contact time ---------------------


def case_contact_zones(
    *, session: Session, case: Case, settings: Settings
) -> tuple[RulePack, tuple[str, ...]]:
    """The case's rule pack and the zones a contact must respect: those of the first number that
    may be called (the primary first), else the pack's zones for the debtor's country."""
    debtor = session.get(Debtor, case.debtor_id)
    country = debtor.country if debtor is not None else ""
    pack = pack_for_country(country, settings)
    phones = session.exec(
        select(Phone.e164, Phone.time_zones)
        .where(
            Phone.debtor_id == case.debtor_id,
            col(Phone.valid),
            ~col(Phone.do_not_call),
            col(Phone.retired_at).is_(None),
        )
        .order_by(col(Phone.is_primary).desc(), col(Phone.created_at), col(Phone.id))
    ).all()
    for e164, stored in phones:
        zones = phone_zones(e164, stored, country, pack)
        if zones:
            return pack, zones
    return pack, tuple(zone for zone in pack.zones_for_country(country) if _zone(zone))


def debtor_today(
    *, session: Session, case: Case, now: datetime, settings: Settings
) -> tuple[date, str]:
    """(the debtor's calendar date now, the zone it is read in). Due dates are the debtor's days:
    the form's hint and the service's check both read this, so they cannot disagree. UTC when the
    debtor's zone is unknown."""
    _pack, zones = case_contact_zones(session=session, case=case, settings=settings)
    name = zones[0] if zones else "UTC"
    zone = _zone(name) or UTC
    return now.astimezone(zone).date(), name


def next_allowed_contact(
    *, session: Session, case: Case, at: datetime, settings: Settings
) -> tuple[datetime | None, tuple[str, ...]]:
    """(the first instant at or after `at` inside the case's contact hours, the zones read).

    The instant is `at` itself when it is inside; None when the zones are unknown or the hours
    stay shut for the pack's horizon. Holds and caps are not considered: this is about hours."""
    pack, zones = case_contact_zones(session=session, case=case, settings=settings)
    _open, opens = local_window_open(zones, at, pack)
    return opens, zones
