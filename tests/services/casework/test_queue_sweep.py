"""The promise sweep that opens every queue finds its promises through ix_promise_sweep (one seek
per grace value) rather than by reading every pending promise with its case: the same promises
must be judged, for every grace, and only the agent's own."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Promise
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import promises, queue, sweep
from collector_tui.services.casework.promises import MAX_GRACE_DAYS, PromiseInput

# (client_ref, agent, grace days, due date) at the fixtures' now, 2026-11-20: judged from
# due + grace + 1 on, so the first of each pair is past its grace and the second is not.
PROMISES = [
    ("G0-PAST", "alice", 0, date(2026, 11, 19)),
    ("G0-DUE", "alice", 0, date(2026, 11, 20)),
    ("G2-PAST", "alice", 2, date(2026, 11, 17)),
    ("G2-GRACE", "alice", 2, date(2026, 11, 18)),
    ("GMAX-PAST", "alice", MAX_GRACE_DAYS, date(2026, 11, 19) - timedelta(days=MAX_GRACE_DAYS)),
    ("GMAX-GRACE", "alice", MAX_GRACE_DAYS, date(2026, 11, 20) - timedelta(days=MAX_GRACE_DAYS)),
    ("G40-PAST", "alice", 40, date(2026, 10, 10)),  # beyond what a form accepts: set directly
    ("G40-GRACE", "alice", 40, date(2026, 10, 11)),
    ("BOB-PAST", "bob", 0, date(2026, 11, 1)),
]


def _book(
    store: db.Store, settings: Settings, users: dict[str, Actor], place: Any
) -> dict[str, uuid.UUID]:
    made = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
    ids: dict[str, uuid.UUID] = {}
    for ref, agent, grace, due in PROMISES:
        case = place(ref, assigned_to_id=users[agent].user_id)
        with store.write() as session:
            ids[ref] = promises.create_promise(
                session=session,
                now=made,
                actor=users[agent],
                case_id=case.id,
                promise=PromiseInput(
                    amount=1_000, due_date=due, grace_days=min(grace, MAX_GRACE_DAYS)
                ),
                settings=settings,
            )
        if grace > MAX_GRACE_DAYS:
            with store.write() as session:
                session.execute(
                    update(Promise).where(Promise.id == ids[ref]).values(grace_days=grace)
                )
    return ids


def _statuses(store: db.Store, ids: dict[str, uuid.UUID]) -> dict[str, str]:
    with store.read() as session:
        rows = session.exec(select(Promise.id, Promise.status)).all()
    by_id = dict(rows)
    return {ref: by_id[promise_id] for ref, promise_id in ids.items()}


def test_the_queue_judges_exactly_the_agents_promises_past_their_grace(
    store: db.Store, now: datetime, settings: Settings, users: dict[str, Actor], place: Any
) -> None:
    ids = _book(store, settings, users, place)

    with store.write() as session:
        queue.build_queue(
            session=session, now=now, agent_id=users["alice"].user_id, settings=settings
        )

    assert _statuses(store, ids) == {
        "G0-PAST": "broken",
        "G0-DUE": "pending",
        "G2-PAST": "broken",
        "G2-GRACE": "pending",
        "GMAX-PAST": "broken",
        "GMAX-GRACE": "pending",
        "G40-PAST": "broken",
        "G40-GRACE": "pending",
        "BOB-PAST": "pending",  # bob's queue judges it, not alice's
    }

    with store.write() as session:  # 22:30 in Shanghai: nothing callable, but judged all the same
        queue.next_case(session=session, now=now, agent_id=users["bob"].user_id, settings=settings)
    assert _statuses(store, ids)["BOB-PAST"] == "broken"


def test_past_grace_matches_the_sweeps_own_reading(
    store: db.Store, now: datetime, settings: Settings, users: dict[str, Actor], place: Any
) -> None:
    ids = _book(store, settings, users, place)
    with store.read() as session:
        found = queue._past_grace(session, now.date())
        reference = {
            promise.case_id
            for agent in ("alice", "bob")
            for promise in sweep._due_candidates(session, now.date(), users[agent].user_id, None)
        }
        cases = dict(session.exec(select(Promise.id, Promise.case_id)).all())
    assert found == reference
    past = ("G0-PAST", "G2-PAST", "GMAX-PAST", "G40-PAST", "BOB-PAST")
    assert found == {cases[ids[ref]] for ref in past}


def test_each_day_reads_its_own_past_grace(
    store: db.Store, now: datetime, settings: Settings, users: dict[str, Actor], place: Any
) -> None:
    # The statement is kept per day: a promise still in its grace today must be judged by the
    # queue of the day after, in the same process, not by today's kept statement.
    ids = _book(store, settings, users, place)
    alice = users["alice"].user_id
    with store.write() as session:
        queue.build_queue(session=session, now=now, agent_id=alice, settings=settings)
    assert _statuses(store, ids)["G2-GRACE"] == "pending"
    with store.write() as session:
        queue.build_queue(
            session=session, now=now + timedelta(days=1), agent_id=alice, settings=settings
        )
    assert _statuses(store, ids)["G2-GRACE"] == "broken"
    assert _statuses(store, ids)["G0-DUE"] == "broken"
