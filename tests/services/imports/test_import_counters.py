"""The placement import and the workload counters (supervision/workload.cases_inserted_in_bulk):
the new cases are counted in one statement at the end of the write instead of by the per-row
trigger, and the counters still equal a recount; on SQLite the trigger is dropped and made again
inside the import's transaction, so a failure or a crash leaves trigger and counters as they were,
and another connection never sees the trigger missing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from collector_tui.config import Settings
from collector_tui.db import Store
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import ServiceError
from collector_tui.services.imports.placement_file import import_cases
from collector_tui.services.supervision import workload

HEADER = "client,client_ref,debtor_name,country,phone,currency,principal,due_date\n"
TRIGGER = "workload_case_insert"


def placement_text(rows: int, *, prefix: str = "R", bad_line: int | None = None) -> str:
    lines = []
    for number in range(rows):
        currency, country = ("CNY", "CN") if number % 3 else ("USD", "US")
        principal = "oops" if bad_line == number else f"{100 + number}.25"
        lines.append(
            f"ACME,{prefix}{number:04d},Debtor {number},{country},+8613800138000,{currency},"
            f"{principal},2026-01-15\n"
        )
    return HEADER + "".join(lines)


def counters(store: Store) -> list[tuple[object, ...]]:
    with store.read() as session:
        return sorted(
            tuple(row)
            for row in session.connection().exec_driver_sql("SELECT * FROM workload_counter").all()
        )


def assert_equal_recount(store: Store) -> workload.CounterCheck:
    with store.read() as session:
        found = workload.recount(session=session)
    assert found.differences == ()
    return found


def trigger_sql(path: Path) -> str | None:
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (TRIGGER,)
        ).fetchone()
    return None if row is None else str(row[0])


def database_path(store: Store) -> Path:
    database = store.engine.url.database
    assert database is not None
    return Path(database)


def test_imported_cases_are_counted_with_the_others(
    store: Store,
    users: dict[str, Actor],
    place,  # noqa: ANN001
    tmp_path: Path,
    now: datetime,
    settings: Settings,
) -> None:
    place("OLD-1")  # a case counted by the trigger, beside the imported ones of the same key
    place("OLD-2", assigned_to_id=None, currency="USD", country="US", phones=())
    path = tmp_path / "placements.csv"
    path.write_text(placement_text(30), encoding="utf-8")
    import_cases(store=store, path=path, now=now, settings=settings, actor=users["sam"])
    path.write_text(placement_text(12, prefix="A"), encoding="utf-8")
    alice = users["alice"].user_id
    import_cases(
        store=store, path=path, now=now, settings=settings, actor=users["sam"], assign_to=alice
    )
    found = assert_equal_recount(store)
    assert found.open_cases == 2 + 30 + 12
    # The counting after the import is the trigger's again.
    place("OLD-3")
    assert assert_equal_recount(store).open_cases == 45


@pytest.mark.sqlite_only
def test_the_trigger_is_back_after_the_import(
    store: Store, users: dict[str, Actor], tmp_path: Path, now: datetime, settings: Settings
) -> None:
    before = trigger_sql(database_path(store))
    assert before is not None
    path = tmp_path / "placements.csv"
    path.write_text(placement_text(20), encoding="utf-8")
    import_cases(store=store, path=path, now=now, settings=settings, actor=users["sam"])
    assert trigger_sql(database_path(store)) == before


@pytest.mark.sqlite_only
def test_a_failed_import_leaves_trigger_and_counters_as_they_were(
    store: Store,
    users: dict[str, Actor],
    place,  # noqa: ANN001
    tmp_path: Path,
    now: datetime,
    settings: Settings,
) -> None:
    place("OLD-1")
    before = counters(store)
    trigger = trigger_sql(database_path(store))
    path = tmp_path / "placements.csv"
    path.write_text(placement_text(20, bad_line=5), encoding="utf-8")
    # The rejects file goes to a folder that does not exist: it fails after the cases are
    # written, inside the transaction.
    with pytest.raises(ServiceError, match="cannot write"):
        import_cases(
            store=store,
            path=path,
            now=now,
            settings=settings,
            actor=users["sam"],
            skip_bad=True,
            rejects_path=tmp_path / "missing" / "rejects.csv",
        )
    assert counters(store) == before
    assert trigger_sql(database_path(store)) == trigger
    assert assert_equal_recount(store).open_cases == 1


@pytest.mark.sqlite_only
def test_another_connection_never_sees_the_trigger_missing(
    store: Store, users: dict[str, Actor], tmp_path: Path, now: datetime, settings: Settings
) -> None:
    """Mid-import (after the first chunk, the trigger dropped in the import's transaction) a
    second connection reads the last commit, trigger included, and cannot write."""
    database = database_path(store)
    seen: list[str | None] = []
    refused: list[str] = []

    def progress(done: int, total: int) -> None:
        seen.append(trigger_sql(database))
        other = sqlite3.connect(database, timeout=0)
        try:
            other.execute("INSERT INTO workload_counter VALUES ('x', 'CNY', 0, 0, 0)")
            other.commit()
        except sqlite3.OperationalError as error:
            refused.append(str(error))
        finally:
            other.close()

    path = tmp_path / "placements.csv"
    path.write_text(placement_text(30), encoding="utf-8")
    import_cases(
        store=store,
        path=path,
        now=now,
        settings=settings,
        actor=users["sam"],
        progress=progress,
    )
    assert seen and all(sql is not None and TRIGGER in sql for sql in seen)
    assert refused and all("locked" in reason for reason in refused)
    assert_equal_recount(store)


CRASHING_IMPORT = """
import os, sys
from datetime import datetime
from pathlib import Path
from collector_tui.bootstrap import open_store
from collector_tui.config import Settings
from collector_tui.services.imports import placement_file

placement_file.WRITE_CHUNK = 7  # several chunks: the crash comes with rows written

def crash(done, total):
    os._exit(3)  # no rollback, no clean-up: as if the machine lost power mid-import

store = open_store(Path(sys.argv[1]))
placement_file.import_cases(
    store=store, path=Path(sys.argv[2]), now=datetime.fromisoformat(sys.argv[3]),
    settings=Settings(), progress=crash,
)
"""


@pytest.mark.sqlite_only
def test_a_crash_mid_import_leaves_trigger_and_counters_as_they_were(
    store: Store,
    place,  # noqa: ANN001
    tmp_path: Path,
    now: datetime,
) -> None:
    place("OLD-1")
    before = counters(store)
    database = database_path(store)
    trigger = trigger_sql(database)
    path = tmp_path / "placements.csv"
    path.write_text(placement_text(30), encoding="utf-8")
    store.dispose()
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(CRASHING_IMPORT),
            str(database),
            str(path),
            now.isoformat(),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert finished.returncode == 3, finished.stderr
    assert trigger_sql(database) == trigger
    assert counters(store) == before
    assert assert_equal_recount(store).open_cases == 1
