"""Strategies are the master's: a case's strategy and group reach a laptop with its briefcase, and
a packet trying to move a case to another group (or strategy) is refused there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import Case
from collector_tui.services.accounts import Actor
from collector_tui.services.strategies import assign
from collector_tui.services.sync import engine

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)

FILE = """
[strategies.standard]
queue_weight = 100
[strategies.standard.challenger]
share = 50
queue_weight = 200
[[rules]]
name = "default"
strategy = "standard"
"""


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


def test_a_packet_cannot_move_a_case_between_groups(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    alice = users["alice"]
    case = place("ST-1")
    path = tmp_path / "s.toml"
    path.write_text(FILE, encoding="utf-8")
    with store.write() as session:
        assign.apply_strategy_file(
            session=session, now=NOW, actor=users["sam"], settings=Settings(), path=path
        )
        placed = session.get(Case, case.id)
        group, treatment = placed.strategy_group, placed.strategy_treatment
    engine.pull(master=store, laptop=laptop, actor=alice, now=NOW, settings=Settings())
    other = "champion" if group == "challenger" else "challenger"
    with laptop.write() as session:
        row = session.get(Case, case.id)
        assert (row.strategy, row.strategy_group) == ("standard", group)
        row.strategy_group = other
        row.strategy_treatment = {**(row.strategy_treatment or {}), "queue_weight": 1000}
        session.add(row)
    result = engine.push(laptop=laptop, master=store, actor=alice, now=LATER, settings=Settings())
    assert result.rejected >= 1, result
    with store.read() as session:
        row = session.get(Case, case.id)
        assert row.strategy_group == group
        assert row.strategy_treatment == treatment
    # Nor can a laptop apply a file itself.
    with pytest.raises(Exception, match="laptop"), laptop.write() as session:
        assign.apply_strategy_file(
            session=session, now=LATER, actor=users["sam"], settings=Settings(), path=path
        )
