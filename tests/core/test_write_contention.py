"""Writers are not starved (db.py): under contention every write unit of normal size gets the
SQLite write lock, and a unit gives up only after BUSY_TIMEOUT_MS in all, having written nothing.

The load test runs 4 writer processes, each doing short units of work through the services (a note
on its own case) back to back on one file, while 2 processes burn the 2 cores: no unit may fail
for a lock wait and every note must be in the file. The other tests pin down the mechanism: the
BEGIN is retried in short attempts (a lock held much longer than one attempt is waited out), the
total bound holds, and nothing is written by a unit that gave up.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from collector_tui import bootstrap, db
from collector_tui.clock import SystemClock
from collector_tui.config import Settings
from collector_tui.models import Activity, Case
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import notes

pytestmark = pytest.mark.sqlite_only

WRITERS = 4
BURNERS = 2
UNITS = 20  # per writer


def _burn(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


def _write_notes(path: str, actor: Actor, case_id: uuid.UUID, start: Any, results: Any) -> None:
    store = bootstrap.open_store(path)
    settings = Settings()
    failures: list[str] = []
    written = 0
    longest = 0.0
    start.wait()
    for number in range(UNITS):
        began = time.monotonic()
        try:
            with store.write() as session:
                notes.add_note(
                    session=session,
                    now=SystemClock().now(),
                    actor=actor,
                    case_id=case_id,
                    text=f"note {number}",
                    settings=settings,
                )
            written += 1
        except Exception as error:  # noqa: BLE001 - the test reports every failure
            failures.append(f"{type(error).__name__}: {error}"[:200])
        longest = max(longest, time.monotonic() - began)
    store.dispose()
    results.put((written, failures, longest))


def _notes(store: db.Store, case_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(Activity).where(Activity.case_id == case_id)
    with store.read() as session:
        return session.exec(statement).one()


def test_four_writers_on_two_loaded_cores_all_get_the_lock(
    store: db.Store, place: Any, users: dict[str, Actor], tmp_path: Path
) -> None:
    case_ids = [place(f"W-{number}").id for number in range(WRITERS)]
    path = str(tmp_path / "test.db")
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    start = context.Barrier(WRITERS)
    results = context.Queue()
    burners = [context.Process(target=_burn, args=(stop,)) for _ in range(BURNERS)]
    writers = [
        context.Process(target=_write_notes, args=(path, users["alice"], case_id, start, results))
        for case_id in case_ids
    ]
    began = time.monotonic()
    try:
        for process in burners + writers:
            process.start()
        outcomes = [results.get(timeout=120) for _ in writers]
        for process in writers:
            process.join(30)
    finally:
        stop.set()
        for process in burners + writers:
            process.join(10)
            if process.is_alive():
                process.kill()
    longest = max(outcome[2] for outcome in outcomes)
    failures = [failure for _, failed, _ in outcomes for failure in failed]
    assert failures == [], f"longest unit of work {longest:.1f} s"
    assert sum(written for written, _, _ in outcomes) == WRITERS * UNITS
    assert [_notes(store, case_id) for case_id in case_ids] == [UNITS] * WRITERS
    assert all(process.exitcode == 0 for process in writers)
    assert time.monotonic() - began < 60


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> None:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def _add_note(store: db.Store, case: Case, actor: Actor) -> None:
    with store.write() as session:
        notes.add_note(
            session=session,
            now=SystemClock().now(),
            actor=actor,
            case_id=case.id,
            text="after the wait",
            settings=Settings(),
        )


def test_a_lock_held_for_many_attempts_is_waited_out(
    store: db.Store,
    place: Any,
    users: dict[str, Actor],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One attempt is 20 ms here: only a retried BEGIN survives a lock held for 0.8 s.
    monkeypatch.setattr(db, "LOCK_ATTEMPT_MS", 20)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 5_000)
    case = place("R-1")
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(tmp_path / "test.db", 0.8, held))
    holder.start()
    held.wait(5)
    began = time.monotonic()
    try:
        _add_note(store, case, users["alice"])
    finally:
        holder.join(10)
    assert time.monotonic() - began > 0.5
    assert _notes(store, case.id) == 1
    with store.engine.connect() as connection:  # each attempt's short timeout was undone
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5_000


def test_a_writer_gives_up_after_the_bound_and_writes_nothing(
    store: db.Store,
    place: Any,
    users: dict[str, Actor],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 600)
    case = place("R-2")
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(tmp_path / "test.db", 1.8, held))
    holder.start()
    held.wait(5)
    began = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="locked"):
            _add_note(store, case, users["alice"])
        waited = time.monotonic() - began
    finally:
        holder.join(10)
    assert 0.5 < waited < 1.8  # gave up at the bound, before the holder let go
    assert _notes(store, case.id) == 0


def test_the_bound_is_sixty_seconds() -> None:
    # README (Reliability) and the db docstring promise this figure.
    assert db.BUSY_TIMEOUT_MS == 60_000
