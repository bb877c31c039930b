"""Property: a cached compliance verdict is the verdict the rules give afresh, after any sequence
of events (calls logged, holds placed, numbers marked do-not-call, consent given, writes the ORM
does not describe) at any instant (time moving on, or back), and the queue built with the cache is
the queue built without it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlmodel import Session, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Case, Debtor, Phone
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, holds, queue
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.cases import PlacementInput, add_placement
from collector_tui.services.contacts import book
from collector_tui.services.errors import ServiceError
from collector_tui.services.rules import compliance, verdicts
from collector_tui.services.rules.compliance import CaseFacts

if TYPE_CHECKING:
    from conftest import Template, TestDatabases

# Around the end of US daylight time, a Friday to a Monday: hours open and close, days and caps
# roll over in several zones.
START = datetime(2026, 10, 30, 11, 0, tzinfo=UTC)
PROFILES: list[tuple[str, tuple[str, ...]]] = [
    ("US", ("+1 212 736 5000",)),
    ("US", ("+1 212 736 5000", "+1 808 586 0034")),
    ("CN", ("+86 10 6552 9988",)),  # shared by two debtors below
    ("CN", ("+86 10 6552 9988", "+86 139 1234 5678")),
    ("GB", ("+44 20 7946 0018",)),
]
DISPOSITIONS = ["no_answer", "no_answer", "busy", "voicemail", "right_party", "refused", "paid"]


@dataclass(frozen=True)
class Event:
    kind: str  # log, hold, dnc, consent, core, tick
    case: int
    phone: int
    minutes: int
    disposition: str


events = st.builds(
    Event,
    kind=st.sampled_from(["log"] * 6 + ["hold", "dnc", "consent", "core"] + ["tick"] * 4),
    case=st.integers(0, len(PROFILES) - 1),
    phone=st.integers(0, 1),
    minutes=st.integers(-90, 26 * 60),
    disposition=st.sampled_from(DISPOSITIONS),
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
    return tmp_path_factory.mktemp("verdicts")


_counter = itertools.count()


def _book(template: Template[Actor], workdir: Path, settings: Settings) -> tuple[db.Store, Actor]:
    store = template.open(workdir, f"book-{next(_counter)}.db")
    with store.read() as session:
        actor = accounts.get_actor(session=session, username="alice")
    with store.write() as session:
        for number, (country, phones) in enumerate(PROFILES):
            add_placement(
                session=session,
                now=START - timedelta(days=30),
                settings=settings,
                placement=PlacementInput(
                    client="P",
                    client_ref=f"R{number}",
                    debtor_name=f"D{number}",
                    country=country,
                    currency={"US": "USD", "CN": "CNY", "GB": "GBP"}[country],
                    principal=50_000,
                    due_date=date(2026, 8, 1),
                    placed_date=date(2026, 9, 1),
                    phones=phones,
                    assigned_to_id=actor.user_id,
                ),
            )
    return store, actor


def _facts(session: Session) -> list[CaseFacts]:
    rows = session.exec(
        select(Case, Debtor).join(Debtor, Debtor.id == Case.debtor_id).order_by(Case.client_ref)
    ).all()
    return [
        CaseFacts(
            case_id=case.id,
            debtor_id=case.debtor_id,
            country=debtor.country,
            status=case.status,
            routed_reason=case.routed_reason,
            deceased=debtor.deceased,
            bankrupt=debtor.bankrupt,
        )
        for case, debtor in rows
    ]


def _apply(store: db.Store, settings: Settings, actor: Actor, event: Event, now: datetime) -> None:
    with store.read() as session:
        case = session.exec(select(Case).where(Case.client_ref == f"R{event.case}")).one()
        phones = session.exec(
            select(Phone).where(Phone.debtor_id == case.debtor_id).order_by(Phone.e164)
        ).all()
    phone = phones[event.phone % len(phones)]
    try:
        with store.write() as session:
            if event.kind == "log":
                activities.log_contact(
                    session=session,
                    now=now,
                    actor=actor,
                    case_id=case.id,
                    contact=ContactInput(
                        disposition=event.disposition,
                        phone_id=phone.id,
                        occurred_at=now - timedelta(minutes=abs(event.minutes) % 600),
                    ),
                    settings=settings,
                )
            elif event.kind == "hold":
                holds.place_hold(
                    session=session,
                    now=now,
                    actor=actor,
                    case_id=case.id,
                    kind="hardship",
                    settings=settings,
                )
            elif event.kind == "dnc":
                book.mark_contact(
                    session=session,
                    now=now,
                    actor=actor,
                    settings=settings,
                    case_id=case.id,
                    kind="phone",
                    contact_id=phone.id,
                    status="dnc",
                )
            elif event.kind == "consent":
                book.set_phone_consent(
                    session=session,
                    now=now,
                    actor=actor,
                    settings=settings,
                    case_id=case.id,
                    phone_id=phone.id,
                    channel="call",
                    until=now + timedelta(minutes=abs(event.minutes) + 30),
                )
            elif event.kind == "core":
                # A write the ORM does not describe: the cache must not trust itself after it.
                session.execute(
                    update(Phone).where(Phone.id == phone.id).values(valid=not phone.valid)
                )
    except ServiceError:
        pass


def _check(store: db.Store, settings: Settings, actor: Actor, now: datetime) -> None:
    with store.read() as session:
        facts = _facts(session)
        waits = {facts[0].case_id: now + timedelta(hours=3)}
        for not_before in (None, waits):
            cached = verdicts.cached_verdicts(
                session=session, cases=facts, now=now, settings=settings, not_before=not_before
            )
            fresh = compliance.evaluate_cases(
                session=session, cases=facts, now=now, settings=settings, not_before=not_before
            )
            assert cached == fresh
    pages = []
    for enabled in (True, False):
        verdicts.enabled(enabled)
        try:
            with store.write() as session:
                pages.append(
                    queue.build_queue(
                        session=session,
                        now=now,
                        agent_id=actor.user_id,
                        settings=settings,
                        include_held=True,
                    )
                )
        finally:
            verdicts.enabled(True)
    assert pages[0] == pages[1]
    # "Next case" evaluates only the candidates before the first callable one: the same case
    # as the first callable entry of the queue built afresh, with and without the top one
    # skipped (the case just saved).
    full = pages[1].entries
    for skip in ((), tuple(entry.case_id for entry in full[:1])):
        with store.write() as session:
            first = queue.next_case(
                session=session, now=now, agent_id=actor.user_id, settings=settings, exclude=skip
            )
        rest = [entry for entry in full if entry.case_id not in skip]
        assert first == (rest[0] if rest else None)
    with store.read() as session:
        facts = _facts(session)
        partial = verdicts.cached_verdicts(
            session=session, cases=facts, now=now, settings=settings, first_callable=True
        )
        fresh = compliance.evaluate_cases(session=session, cases=facts, now=now, settings=settings)
    assert partial.items() <= fresh.items()
    wanted = next((i for i, f in enumerate(facts) if fresh[f.case_id].callable), len(facts) - 1)
    assert all(f.case_id in partial for f in facts[: wanted + 1])


# The cache is SQLite's (PostgreSQL evaluates every time: nothing to compare there).
@pytest.mark.sqlite_only
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(start=st.integers(0, 3 * 24 * 60), steps=st.lists(events, min_size=1, max_size=12))
def test_cached_verdicts_equal_fresh_ones(
    template: Template[Actor], workdir: Path, start: int, steps: list[Event]
) -> None:
    settings = Settings()
    store, actor = _book(template, workdir, settings)
    try:
        now = START + timedelta(minutes=start)
        _check(store, settings, actor, now)
        for event in steps:
            if event.kind == "tick":
                # Mostly forward; a step back must not be answered from a later verdict.
                now += timedelta(minutes=event.minutes)
            else:
                _apply(store, settings, actor, event, now)
            _check(store, settings, actor, now)
    finally:
        store.dispose()


def test_a_verdict_lasts_until_the_hours_open(
    template: Template[Actor], workdir: Path, settings: Settings
) -> None:
    """Held at night in New York: the cached verdict says so until the hours open, and not past."""
    store, _actor = _book(template, workdir, settings)
    try:
        night = datetime(2026, 10, 30, 4, 0, tzinfo=UTC)  # 00:00 in New York
        with store.read() as session:
            facts = [f for f in _facts(session) if f.country == "US"][:1]
            lasting: dict = {}
            (verdict,) = compliance.evaluate_cases(
                session=session, cases=facts, now=night, settings=settings, lasting=lasting
            ).values()
        (until, numbers) = lasting[facts[0].case_id]
        assert not verdict.callable and verdict.callable_at is not None
        assert night < until <= verdict.callable_at
        assert numbers == ("+12127365000",)
    finally:
        store.dispose()


@pytest.mark.sqlite_only  # the log is written where the cache is: SQLite
def test_the_change_log_names_the_debtor_a_call_was_about(
    template: Template[Actor], workdir: Path, settings: Settings
) -> None:
    from collector_tui.models import VerdictChange

    store, actor = _book(template, workdir, settings)
    try:
        with store.read() as session:
            case = session.exec(select(Case).where(Case.client_ref == "R2")).one()
            before = session.exec(select(VerdictChange.seq)).all()
        with store.write() as session:
            activities.log_contact(
                session=session,
                now=START,
                actor=actor,
                case_id=case.id,
                contact=ContactInput(disposition="no_answer"),
                settings=settings,
            )
        with store.read() as session:
            rows = session.exec(
                select(VerdictChange.debtor_id, VerdictChange.e164).where(
                    VerdictChange.seq > max(before, default=0)
                )
            ).all()
        assert (case.debtor_id, None) in rows
        assert not any(debtor is None and e164 is None for debtor, e164 in rows)
    finally:
        store.dispose()


def test_no_cache_on_other_backends_than_sqlite(store: db.Store, settings: Settings) -> None:
    with store.read() as session:
        expected = session.get_bind().dialect.name == "sqlite"
        assert (verdicts._cache_of(session) is not None) == expected  # noqa: SLF001
