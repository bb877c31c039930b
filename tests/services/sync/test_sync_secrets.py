"""No secret printed or stored in clear: a master URL's password is masked on the command line,
in `sync status --json`, on the sync screen and in the laptop's `sync_state.master`; it comes from
the URL as typed, COLLECTOR_MASTER_PASSWORD or a prompt. And the `device` commands."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from textual.pilot import Pilot
from textual.widgets import Input, Log

from collector_tui import bootstrap, cli, db
from collector_tui.cli import output
from collector_tui.clock import FixedClock
from collector_tui.config import Settings
from collector_tui.models import Activity, SyncState
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities
from collector_tui.services.errors import InvalidInput
from collector_tui.services.sync import engine, locations
from collector_tui.tui.app import make_app
from collector_tui.tui.screens.sync import SyncScreen

pytestmark = pytest.mark.sqlite_only  # the command line and the app run on files here

NOW = "2026-11-20T14:30:00+00:00"
LATER = "2026-11-20T15:30:00+00:00"
SECRET = "s3cret-Pw"
# Nothing listens on port 1: a connection is refused at once, with the driver's own message.
SERVER = f"postgresql+psycopg://collector:{SECRET}@127.0.0.1:1/collector"
MASKED = "postgresql+psycopg://collector:***@127.0.0.1:1/collector"
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
    def _run(*args: str, password: str = "demo") -> Any:
        monkeypatch.setenv("COLLECTOR_PASSWORD", password)
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("collector-tui: error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture
def laptop(store: db.Store, users: dict[str, Actor], place, tmp_path: Path) -> str:
    """alice's laptop, pulled from a master she reached with a password in the URL."""
    place("A-1")
    path = tmp_path / "alice-laptop.db"
    laptop = bootstrap.open_store(path)
    try:
        engine.pull(
            master=store,
            laptop=laptop,
            actor=users["alice"],
            now=datetime.fromisoformat(NOW),
            settings=Settings(),
            master_location=SERVER,
        )
    finally:
        laptop.dispose()
    return str(path)


# --- one masking function -------------------------------------------------------------------------


def test_locations_mask_store_and_fill_in_the_password() -> None:
    assert locations.masked(SERVER) == MASKED
    assert locations.shown(SERVER) == MASKED
    assert locations.masked("/data/master.db") == "/data/master.db"
    assert locations.shown("sqlite:////data/master.db") == "/data/master.db"
    assert locations.masked("postgres ql://u:pw@x/y") == "postgres ql://u:***@x/y"  # unparseable
    assert locations.scrub(f"could not reach {SERVER} (refused)") == (
        f"could not reach {MASKED} (refused)"
    )

    assert locations.with_password(SERVER, environ={}) == SERVER  # typed with it: used as is
    assert locations.needs_password(MASKED) and not locations.needs_password(SERVER)
    with pytest.raises(InvalidInput, match="COLLECTOR_MASTER_PASSWORD") as refused:
        locations.with_password(MASKED, environ={})
    assert SECRET not in refused.value.message
    assert SECRET in locations.with_password(MASKED, environ={"COLLECTOR_MASTER_PASSWORD": SECRET})
    assert SECRET in locations.with_password(MASKED, given=SECRET, environ={})
    assert SECRET in locations.with_password(MASKED, ask=lambda: SECRET, environ={})
    # No password and none masked away: ~/.pgpass or a socket may need none.
    plain = "postgresql+psycopg://collector@db.example/collector"
    assert locations.with_password(plain, environ={}) == plain
    assert locations.with_password("/data/master.db", given=SECRET) == "/data/master.db"


def test_the_laptop_keeps_its_master_without_the_password(laptop: str, run: Run) -> None:
    store = bootstrap.open_store(laptop)
    try:
        with store.read() as session:
            state = session.get(SyncState, 1)
            assert state is not None and state.master == MASKED
    finally:
        store.dispose()
    assert SECRET.encode() not in Path(laptop).read_bytes()

    code, out, err = run("--db", laptop, "--user", "alice", "sync", "status", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["master"] == MASKED and SECRET not in out
    code, out, err = run("--db", laptop, "--user", "alice", "sync", "status")
    assert code == 0 and MASKED in out and SECRET not in out


def test_the_master_password_comes_from_the_environment_or_a_clear_error(
    laptop: str, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg")
    # No terminal (tests have none) and no variable: one line, not a wait.
    code, _, err = run("--db", laptop, "--user", "alice", "--now", LATER, "sync", "push")
    line = one_error_line(err)
    assert code == 1 and "COLLECTOR_MASTER_PASSWORD" in line

    # From the environment: used to connect (nothing listens there), never printed.
    monkeypatch.setenv("COLLECTOR_MASTER_PASSWORD", SECRET)
    code, _, err = run("--db", laptop, "--user", "alice", "--now", LATER, "sync", "push")
    line = one_error_line(err)
    assert code == 1 and "database error" in line and SECRET not in err

    # Typed in the URL: the same, and still never printed.
    code, out, err = run("--db", laptop, "--user", "alice", "sync", "push", "--to", SERVER)
    assert code == 1 and SECRET not in one_error_line(err) + out


def test_a_message_with_a_url_is_printed_masked() -> None:
    stream = io.StringIO()
    output.error(stream, f"cannot open {SERVER}")
    assert MASKED in stream.getvalue() and SECRET not in stream.getvalue()


# --- device list / revoke -------------------------------------------------------------------------


def test_device_list_and_revoke_on_the_command_line(
    laptop: str, run: Run, store: db.Store, users: dict[str, Actor], tmp_path: Path
) -> None:
    master = str(tmp_path / "test.db")
    code, out, err = run("--db", master, "--user", "sam", "device", "list", "--json")
    assert (code, err) == (0, "")
    listed = json.loads(out)
    assert len(listed) == 1 and listed[0]["user"] == "alice" and listed[0]["revoked_at"] is None
    device_id = listed[0]["id"]
    code, out, err = run("--db", master, "--user", "sam", "device", "list", "--agent", "bob")
    assert (code, out.strip()) == (0, "no devices registered")

    code, _, err = run("--db", master, "--user", "alice", "device", "list")
    assert code == 1 and "supervisor" in one_error_line(err)
    code, _, err = run("--db", master, "--user", "alice", "device", "revoke", device_id)
    assert code == 1 and "supervisor" in one_error_line(err)
    code, _, err = run("--db", master, "--user", "sam", "device", "revoke", "nothing-like-it")
    assert code == 1 and "no device" in one_error_line(err)
    code, _, err = run("--db", master, "device")
    assert code == 2 and "device list" in one_error_line(err)

    code, out, err = run("--db", master, "--user", "sam", "--now", NOW, "device", "revoke",
                         device_id[:8], "--reason", "stolen on the train")  # fmt: skip
    assert (code, err) == (0, "") and f"revoked device {device_id} of alice" in out
    code, out, err = run("--db", master, "--user", "sam", "device", "list")
    assert code == 0 and device_id in out and "by sam" in out
    code, _, err = run("--db", master, "--user", "sam", "device", "revoke", device_id)
    assert code == 1 and "already revoked" in one_error_line(err)

    # The revoked laptop's changes are refused, with one line, and nothing reaches the master.
    store_laptop = bootstrap.open_store(laptop)
    try:
        with store_laptop.write() as session:
            activities.log_contact(
                session=session, now=datetime.fromisoformat(NOW), actor=users["alice"],
                case_id=_case_id(store), contact=activities.ContactInput(disposition="no_answer"),
                settings=Settings(),
            )  # fmt: skip
    finally:
        store_laptop.dispose()
    code, _, err = run("--db", laptop, "--user", "alice", "--now", LATER, "sync", "push", "--to",
                       master)  # fmt: skip
    assert code == 1 and "revoked" in one_error_line(err)
    outbox = str(tmp_path / "outbox.jsonl")
    code, _, err = run("--db", laptop, "--user", "alice", "packet", "export", outbox)
    assert code == 0, err
    code, _, err = run("--db", master, "--user", "sam", "--now", LATER, "packet", "apply", outbox)
    assert code == 1 and "revoked" in one_error_line(err)
    with store.read() as session:
        assert session.exec(select(func.count()).select_from(Activity)).one() == 0


def _case_id(store: db.Store) -> Any:
    from collector_tui.models import Case

    with store.read() as session:
        return session.exec(select(Case.id)).first()


# --- the sync screen ------------------------------------------------------------------------------


async def _settle(pilot: Pilot[None], rounds: int = 8) -> None:
    for done in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if done >= 1 and not any(worker.is_running for worker in pilot.app.workers):
            return


def test_the_sync_screen_never_shows_the_master_password(laptop: str, now) -> None:
    pytest.importorskip("psycopg")
    store = bootstrap.open_store(laptop)
    app = make_app(store=store, settings=Settings(), clock=FixedClock(now), username="alice")
    app.cursor_blink = False
    seen: list[str] = []

    async def main() -> None:
        async with app.run_test(size=(110, 36)) as pilot:
            await _settle(pilot, 2)
            await pilot.press(*"demo", "enter")
            await _settle(pilot)
            app.push_screen(SyncScreen())
            await _settle(pilot)
            screen = app.screen
            assert screen.query_one("#sync-master", Input).value == MASKED

            # The password was never kept: without it, a clear message and nothing sent.
            await pilot.press("ctrl+s")
            await _settle(pilot)
            log = "\n".join(screen.query_one("#sync-log", Log).lines)
            assert "needs its password" in log

            # Typed in the password field: used to connect (nothing listens), never shown.
            await pilot.press("tab", *SECRET, "enter")
            await _settle(pilot)
            log = "\n".join(screen.query_one("#sync-log", Log).lines)
            assert "Not synced" in log
            seen.append(log)
            seen.extend(str(widget.render()) for widget in screen.query("Static"))

    try:
        asyncio.run(main())
        assert seen and not any(SECRET in text for text in seen)
        info = engine.laptop_info(store)
        assert info is not None and info.master == MASKED
    finally:
        store.dispose()
