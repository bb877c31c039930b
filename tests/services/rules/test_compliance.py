"""Rule packs, contact hours across time zones, Regulation F counting, the `cn` caps, holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Activity, Case, Debtor, Phone
from collector_tui.phones import parse_phone
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, holds
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.rules import compliance, scoring
from collector_tui.services.rules.compliance import (
    PackError,
    Verdict,
    check_case,
    clear_pack_cache,
    load_pack,
    local_window_open,
    pack_for_country,
    phone_zones,
)

NY = "America/New_York"
HONOLULU = "Pacific/Honolulu"
DENVER = "America/Denver"
CENTRAL_ND = "America/North_Dakota/Center"
ANCHORAGE = "America/Anchorage"
ADAK = "America/Adak"
SHANGHAI = "Asia/Shanghai"
LONDON = "Europe/London"

# Real numbers, each checked against phonenumbers in test_numbers_map_to_the_zones_we_assume.
NYC_PHONE = "+1 212 736 5000"
NYC_PHONE_2 = "+1 212 555 0123"
HONOLULU_PHONE = "+1 808 586 0034"
SOUTH_DAKOTA_PHONE = "+1 605 555 0123"
ALASKA_PHONE = "+1 907 555 0123"
TOLL_FREE_PHONE = "+1 800 555 0123"
SHANGHAI_MOBILE = "+86 138 0013 8000"
SHANGHAI_MOBILE_2 = "+86 139 1234 5678"
BEIJING_LANDLINE = "+86 10 6552 9988"
LONDON_PHONE = "+44 20 7946 0018"


def local(wall: str, zone: str) -> datetime:
    """An instant given as the wall-clock time in a zone ("2026-11-20 07:59")."""
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "zones"),
    [
        (NYC_PHONE, (NY,)),
        (NYC_PHONE_2, (NY,)),
        (HONOLULU_PHONE, (HONOLULU,)),
        (SOUTH_DAKOTA_PHONE, (DENVER, CENTRAL_ND)),
        (ALASKA_PHONE, (ADAK, ANCHORAGE)),
        (SHANGHAI_MOBILE, (SHANGHAI,)),
        (SHANGHAI_MOBILE_2, (SHANGHAI,)),
        (BEIJING_LANDLINE, (SHANGHAI,)),
        (LONDON_PHONE, (LONDON,)),
    ],
)
def test_numbers_map_to_the_zones_we_assume(text: str, zones: tuple[str, ...]) -> None:
    parsed = parse_phone(text, None)
    assert parsed.valid
    assert tuple(sorted(parsed.time_zones)) == zones


# --- Hours ----------------------------------------------------------------------------------------

# (pack, zones of the number, instant as (wall, zone), open now, next open as (wall, zone))
WINDOWS = [
    # New York, 08:00-21:00, Friday 2026-11-20 (EST).
    ("us", (NY,), ("2026-11-20 07:59", NY), False, ("2026-11-20 08:00", NY)),
    ("us", (NY,), ("2026-11-20 08:00", NY), True, ("2026-11-20 08:00", NY)),
    ("us", (NY,), ("2026-11-20 20:59", NY), True, ("2026-11-20 20:59", NY)),
    ("us", (NY,), ("2026-11-20 21:00", NY), False, ("2026-11-21 08:00", NY)),
    # Honolulu, five hours behind New York.
    ("us", (HONOLULU,), ("2026-11-20 07:59", HONOLULU), False, ("2026-11-20 08:00", HONOLULU)),
    ("us", (HONOLULU,), ("2026-11-20 08:00", HONOLULU), True, ("2026-11-20 08:00", HONOLULU)),
    ("us", (HONOLULU,), ("2026-11-20 20:59", HONOLULU), True, ("2026-11-20 20:59", HONOLULU)),
    ("us", (HONOLULU,), ("2026-11-20 21:00", HONOLULU), False, ("2026-11-21 08:00", HONOLULU)),
    # South Dakota number spanning Mountain and Central: open from 08:00 Mountain to 21:00 Central.
    ("us", (DENVER, CENTRAL_ND), ("2026-11-20 07:59", DENVER), False, ("2026-11-20 08:00", DENVER)),
    ("us", (DENVER, CENTRAL_ND), ("2026-11-20 08:00", DENVER), True, ("2026-11-20 08:00", DENVER)),
    (
        "us",
        (DENVER, CENTRAL_ND),
        ("2026-11-20 08:30", CENTRAL_ND),
        False,
        ("2026-11-20 08:00", DENVER),
    ),
    (
        "us",
        (DENVER, CENTRAL_ND),
        ("2026-11-20 20:59", CENTRAL_ND),
        True,
        ("2026-11-20 20:59", CENTRAL_ND),
    ),
    (
        "us",
        (DENVER, CENTRAL_ND),
        ("2026-11-20 21:00", CENTRAL_ND),
        False,
        ("2026-11-21 08:00", DENVER),
    ),
    # Alaska number spanning Anchorage and Adak: 08:00 Adak to 21:00 Anchorage.
    ("us", (ADAK, ANCHORAGE), ("2026-11-20 07:59", ADAK), False, ("2026-11-20 08:00", ADAK)),
    ("us", (ADAK, ANCHORAGE), ("2026-11-20 08:30", ANCHORAGE), False, ("2026-11-20 08:00", ADAK)),
    ("us", (ADAK, ANCHORAGE), ("2026-11-20 08:00", ADAK), True, ("2026-11-20 08:00", ADAK)),
    (
        "us",
        (ADAK, ANCHORAGE),
        ("2026-11-20 20:59", ANCHORAGE),
        True,
        ("2026-11-20 20:59", ANCHORAGE),
    ),
    ("us", (ADAK, ANCHORAGE), ("2026-11-20 21:00", ANCHORAGE), False, ("2026-11-21 08:00", ADAK)),
    # Shanghai under `cn`: no calls 22:00-08:00.
    ("cn", (SHANGHAI,), ("2026-11-20 07:59", SHANGHAI), False, ("2026-11-20 08:00", SHANGHAI)),
    ("cn", (SHANGHAI,), ("2026-11-20 08:00", SHANGHAI), True, ("2026-11-20 08:00", SHANGHAI)),
    ("cn", (SHANGHAI,), ("2026-11-20 21:59", SHANGHAI), True, ("2026-11-20 21:59", SHANGHAI)),
    ("cn", (SHANGHAI,), ("2026-11-20 22:00", SHANGHAI), False, ("2026-11-21 08:00", SHANGHAI)),
    ("cn", (SHANGHAI,), ("2026-11-21 23:30", SHANGHAI), False, ("2026-11-22 08:00", SHANGHAI)),
    # London under `uk`: weekdays 08:00-21:00, weekends and bank holidays 09:00-17:00.
    ("uk", (LONDON,), ("2026-11-20 07:59", LONDON), False, ("2026-11-20 08:00", LONDON)),
    ("uk", (LONDON,), ("2026-11-20 08:00", LONDON), True, ("2026-11-20 08:00", LONDON)),
    ("uk", (LONDON,), ("2026-11-20 20:59", LONDON), True, ("2026-11-20 20:59", LONDON)),
    ("uk", (LONDON,), ("2026-11-20 21:00", LONDON), False, ("2026-11-21 09:00", LONDON)),
    ("uk", (LONDON,), ("2026-12-25 08:30", LONDON), False, ("2026-12-25 09:00", LONDON)),
    ("uk", (LONDON,), ("2026-12-25 17:00", LONDON), False, ("2026-12-26 09:00", LONDON)),
    # The strict default: weekdays 09:00-20:00 only.
    ("default", (LONDON,), ("2026-11-21 10:00", LONDON), False, ("2026-11-23 09:00", LONDON)),
    # Across the end of US daylight time (Sunday 2026-11-01 02:00): the night lasts 25 hours.
    ("us", (NY,), ("2026-10-31 20:59", NY), True, ("2026-10-31 20:59", NY)),
    ("us", (NY,), ("2026-10-31 21:00", NY), False, ("2026-11-01 08:00", NY)),
    ("us", (NY,), ("2026-11-01 07:59", NY), False, ("2026-11-01 08:00", NY)),
    ("us", (NY,), ("2026-11-01 08:00", NY), True, ("2026-11-01 08:00", NY)),
    # ... and its start (Sunday 2026-03-08): a 23-hour night.
    ("us", (NY,), ("2026-03-07 21:00", NY), False, ("2026-03-08 08:00", NY)),
    ("us", (NY,), ("2026-03-08 07:59", NY), False, ("2026-03-08 08:00", NY)),
    # UK summer time ends on Sunday 2026-10-25.
    ("uk", (LONDON,), ("2026-10-24 17:00", LONDON), False, ("2026-10-25 09:00", LONDON)),
    ("uk", (LONDON,), ("2026-10-25 08:59", LONDON), False, ("2026-10-25 09:00", LONDON)),
]


@pytest.mark.parametrize(("pack_name", "zones", "at", "is_open", "opens"), WINDOWS)
def test_contact_hours_in_every_zone_of_the_number(
    settings: Settings,
    pack_name: str,
    zones: tuple[str, ...],
    at: tuple[str, str],
    is_open: bool,
    opens: tuple[str, str],
) -> None:
    pack = load_pack(pack_name, settings)
    assert local_window_open(zones, local(*at), pack) == (is_open, local(*opens))


def test_the_dst_night_is_measured_in_real_hours(settings: Settings) -> None:
    pack = load_pack("us", settings)
    _, opens = local_window_open((NY,), local("2026-10-31 21:00", NY), pack)
    assert opens is not None
    assert opens - local("2026-10-31 21:00", NY) == timedelta(hours=12)  # 11 h + the extra hour
    assert opens == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_no_zone_means_never_open(settings: Settings) -> None:
    pack = load_pack("us", settings)
    assert local_window_open((), local("2026-11-20 12:00", NY), pack) == (False, None)
    assert local_window_open(("Etc/Unknown",), local("2026-11-20 12:00", NY), pack) == (
        False,
        None,
    )


def test_zones_fall_back_to_the_country_strictly(settings: Settings) -> None:
    us, cn, fallback = (load_pack(name, settings) for name in ("us", "cn", "default"))
    toll_free = parse_phone(TOLL_FREE_PHONE, None)
    assert toll_free.kind == "toll_free" and len(toll_free.time_zones) > 30  # the whole +1 plan
    # Toll-free: the debtor's country, all of its zones (Hawaii and Adak included).
    zones = phone_zones(toll_free.e164, ",".join(toll_free.time_zones), "US", us)
    assert zones == compliance.country_zones("US")
    assert {NY, HONOLULU, ADAK} <= set(zones) and "America/Toronto" not in zones
    # No zone at all: the country; a single-zone country is exact.
    assert phone_zones("+442079460018", "", "GB", us) == (LONDON,)
    # China: the `cn` pack knows Beijing time is the one legal time; tzdata alone is stricter.
    assert phone_zones(None, "", "CN", cn) == (SHANGHAI,)
    assert phone_zones(None, "", "CN", fallback) == ("Asia/Shanghai", "Asia/Urumqi")
    # Nothing to go on: the whole plan is the strictest reading left; no plan, no zone.
    assert phone_zones(toll_free.e164, ",".join(toll_free.time_zones), "", us) == tuple(
        sorted(toll_free.time_zones)
    )
    assert phone_zones(None, "", "", us) == ()
    # A number in several real places is not a plan: keep its zones.
    sd = parse_phone(SOUTH_DAKOTA_PHONE, None)
    assert phone_zones(sd.e164, ",".join(sd.time_zones), "US", us) == (DENVER, CENTRAL_ND)


# --- Packs ----------------------------------------------------------------------------------------


def test_shipped_packs(settings: Settings) -> None:
    us = load_pack("us", settings)
    assert (us.calls_per_debt, us.calls_per_debt_days, us.quiet_after_conversation_days) == (
        7,
        7,
        7,
    )
    assert us.consent_exempt and us.not_connected == {"disconnected"}
    assert "wrong_number" not in us.not_connected
    assert us.counted_channels == {"call"}
    cn = load_pack("cn", settings)
    assert (cn.unanswered_per_number_per_day, cn.connected_per_debtor_per_day) == (6, 3)
    assert cn.calls_per_debt == 0 and cn.quiet_after_conversation_days == 0
    uk = load_pack("uk", settings)
    assert uk.calls_per_debt == 0 and uk.unanswered_per_number_per_day == 0
    assert date(2026, 12, 25) in uk.holidays and uk.day_kind(date(2026, 12, 25)) == "holiday"
    strict = load_pack("default", settings)
    assert strict.weekend_hours is None and strict.holiday_hours is None
    for pack in (us, cn, uk, strict):
        assert {"cease", "dispute"} <= pack.suspending_holds
        assert "dispute" in pack.held_statuses


def test_pack_follows_the_debtor_country(settings: Settings) -> None:
    assert pack_for_country("US", settings).name == "us"
    assert pack_for_country("cn", settings).name == "cn"
    assert pack_for_country("GB", settings).name == "uk"
    assert pack_for_country("FR", settings).name == "default"
    assert pack_for_country("", settings).name == "default"
    custom = replace(settings, country_packs={"CA": "us"}, default_pack="uk")
    assert pack_for_country("CA", custom).name == "us"
    assert pack_for_country("US", custom).name == "us"  # the built-in mapping stays
    assert pack_for_country("FR", custom).name == "uk"


def test_packs_are_overridden_from_the_configured_folder(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "us.toml").write_text(
        "holidays = [2026-11-26]\n"
        "[hours]\nholiday = 'none'\n"
        "[frequency]\ncalls_per_debt = 3\n"
        "[dispositions]\nnot_connected = ['busy', 'disconnected']\n",
        encoding="utf-8",
    )
    (tmp_path / "ca.toml").write_text("extends = 'us'\ntitle = 'Canada'\n", encoding="utf-8")
    (tmp_path / "xx.toml").write_text("[hours]\nweekend = ['10:00', '12:00']\n", encoding="utf-8")
    custom = replace(settings, packs_dir=str(tmp_path), country_packs={"CA": "ca"})
    us = load_pack("us", custom)
    assert us.calls_per_debt == 3 and us.quiet_after_conversation_days == 7  # the rest is kept
    assert us.not_connected == {"busy", "disconnected"}
    # Thanksgiving, a Thursday, is now a day without calls; the Friday is not.
    thanksgiving = local("2026-11-26 12:00", NY)
    assert local_window_open((NY,), thanksgiving, us) == (False, local("2026-11-27 08:00", NY))
    ca = pack_for_country("CA", custom)
    assert (ca.name, ca.title, ca.calls_per_debt, ca.holidays) == ("ca", "Canada", 3, us.holidays)
    # A new pack without `extends` builds on the strict default.
    xx = load_pack("xx", custom)
    assert xx.weekday_hours == load_pack("default", settings).weekday_hours
    assert local_window_open((LONDON,), local("2026-11-21 09:00", LONDON), xx) == (
        False,
        local("2026-11-21 10:00", LONDON),
    )
    # The shipped pack is untouched for settings without the folder.
    assert load_pack("us", settings).calls_per_debt == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[hours]\nweekday = ['21:00', '08:00']\n", "end before they start"),
        ("[hours]\nweekday = ['8 am', '21:00']\n", "not a time of day"),
        ("[frequency]\ncalls_per_week = 3\n", "unknown key frequency.calls_per_week"),
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("[frequency]\ncalls_per_debt = -1\n", "whole number"),
        ("weekend_days = ['sab']\n", "unknown weekend day"),
        ("[fallback_zones]\nCN = ['Asia/Beijing']\n", "unknown time zone"),
        ("extends = 'nowhere'\n", "no rule pack named 'nowhere'"),
    ],
)
def test_bad_packs_are_refused_with_the_key(
    settings: Settings, tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PackError, match=message):
        load_pack("bad", replace(settings, packs_dir=str(tmp_path)))


def test_unknown_pack_names_are_refused(settings: Settings) -> None:
    with pytest.raises(PackError, match="no rule pack named"):
        load_pack("atlantis", settings)
    with pytest.raises(PackError, match="not a rule pack name"):
        load_pack("../us", settings)


# --- Checking cases -------------------------------------------------------------------------------


Place = Callable[..., Case]


@pytest.fixture
def us_case(place: Place) -> Callable[..., Case]:
    def _make(ref: str, *phones: str, **overrides: object) -> Case:
        return place(ref, country="US", currency="USD", phones=phones or (NYC_PHONE,), **overrides)

    return _make


@pytest.fixture
def cn_case(place: Place) -> Callable[..., Case]:
    def _make(ref: str, *phones: str, **overrides: object) -> Case:
        return place(ref, phones=phones or (SHANGHAI_MOBILE,), **overrides)

    return _make


def verdict(store: db.Store, settings: Settings, case_id: uuid.UUID, now: datetime) -> Verdict:
    with store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return check_case(session=session, case=case, now=now, settings=settings)


def phone_ids(store: db.Store, case_id: uuid.UUID) -> list[uuid.UUID]:
    with store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        rows = session.exec(
            select(Phone).where(Phone.debtor_id == case.debtor_id).order_by(Phone.is_primary.desc())  # type: ignore[attr-defined]
        ).all()
        return [row.id for row in rows]


def log(
    store: db.Store,
    settings: Settings,
    actor: Actor,
    case_id: uuid.UUID,
    disposition: str,
    at: datetime,
    **contact: object,
) -> None:
    """Log an attempt through the real service, as it happened at `at`."""
    with store.write() as session:
        activities.log_contact(
            session=session,
            now=at,
            actor=actor,
            case_id=case_id,
            contact=ContactInput(disposition=disposition, occurred_at=at, **contact),  # type: ignore[arg-type]
            settings=settings,
        )


def second_debt(store: db.Store, settings: Settings, case: Case, ref: str) -> Case:
    """Another case for the same debtor (a second debt)."""
    with store.write() as session:
        other = Case(
            client=case.client,
            client_ref=ref,
            debtor_id=case.debtor_id,
            currency=case.currency,
            principal=50_000,
            balance=50_000,
            due_date=case.due_date,
            placed_date=case.placed_date,
            assigned_to_id=case.assigned_to_id,
            created_at=case.created_at,
            updated_at=case.created_at,
        )
        session.add(other)
        session.flush()
        scoring.refresh_case(session=session, case=other, now=case.created_at, settings=settings)
        return other


# Regulation F, evaluated on Friday 2026-11-20 at 15:00 in New York. Each history item is
# (day of November 2026, disposition, phone index, extra contact fields).
FRIDAY_3PM_NY = local("2026-11-20 15:00", NY)
REG_F = [
    ("six calls in seven days", [(d, "no_answer", 0, {}) for d in range(15, 21)], None, None),
    (
        "seven calls in seven days",
        [(d, "no_answer", 0, {}) for d in range(14, 21)],
        "call cap: 7 calls about this debt in 7 days",
        "2026-11-21 08:00",  # the call of the 14th leaves the window at midnight
    ),
    (
        "the eighth day has left the window",
        [(d, "no_answer", 0, {}) for d in range(13, 20)],
        None,
        None,
    ),
    (
        "unanswered, voicemail and busy calls count",
        [(d, ("no_answer", "voicemail", "busy")[d % 3], 0, {}) for d in range(14, 21)],
        "call cap: 7 calls",
        "2026-11-21 08:00",
    ),
    (
        "a call that never connects does not count",
        [(d, "no_answer", 0, {}) for d in range(15, 21)] + [(14, "disconnected", 0, {})],
        None,
        None,
    ),
    (
        "a wrong number did connect: it counts",
        [(d, "no_answer", 0, {}) for d in range(15, 21)] + [(14, "wrong_number", 1, {})],
        "call cap: 7 calls",
        "2026-11-21 08:00",
    ),
    (
        "a call with prior consent does not count",
        [(d, "no_answer", 0, {}) for d in range(15, 21)]
        + [(14, "no_answer", 0, {"with_consent": True})],
        None,
        None,
    ),
    (
        "SMS is outside the count",
        [(d, "no_answer", 0, {}) for d in range(15, 21)]
        + [(14, "no_answer", 0, {"channel": "sms"})],
        None,
        None,
    ),
    (
        "an inbound call does not count toward the seven",
        [(d, "no_answer", 0, {}) for d in range(15, 21)]
        + [(14, "no_answer", 0, {"direction": "inbound"})],
        None,
        None,
    ),
    (
        "counted per debt across numbers, not per number",
        [(d, "no_answer", d % 2, {}) for d in range(14, 21)],
        "call cap: 7 calls",
        "2026-11-21 08:00",
    ),
    (
        "the 7th most recent call sets the end: two calls on the 14th",
        [(14, "no_answer", 0, {}), *((d, "no_answer", 0, {}) for d in range(14, 20))],
        "call cap: 7 calls",
        "2026-11-21 08:00",
    ),
    (
        "a conversation starts seven quiet days (its day is day 1)",
        [(18, "right_party", 0, {})],
        "conversation on 2026-11-18: 7-day quiet period",
        "2026-11-25 08:00",
    ),
    ("the quiet period is over on day 8", [(13, "right_party", 0, {})], None, None),
    (
        "an inbound conversation starts the quiet period too",
        [(19, "right_party", 0, {"direction": "inbound"})],
        "conversation on 2026-11-19",
        "2026-11-26 08:00",
    ),
    (
        "a refusal is a conversation",
        [(20, "refused", 0, {})],
        "conversation on 2026-11-20",
        "2026-11-27 08:00",
    ),
    ("a third party is not the debtor", [(20, "third_party", 0, {})], None, None),
]


@pytest.mark.parametrize(
    ("history", "reason", "opens"),
    [pytest.param(h, r, o, id=name) for name, h, r, o in REG_F],
)
def test_regulation_f_counting(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    us_case: Callable[..., Case],
    history: list[tuple[int, str, int, dict[str, object]]],
    reason: str | None,
    opens: str | None,
) -> None:
    case = us_case("US-1", NYC_PHONE, NYC_PHONE_2)
    phones = phone_ids(store, case.id)
    for day, disposition, phone, extra in history:
        at = local(f"2026-11-{day:02d} 10:00", NY)
        log(
            store,
            settings,
            users["alice"],
            case.id,
            disposition,
            at,
            phone_id=phones[phone],
            **extra,
        )
    found = verdict(store, settings, case.id, FRIDAY_3PM_NY)
    if reason is None:
        assert found.callable, found.reason
        assert found.callable_at is None and found.phone_ids
    else:
        assert not found.callable
        assert found.reason is not None and reason in found.reason
        assert found.callable_at == local(opens, NY)  # type: ignore[arg-type]
        assert found.phone_ids == ()


def test_regulation_f_counts_per_debt(
    store: db.Store, settings: Settings, users: dict[str, Actor], us_case: Callable[..., Case]
) -> None:
    case = us_case("US-1")
    other = second_debt(store, settings, case, "US-2")
    for day in range(14, 21):
        log(
            store,
            settings,
            users["alice"],
            other.id,
            "no_answer",
            local(f"2026-11-{day} 09:00", NY),
        )
    log(store, settings, users["alice"], other.id, "right_party", local("2026-11-20 09:30", NY))
    # Seven calls and a conversation about the other debt: this one may still be called.
    assert verdict(store, settings, case.id, FRIDAY_3PM_NY).callable
    assert not verdict(store, settings, other.id, FRIDAY_3PM_NY).callable


def test_quiet_period_across_the_dst_change(
    store: db.Store, settings: Settings, users: dict[str, Actor], us_case: Callable[..., Case]
) -> None:
    case = us_case("US-1")
    log(store, settings, users["alice"], case.id, "right_party", local("2026-10-29 10:00", NY))
    # Thursday 29 October (EDT) is day 1; Wednesday 4 November (EST) is day 7.
    held = verdict(store, settings, case.id, local("2026-11-04 20:00", NY))
    assert not held.callable and held.callable_at == local("2026-11-05 08:00", NY)
    assert held.callable_at == datetime(2026, 11, 5, 13, 0, tzinfo=UTC)
    assert not verdict(store, settings, case.id, local("2026-11-05 07:59", NY)).callable
    assert verdict(store, settings, case.id, local("2026-11-05 08:00", NY)).callable


def test_consent_lifts_the_frequency_rules_and_the_hours_until_it_ends(
    store: db.Store, settings: Settings, users: dict[str, Actor], us_case: Callable[..., Case]
) -> None:
    # Regulation F: prior consent puts calls outside the presumption (1006.14(b)(3)(i)) and allows
    # calls at otherwise inconvenient times (1006.6(b)(1)); `us` says so (hours.consent_lifts).
    case = us_case("US-1")
    log(store, settings, users["alice"], case.id, "right_party", local("2026-11-19 10:00", NY))
    assert not verdict(store, settings, case.id, FRIDAY_3PM_NY).callable
    with store.write() as session:
        phone = session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).one()
        phone.consent_until = local("2026-11-21 12:00", NY)
        session.add(phone)
    assert verdict(store, settings, case.id, FRIDAY_3PM_NY).callable
    assert verdict(store, settings, case.id, local("2026-11-20 21:30", NY)).callable
    assert verdict(store, settings, case.id, local("2026-11-21 06:00", NY)).callable
    # Once consent runs out, the quiet period is back (it ends on the 26th at midnight).
    later = verdict(store, settings, case.id, local("2026-11-21 12:00", NY))
    assert not later.callable and later.callable_at == local("2026-11-26 08:00", NY)


@pytest.mark.parametrize("counted", [True, False])
def test_voided_attempts_count_as_the_pack_says(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    us_case: Callable[..., Case],
    tmp_path: Path,
    counted: bool,
) -> None:
    # The shipped `us` pack keeps counting a voided attempt; an override may say otherwise.
    if not counted:
        (tmp_path / "us.toml").write_text("[frequency]\nvoided_attempts_count = false\n")
        settings = replace(settings, packs_dir=str(tmp_path))
        clear_pack_cache()
    case = us_case("US-1")
    for day in range(14, 21):
        log(
            store, settings, users["alice"], case.id, "no_answer", local(f"2026-11-{day} 09:00", NY)
        )
    assert not verdict(store, settings, case.id, FRIDAY_3PM_NY).callable
    with store.write() as session:
        wrong = session.exec(select(Activity).where(Activity.case_id == case.id)).first()
        assert wrong is not None
        # A correction row (same channel, corrected outcome) never counts itself either.
        session.add(
            Activity(
                case_id=case.id,
                occurred_at=FRIDAY_3PM_NY - timedelta(hours=1),
                channel="call",
                disposition=wrong.disposition,
                voids_id=wrong.id,
                created_at=FRIDAY_3PM_NY,
            )
        )
    assert verdict(store, settings, case.id, FRIDAY_3PM_NY).callable is not counted
    clear_pack_cache()


def test_multi_zone_numbers_wait_for_every_zone(
    store: db.Store, settings: Settings, us_case: Callable[..., Case]
) -> None:
    dakota = us_case("US-SD", SOUTH_DAKOTA_PHONE)
    alaska = us_case("US-AK", ALASKA_PHONE)
    hawaii = us_case("US-HI", HONOLULU_PHONE)
    at = local("2026-11-20 08:30", CENTRAL_ND)  # 07:30 in Denver
    held = verdict(store, settings, dakota.id, at)
    assert not held.callable
    assert held.reason == "outside calling hours: 07:30 in America/Denver (calls 08:00–21:00, us)"
    assert held.callable_at == local("2026-11-20 08:00", DENVER)
    at = local("2026-11-20 20:30", ANCHORAGE)  # 19:30 in Adak
    assert verdict(store, settings, alaska.id, at).callable
    at = local("2026-11-20 21:00", ANCHORAGE)
    held = verdict(store, settings, alaska.id, at)
    assert not held.callable and held.callable_at == local("2026-11-21 08:00", ADAK)
    assert "21:00 in America/Anchorage" in (held.reason or "")
    held = verdict(store, settings, hawaii.id, local("2026-11-20 07:59", HONOLULU))
    assert held.callable_at == local("2026-11-20 08:00", HONOLULU)


def test_toll_free_numbers_use_every_zone_of_the_country(
    store: db.Store, settings: Settings, us_case: Callable[..., Case]
) -> None:
    case = us_case("US-800", TOLL_FREE_PHONE)
    # Noon in New York is 07:00 in Hawaii and Adak: wait for them.
    held = verdict(store, settings, case.id, local("2026-11-20 12:00", NY))
    assert not held.callable and held.callable_at == local("2026-11-20 08:00", HONOLULU)
    assert verdict(store, settings, case.id, local("2026-11-20 08:00", HONOLULU)).callable
    # ... and the east coast closes at 21:00 New York time, whatever the time in Hawaii.
    assert not verdict(store, settings, case.id, local("2026-11-20 21:00", NY)).callable


# `cn`, evaluated on Friday 2026-11-20 at 15:00 in Shanghai.
AFTERNOON_SH = local("2026-11-20 15:00", SHANGHAI)


@pytest.mark.parametrize(
    ("calls", "callable_now"),
    [
        ([("2026-11-20 09:00", "no_answer")] * 5, True),
        ([("2026-11-20 09:00", "no_answer")] * 6, False),
        ([("2026-11-20 09:00", "no_answer")] * 3 + [("2026-11-20 10:00", "busy")] * 3, False),
        ([("2026-11-20 09:00", "disconnected")] * 6, False),
        ([("2026-11-19 21:00", "no_answer")] * 6, True),  # yesterday's count is over
        ([("2026-11-20 00:30", "no_answer")] * 6, False),  # today since midnight local
        ([("2026-11-20 09:00", "no_answer")] * 5 + [("2026-11-20 10:00", "third_party")], True),
    ],
)
def test_cn_unanswered_calls_per_number_per_day(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    cn_case: Callable[..., Case],
    calls: list[tuple[str, str]],
    callable_now: bool,
) -> None:
    case = cn_case("CN-1")
    for wall, disposition in calls:
        log(
            store,
            settings,
            users["alice"],
            case.id,
            disposition,
            local(wall, SHANGHAI),
            phone_e164="+8613800138000",
        )
    found = verdict(store, settings, case.id, AFTERNOON_SH)
    assert found.callable is callable_now, found.reason
    if not callable_now:
        assert "6 unanswered calls today to 138****8000 (limit 6, cn)" == found.reason
        assert found.callable_at == local("2026-11-21 08:00", SHANGHAI)


def test_cn_cap_is_per_number(
    store: db.Store, settings: Settings, users: dict[str, Actor], cn_case: Callable[..., Case]
) -> None:
    case = cn_case("CN-1", SHANGHAI_MOBILE, SHANGHAI_MOBILE_2)
    first, second = phone_ids(store, case.id)
    for _ in range(6):
        log(
            store,
            settings,
            users["alice"],
            case.id,
            "no_answer",
            local("2026-11-20 09:00", SHANGHAI),
            phone_id=first,
        )
    found = verdict(store, settings, case.id, AFTERNOON_SH)
    assert found.callable and found.phone_ids == (second,)


def test_cn_cap_counts_a_number_shared_by_two_debtors(
    store: db.Store, settings: Settings, users: dict[str, Actor], cn_case: Callable[..., Case]
) -> None:
    husband = cn_case("CN-1", BEIJING_LANDLINE)
    wife = cn_case("CN-2", BEIJING_LANDLINE)
    for case in (husband, wife):
        for _ in range(3):
            log(
                store,
                settings,
                users["alice"],
                case.id,
                "no_answer",
                local("2026-11-20 09:00", SHANGHAI),
                phone_e164="+861065529988",
            )
    for case in (husband, wife):
        found = verdict(store, settings, case.id, AFTERNOON_SH)
        assert not found.callable and "6 unanswered calls today" in (found.reason or "")


def test_cn_connected_calls_per_debtor_per_day(
    store: db.Store, settings: Settings, users: dict[str, Actor], cn_case: Callable[..., Case]
) -> None:
    case = cn_case("CN-1")
    other = second_debt(store, settings, case, "CN-1B")
    log(
        store, settings, users["alice"], case.id, "right_party", local("2026-11-20 09:00", SHANGHAI)
    )
    log(store, settings, users["alice"], other.id, "refused", local("2026-11-20 10:00", SHANGHAI))
    assert verdict(store, settings, case.id, AFTERNOON_SH).callable  # two so far
    log(
        store,
        settings,
        users["alice"],
        other.id,
        "third_party",
        local("2026-11-20 11:00", SHANGHAI),
    )
    for case_id in (case.id, other.id):  # three to the debtor, over both debts
        found = verdict(store, settings, case_id, AFTERNOON_SH)
        assert not found.callable
        assert found.reason == "3 connected calls to this debtor today (limit 3, cn)"
        assert found.callable_at == local("2026-11-21 08:00", SHANGHAI)


@pytest.mark.parametrize(
    ("wall", "callable_now", "opens"),
    [
        ("2026-11-20 07:59", False, "2026-11-20 08:00"),
        ("2026-11-20 08:00", True, None),
        ("2026-11-20 21:59", True, None),
        ("2026-11-20 22:00", False, "2026-11-21 08:00"),
        ("2026-11-21 03:00", False, "2026-11-21 08:00"),
    ],
)
def test_cn_quiet_hours(
    store: db.Store,
    settings: Settings,
    cn_case: Callable[..., Case],
    wall: str,
    callable_now: bool,
    opens: str | None,
) -> None:
    case = cn_case("CN-1")
    found = verdict(store, settings, case.id, local(wall, SHANGHAI))
    assert found.callable is callable_now
    assert found.callable_at == (local(opens, SHANGHAI) if opens else None)
    if not callable_now:
        assert found.reason == (
            f"outside calling hours: {wall[-5:]} in Asia/Shanghai (calls 08:00–22:00, cn)"
        )


def test_third_party_numbers_only_when_the_debtor_is_unreachable(
    store: db.Store, settings: Settings, cn_case: Callable[..., Case]
) -> None:
    case = cn_case("CN-1", SHANGHAI_MOBILE, SHANGHAI_MOBILE_2)
    own, reference = phone_ids(store, case.id)
    with store.write() as session:
        row = session.get(Phone, reference)
        assert row is not None
        row.kind = "reference"
        session.add(row)
    found = verdict(store, settings, case.id, AFTERNOON_SH)
    assert found.callable and found.phone_ids == (own,) and found.reason is None
    with store.write() as session:
        row = session.get(Phone, own)
        assert row is not None
        row.do_not_call = True
        session.add(row)
    found = verdict(store, settings, case.id, AFTERNOON_SH)
    assert found.callable and found.phone_ids == (reference,)
    assert found.reason == compliance.THIRD_PARTY_NOTE
    with store.write() as session:  # the third party asked not to be called again
        row = session.get(Phone, reference)
        assert row is not None
        row.do_not_call = True
        session.add(row)
    found = verdict(store, settings, case.id, AFTERNOON_SH)
    assert not found.callable and found.reason == "all numbers do-not-call or invalid"


# --- Holds ----------------------------------------------------------------------------------------


def _hold(kind: str) -> Callable[[db.Store, Settings, dict[str, Actor], Case], None]:
    def apply(store: db.Store, settings: Settings, users: dict[str, Actor], case: Case) -> None:
        with store.write() as session:
            holds.place_hold(
                session=session,
                now=FRIDAY_3PM_NY,
                actor=users["alice"],
                case_id=case.id,
                kind=kind,
                settings=settings,
                reason="letter of 2026-11-18" if kind == "dispute" else "told us on the phone",
            )

    return apply


def _phones(**values: object) -> Callable[[db.Store, Settings, dict[str, Actor], Case], None]:
    def apply(store: db.Store, settings: Settings, users: dict[str, Actor], case: Case) -> None:
        with store.write() as session:
            for phone in session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)):
                for key, value in values.items():
                    setattr(phone, key, value)
                session.add(phone)

    return apply


def _case(**values: object) -> Callable[[db.Store, Settings, dict[str, Actor], Case], None]:
    def apply(store: db.Store, settings: Settings, users: dict[str, Actor], case: Case) -> None:
        with store.write() as session:
            row = session.get(Case, case.id)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)

    return apply


def _debtor(**values: object) -> Callable[[db.Store, Settings, dict[str, Actor], Case], None]:
    def apply(store: db.Store, settings: Settings, users: dict[str, Actor], case: Case) -> None:
        with store.write() as session:
            row = session.get(Debtor, case.debtor_id)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)

    return apply


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_hold("dispute"), "dispute hold: letter of 2026-11-18"),
        (_hold("cease"), "cease communication: told us on the phone"),
        (_hold("hardship"), "hardship hold: told us on the phone"),
        (_hold("deceased"), "deceased hold: told us on the phone"),
        (_phones(do_not_call=True), "all numbers do-not-call or invalid"),
        (_phones(valid=False), "all numbers do-not-call or invalid"),
        (_case(status="dispute"), "open dispute"),
        (_case(status="legal"), "with legal"),
        (_case(status="paid"), "case paid"),
        (_case(status="written_off"), "case written off"),
        (_debtor(bankrupt=True), "debtor bankrupt"),
        (_case(routed_reason="estate"), "routed to a supervisor: estate"),
    ],
)
def test_holds_stop_every_call_with_the_reason(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    us_case: Callable[..., Case],
    change: Callable[[db.Store, Settings, dict[str, Actor], Case], None],
    reason: str,
) -> None:
    case = us_case("US-1")
    assert verdict(store, settings, case.id, FRIDAY_3PM_NY).callable
    change(store, settings, users, case)
    found = verdict(store, settings, case.id, FRIDAY_3PM_NY)
    assert found == Verdict(False, reason, None, ())


def test_cases_without_a_usable_number(
    store: db.Store, settings: Settings, us_case: Callable[..., Case], place: Place
) -> None:
    none = place("US-0", country="US", currency="USD", phones=())
    assert verdict(store, settings, none.id, FRIDAY_3PM_NY) == Verdict(
        False, "no phone number", None, ()
    )
    bad = place("US-BAD", country="US", currency="USD", phones=("12345",))
    assert verdict(store, settings, bad.id, FRIDAY_3PM_NY).reason == (
        "all numbers do-not-call or invalid"
    )
    # One good number among bad ones is enough.
    mixed = place("US-MIX", country="US", currency="USD", phones=("12345", NYC_PHONE))
    assert verdict(store, settings, mixed.id, FRIDAY_3PM_NY).callable


def test_a_released_hold_no_longer_holds(
    store: db.Store, settings: Settings, users: dict[str, Actor], us_case: Callable[..., Case]
) -> None:
    case = us_case("US-1")
    _hold("hardship")(store, settings, users, case)
    with store.read() as session:
        (hold,) = holds.active_holds(session=session, case_id=case.id)
    with store.write() as session:
        holds.release_hold(
            session=session,
            now=FRIDAY_3PM_NY,
            actor=users["alice"],
            hold_id=hold.id,
            settings=settings,
            reason="back at work since Monday",
        )
    assert verdict(store, settings, case.id, FRIDAY_3PM_NY).callable


def test_batched_verdicts_match_single_checks(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    us_case: Callable[..., Case],
    cn_case: Callable[..., Case],
) -> None:
    cases = [us_case("US-1"), us_case("US-2", HONOLULU_PHONE), cn_case("CN-1"), cn_case("CN-2")]
    for _ in range(6):
        log(
            store,
            settings,
            users["alice"],
            cases[3].id,
            "no_answer",
            local("2026-11-20 20:00", SHANGHAI),
        )
    now = local("2026-11-20 08:30", NY)  # 21:30 in Shanghai, 03:30 in Honolulu
    with store.read() as session:
        facts = []
        for case in cases:
            debtor = session.get(Debtor, case.debtor_id)
            assert debtor is not None
            facts.append(compliance.CaseFacts(case.id, case.debtor_id, debtor.country, case.status))
        batch = compliance.evaluate_cases(session=session, cases=facts, now=now, settings=settings)
    singles = {case.id: verdict(store, settings, case.id, now) for case in cases}
    assert batch == singles
    assert [batch[c.id].callable for c in cases] == [True, False, True, False]
