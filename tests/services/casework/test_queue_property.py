"""Property: no case the queue offers breaks its rule pack at that instant.

The oracle below re-states the rules the simple way (every zone, every count, by local calendar
date) without the interval arithmetic the service uses, and judges random books of cases with
random histories at random instants around the end of daylight time in the US and the UK.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import CLOSED_STATUSES, Activity, Case, Debtor, Hold, Phone
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import queue
from collector_tui.services.casework.cases import PlacementInput, add_placement
from collector_tui.services.rules import compliance, scoring
from collector_tui.services.rules.compliance import RulePack

if TYPE_CHECKING:
    from conftest import Template, TestDatabases

START = datetime(2026, 10, 24, 0, 0, tzinfo=UTC)  # UK summer time ends on the 25th, US on Nov 1
SPAN_MINUTES = 16 * 24 * 60

# (debtor country, numbers): single and multi-zone numbers, a toll-free one, a number shared by
# debtors (the Beijing landline), and a country without a pack of its own (the strict default).
PROFILES: list[tuple[str, tuple[str, ...]]] = [
    ("US", ("+1 212 736 5000",)),
    ("US", ("+1 808 586 0034",)),
    ("US", ("+1 605 555 0123",)),
    ("US", ("+1 907 555 0123",)),
    ("US", ("+1 800 555 0123",)),
    ("US", ("+1 212 736 5000", "+1 808 586 0034")),
    ("CN", ("+86 138 0013 8000",)),
    ("CN", ("+86 10 6552 9988",)),
    ("CN", ("+86 10 6552 9988", "+86 139 1234 5678")),
    ("GB", ("+44 20 7946 0018",)),
    ("FR", ("+44 20 7946 0018",)),
]
DISPOSITIONS = [
    "no_answer",
    "busy",
    "voicemail",
    "disconnected",
    "wrong_number",
    "right_party",
    "third_party",
    "refused",
    "callback",
    "paid",
    "hardship",
]


@dataclass(frozen=True)
class AttemptSpec:
    minutes_before: int
    channel: str
    direction: str
    disposition: str
    with_consent: bool
    phone: int | None  # index into the debtor's numbers; None = logged without a number


@dataclass(frozen=True)
class CaseSpec:
    profile: int
    do_not_call: tuple[bool, ...]
    status: str
    hold: str | None
    attempts: tuple[AttemptSpec, ...]


# Unanswered calls dominate, and many fall on the same day, so that caps are often reached.
UNANSWERED = ["no_answer", "voicemail", "busy", "disconnected"]
attempt_specs = st.builds(
    AttemptSpec,
    minutes_before=st.integers(0, 9 * 24 * 60) | st.integers(0, 16 * 60),
    channel=st.sampled_from(["call"] * 8 + ["sms"]),
    direction=st.sampled_from(["outbound"] * 7 + ["inbound"]),
    disposition=st.sampled_from(UNANSWERED * 4) | st.sampled_from(DISPOSITIONS),
    with_consent=st.sampled_from([False] * 5 + [True]),
    phone=st.none() | st.integers(0, 1),
)
case_specs = st.builds(
    CaseSpec,
    profile=st.integers(0, len(PROFILES) - 1),
    do_not_call=st.tuples(*[st.sampled_from([False] * 4 + [True])] * 2),
    status=st.sampled_from(["new"] * 6 + ["active", "dispute", "legal", "paid"]),
    hold=st.sampled_from([None] * 8 + ["dispute", "cease", "hardship"]),
    attempts=st.lists(attempt_specs, max_size=16).map(tuple),
)


@pytest.fixture(scope="module")
def template(databases: TestDatabases) -> Template[Actor]:
    def seed(session: Session) -> Actor:
        return accounts.create_user(
            session=session, now=START, username="alice", password="demo", role="agent"
        )

    return databases.template(seed)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("books")


_counter = itertools.count()


def make_book(
    template: Template[Actor], workdir: Path, specs: list[CaseSpec], now: datetime
) -> db.Store:
    store = template.open(workdir, f"book-{next(_counter)}.db")
    settings = Settings()
    with store.write() as session:
        for number, spec in enumerate(specs):
            country, numbers = PROFILES[spec.profile]
            case = add_placement(
                session=session,
                now=now - timedelta(days=30),
                settings=settings,
                placement=PlacementInput(
                    client="P",
                    client_ref=f"C{number}",
                    debtor_name=f"D{number}",
                    country=country,
                    currency="USD",
                    principal=10_000 * (number + 1),
                    due_date=date(2026, 8, 1),
                    placed_date=date(2026, 9, 1),
                    phones=numbers,
                    assigned_to_id=template.value.user_id,
                ),
            )
            phones = session.exec(
                select(Phone)
                .where(Phone.debtor_id == case.debtor_id)
                .order_by(Phone.is_primary.desc())  # type: ignore[attr-defined]
            ).all()
            for phone, flag in zip(phones, spec.do_not_call, strict=False):
                phone.do_not_call = flag
                session.add(phone)
            for attempt in spec.attempts:
                phone = (
                    phones[attempt.phone]
                    if attempt.phone is not None and attempt.phone < len(phones)
                    else None
                )
                occurred = now - timedelta(minutes=attempt.minutes_before)
                session.add(
                    Activity(
                        case_id=case.id,
                        occurred_at=occurred,
                        channel=attempt.channel,
                        direction=attempt.direction,
                        phone_id=phone.id if phone else None,
                        phone_e164=phone.e164 if phone else None,
                        disposition=attempt.disposition,
                        with_consent=attempt.with_consent,
                        created_at=occurred,
                    )
                )
                if case.last_attempt_at is None or occurred > case.last_attempt_at:
                    case.last_attempt_at = occurred
            if spec.hold:
                session.add(
                    Hold(case_id=case.id, kind=spec.hold, placed_at=now - timedelta(days=1))
                )
            case.status = spec.status
            session.flush()
            scoring.refresh_case(session=session, case=case, now=now, settings=settings)
    return store


# --- The oracle --------------------------------------------------------------------------------


def inside_hours(pack: RulePack, zones: tuple[str, ...], instant: datetime) -> bool:
    for zone in zones:
        wall = instant.astimezone(ZoneInfo(zone))
        hours = pack.hours_on(wall.date())
        if hours is None:
            return False
        start, end = hours
        if wall.time() < start or (end != compliance.MIDNIGHT and wall.time() >= end):
            return False
    return True


def within_days(instant: datetime, at: datetime, zones: tuple[str, ...], days: int) -> bool:
    """Whether `instant` falls in the `days` calendar days ending with `at`'s, in any zone."""
    for zone in zones:
        tz = ZoneInfo(zone)
        if (at.astimezone(tz).date() - instant.astimezone(tz).date()).days < days:
            return True
    return False


def zones_of(phone: Phone, country: str, pack: RulePack) -> tuple[str, ...]:
    if phone.kind == "toll_free":  # a whole numbering plan: the debtor's country, all of it
        return pack.zones_for_country(country) or compliance.country_zones(country)
    return tuple(zone for zone in phone.time_zones.split(",") if zone)


def oracle_allows(session: Session, case: Case, at: datetime, settings: Settings) -> bool:
    debtor = session.get(Debtor, case.debtor_id)
    assert debtor is not None
    pack = compliance.pack_for_country(debtor.country, settings)
    if case.status in CLOSED_STATUSES or case.status in pack.held_statuses:
        return False
    active = session.exec(
        select(Hold).where(Hold.case_id == case.id, Hold.released_at.is_(None))  # type: ignore[union-attr]
    ).all()
    if any(hold.kind in pack.suspending_holds for hold in active):
        return False
    phones = session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).all()
    usable = [p for p in phones if p.valid and p.e164 and not p.do_not_call]
    if not usable:
        return False
    zones = {p.id: zones_of(p, debtor.country, pack) for p in usable}
    day_zones = tuple(sorted({z for zs in zones.values() for z in zs}))
    own = session.exec(select(Activity).where(Activity.case_id == case.id)).all()
    debtor_calls = session.exec(
        select(Activity)
        .join(Case, Case.id == Activity.case_id)
        .where(Case.debtor_id == case.debtor_id)
    ).all()
    every_call = session.exec(select(Activity)).all()

    def talk(a: Activity) -> bool:
        if a.channel != "call":
            return False
        if a.direction == "inbound":
            return a.disposition not in pack.unanswered | pack.not_connected
        return a.disposition in pack.conversation

    if pack.calls_per_debt:
        counted = [
            a
            for a in own
            if a.channel in pack.counted_channels
            and (a.direction != "inbound" or pack.inbound_counts)
            and a.disposition not in pack.not_connected
            and not (pack.consent_exempt and a.with_consent)
            and within_days(a.occurred_at, at, day_zones, pack.calls_per_debt_days)
        ]
        if len(counted) >= pack.calls_per_debt:
            return False
    if pack.quiet_after_conversation_days and any(
        talk(a) and within_days(a.occurred_at, at, day_zones, pack.quiet_after_conversation_days)
        for a in own
    ):
        return False
    if pack.connected_per_debtor_per_day:
        connected = [
            a
            for a in debtor_calls
            if a.channel == "call"
            and a.direction != "inbound"
            and a.disposition is not None
            and a.disposition not in pack.unanswered | pack.not_connected
            and not (pack.consent_exempt and a.with_consent)
            and within_days(a.occurred_at, at, day_zones, 1)
        ]
        if len(connected) >= pack.connected_per_debtor_per_day:
            return False
    for phone in usable:
        if not zones[phone.id] or not inside_hours(pack, zones[phone.id], at):
            continue
        if pack.unanswered_per_number_per_day:
            dialled = [a for a in every_call if a.phone_e164 == phone.e164] + [
                a for a in debtor_calls if a.phone_e164 is None
            ]
            unanswered = [
                a
                for a in dialled
                if a.channel == "call"
                and a.direction != "inbound"
                and (a.disposition is None or a.disposition in pack.unanswered)
                and not (pack.consent_exempt and a.with_consent)
                and within_days(a.occurred_at, at, zones[phone.id], 1)
            ]
            if len(unanswered) >= pack.unanswered_per_number_per_day:
                continue
        return True
    return False


# --- The properties ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_settings() -> Settings:
    return Settings()


@given(
    specs=st.lists(case_specs, min_size=1, max_size=6),
    minute=st.integers(0, SPAN_MINUTES),
)
@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_queue_offers_only_lawful_calls(
    template: Template[Actor],
    workdir: Path,
    app_settings: Settings,
    specs: list[CaseSpec],
    minute: int,
) -> None:
    now = START + timedelta(minutes=minute)
    store = make_book(template, workdir, specs, now)
    try:
        with store.write() as session:
            page = queue.build_queue(
                session=session,
                now=now,
                agent_id=template.value.user_id,
                settings=app_settings,
                include_held=True,
            )
        with store.read() as session:
            offered = {entry.case_id for entry in page.entries}
            for entry in page.entries:
                case = session.get(Case, entry.case_id)
                assert case is not None
                assert oracle_allows(session, case, now, app_settings), entry
            # And nothing lawful and due is left out.
            for case in session.exec(select(Case)).all():
                due = case.next_action_at is None or case.next_action_at <= now
                if case.status not in CLOSED_STATUSES and due and case.id not in offered:
                    assert not oracle_allows(session, case, now, app_settings), case.client_ref
            # A held case is callable at the instant the queue names (if nothing else happens).
            for entry in page.held:
                if entry.callable_at is not None:
                    case = session.get(Case, entry.case_id)
                    assert case is not None
                    assert entry.callable_at > now
                    assert oracle_allows(session, case, entry.callable_at, app_settings), entry
                    before = entry.callable_at - timedelta(minutes=1)
                    due = case.next_action_at is None or case.next_action_at <= before
                    if before > now and due:
                        assert not oracle_allows(session, case, before, app_settings), entry
    finally:
        store.dispose()


def test_oracle_sanity(template: Template[Actor], workdir: Path, app_settings: Settings) -> None:
    """The oracle itself must say no where the rules plainly say no."""
    now = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 15:00 in New York, 04:00 in Shanghai
    calls = tuple(
        AttemptSpec(60 * 24 * day + 60, "call", "outbound", "no_answer", False, 0)
        for day in range(7)
    )
    specs = [
        CaseSpec(0, (False,), "new", None, ()),  # New York, fine
        CaseSpec(6, (False,), "new", None, ()),  # Shanghai at night
        CaseSpec(0, (False,), "new", None, calls),  # seven calls in seven days
        CaseSpec(0, (False,), "new", "cease", ()),
    ]
    store = make_book(template, workdir, specs, now)
    try:
        with store.read() as session:
            verdicts = [
                oracle_allows(session, case, now, app_settings)
                for case in session.exec(select(Case).order_by(Case.client_ref)).all()
            ]
        assert verdicts == [True, False, False, False]
    finally:
        store.dispose()
