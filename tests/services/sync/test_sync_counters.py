"""The workload counters and sync: derived data that never travels. A laptop counts its own
briefcase with the same triggers, its outbox never carries a counter, the master refuses one, and
the master's counters follow what a push applies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import SyncOutboxOp
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import InvalidInput
from collector_tui.services.supervision import workload
from collector_tui.services.sync import admission, engine

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # as tests/conftest.py


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


def counters_equal_recount(store: db.Store) -> workload.CounterCheck:
    with store.read() as session:
        found = workload.recount(session=session)
    assert found.differences == ()
    return found


def test_counters_never_travel_and_each_side_counts_its_own(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    mine = place("A-1")
    place("A-2")
    place("B-1", assigned_to_id=users["bob"].user_id)
    engine.pull(
        master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings(),
        master_location="master.db",
    )  # fmt: skip
    # The laptop holds alice's two cases and counts exactly those.
    assert counters_equal_recount(laptop).open_cases == 2
    assert counters_equal_recount(store).open_cases == 3

    with laptop.write() as session:
        activities.log_contact(
            session=session, now=NOW + timedelta(minutes=5), actor=users["alice"],
            case_id=mine.id, settings=Settings(),
            contact=activities.ContactInput(
                disposition="promise", promise=PromiseInput(1_000, NOW.date() + timedelta(days=3))
            ),
        )  # fmt: skip
    assert counters_equal_recount(laptop).pending_promises == 1
    with laptop.read() as session:
        entities = set(session.exec(select(SyncOutboxOp.entity)))
    assert "promise" in entities and "workload_counter" not in entities

    engine.push(
        laptop=laptop, master=store, actor=users["alice"], now=NOW + timedelta(hours=1),
        settings=Settings(),
    )  # fmt: skip
    assert counters_equal_recount(store).pending_promises == 1

    with pytest.raises(InvalidInput, match="not synchronised"):
        admission.check_shape(
            kind="update", entity="workload_counter", entity_id=str(uuid.uuid4()),
            clock="0000000000001-0000-0",
        )  # fmt: skip
