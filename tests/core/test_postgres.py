"""PostgreSQL itself (docs/decisions.md: performance, transactions): write units queue behind each
other as they do on SQLite, a read unit sees one snapshot, and the command line does a day's work on
a postgresql+psycopg:// URL, from `init` on an empty database to the reports.

Every other store and service test also runs on PostgreSQL (see conftest.py); these are the ones
about PostgreSQL's own behaviour. Without a server they skip and say how to get one.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from collector_tui import bootstrap, cli, db
from collector_tui.models import AuditEvent, Case, Payment, Phone, Promise
from collector_tui.services import audit
from collector_tui.services.casework.casefile import load_case_file
from collector_tui.services.casework.search import search_cases

if TYPE_CHECKING:
    from conftest import TestDatabases

pytestmark = pytest.mark.postgresql_only

DATA = Path(__file__).parents[1] / "data"
NOW = "2026-11-20T14:30:00+00:00"  # the conftest clock


def _events(store: db.Store) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def _record(store: db.Store, now: datetime, action: str) -> None:
    with store.write() as session:
        audit.record(
            session=session, now=now, user_id=None, entity="probe", entity_id="1", action=action
        )


def test_a_write_unit_holds_the_write_lock_from_its_first_statement(store: db.Store) -> None:
    probe = sa.create_engine(store.engine.url, poolclass=sa.NullPool)
    try_lock = sa.text("SELECT pg_try_advisory_xact_lock(:key)").bindparams(
        key=db.PG_WRITE_LOCK_KEY
    )
    try:
        with store.write() as session:
            session.exec(select(AuditEvent)).all()  # only a read so far: the lock is taken anyway
            with probe.begin() as other:
                assert other.execute(try_lock).scalar() is False
        with probe.begin() as other:
            assert other.execute(try_lock).scalar() is True
        # Read units take no lock at all.
        with store.read() as session:
            session.exec(select(AuditEvent)).all()
            with probe.begin() as other:
                assert other.execute(try_lock).scalar() is True
    finally:
        probe.dispose()


def test_a_second_writer_waits_then_sees_what_the_first_wrote(
    store: db.Store, now: datetime
) -> None:
    # The services check, then write (a payment reference once per case, frequency caps): the
    # second unit must start after the first committed, as BEGIN IMMEDIATE makes it on SQLite.
    other = bootstrap.open_store(store.engine.url.render_as_string(hide_password=False))
    seen: list[int] = []

    def second() -> None:
        with other.write() as session:
            seen.append(session.exec(select(func.count()).select_from(AuditEvent)).one())
            audit.record(
                session=session, now=now, user_id=None, entity="probe", entity_id="2", action="b"
            )

    try:
        with store.write() as session:
            audit.record(
                session=session, now=now, user_id=None, entity="probe", entity_id="1", action="a"
            )
            session.flush()
            thread = threading.Thread(target=second)
            thread.start()
            thread.join(0.5)
            assert thread.is_alive(), "the second writer did not wait for the first"
        thread.join(10)
        assert not thread.is_alive()
        assert seen == [1]
        assert _events(store) == 2
    finally:
        other.dispose()


def test_a_writer_gives_up_after_the_busy_timeout(
    store: db.Store, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)
    other = bootstrap.open_store(store.engine.url.render_as_string(hide_password=False))
    try:
        with store.write() as session:
            session.exec(select(AuditEvent)).all()
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"):
                _record(other, now, "late")
            assert 0.25 < time.monotonic() - started < 5
        assert _events(store) == 0
    finally:
        other.dispose()


def test_a_read_unit_sees_one_snapshot(store: db.Store, now: datetime) -> None:
    _record(store, now, "before")
    with store.read() as session:
        count = select(func.count()).select_from(AuditEvent)
        assert session.exec(count).one() == 1
        _record(store, now, "meanwhile")  # another unit of work commits
        assert session.exec(count).one() == 1  # not seen: the report stays self-consistent
    assert _events(store) == 2


def test_a_us_toll_free_number_with_every_zone_of_the_plan_is_kept(store, place) -> None:  # noqa: ANN001
    # 42 zones, 727 characters: more than the VARCHAR(500) of 0001, which PostgreSQL enforces.
    place("TF-1", country="US", currency="USD", phones=("+1 800 555 0123",))
    with store.read() as session:
        zones = session.exec(select(Phone.time_zones)).one()
    assert len(zones) > 500 and "Pacific/Honolulu" in zones.split(",")


def _found(session: Any, actor: Any, text: str) -> list[tuple[str, str]]:
    hits = search_cases(session=session, actor=actor, text=text)
    return [(hit.client_ref, hit.matched) for hit in hits]


def test_search_and_the_case_file(store, place, users, now, settings) -> None:  # noqa: ANN001
    # Both are tested at length through the app's demo database, on SQLite only.
    smith = place(
        "S-1", debtor_name="Smith, John", country="US", currency="USD", phones=("+1 212 736 5000",)
    )
    place("S-2", debtor_name="深圳华信贸易有限公司")
    place("S-3", debtor_name="100% Steel_Works")
    alice = users["alice"]
    with store.read() as session:
        assert _found(session, alice, "s-1") == [("S-1", "reference")]
        assert _found(session, alice, "(212) 736-5000") == [("S-1", "phone")]
        assert _found(session, alice, "SMITH") == [("S-1", "name")]  # any letter case
        assert _found(session, alice, "smith, johN") == [("S-1", "name")]
        assert _found(session, alice, "深圳华信") == [("S-2", "name")]
        for typed in ("100% S", "100% Steel_W"):  # LIKE wildcards typed are characters
            assert _found(session, alice, typed) == [("S-3", "name")]
        assert _found(session, alice, "100% SteelxW") == []
        assert _found(session, users["bob"], "smith") == []
        case_file = load_case_file(
            session=session, actor=alice, case_id=smith.id, now=now, settings=settings
        )
    assert case_file.phones[0].time_zones == ("America/New_York",)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # noqa: ANN201
    """`run(*args, password=..., new_password=...)` -> (exit status, stdout, stderr)."""
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    def _run(*args: str, password: str = "demo", new_password: str | None = None) -> Any:
        monkeypatch.setenv("COLLECTOR_PASSWORD", password)
        if new_password is not None:
            monkeypatch.setenv("COLLECTOR_NEW_PASSWORD", new_password)
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


def test_a_day_of_work_on_the_command_line(databases: TestDatabases, run: Any) -> None:
    url = databases.blank_url()

    def ok(*args: str, user: str = "boss", **kw: Any) -> Any:
        code, out, err = run("--db", url, "--user", user, "--now", NOW, *args, **kw)
        assert (code, err) == (0, ""), (args, out, err)
        return json.loads(out) if "--json" in args else out

    code, out, err = run("--db", url, "init", "--admin", "boss", password="s3cret!")
    assert (code, err) == (0, ""), err
    assert "created admin boss" in out
    assert "up to date" in run("--db", url, "init")[1]  # again: nothing to do

    ok("user", "add", "alice", "--role", "agent", password="s3cret!", new_password="demo")
    ok("user", "add", "sam", "--role", "supervisor", password="s3cret!", new_password="demo")
    imported = ok(
        "import", "cases", str(DATA / "placements_basic.csv"), "--assign-to", "alice", "--json",
        user="sam",
    )  # fmt: skip
    assert imported["cases_created"] >= 3 and imported["rejected"] == []
    again = ok("import", "cases", str(DATA / "placements_basic.csv"), "--json", user="sam")
    assert again["cases_created"] == 0  # idempotent

    queue = ok("queue", "--json", "--held", user="alice")
    assert {row["client_ref"] for row in queue} >= {"A-1001", "A-1002", "A-1003"}
    ok(
        "log", "A-1001", "--disposition", "promise", "--promise", "500.00@2026-12-01",
        "--note", "会在12月1日付款", "--json", user="alice",
    )  # fmt: skip
    paid = ok("payment", "A-1001", "200.00", "--reference", "BANK-1", "--json", user="sam")
    assert paid["balance_after"]
    code, _, err = run(
        "--db", url, "--user", "sam", "--now", NOW, "payment", "A-1001", "1", "--reference",
        "BANK-1",
    )  # fmt: skip
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    ok("sweep", "--json", user="sam")
    for kind in ("aging", "promises", "collections", "agents", "dso"):
        assert isinstance(ok("report", kind, "--json", user="sam"), list | dict)

    store = bootstrap.open_store(url)
    try:
        assert db.current_revision(store) == db.head_revision(store)
        with store.read() as session:
            assert session.exec(select(func.count()).select_from(Case)).one() >= 3
            assert session.exec(select(func.count()).select_from(Payment)).one() == 1
            promise = session.exec(select(Promise)).one()
            assert (promise.amount, promise.paid_amount) == (50_000, 20_000)
    finally:
        store.dispose()
