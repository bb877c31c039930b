"""The command line (docs/decisions.md, command line): in-process through `main([...])`, and a few
real processes for exit codes and a clean one-line stderr."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from collector_tui import bootstrap, cli, db
from collector_tui.cli import app as cli_app
from collector_tui.cli import imports as cli_imports
from collector_tui.demo import DEMO_NOW
from collector_tui.models import Assignment, Case, FollowUp, Payment, Promise, User
from collector_tui.services import accounts

NOW = "2026-11-20T14:30:00+00:00"  # the conftest clock: 22:30 in Shanghai, 09:30 in New York
QUEUE_KEYS = {"case_id", "client", "client_ref", "debtor", "tier", "score", "callable", "reason",
              "callable_at"}  # fmt: skip


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config, no data folder and no credentials from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """`run(*args, password="demo")` -> (exit status, stdout, stderr)."""

    def _run(*args: str, password: str | None = "demo", new_password: str | None = None) -> Any:
        if password is None:
            monkeypatch.delenv("COLLECTOR_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("COLLECTOR_PASSWORD", password)
        if new_password is not None:
            monkeypatch.setenv("COLLECTOR_NEW_PASSWORD", new_password)
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


@pytest.fixture
def db_path(store: db.Store, tmp_path: Path) -> str:
    return str(tmp_path / "test.db")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("collector-tui: error: ")
    assert "Traceback" not in err
    return lines[0]


def _count(store: db.Store, model: type) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


# --- init and users ------------------------------------------------------------------------------


def test_init_creates_the_schema_and_the_first_admin(run: Run, tmp_path: Path) -> None:
    path = str(tmp_path / "new" / "collector.db")

    code, out, err = run("--db", path, "init", "--admin", "boss", password="s3cret!")

    assert (code, err) == (0, "")
    assert "created admin boss" in out
    store = bootstrap.open_store(path)
    try:
        assert db.current_revision(store) == db.head_revision(store)
        with store.read() as session:
            boss = accounts.authenticate(session=session, username="boss", password="s3cret!")
        assert boss.role == "admin"
    finally:
        store.dispose()

    # Again: nothing to do, no second admin, no password needed.
    code, out, err = run("init", "--db", path, password=None)
    assert code == 0
    assert "up to date" in out
    store = bootstrap.open_store(path)
    try:
        assert _count(store, User) == 1
    finally:
        store.dispose()


def test_init_without_a_password_writes_nothing(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    code, _, err = run("--db", str(path), "init", password=None)
    assert code == 1
    assert "COLLECTOR_PASSWORD" in _one_error_line(err)
    store = bootstrap.open_store(path)
    try:
        assert db.current_revision(store) is None
    finally:
        store.dispose()


def test_admin_adds_a_user_and_an_agent_may_not(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any]
) -> None:
    code, out, err = run(
        "--db", db_path, "--user", "root", "user", "add", "carol", "--role", "supervisor",
        "--tz", "Europe/London", "--name", "Carol Jones", new_password="carolpw",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "carol" in out
    with store.read() as session:
        carol = accounts.authenticate(session=session, username="carol", password="carolpw")
    assert (carol.role, carol.time_zone, carol.display_name) == (
        "supervisor",
        "Europe/London",
        "Carol Jones",
    )

    code, _, err = run(
        "--db", db_path, "--user", "alice", "user", "add", "dave", "--role", "agent",
        new_password="davepw",
    )  # fmt: skip
    assert code == 1
    assert "admin" in _one_error_line(err)
    with store.read() as session:
        assert session.exec(select(User).where(User.username == "dave")).first() is None


def test_wrong_password_is_refused(run: Run, db_path: str, users: dict[str, Any]) -> None:
    code, out, err = run("--db", db_path, "--user", "sam", "sweep", password="nope")
    assert code == 1
    assert out == ""
    assert "wrong user name or password" in _one_error_line(err)


def test_no_password_and_no_terminal_is_one_clear_error(
    run: Run, db_path: str, users: dict[str, Any]
) -> None:
    code, _, err = run("--db", db_path, "--user", "sam", "sweep", password=None)
    assert code == 1
    assert "COLLECTOR_PASSWORD" in _one_error_line(err)


def test_missing_or_uninitialised_database_suggests_init(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    code, _, err = run("--db", str(missing), "--user", "sam", "queue")
    assert code == 1
    assert "collector-tui init" in _one_error_line(err)
    assert not missing.exists()  # looking did not create an empty file

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    code, _, err = run("--db", str(empty), "--user", "sam", "queue")
    assert code == 1
    assert "not initialised" in _one_error_line(err)


def test_usage_mistakes_exit_2_with_one_line(run: Run, db_path: str) -> None:
    code, _, err = run("queue", "--limit", "0")
    assert code == 2
    assert "--limit" in _one_error_line(err)
    code, _, err = run("log", "REF-1")
    assert code == 2
    assert "--disposition" in _one_error_line(err)
    code, _, err = run("user")
    assert code == 2
    _one_error_line(err)


# --- import --------------------------------------------------------------------------------------

CSV_HEADER = "client,client_ref,debtor_name,country,phone,currency,principal,due_date,placed_date\n"


def _placements(path: Path, *rows: str) -> Path:
    path.write_text(CSV_HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_import_cases_reports_and_assigns(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    source = _placements(
        tmp_path / "good.csv",
        "ACME Bank,IMP-1,王小明,CN,13800138000,CNY,1234.50,2026-09-01,2026-10-01",
        "ACME Bank,IMP-2,John Smith,US,+1 212 555 0123,USD,99.00,2026-08-01,2026-10-01",
    )

    code, out, err = run(
        "--db", db_path, "--user", "sam", "--now", NOW, "import", "cases", str(source),
        "--assign-to", "bob", "--json",
    )  # fmt: skip

    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["cases_created"] == 2
    assert report["rejected"] == []
    with store.read() as session:
        owners = {c.client_ref: c.assigned_to_id for c in session.exec(select(Case))}
        balance = session.exec(select(Case.balance).where(Case.client_ref == "IMP-1")).one()
    assert owners == {"IMP-1": users["bob"].user_id, "IMP-2": users["bob"].user_id}
    assert balance == 123_450


def test_import_with_a_bad_row_names_the_line_and_writes_nothing(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    source = _placements(
        tmp_path / "bad.csv",
        "ACME Bank,IMP-1,王小明,CN,13800138000,CNY,1234.50,2026-09-01,2026-10-01",
        "ACME Bank,IMP-2,李娜,CN,13900139000,CNY,12.34.56,2026-09-01,2026-10-01",
    )

    code, out, err = run("--db", db_path, "--user", "sam", "import", "cases", str(source))

    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith("collector-tui: error: ")
    assert any(line.startswith("line 3: ") for line in lines), err
    assert "Traceback" not in err
    assert _count(store, Case) == 0


def test_import_error_list_is_capped_and_skip_bad_writes_the_rejects(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    bad = [f"ACME Bank,BAD-{n},Name {n},CN,13800138000,CNY,oops,2026-09-01,2026-10-01"
           for n in range(25)]  # fmt: skip
    good = "ACME Bank,OK-1,王小明,CN,13800138000,CNY,10.00,2026-09-01,2026-10-01"
    source = _placements(tmp_path / "many.csv", *bad, good)

    code, _, err = run("--db", db_path, "--user", "sam", "import", "cases", str(source))
    lines = err.strip().splitlines()
    assert code == 1
    assert len(lines) == 1 + cli_imports.REJECTS_SHOWN + 1
    assert lines[1].startswith("line 2: ")
    assert lines[-1] == "... and 5 more"

    code, out, err = run(
        "--db", db_path, "--user", "sam", "import", "cases", str(source), "--dry-run",
        "--skip-bad",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "dry run" in out
    assert _count(store, Case) == 0

    rejects = tmp_path / "rejects.csv"
    code, out, err = run(
        "--db", db_path, "--user", "sam", "import", "cases", str(source), "--skip-bad",
        "--rejects", str(rejects),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "1 cases created" in out and "25 rejected" in out
    assert _count(store, Case) == 1
    assert "BAD-0" in rejects.read_text(encoding="utf-8-sig")


def test_an_agent_may_not_import(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    source = _placements(
        tmp_path / "a.csv", "ACME Bank,IMP-1,王小明,CN,13800138000,CNY,1.00,2026-09-01,2026-10-01"
    )
    code, _, err = run("--db", db_path, "--user", "alice", "import", "cases", str(source))
    assert code == 1
    _one_error_line(err)
    assert _count(store, Case) == 0


# --- queue ---------------------------------------------------------------------------------------


def test_queue_json_has_the_contract_shape(
    run: Run, db_path: str, users: dict[str, Any], place: Callable[..., Case]
) -> None:
    place("Q-1")  # a Shanghai number: 22:30 there, outside the hours -> held
    place(
        "Q-2", country="US", currency="USD", phones=("+1 212 555 0123",), debtor_name="John Smith"
    )

    code, out, err = run(
        "--db", db_path, "--user", "alice", "queue", "--now", NOW, "--json", "--held"
    )

    assert (code, err) == (0, "")
    entries = json.loads(out)
    assert isinstance(entries, list)
    assert {e["client_ref"] for e in entries} == {"Q-1", "Q-2"}
    for entry in entries:
        assert QUEUE_KEYS <= set(entry)
        assert isinstance(entry["callable"], bool)
        assert isinstance(entry["tier"], int)
        assert isinstance(entry["score"], int)
    by_ref = {e["client_ref"]: e for e in entries}
    assert by_ref["Q-2"]["callable"] is True
    assert by_ref["Q-1"]["callable"] is False
    assert by_ref["Q-1"]["callable_at"] is not None
    date.fromisoformat(by_ref["Q-1"]["callable_at"][:10])

    # Without --held only the callable ones.
    code, out, _ = run("--db", db_path, "--user", "alice", "--now", NOW, "queue", "--json")
    assert [e["client_ref"] for e in json.loads(out)] == ["Q-2"]

    # Plain text: a header and one line per case.
    code, out, _ = run("--db", db_path, "--user", "alice", "--now", NOW, "queue", "--held")
    assert code == 0
    assert "John Smith" in out and "Q-1" in out


def test_an_agent_sees_only_their_own_queue(run: Run, db_path: str, users: dict[str, Any]) -> None:
    code, _, err = run("--db", db_path, "--user", "alice", "queue", "--agent", "bob")
    assert code == 1
    _one_error_line(err)
    code, out, err = run("--db", db_path, "--user", "sam", "queue", "--agent", "bob", "--json")
    assert (code, json.loads(out)) == (0, [])


# --- log, payment, assign, sweep, export ----------------------------------------------------------


def test_log_with_a_promise_creates_it(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    case = place("L-1")

    code, out, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "log", "L-1",
        "--disposition", "promise", "--promise", "300.50@2026-12-01",
        "--note", "债务人承诺发工资后还款", "--phone", "+8613800138000", "--json",
    )  # fmt: skip

    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["case_status"] == "promised"
    with store.read() as session:
        promise = session.exec(select(Promise).where(Promise.case_id == case.id)).one()
    assert (promise.amount, promise.due_date, promise.status) == (
        30_050,
        date(2026, 12, 1),
        "pending",
    )
    assert result["promise_ids"] == [str(promise.id)]


def test_log_refusals_are_one_line(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    place("L-2")
    code, _, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "log", "L-2",
        "--disposition", "promise", "--promise", "1,2,3@2026-12-01",
    )  # fmt: skip
    assert code == 1
    _one_error_line(err)
    code, _, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "log", "L-2", "--disposition", "callback"
    )
    assert code == 1
    assert "follow-up" in _one_error_line(err)
    assert _count(store, Promise) == 0


def test_log_callback_with_follow_up(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    place("L-3")
    code, out, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "log", "L-3",
        "--disposition", "callback", "--follow-up", "2026-11-21T10:00:00+08:00",
        "--reason", "after payday",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "follow-up at 2026-11-21 02:00 UTC" in out  # in the agent's zone (UTC in the fixture)
    with store.read() as session:
        follow_up = session.exec(select(FollowUp)).one()
    assert follow_up.due_at == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert follow_up.reason == "after payday"


def test_unknown_case_reference(run: Run, db_path: str, users: dict[str, Any]) -> None:
    code, out, err = run("--db", db_path, "--user", "alice", "log", "NOPE-9", "--disposition",
                         "no_answer")  # fmt: skip
    assert code == 1
    assert out == ""
    assert "NOPE-9" in _one_error_line(err)


def test_payment_reduces_the_balance(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    case = place("P-1")  # 1,000.00 CNY

    code, out, err = run(
        "--db", db_path, "--user", "sam", "--now", NOW, "payment", "P-1", "250.00",
        "--reference", "BANK-1", "--method", "bank transfer", "--json",
    )  # fmt: skip

    assert (code, err) == (0, "")
    assert json.loads(out)["balance_after"] == "750.00"
    with store.read() as session:
        payment = session.exec(select(Payment)).one()
        assert session.get(Case, case.id).balance == 75_000
    assert (payment.amount, payment.reference, payment.received_on) == (
        25_000,
        "BANK-1",
        date(2026, 11, 20),
    )
    # The same bank reference twice is refused, and nothing changes.
    code, _, err = run(
        "--db", db_path, "--user", "sam", "--now", NOW, "payment", "P-1", "1", "--reference",
        "BANK-1",
    )  # fmt: skip
    assert code == 1
    _one_error_line(err)
    assert _count(store, Payment) == 1


def test_report_aging_json_through_the_command_line(
    run: Run, db_path: str, place: Callable[..., Case]
) -> None:
    place("P-1")  # 1,000.00 CNY, due 2026-09-01: 80 days past due on 2026-11-20
    place("P-2", currency="USD", country="US", principal=12_345)

    code, out, err = run("--db", db_path, "--user", "sam", "--now", NOW, "report", "aging",
                         "--json")  # fmt: skip

    assert (code, err) == (0, "")
    rows = {(r["currency"], r["bucket"]): r for r in json.loads(out)}
    assert rows[("CNY", "61-90")] == {"currency": "CNY", "bucket": "61-90", "count": 1,
                                      "balance": "1000.00", "disputed": "0.00",
                                      "collectible": "1000.00"}  # fmt: skip
    assert rows[("USD", "61-90")]["balance"] == "123.45"
    assert all(r["count"] == 0 for k, r in rows.items() if k[1] != "61-90")


def test_import_payments_posts_and_a_bad_file_changes_nothing(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case], tmp_path: Path
) -> None:
    place("P-1")
    bad = tmp_path / "bad.csv"
    bad.write_text("client_ref,amount,date,reference\nP-1,100.00,2026-11-19,B-1\n"
                   "P-1,abc,2026-11-19,B-2\n", encoding="utf-8")  # fmt: skip

    code, out, err = run("--db", db_path, "--user", "sam", "--now", NOW, "import", "payments",
                         str(bad))  # fmt: skip

    assert code == 1
    assert "line 3" in err and "Traceback" not in err
    assert _count(store, Payment) == 0

    good = tmp_path / "good.csv"
    good.write_text("client_ref,amount,date,reference\nP-1,100.00,2026-11-19,B-1\n",
                    encoding="utf-8")  # fmt: skip
    for _ in range(2):  # idempotent on the reference
        code, out, err = run("--db", db_path, "--user", "sam", "--now", NOW, "import",
                             "payments", str(good))  # fmt: skip
        assert (code, err) == (0, "")
    assert _count(store, Payment) == 1
    with store.read() as session:
        assert session.exec(select(Case.balance)).one() == 90_000


def test_assign_by_supervisor_works_and_by_agent_is_refused(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], place: Callable[..., Case]
) -> None:
    first, second = place("AS-1"), place("AS-2")

    code, out, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "assign", "AS-1", "--to", "bob"
    )
    assert code == 1
    _one_error_line(err)
    assert _count(store, Assignment) == 0

    code, out, err = run(
        "--db", db_path, "--user", "sam", "--now", NOW, "assign", "AS-1", "AS-2",
        "--to", "bob", "--reason", "alice on leave",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "moved 2 of 2" in out
    with store.read() as session:
        assert session.get(Case, first.id).assigned_to_id == users["bob"].user_id
        reasons = set(session.exec(select(Assignment.reason)).all())
    assert reasons == {"alice on leave"}

    code, out, _ = run("--db", db_path, "--user", "sam", "assign", "AS-2", "--to", "none")
    assert code == 0
    with store.read() as session:
        assert session.get(Case, second.id).assigned_to_id is None


def test_sweep_breaks_an_overdue_promise(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    place("SW-1")
    code, _, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "log", "SW-1",
        "--disposition", "promise", "--promise", "100@2026-11-21",
    )  # fmt: skip
    assert (code, err) == (0, "")

    code, out, err = run("--db", db_path, "--user", "sam", "--now", "2026-11-30T00:00Z", "sweep",
                         "--json")  # fmt: skip

    assert (code, err) == (0, "")
    assert json.loads(out) == {"at": "2026-11-30T00:00:00+00:00", "kept": 0, "partial": 0,
                               "broken": 1}  # fmt: skip
    with store.read() as session:
        assert session.exec(select(Promise.status)).one() == "broken"


def test_export_cases_columns(
    run: Run, db_path: str, tmp_path: Path, place: Callable[..., Case]
) -> None:
    place("EX-1", debtor_name="王小明")
    target = tmp_path / "cases.csv"

    code, out, err = run("--db", db_path, "--user", "sam", "export", "cases", str(target))

    assert (code, err) == (0, "")
    assert "wrote 1 cases" in out
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = {"client", "client_ref", "debtor_name", "currency", "balance", "status",
               "assigned_to"}  # fmt: skip
    assert columns <= set(rows[0])
    assert (rows[0]["debtor_name"], rows[0]["balance"], rows[0]["assigned_to"]) == (
        "王小明",
        "1000.00",
        "alice",
    )

    code, _, err = run(
        "--db", db_path, "--user", "sam", "export", "cases", str(tmp_path / "no" / "x.csv")
    )
    assert code == 1
    _one_error_line(err)


def test_a_locked_database_is_a_clear_error(
    run: Run,
    db_path: str,
    store: db.Store,
    place: Callable[..., Case],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    place("LK-1")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        code, _, err = run("--db", db_path, "--user", "sam", "payment", "LK-1", "1")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1
    assert "busy" in _one_error_line(err)
    assert _count(store, Payment) == 0


# --- the app and the demo -------------------------------------------------------------------------


def test_demo_opens_a_fresh_copy_on_the_demo_clock(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: dict[str, Any] = {}

    def fake_run(app: Any) -> int:
        opened["clock"] = app.clock.now()
        opened["path"] = Path(app.store.engine.url.database)
        opened["exists"] = opened["path"].exists()
        with app.store.read() as session:
            opened["cases"] = session.exec(select(func.count()).select_from(Case)).one()
        return 0

    monkeypatch.setattr(cli_app, "run_app", fake_run)
    code, _, err = run("--demo", "--user", "alice")

    assert (code, err) == (0, "")
    assert opened["clock"] == DEMO_NOW
    assert opened["exists"] and opened["cases"] > 200
    assert opened["path"].parent.name.startswith("collector-demo-")
    assert not opened["path"].exists()  # the copy is gone after the session

    code, _, _ = run("--demo", "--now", "2026-12-01T10:00:00+08:00")
    assert code == 0
    assert opened["clock"].isoformat() == "2026-12-01T02:00:00+00:00"


def test_the_app_needs_an_initialised_database(run: Run, tmp_path: Path) -> None:
    code, _, err = run("--db", str(tmp_path / "none.db"))
    assert code == 1
    assert "init" in _one_error_line(err)


def test_the_app_gets_store_clock_and_user(
    run: Run, db_path: str, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: Any) -> int:
        seen.update(user=app.initial_username, now=app.clock.now())
        return 0

    monkeypatch.setattr(cli_app, "run_app", fake_run)
    assert run("--db", db_path, "--user", "alice", "--now", NOW)[0] == 0
    assert seen["user"] == "alice"
    assert seen["now"].isoformat() == "2026-11-20T14:30:00+00:00"


# --- real processes ------------------------------------------------------------------------------


def _process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "collector_tui", *args],
        capture_output=True,
        text=True,
        env=environment,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_process_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    missing = _process("--db", str(tmp_path / "missing.db"), "--user", "sam", "sweep")
    assert missing.returncode == 1
    assert missing.stdout == ""
    _one_error_line(missing.stderr)

    usage = _process("queue", "--limit", "many")
    assert usage.returncode == 2
    _one_error_line(usage.stderr)


def test_process_init_then_queue_json(tmp_path: Path) -> None:
    path = str(tmp_path / "p.db")
    env = {"COLLECTOR_PASSWORD": "rootpw", "XDG_CONFIG_HOME": str(tmp_path)}
    init = _process("--db", path, "init", "--admin", "root", env=env)
    assert (init.returncode, init.stderr) == (0, "")

    queue = _process("--db", path, "--user", "root", "queue", "--json", env=env)
    assert (queue.returncode, queue.stderr) == (0, "")
    assert json.loads(queue.stdout) == []

    wrong = _process("--db", path, "--user", "root", "queue", env={"COLLECTOR_PASSWORD": "x"})
    assert wrong.returncode == 1
    assert "wrong user name or password" in _one_error_line(wrong.stderr)


def test_the_command_line_starts_light() -> None:
    """Heavy modules load only when a command needs them: `--help` and usage errors are instant,
    and no command but the app itself loads Textual."""
    probe = (
        "import sys, collector_tui.cli as c; "
        "print(sorted(m for m in ('textual', 'sqlalchemy', 'sqlmodel') if m in sys.modules))"
    )
    light = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert light.stdout.strip() == "[]"
