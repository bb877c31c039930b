"""Input holes an adversarial test found, closed at every entry point.

- Dates and instants: one accepted range, 1900-01-01 … 2200-12-31, for `--now`, `--at`,
  `--follow-up`, `--promise A@DATE`, `payment --on`, `report --from/--to`, `settle A@DATE` and the
  app's form dates. Outside it: one line on stderr, exit 1, nothing written, never OverflowError.
- User names: compared NFKC-normalised and case-folded; new ones plain ASCII, so look-alikes
  (fullwidth, Cyrillic), invisible and control characters are refused, naming what they imitate.
- Case lookups: "no such case" and "someone else's case" read exactly the same to an agent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from collector_tui import cli, db
from collector_tui.dates import DateOutOfRange, check_in_range, parse_day, parse_instant
from collector_tui.models import Activity, Case, FollowUp, Payment, Promise, Settlement, User
from collector_tui.services import accounts
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.tui.parsing import FieldError, parse_date

pytestmark = pytest.mark.sqlite_only  # the command line is given the SQLite file

NOW = "2026-11-20T14:30:00+00:00"
FAR_OUT = [
    "9999-12-31T23:59:59-23:59",  # converting it to UTC overflows
    "0001-01-01T00:00:00+14:00",  # so does this one
    "9999-01-01",
    "0001-01-01",
    "1899-12-31T23:59:59+00:00",
    "2201-01-01T00:00:00+00:00",
    "2200-12-31T23:00:00-05:00",  # 2201-01-01 04:00 in UTC
    "1900-01-01T00:30:00+01:00",  # 1899-12-31 23:30 in UTC
]
FAR_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"]

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    def _run(*args: str, password: str = "demo", new_password: str | None = None) -> Any:
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
    assert "Traceback" not in err and "Overflow" not in err
    return lines[0]


def _count(store: db.Store, model: type) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _written(store: db.Store) -> tuple[int, ...]:
    return tuple(_count(store, m) for m in (Activity, Promise, FollowUp, Payment, Settlement))


# --- the accepted range itself -------------------------------------------------------------------


def test_the_range_ends_are_accepted_and_one_step_outside_is_not() -> None:
    assert parse_day("1900-01-01") == date(1900, 1, 1)
    assert parse_day("2200-12-31") == date(2200, 12, 31)
    assert parse_instant("1900-01-01T00:00:00Z") == datetime(1900, 1, 1, tzinfo=UTC)
    assert parse_instant("2200-12-31T23:59:59.999999+00:00").year == 2200
    assert parse_instant("2026-11-20T09:30:00+08:00") == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    assert parse_instant("2026-11-20T09:30").tzinfo == UTC  # no offset: UTC
    for text in FAR_OUT:
        with pytest.raises(DateOutOfRange, match="outside 1900-01-01 … 2200-12-31"):
            parse_instant(text)
    for text in FAR_DAYS:
        with pytest.raises(DateOutOfRange):
            parse_day(text)
    with pytest.raises(ValueError, match="not a date"):
        parse_day("2026-02-30")


def test_the_importers_check_is_exported() -> None:
    # For the CSV importers (their own parsers read the columns, then call this).
    assert check_in_range(date(2026, 1, 31)) == date(2026, 1, 31)
    with pytest.raises(DateOutOfRange, match="due_date 0226-01-31 is outside"):
        check_in_range(date(226, 1, 31), what="due_date")
    far = datetime.fromisoformat("9999-12-31T23:59:59-23:59")
    with pytest.raises(DateOutOfRange):
        check_in_range(far)
    assert isinstance(DateOutOfRange("x"), ValueError)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "+9999w"])
def test_form_dates_outside_the_range_are_a_field_error(text: str) -> None:
    with pytest.raises(FieldError) as refused:
        parse_date(text, date(2200, 6, 1), field="due_date")
    assert refused.value.field == "due_date"
    assert "outside 1900-01-01 … 2200-12-31" in refused.value.message
    assert parse_date("2200-12-31", date(2026, 11, 20), field="due_date") == date(2200, 12, 31)
    assert parse_date("+3", date(2026, 11, 20), field="due_date") == date(2026, 11, 23)


# --- every command-line entry point -----------------------------------------------------------


@pytest.mark.parametrize("text", FAR_OUT)
def test_now_outside_the_range_is_one_line_and_exit_1(
    run: Run, db_path: str, store: db.Store, place: Any, text: str
) -> None:
    place("D-1")
    before = _written(store)
    for args in (
        ("--now", text, "queue"),
        ("queue", "--now", text),
        ("--now", text, "log", "D-1", "--disposition", "no_answer"),
        ("--now", text, "payment", "D-1", "10"),
        ("--now", text, "sweep"),
    ):
        code, out, err = run("--db", db_path, "--user", "alice", *args)
        assert (code, out) == (1, ""), (args, err)
        assert "--now" in _one_error_line(err) and "outside" in err
    assert _written(store) == before


@pytest.mark.parametrize("text", FAR_OUT)
def test_log_at_and_follow_up_outside_the_range_write_nothing(
    run: Run, db_path: str, store: db.Store, place: Any, text: str
) -> None:
    place("D-2")
    for option, extra in (
        ("--at", ("--disposition", "no_answer")),
        ("--follow-up", ("--disposition", "callback")),
    ):
        code, out, err = run(
            "--db", db_path, "--user", "alice", "--now", NOW, "log", "D-2", *extra, option, text
        )
        assert (code, out) == (1, "")
        assert option in _one_error_line(err)
    assert _written(store) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("day", FAR_DAYS)
def test_promise_payment_settlement_and_report_dates_outside_the_range(
    run: Run, db_path: str, store: db.Store, place: Any, day: str
) -> None:
    place("D-3")
    common = ("--db", db_path, "--now", NOW)
    for user, args in (
        ("alice", ("log", "D-3", "--disposition", "promise", "--promise", f"100@{day}")),
        ("alice", ("payment", "D-3", "10", "--on", day)),
        ("alice", ("settle", "D-3", f"500@{day}")),
        ("sam", ("settle", "D-3", f"500@{day}")),
        ("sam", ("report", "collections", "--from", day, "--to", "2026-11-20")),
        ("sam", ("report", "promises", "--from", "2026-11-01", "--to", day, "--json")),
    ):
        code, out, err = run(*common, "--user", user, *args)
        assert (code, out) == (1, ""), (args, out, err)
        assert "outside 1900-01-01 … 2200-12-31" in _one_error_line(err)
    assert _written(store) == (0, 0, 0, 0, 0)


def test_dates_inside_the_range_still_work(
    run: Run, db_path: str, store: db.Store, place: Any
) -> None:
    place("D-4")
    code, _, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "payment", "D-4", "10",
        "--on", "1900-01-01",
    )  # fmt: skip
    assert (code, err) == (0, "")
    code, _, err = run(
        "--db", db_path, "--user", "sam", "--now", NOW, "report", "collections",
        "--from", "2200-01-01", "--to", "2200-12-31", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")


def test_an_unreadable_date_is_bad_input_too(run: Run, db_path: str, place: Any) -> None:
    place("D-5")
    code, _, err = run("--db", db_path, "--user", "alice", "payment", "D-5", "1", "--on", "soon")
    assert code == 1
    assert "not a date like 2026-12-01" in _one_error_line(err)


def test_a_real_process_refuses_an_overflowing_now_in_one_line(db_path: str) -> None:
    environment = {**os.environ, "COLLECTOR_PASSWORD": "demo"}
    for text in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"):
        done = subprocess.run(
            [sys.executable, "-m", "collector_tui", "--db", db_path, "--user", "alice",
             "--now", text, "queue"],
            capture_output=True, text=True, env=environment, stdin=subprocess.DEVNULL,
            timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert done.stdout == ""
        _one_error_line(done.stderr)


def test_the_demo_refuses_a_far_now_before_opening_anything(run: Run) -> None:
    code, _, err = run("--demo", "--now", "9999-01-01")
    assert code == 1
    assert "--now" in _one_error_line(err)


# --- user names ----------------------------------------------------------------------------------


@pytest.fixture
def eve(store: db.Store, users: dict[str, Any]) -> accounts.Actor:
    with store.write() as session:
        return accounts.create_user(
            session=session, now=datetime(2026, 11, 20, tzinfo=UTC), username="eve",
            password="evepw", role="agent",
        )  # fmt: skip


def _usernames(store: db.Store) -> list[str]:
    with store.read() as session:
        return sorted(session.exec(select(User.username)))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ｅｖｅ", "looks like the existing user 'eve'"),  # fullwidth
        ("\u0435ve", "looks like the existing user 'eve'"),  # Cyrillic е
        ("e\u200bve", "invisible or control characters (U+200B ZERO WIDTH SPACE)"),
        ("eve\u202e", "invisible or control characters (U+202E"),
        ("ev\x1be", "invisible or control characters (U+001B"),
        ("EVE", "already exists (as 'eve')"),
        ("Eve", "already exists (as 'eve')"),
    ],
)
def test_look_alikes_of_an_existing_user_are_refused(
    run: Run, db_path: str, store: db.Store, eve: Any, name: str, message: str
) -> None:
    before = _usernames(store)
    code, out, err = run(
        "--db", db_path, "--user", "root", "user", "add", name, "--role", "agent",
        new_password="other",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert message in _one_error_line(err)
    assert _usernames(store) == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ｍａｌｌｏｒｙ", "it reads as 'mallory'; type it as 'mallory'"),
        ("m\u0430llory", "U+0430 CYRILLIC SMALL LETTER A"),
        ("王伟", "ASCII letters, digits"),
        ("mal lory", "ASCII letters, digits"),
        ("m\u00e4llory", "U+00E4 LATIN SMALL LETTER A WITH DIAERESIS"),
    ],
)
def test_a_new_user_name_is_plain_ascii(
    store: db.Store, users: Any, name: str, message: str
) -> None:
    with store.write() as session, pytest.raises(InvalidInput, match=re.escape(message)) as refused:
        accounts.create_user(
            session=session, now=datetime(2026, 11, 20, tzinfo=UTC), username=name,
            password="pass", role="agent", by=users["root"],
        )  # fmt: skip
    assert refused.value.field == "username"
    assert "mallory" not in _usernames(store)


def test_a_name_in_capitals_is_stored_once_in_lower_case_and_found_in_any_width(
    run: Run, db_path: str, store: db.Store, users: Any
) -> None:
    code, out, err = run(
        "--db", db_path, "--user", "ROOT", "user", "add", "Carol", "--role", "agent",
        "--name", "王小明 Carol", new_password="carolpw",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "added agent carol" in out
    with store.read() as session:
        carol = session.exec(select(User).where(User.username == "carol")).one()
        assert carol.display_name == "王小明 Carol"  # a display name may be in any script
        for typed in ("carol", "CAROL", " Carol ", "ｃａｒｏｌ", "ＣＡＲＯＬ"):
            assert (
                accounts.authenticate(session=session, username=typed, password="carolpw").user_id
                == carol.id
            )
            assert accounts.get_actor(session=session, username=typed).user_id == carol.id
        for typed in ("c\u0430rol", "ca\u200brol", "carol\u200f"):
            with pytest.raises(Forbidden, match="wrong user name or password"):
                accounts.authenticate(session=session, username=typed, password="carolpw")


def test_logging_in_with_the_fullwidth_form_opens_the_same_account(
    run: Run, db_path: str, store: db.Store, eve: Any
) -> None:
    code, out, err = run("--db", db_path, "--user", "ｅｖｅ", "queue", "--json", password="evepw")
    assert (code, err) == (0, "")
    with store.read() as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 5
    code, out, err = run("--db", db_path, "--user", "ｅｖｅ", "queue", password="evepw")
    assert "queue of eve" in out


def test_display_names_refuse_controls_and_bidi_characters(store: db.Store, users: Any) -> None:
    for display in ("Eve\u202eevil", "Eve\x1b[31m", "Eve\u200f"):
        with store.write() as session, pytest.raises(InvalidInput, match="display name"):
            accounts.create_user(
                session=session, now=datetime(2026, 11, 20, tzinfo=UTC), username="eve",
                password="pass", role="agent", display_name=display,
            )  # fmt: skip
    assert "eve" not in _usernames(store)


def test_an_old_mixed_case_name_still_logs_in_by_any_case(store: db.Store, users: Any) -> None:
    # A user stored before names were kept in lower case.
    with store.write() as session:
        session.add(
            User(
                username="Zoe", display_name="Zoe", role="agent",
                password_hash=accounts.hash_password("zoepw"), time_zone="UTC",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
    with store.read() as session:
        for typed in ("Zoe", "zoe", "ＺＯＥ"):
            assert accounts.authenticate(session=session, username=typed, password="zoepw")
    with store.write() as session, pytest.raises(InvalidInput, match="already exists"):
        accounts.create_user(
            session=session, now=datetime(2026, 11, 20, tzinfo=UTC), username="zoe",
            password="pass", role="agent",
        )  # fmt: skip


# --- no existence oracle -------------------------------------------------------------------------


ORACLE_COMMANDS: list[tuple[str, ...]] = [
    ("log", "{ref}", "--disposition", "no_answer"),
    ("payment", "{ref}", "10"),
    ("assign", "{ref}", "--to", "alice"),
    ("history", "{ref}"),
    ("settle", "{ref}", "500@2026-12-01"),
    ("route", "{ref}", "--reason", "look"),
    ("balance", "--to", "alice", "{ref}"),
    ("decide", "{ref}", "close", "--reason", "x"),
    ("approve", "{ref}"),
]


@pytest.mark.parametrize("command", ORACLE_COMMANDS, ids=lambda c: c[0])
def test_no_such_case_and_not_your_case_read_the_same(
    run: Run, db_path: str, store: db.Store, place: Any, users: Any, command: tuple[str, ...]
) -> None:
    bobs = place("BOB-1", assigned_to_id=users["bob"].user_id)
    before = _written(store)

    def refusal(reference: str) -> str:
        args = [part.replace("{ref}", reference) for part in command]
        code, out, err = run("--db", db_path, "--user", "alice", "--now", NOW, *args)
        assert (code, out) == (1, ""), (args, err)
        return _one_error_line(err).replace(reference, "REF")

    for existing, missing in (
        ("BOB-1", "NOP-1"),
        ("ACME Bank/BOB-1", "ACME Bank/NOP-1"),
        (str(bobs.id), "0b1c9f3e-9d6b-4b8e-a4a4-7f1f2f3e4d5c"),
    ):
        assert refusal(existing) == refusal(missing)
    assert _written(store) == before
    with store.read() as session:
        assert session.get(Case, bobs.id).assigned_to_id == users["bob"].user_id


def test_a_reference_shared_with_someone_elses_client_is_not_ambiguous_to_an_agent(
    run: Run, db_path: str, store: db.Store, place: Any, users: Any
) -> None:
    place("SH-1")  # alice's, ACME Bank
    place("SH-1", client="Other Bank", assigned_to_id=users["bob"].user_id)
    code, out, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "log", "SH-1", "--disposition", "busy"
    )
    assert (code, err) == (0, "")  # no word about Other Bank
    code, out, err = run(
        "--db", db_path, "--user", "sam", "--now", NOW, "log", "SH-1", "--disposition", "busy"
    )
    assert code == 1
    assert "several clients" in _one_error_line(err)  # a supervisor sees both


def test_an_agent_asking_for_another_queue_learns_nothing_about_user_names(
    run: Run, db_path: str, users: Any
) -> None:
    answers = set()
    for name in ("bob", "nobody"):
        code, out, err = run(
            "--db", db_path, "--user", "alice", "--now", NOW, "queue", "--agent", name
        )
        assert (code, out) == (1, "")
        answers.add(_one_error_line(err))
    assert answers == {"collector-tui: error: agents see only their own queue"}
    code, _, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "queue", "--agent", "ALICE"
    )
    assert (code, err) == (0, "")
