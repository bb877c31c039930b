"""The workload counters (migration 0017's triggers) against a full recount: random sequences of
placements, placement files imported (counted in bulk), assignments, balancing, contacts,
promises, payments, reversals, closures, holds, erasure and the sweep keep them equal, on SQLite
and PostgreSQL; `fix_counters` repairs drift.

One migrated database serves the module; each example adds its own cases to it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import col, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Activity, AttemptCounter, Case, Payment, Promise, WorkloadCounter
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, holds, payments, promises, reversals, sweep
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.cases import PlacementInput, add_placement
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import Forbidden, InvalidInput, ServiceError
from collector_tui.services.imports.placement_file import import_cases
from collector_tui.services.supervision import assignment, decisions, erasure, workload

if TYPE_CHECKING:
    from conftest import TestDatabases

START = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
SETTINGS = Settings()
REASON = "counter property test"
CURRENCIES = ("CNY", "USD")


@dataclass
class Book:
    store: db.Store
    agents: list[Actor]
    supervisor: Actor
    refs: Iterator[int]
    folder: Path


@pytest.fixture(scope="module")
def book(databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    store = databases.open(tmp_path_factory.mktemp("counters"), "counters.db")
    with store.write() as session:
        agents = [
            accounts.create_user(
                session=session, now=START, username=name, password="demo", role="agent"
            )
            for name in ("alice", "bob")
        ]
        supervisor = accounts.create_user(
            session=session, now=START, username="sam", password="demo", role="supervisor"
        )
    folder = tmp_path_factory.mktemp("counter-files")
    yield Book(store, agents, supervisor, itertools.count(), folder)
    store.dispose()


ZONES = ("UTC", "Asia/Kathmandu", "America/New_York", "Asia/Shanghai")


def counted_rows(
    session: Any, user_id: uuid.UUID, start: datetime, end: datetime
) -> tuple[int, int]:  # noqa: E501
    """The day's attempts and right-party contacts counted from the rows themselves."""
    codes = workload._right_party_codes()
    found = session.exec(
        select(Activity.disposition).where(
            Activity.user_id == user_id,
            col(Activity.occurred_at) >= start,
            col(Activity.occurred_at) < end,
            Activity.channel != "note",
        )
    ).all()
    return len(found), sum(1 for code in found if code in codes)


def assert_counters_equal_recount(
    store: db.Store, users: Sequence[Actor] = (), now: datetime = START
) -> workload.CounterCheck:
    with store.read() as session:
        found = workload.recount(session=session)
        codes = workload._right_party_codes()
        for user, zone in itertools.product(users, ZONES):
            # The day's attempts from the quarter-hour buckets equal a count of the rows.
            start, end = workload.local_day(now, zone)
            assert workload._day_attempts(session, user.user_id, start, end, codes) == (
                counted_rows(session, user.user_id, start, end)
            )
    assert found.differences == ()
    return found


case_index = st.integers(0, 5)
agent_index = st.sampled_from([0, 1, None])
percent = st.sampled_from([1, 30, 50, 99, 100, 120])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.sampled_from(CURRENCIES), agent_index),
        st.tuples(st.just("assign"), case_index, agent_index),
        st.tuples(st.just("balance"), st.just(0), st.just(0)),
        st.tuples(st.just("log"), case_index, st.sampled_from(["no_answer", "promise"])),
        st.tuples(st.just("promise"), case_index, percent),
        st.tuples(st.just("pay"), case_index, percent),
        st.tuples(st.just("reverse"), case_index, st.just(0)),
        st.tuples(st.just("close"), case_index, st.sampled_from(["close", "write_off"])),
        st.tuples(st.just("hold"), case_index, st.sampled_from(["dispute", "hardship", "cease"])),
        st.tuples(st.just("release"), case_index, st.just(0)),
        st.tuples(st.just("erase"), case_index, st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 20), st.just(0)),
        st.tuples(st.just("import"), st.integers(1, 4), agent_index),
    ),
    min_size=1,
    max_size=14,
)


def _place(book: Book, session: Any, now: datetime, currency: str, agent: int | None) -> uuid.UUID:
    number = next(book.refs)
    return add_placement(
        session=session,
        now=now,
        placement=PlacementInput(
            client="Counters",
            client_ref=f"W-{number}-{uuid.uuid4().hex[:6]}",
            debtor_name=f"Debtor {number}",
            country="CN" if currency == "CNY" else "US",
            currency=currency,
            principal=10_000 + number,
            due_date=date(2026, 9, 1),
            placed_date=date(2026, 10, 1),
            assigned_to_id=book.agents[agent].user_id if agent is not None else None,
        ),
        settings=SETTINGS,
    ).id


def _import(book: Book, now: datetime, rows: int, agent: int | None) -> list[uuid.UUID]:
    """A placement file of `rows` cases (its own transaction; the counters take the new cases in
    one statement: workload.cases_inserted_in_bulk)."""
    refs = [f"F-{next(book.refs)}-{uuid.uuid4().hex[:6]}" for _ in range(rows)]
    lines = [
        f"Counters,{ref},Debtor {ref},{'CN' if index % 2 else 'US'},,"
        f"{'CNY' if index % 2 else 'USD'},{100 + index}.50,2026-09-01\n"
        for index, ref in enumerate(refs)
    ]
    path = book.folder / f"{refs[0]}.csv"
    header = "client,client_ref,debtor_name,country,phone,currency,principal,due_date\n"
    path.write_text(header + "".join(lines), encoding="utf-8")
    import_cases(
        store=book.store,
        path=path,
        now=now,
        settings=SETTINGS,
        actor=book.supervisor,
        assign_to=book.agents[agent].user_id if agent is not None else None,
    )
    with book.store.read() as session:
        return list(session.exec(select(Case.id).where(col(Case.client_ref).in_(refs))).all())


def _step(
    book: Book, session: Any, now: datetime, cases: list[uuid.UUID], step: tuple[Any, ...]
) -> None:  # noqa: E501
    kind, first, second = step
    boss = book.supervisor
    if kind == "place":
        cases.append(_place(book, session, now, first, second))
        return
    if kind == "balance":
        assignment.auto_balance(
            session=session, now=now, actor=boss, settings=SETTINGS,
            agent_ids=[agent.user_id for agent in book.agents], reason=REASON,
        )  # fmt: skip
        return
    if kind == "wait":
        return
    if not cases:
        return
    case_id = cases[first % len(cases)]
    case = session.get(Case, case_id)
    if kind == "assign":
        to = book.agents[second].user_id if second is not None else None
        assignment.assign_cases(
            session=session, now=now, actor=boss, case_ids=[case_id], to_user_id=to,
            settings=SETTINGS, reason=REASON,
        )  # fmt: skip
    elif kind == "log":
        promise = (
            PromiseInput(max(1, case.balance // 3), now.date() + timedelta(days=3))
            if second == "promise"
            else None
        )
        activities.log_contact(
            session=session, now=now, actor=boss, case_id=case_id,
            contact=ContactInput(disposition=second, promise=promise), settings=SETTINGS,
        )  # fmt: skip
    elif kind == "promise":
        promises.create_promise(
            session=session, now=now, actor=boss, case_id=case_id,
            promise=PromiseInput(max(1, case.balance * second // 100), now.date()),
            settings=SETTINGS,
        )  # fmt: skip
    elif kind == "pay":
        payments.post_payment(
            session=session, now=now, actor=boss, case_id=case_id,
            amount=max(1, case.balance * second // 100), received_on=now.date(),
            settings=SETTINGS,
        )  # fmt: skip
    elif kind == "reverse":
        paid = session.exec(
            select(Payment.id).where(Payment.case_id == case_id).order_by(col(Payment.id))
        ).first()
        if paid is not None:
            reversals.reverse_payment(
                session=session, now=now, actor=boss, settings=SETTINGS, payment_id=paid,
                reason=REASON,
            )  # fmt: skip
    elif kind == "close":
        decide = decisions.close_case if second == "close" else decisions.write_off
        decide(session=session, now=now, actor=boss, case_id=case_id, settings=SETTINGS,
               reason=REASON)  # fmt: skip
    elif kind == "hold":
        holds.place_hold(
            session=session, now=now, actor=boss, case_id=case_id, kind=second,
            settings=SETTINGS, reason=REASON,
        )  # fmt: skip
    elif kind == "release":
        for view in holds.active_holds(session=session, case_id=case_id):
            holds.release_hold(
                session=session, now=now, actor=boss, hold_id=view.id, settings=SETTINGS,
                reason=REASON,
            )  # fmt: skip
            break
    elif kind == "erase":
        erasure.erase_case(
            session=session, now=now, actor=boss, settings=SETTINGS, case_id=case_id,
            reason=REASON,
        )  # fmt: skip


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=operations)
def test_any_sequence_keeps_the_counters_equal_to_a_recount(
    book: Book, steps: list[tuple[Any, ...]]
) -> None:
    now = START
    cases: list[uuid.UUID] = []
    for step in steps:
        if step[0] == "wait":
            now += timedelta(days=step[1])
            with book.store.write() as session:
                # The sweep judges the promises past their grace (as every queue does first).
                sweep.sweep(session=session, now=now, settings=SETTINGS)
        if step[0] == "import":
            cases.extend(_import(book, now, step[1], step[2]))
            assert_counters_equal_recount(book.store, [*book.agents, book.supervisor], now)
            continue
        try:
            with book.store.write() as session:
                _step(book, session, now, cases, step)
        except ServiceError:
            pass  # a refusal writes nothing: the counters must still be right
        assert_counters_equal_recount(book.store, [*book.agents, book.supervisor], now)


def test_workload_rows_come_from_the_counters(book: Book) -> None:
    """The workload view's figures are the recount's, agent by agent, the unassigned included."""
    with book.store.write() as session:
        for currency, agent in itertools.product(CURRENCIES, (0, 1, None)):
            case_id = _place(book, session, START, currency, agent)
            promises.create_promise(
                session=session, now=START, actor=book.supervisor, case_id=case_id,
                promise=PromiseInput(500, START.date() + timedelta(days=2)), settings=SETTINGS,
            )  # fmt: skip
    found = assert_counters_equal_recount(book.store)
    with book.store.read() as session:
        rows = workload.agent_workloads(session=session, now=START, actor=book.supervisor)
        counted = workload._counted(session)
    assert sum(row.open_cases for row in rows) == found.open_cases
    assert sum(row.pending_promises for row in rows) == found.pending_promises
    for row in rows:
        mine = {key[1]: figures for key, figures in counted.items() if key[0] == row.agent_id}
        assert row.open_cases == sum(figures[0] for figures in mine.values())
        assert row.pending_promises == sum(figures[2] for figures in mine.values())
        assert {b.currency: b.amount for b in row.balances} == {
            currency: figures[1] for currency, figures in mine.items() if figures[0]
        }


def test_browser_total_from_the_counters_is_the_count(book: Book) -> None:
    with book.store.write() as session:
        _place(book, session, START, "USD", None)
    boss = book.supervisor
    with book.store.read() as session:
        for flt in (
            workload.BrowserFilter(),
            workload.BrowserFilter(unassigned=True),
            workload.BrowserFilter(agent_id=book.agents[0].user_id, currency="usd"),
            workload.BrowserFilter(currency="CNY"),
        ):
            page = workload.browse_cases(session=session, now=START, actor=boss, filters=flt)
            assert page.total is not None
            by_rows = len(
                workload.browse_cases(
                    session=session, now=START, actor=boss, filters=flt, limit=500
                ).rows
            )
            assert page.total == by_rows  # the module's book stays under 500 cases
            counted = workload._total_from_counters(session, flt, boss)
            assert counted == page.total
        mine = workload.browse_cases(session=session, now=START, actor=book.agents[1], limit=500)
        assert mine.total == len(mine.rows)


def test_drift_is_found_and_fixed(book: Book) -> None:
    boss_id = book.supervisor.user_id
    with book.store.write() as session:
        case_id = _place(book, session, START, "CNY", 0)
        activities.log_contact(
            session=session, now=START, actor=book.supervisor, case_id=case_id,
            contact=ContactInput(disposition="no_answer"), settings=SETTINGS,
        )  # fmt: skip
        session.flush()
        # Drift made by hand (a bug, a restore): the counters no longer add up.
        row = session.get(WorkloadCounter, (book.agents[0].user_id, "CNY"))
        assert row is not None
        row.open_cases += 7
    with book.store.read() as session:
        with pytest.raises(Forbidden):
            workload.check_counters(session=session, actor=book.agents[0])
        found = workload.check_counters(session=session, actor=book.supervisor)
    assert not found.equal
    [difference] = found.differences
    assert difference.agent_id == book.agents[0].user_id and difference.currency == "CNY"
    assert difference.stored[0] == difference.counted[0] + 7
    with book.store.write() as session:
        fixed = workload.fix_counters(session=session, now=START, actor=book.supervisor)
    assert fixed.fixed and len(fixed.differences) == 1
    assert_counters_equal_recount(book.store)
    with book.store.write() as session:
        again = workload.fix_counters(session=session, now=START, actor=book.supervisor)
    assert again.equal and not again.fixed
    # The attempts' quarter hours drift too (a bucket lost): found per user, made again.
    with book.store.write() as session:
        session.execute(AttemptCounter.__table__.delete().where(AttemptCounter.user_id == boss_id))
    with book.store.read() as session:
        lost = workload.recount(session=session)
    assert [d.user_id for d in lost.attempt_differences] == [boss_id]
    assert lost.attempt_differences[0].stored == (0, 0) and not lost.equal
    with book.store.write() as session:
        assert workload.fix_counters(session=session, now=START, actor=book.supervisor).fixed
    assert_counters_equal_recount(book.store, [*book.agents, book.supervisor])
    with book.store.read() as session:
        assert session.get(Case, case_id) is not None
        with pytest.raises(InvalidInput):
            # a refusal of the browser is unchanged by the counters
            workload.browse_cases(
                session=session, now=START, actor=book.supervisor,
                filters=workload.BrowserFilter(currency="xx"),
            )  # fmt: skip


def test_a_promise_moves_with_its_case(book: Book) -> None:
    """A pending promise counts for the case's agent: reassigning the case moves it, and a
    promise written straight into the table (sync's apply, an import) is counted too."""
    with book.store.write() as session:
        case_id = _place(book, session, START, "USD", 0)
        session.add(
            Promise(
                case_id=case_id,
                amount=100,
                due_date=START.date(),
                created_at=START,
                updated_at=START,
            )
        )
    assert_counters_equal_recount(book.store)
    with book.store.write() as session:
        assignment.assign_cases(
            session=session, now=START, actor=book.supervisor, case_ids=[case_id],
            to_user_id=book.agents[1].user_id, settings=SETTINGS, reason=REASON,
        )  # fmt: skip
    assert_counters_equal_recount(book.store)
    with book.store.write() as session:
        for promise in session.exec(select(Promise).where(Promise.case_id == case_id)):
            session.delete(promise)
    assert_counters_equal_recount(book.store)


def test_attempts_of_the_day_leave_out_the_voided_ones(book: Book) -> None:
    from collector_tui.services.casework import corrections

    alice = book.agents[0]

    def today() -> tuple[int, int]:
        with book.store.read() as session:
            [row] = workload.agent_workloads(session=session, now=START, actor=alice)
        return row.attempts_today, row.contacts_today

    before = today()
    with book.store.write() as session:
        case_id = _place(book, session, START, "CNY", 0)
        logged = [
            activities.log_contact(
                session=session,
                now=START - timedelta(minutes=minutes),
                actor=alice,
                case_id=case_id,
                contact=ContactInput(disposition=code),
                settings=SETTINGS,
            )  # fmt: skip
            for minutes, code in ((30, "right_party"), (20, "no_answer"))
        ]
    assert today() == (before[0] + 2, before[1] + 1)
    with book.store.write() as session:
        corrections.void_contact(
            session=session, now=START, actor=book.supervisor,
            activity_id=logged[0].activity_id, settings=SETTINGS, reason=REASON,
        )  # fmt: skip
    assert today() == (before[0] + 1, before[1])


def test_a_day_in_buckets_starts_and_ends_at_local_midnight(book: Book) -> None:
    """Attempts on both sides of midnight in a zone 5:45 ahead of UTC fall in the right day; a
    window off the quarter hours is counted from the rows."""
    alice = book.agents[0]
    codes = workload._right_party_codes()
    start, _ = workload.local_day(START, "Asia/Kathmandu")
    with book.store.write() as session:
        case_id = _place(book, session, START, "CNY", 0)
        for at, code in (
            (start - timedelta(seconds=1), "right_party"),
            (start, "no_answer"),
            (start + timedelta(minutes=14, seconds=59), "promise"),
            (start + timedelta(minutes=15), "no_answer"),
        ):
            contact = ContactInput(
                disposition=code,
                occurred_at=at,
                promise=PromiseInput(100, START.date() + timedelta(days=2))
                if code == "promise"
                else None,
            )
            activities.log_contact(
                session=session, now=START, actor=alice, case_id=case_id, contact=contact,
                settings=SETTINGS,
            )  # fmt: skip
    with book.store.read() as session:
        for window in (
            (start, start + timedelta(minutes=15)),
            (start - timedelta(minutes=15), start),
            (start, start + timedelta(days=1)),
            (start + timedelta(seconds=1), start + timedelta(minutes=20)),  # off the quarters
        ):
            assert workload._day_attempts(session, alice.user_id, *window, codes) == (
                counted_rows(session, alice.user_id, *window)
            )
        assert counted_rows(session, alice.user_id, start, start + timedelta(minutes=15)) == (2, 1)
