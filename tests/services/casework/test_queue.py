"""The agent's queue: order, reasons, held list, counts, no orphans, bounded work."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import OPEN_STATUSES, Case, Promise
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, followups, holds, payments, promises, queue
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.casework.queue import QueueEntry, QueuePage
from collector_tui.services.rules import verdicts
from conftest import create_users

if TYPE_CHECKING:
    from conftest import Template, TestDatabases

NY = "America/New_York"
SHANGHAI = "Asia/Shanghai"
NYC_PHONE = "+1 212 736 5000"
SHANGHAI_MOBILE = "+86 138 0013 8000"


def local(wall: str, zone: str = NY) -> datetime:
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


NOW = local("2026-11-20 15:00")  # Friday afternoon in New York, 04:00 on Saturday in Shanghai
EARLIER = local("2026-11-05 10:00")


@pytest.fixture(scope="module")
def users_in_new_york(databases: TestDatabases) -> Template[dict[str, Actor]]:
    """The usual users, living in New York; made once, each test's store is a copy."""
    return databases.template(lambda session: create_users(session, now=EARLIER, time_zone=NY))


@pytest.fixture
def store_template(users_in_new_york: Template[dict[str, Actor]]) -> Template[dict[str, Actor]]:
    return users_in_new_york


@pytest.fixture
def us_case(place: Callable[..., Case]) -> Callable[..., Case]:
    def _make(ref: str, **overrides: object) -> Case:
        values: dict[str, object] = {"country": "US", "currency": "USD", "phones": (NYC_PHONE,)}
        values.update(overrides)
        return place(ref, **values)

    return _make


def build(
    store: db.Store, settings: Settings, agent: Actor, now: datetime = NOW, **options: Any
) -> QueuePage:
    with store.write() as session:
        return queue.build_queue(
            session=session, now=now, agent_id=agent.user_id, settings=settings, **options
        )


def refs(entries: tuple[QueueEntry, ...] | list[QueueEntry]) -> list[str]:
    return [entry.client_ref for entry in entries]


def by_ref(entries: tuple[QueueEntry, ...] | list[QueueEntry]) -> dict[str, QueueEntry]:
    return {entry.client_ref: entry for entry in entries}


def log(
    store: db.Store,
    settings: Settings,
    actor: Actor,
    case_id: uuid.UUID,
    disposition: str,
    at: datetime,
    **contact: Any,
) -> None:
    with store.write() as session:
        activities.log_contact(
            session=session,
            now=at,
            actor=actor,
            case_id=case_id,
            contact=ContactInput(disposition=disposition, occurred_at=at, **contact),
            settings=settings,
        )


def follow_up(
    store: db.Store, settings: Settings, actor: Actor, case_id: uuid.UUID, due: datetime, why: str
) -> None:
    with store.write() as session:
        followups.create_follow_up(
            session=session,
            now=min(due, NOW) - timedelta(hours=1),
            actor=actor,
            case_id=case_id,
            follow_up=FollowUpInput(due_at=due, reason=why),
            settings=settings,
        )


def promise(
    store: db.Store,
    settings: Settings,
    actor: Actor,
    case_id: uuid.UUID,
    amount: int,
    due: date,
    made: datetime,
) -> uuid.UUID:
    with store.write() as session:
        return promises.create_promise(
            session=session,
            now=made,
            actor=actor,
            case_id=case_id,
            promise=PromiseInput(amount=amount, due_date=due, grace_days=2),
            settings=settings,
        )


@pytest.fixture
def worked_book(
    store: db.Store, settings: Settings, users: dict[str, Actor], us_case: Callable[..., Case]
) -> dict[str, Case]:
    """One case of each tier for alice, in reverse order of placement."""
    alice = users["alice"]
    cases = {ref: us_case(ref) for ref in ("WORK", "NEW", "REMIND", "BROKEN", "CALLBACK")}
    log(store, settings, alice, cases["WORK"].id, "no_answer", local("2026-11-19 10:00"))
    promise(store, settings, alice, cases["REMIND"].id, 30_000, date(2026, 11, 21), EARLIER)
    promise(store, settings, alice, cases["BROKEN"].id, 50_000, date(2026, 11, 10), EARLIER)
    follow_up(
        store, settings, alice, cases["CALLBACK"].id, local("2026-11-20 14:00"), "call back re pay"
    )
    return cases


def test_queue_order_and_reasons(
    store: db.Store, settings: Settings, users: dict[str, Actor], worked_book: dict[str, Case]
) -> None:
    page = build(store, settings, users["alice"])
    assert refs(page.entries) == ["CALLBACK", "BROKEN", "REMIND", "NEW", "WORK"]
    reasons = {entry.client_ref: entry.reason for entry in page.entries}
    assert reasons["CALLBACK"] == "follow-up due 14:00: call back re pay"  # the agent's clock
    assert reasons["BROKEN"] == "broken promise of 500.00 USD due 2026-11-10"
    assert reasons["REMIND"] == "promise reminder: 300.00 USD due 2026-11-21"
    assert reasons["NEW"] == "new placement"
    work = by_ref(page.entries)["WORK"]
    assert reasons["WORK"] == f"score {work.score}"
    assert [entry.tier for entry in page.entries] == [1, 2, 3, 4, 5]
    assert all(entry.callable and entry.callable_at is None for entry in page.entries)
    assert work.last_attempt_at == local("2026-11-19 10:00")
    assert work.factors and {"name", "points", "detail"} <= set(work.factors[0])
    assert work.score == sum(factor["points"] for factor in work.factors)
    assert page.counts == queue.QueueCounts(follow_ups_due=1, broken_promises=1, callable=5, held=0)
    assert page.held == ()


def test_building_the_queue_judges_promises_first(
    store: db.Store, settings: Settings, users: dict[str, Actor], worked_book: dict[str, Case]
) -> None:
    with store.read() as session:
        pending = session.exec(
            select(Promise).where(Promise.case_id == worked_book["BROKEN"].id)
        ).one()
        assert pending.status == "pending"
    build(store, settings, users["alice"])
    with store.read() as session:
        judged = session.exec(
            select(Promise).where(Promise.case_id == worked_book["BROKEN"].id)
        ).one()
        assert judged.status == "broken"


def test_limit_and_next_case(
    store: db.Store, settings: Settings, users: dict[str, Actor], worked_book: dict[str, Case]
) -> None:
    assert refs(build(store, settings, users["alice"], limit=2).entries) == ["CALLBACK", "BROKEN"]
    with store.write() as session:
        first = queue.next_case(
            session=session, now=NOW, agent_id=users["alice"].user_id, settings=settings
        )
        assert first is not None and first.client_ref == "CALLBACK"
        skipped = queue.next_case(
            session=session,
            now=NOW,
            agent_id=users["alice"].user_id,
            settings=settings,
            exclude={worked_book["CALLBACK"].id, worked_book["BROKEN"].id},
        )
        assert skipped is not None and skipped.client_ref == "REMIND"
        assert (
            queue.next_case(
                session=session,
                now=NOW,
                agent_id=users["alice"].user_id,
                settings=settings,
                exclude={case.id for case in worked_book.values()},
            )
            is None
        )
        assert (
            queue.next_case(
                session=session, now=NOW, agent_id=users["bob"].user_id, settings=settings
            )
            is None
        )


def test_held_cases_carry_the_reason_and_when_they_become_callable(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    us_case: Callable[..., Case],
    place: Callable[..., Case],
) -> None:
    alice = users["alice"]
    ready = us_case("READY")
    later = us_case("LATER")
    follow_up(store, settings, alice, later.id, local("2026-11-20 17:00"), "after work")
    disputed = us_case("DISPUTED")
    with store.write() as session:
        holds.place_hold(
            session=session,
            now=NOW,
            actor=alice,
            case_id=disputed.id,
            kind="dispute",
            settings=settings,
            reason="says it is not his",
        )
    place("NIGHT")  # a CN debtor: 04:00 in Shanghai
    night_callback = place("NIGHT-CB")
    follow_up(store, settings, alice, night_callback.id, local("2026-11-20 16:00"), "evening")
    capped = us_case("CAPPED")
    for day in range(14, 21):
        log(store, settings, alice, capped.id, "no_answer", local(f"2026-11-{day} 09:00"))
    retry = us_case("RETRY")
    log(store, settings, alice, retry.id, "busy", NOW - timedelta(minutes=30))
    promised = us_case("PROMISED")
    log(
        store,
        settings,
        alice,
        promised.id,
        "promise",
        NOW - timedelta(minutes=10),
        promise=PromiseInput(amount=20_000, due_date=date(2026, 11, 26)),
    )
    paid = us_case("PAID")
    with store.write() as session:
        payments.post_payment(
            session=session,
            now=NOW,
            actor=alice,
            case_id=paid.id,
            amount=100_000,
            received_on=date(2026, 11, 20),
            settings=settings,
        )

    page = build(store, settings, alice, include_held=True)
    assert refs(page.entries) == ["READY"]
    assert page.entries[0].callable and ready.id == page.entries[0].case_id
    held = by_ref(page.held)
    assert "PAID" not in held  # closed: done, not held
    assert set(held) == {"LATER", "DISPUTED", "NIGHT", "NIGHT-CB", "CAPPED", "RETRY", "PROMISED"}
    assert all(not entry.callable for entry in page.held)

    def expect(ref: str, reason: str, callable_at: datetime | None) -> None:
        assert (held[ref].reason, held[ref].callable_at) == (reason, callable_at)

    expect("LATER", "follow-up at 17:00", local("2026-11-20 17:00"))
    expect("DISPUTED", "dispute hold: says it is not his", None)
    expect(
        "NIGHT",
        "outside calling hours: 04:00 in Asia/Shanghai (calls 08:00–22:00, cn)",
        local("2026-11-21 08:00", SHANGHAI),
    )
    # Due at 16:00 in New York, 05:00 in Shanghai: callable when the day starts there.
    expect("NIGHT-CB", "follow-up at 16:00", local("2026-11-21 08:00", SHANGHAI))
    expect(
        "CAPPED",
        "call cap: 7 calls about this debt in 7 days (limit 7, us)",
        local("2026-11-21 08:00"),
    )
    expect("RETRY", "retry after 16:30", local("2026-11-20 16:30"))
    # The reminder would be due on the 25th, but the promise was a conversation: Regulation F
    # keeps the phone quiet for seven days (the 20th to the 26th) unless the debtor consents.
    expect(
        "PROMISED",
        "pending promise not yet due; conversation on 2026-11-20: 7-day quiet period (us)",
        local("2026-11-27 08:00"),
    )
    # Soonest callable first, holds that only a person can lift last.
    assert refs(page.held)[-1] == "DISPUTED"
    assert [e.callable_at for e in page.held[:-1]] == sorted(e.callable_at for e in page.held[:-1])  # type: ignore[type-var]
    assert page.counts.held == 7 and page.counts.callable == 1
    # Without include_held the list is empty but the count stays.
    quick = build(store, settings, alice)
    assert quick.held == () and quick.counts.held == 7
    short = build(store, settings, alice, include_held=True, held_limit=2).held
    assert len(short) == 2 and all(entry in page.held for entry in short)
    assert [e.callable_at for e in short] == sorted(e.callable_at for e in short)  # type: ignore[type-var]


def test_no_orphans(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    worked_book: dict[str, Case],
    us_case: Callable[..., Case],
    place: Callable[..., Case],
) -> None:
    alice, bob = users["alice"], users["bob"]
    us_case("BOB-1", assigned_to_id=bob.user_id)
    us_case("NOBODY", assigned_to_id=None)
    place("NIGHT")
    dead = us_case("DEAD")
    with store.write() as session:
        holds.place_hold(
            session=session,
            now=NOW,
            actor=alice,
            case_id=dead.id,
            kind="deceased",
            settings=settings,
            reason="death notice from the family",
        )
    seen: dict[str, str] = {}
    for agent in (alice, bob):
        page = build(store, settings, agent, include_held=True)
        for entry in (*page.entries, *page.held):
            assert entry.client_ref not in seen
            seen[entry.client_ref] = agent.username
    with store.read() as session:
        supervisors = queue.unassigned_cases(session=session, settings=settings, now=NOW)
        open_refs = set(
            session.exec(select(Case.client_ref).where(Case.status.in_(OPEN_STATUSES)))  # type: ignore[attr-defined]
        )
    unassigned = by_ref(supervisors)
    assert set(unassigned) == {"NOBODY", "DEAD"}
    assert unassigned["NOBODY"].reason == "unassigned" and unassigned["NOBODY"].callable
    assert unassigned["DEAD"].reason.startswith("routed to a supervisor: deceased")
    assert not unassigned["DEAD"].callable
    assert open_refs <= set(seen) | set(unassigned)
    assert seen["BOB-1"] == "bob" and seen["DEAD"] == "alice"


def test_unassigned_cases_without_a_clock(
    store: db.Store, settings: Settings, us_case: Callable[..., Case]
) -> None:
    us_case("NOBODY", assigned_to_id=None)
    us_case("MINE")
    with store.read() as session:
        (entry,) = queue.unassigned_cases(session=session, settings=settings)
    assert (entry.client_ref, entry.reason, entry.callable) == ("NOBODY", "unassigned", False)


def test_entry_json_is_the_cli_shape(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    worked_book: dict[str, Case],
    place: Callable[..., Case],
) -> None:
    place("NIGHT", balance=123_456)
    page = build(store, settings, users["alice"], include_held=True)
    entries = [queue.entry_json(entry) for entry in (*page.entries, *page.held)]
    json.dumps(entries)  # plain JSON all the way down
    for item in entries:
        assert {
            "case_id",
            "client",
            "client_ref",
            "debtor",
            "tier",
            "score",
            "callable",
            "reason",
            "callable_at",
        } <= set(item)
        uuid.UUID(item["case_id"])
    first, night = entries[0], entries[-1]
    assert first["client_ref"] == "CALLBACK" and first["callable"] is True
    assert first["callable_at"] is None and first["tier"] == 1
    assert night["client_ref"] == "NIGHT" and night["callable"] is False
    assert night["callable_at"] == "2026-11-21T00:00:00+00:00"
    assert (night["balance"], night["currency"]) == ("1234.56", "CNY")


def test_the_walk_down_the_queue_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    us_case: Callable[..., Case],
    place: Callable[..., Case],
) -> None:
    for number in range(30):  # asleep in Shanghai, and better placed than the US case
        place(f"NIGHT-{number:02d}", principal=10_000_000)
    us_case("AWAKE", principal=100)
    # Thirty held cases first: the next case is still found below them.
    one = build(store, settings, users["alice"], limit=1)
    assert refs(one.entries) == ["AWAKE"] and one.counts.held == 30
    with store.write() as session:
        found = queue.next_case(
            session=session, now=NOW, agent_id=users["alice"].user_id, settings=settings
        )
    assert found is not None and found.client_ref == "AWAKE"
    # But the walk has an end: with a floor of 20 candidates it gives up before AWAKE.
    monkeypatch.setattr(queue, "MIN_SCAN", 20)
    short = build(store, settings, users["alice"], limit=1)
    assert short.entries == () and short.counts.held == 20


def test_queries_per_page_do_not_grow_with_the_cases(
    store: db.Store,
    settings: Settings,
    users: dict[str, Actor],
    us_case: Callable[..., Case],
    place: Callable[..., Case],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The rules' own queries: the verdict cache answers with fewer, as many as what it holds.
    monkeypatch.setattr(verdicts, "_enabled", False)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    def count_queries() -> int:
        statements.clear()
        event.listen(store.engine, "before_cursor_execute", record)
        try:
            build(store, settings, users["alice"], include_held=True)
        finally:
            event.remove(store.engine, "before_cursor_execute", record)
        return len(statements)

    for number in range(3):
        us_case(f"US-{number}")
        place(f"CN-{number}")
    few = count_queries()
    for number in range(3, 25):
        us_case(f"US-{number}")
        place(f"CN-{number}")
    assert count_queries() == few


def test_queue_is_per_agent(
    store: db.Store, settings: Settings, users: dict[str, Actor], us_case: Callable[..., Case]
) -> None:
    us_case("ALICE-1")
    us_case("BOB-1", assigned_to_id=users["bob"].user_id)
    assert refs(build(store, settings, users["alice"]).entries) == ["ALICE-1"]
    assert refs(build(store, settings, users["bob"]).entries) == ["BOB-1"]


def test_a_reminded_promise_waits_as_pending_not_as_broken(
    store: db.Store, settings: Settings, users: dict[str, Actor], us_case: Callable[..., Case]
) -> None:
    alice = users["alice"]
    case = us_case("REMINDED")
    promise(store, settings, alice, case.id, 30_000, date(2026, 11, 21), EARLIER)
    # The reminder call on the day before the due date: the promise is reminded, not broken.
    log(store, settings, alice, case.id, "voicemail", local("2026-11-20 10:00"))

    page = build(store, settings, alice, include_held=True)

    held = by_ref(page.held)
    assert held["REMINDED"].tier_name == "promise reminder"
    assert held["REMINDED"].reason.startswith("pending promise not yet due")
    assert page.counts.broken_promises == 0
    with store.read() as session:
        assert session.get(Case, case.id).queue_tier != queue.TIER_BROKEN_PROMISE  # type: ignore[union-attr]


def test_prepare_queue_judges_the_top_and_writes_nothing(
    store: db.Store, settings: Settings, users: dict[str, Actor], worked_book: dict[str, Case]
) -> None:
    # What the login screen runs while the password is typed: a read, no sweep.
    with store.read() as session:
        found = queue.prepare_queue(session=session, now=NOW, settings=settings, username="alice")
        assert found == 5
        assert (
            queue.prepare_queue(
                session=session, now=NOW, settings=settings, username=" Alice ", limit=2
            )
            == 2
        )
        assert queue.prepare_queue(session=session, now=NOW, settings=settings, username="sam") == 0
        assert (
            queue.prepare_queue(session=session, now=NOW, settings=settings, username="nobody") == 0
        )
        assert queue.prepare_queue(session=session, now=NOW, settings=settings, username="") == 0
        pending = session.exec(
            select(Promise).where(Promise.case_id == worked_book["BROKEN"].id)
        ).one()
        assert pending.status == "pending"  # the sweep is build_queue's, after the login
    # The build after it, from the cache the preparation filled, is the same build.
    page = build(store, settings, users["alice"])
    assert refs(page.entries) == ["CALLBACK", "BROKEN", "REMIND", "NEW", "WORK"]
    assert page.counts == queue.QueueCounts(follow_ups_due=1, broken_promises=1, callable=5, held=0)
    verdicts.clear()
    assert build(store, settings, users["alice"]) == page
