"""Shared fixtures: a real temporary SQLite file migrated to head, a fixed clock, users."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.cases import PlacementInput, add_placement

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # a Friday afternoon in UTC


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[db.Store]:
    store = db.open_store(tmp_path / "test.db")
    db.upgrade(store)
    yield store
    store.dispose()


@pytest.fixture
def users(store: db.Store) -> dict[str, Actor]:
    with store.write() as session:
        return {
            name: accounts.create_user(
                session=session, now=NOW, username=name, password="demo", role=role
            )
            for name, role in (
                ("alice", "agent"),
                ("bob", "agent"),
                ("sam", "supervisor"),
                ("root", "admin"),
            )
        }


@pytest.fixture
def place(store: db.Store, settings: Settings, users: dict[str, Actor]):  # noqa: ANN201
    """Place a case: `place("REF-1", balance=10_000, phones=("+8613800138000",))`."""

    def _place(client_ref: str, **overrides: object):  # noqa: ANN202
        values: dict[str, object] = {
            "client": "ACME Bank",
            "client_ref": client_ref,
            "debtor_name": f"Debtor {client_ref}",
            "country": "CN",
            "currency": "CNY",
            "principal": 100_000,
            "due_date": date(2026, 9, 1),
            "placed_date": date(2026, 10, 1),
            "phones": ("+86 138 0013 8000",),
            "assigned_to_id": users["alice"].user_id,
        }
        values.update(overrides)
        with store.write() as session:
            return add_placement(
                session=session, now=NOW, placement=PlacementInput(**values), settings=settings
            )

    return _place
