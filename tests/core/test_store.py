"""The store: migrations match the models, SQLite runs as
docs/decisions.md, transactions, says."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel, select

from collector_tui import db
from collector_tui.models import AuditEvent, User
from collector_tui.services import accounts, audit


def test_migrations_reach_head_and_match_the_models(store: db.Store) -> None:
    assert db.current_revision(store) == db.head_revision(store)
    with store.engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert drift == [], f"models and migrations disagree: {drift}"


def test_upgrade_is_idempotent(store: db.Store) -> None:
    db.upgrade(store)
    assert db.current_revision(store) == db.head_revision(store)


@pytest.mark.sqlite_only
def test_sqlite_pragmas(store: db.Store) -> None:
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


@pytest.mark.sqlite_only
def test_write_units_take_the_write_lock_up_front(store: db.Store, tmp_path: Path) -> None:
    # A second process cannot start writing while our unit of work is open: BEGIN IMMEDIATE.
    with store.write() as session:
        session.exec(select(User)).all()
        other = sqlite3.connect(tmp_path / "test.db", timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_failed_unit_of_work_writes_nothing(store: db.Store, now) -> None:  # noqa: ANN001
    with pytest.raises(RuntimeError), store.write() as session:
        accounts.create_user(session=session, now=now, username="x", password="pass", role="agent")
        raise RuntimeError("boom")
    with store.read() as session:
        assert session.exec(select(User)).all() == []


def test_audit_trail_is_append_only(store: db.Store, now) -> None:  # noqa: ANN001
    with store.write() as session:
        audit.record(
            session=session, now=now, user_id=None, entity="case", entity_id="1", action="x"
        )
    with store.engine.begin() as connection:
        with pytest.raises(Exception, match="append-only"):
            connection.execute(text("UPDATE auditevent SET action = 'y'"))
    with store.engine.begin() as connection:
        with pytest.raises(Exception, match="append-only"):
            connection.execute(text("DELETE FROM auditevent"))
    with store.read() as session:
        assert [e.action for e in session.exec(select(AuditEvent))] == ["x"]


def test_instants_come_back_aware_utc(store: db.Store, now) -> None:  # noqa: ANN001
    with store.write() as session:
        accounts.create_user(session=session, now=now, username="u", password="pass", role="agent")
    with store.read() as session:
        user = session.exec(select(User)).one()
    assert user.created_at == now
    assert user.created_at.utcoffset() is not None


def test_services_never_import_textual() -> None:
    code = (
        "import sys, collector_tui.services.casework.cases, collector_tui.services.rules.scoring, "
        "collector_tui.services.accounts, collector_tui.db; "
        "import pkgutil, importlib, collector_tui.services as s; "
        "[importlib.import_module(f's.{m.name}'.replace('s.', 'collector_tui.services.', 1)) "
        "for m in pkgutil.iter_modules(s.__path__)]; "
        "assert 'textual' not in sys.modules, 'a service imported textual'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
