"""`sync` and `packet` on the command line: results, exit codes, one-line errors."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from collector_tui import bootstrap, cli, db, vault
from collector_tui.models import Activity, Case, SyncOutboxOp
from collector_tui.services.accounts import Actor

pytestmark = pytest.mark.sqlite_only  # the command line runs on files here

NOW = "2026-11-20T14:30:00+00:00"
LATER = "2026-11-20T15:30:00+00:00"
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
    def _run(*args: str, password: str | None = "demo") -> Any:
        if password is None:
            monkeypatch.delenv("COLLECTOR_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("COLLECTOR_PASSWORD", password)
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


@pytest.fixture
def master_path(store: db.Store, tmp_path: Path) -> str:
    return str(tmp_path / "test.db")


@pytest.fixture
def laptop_path(tmp_path: Path) -> str:
    return str(tmp_path / "alice-laptop.db")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("collector-tui: error: ")
    assert "Traceback" not in err
    return lines[0]


def _open(path: str) -> db.Store:
    """A laptop file made by `sync pull` is encrypted for alice (the master is plain)."""
    if vault.is_encrypted(Path(path)):
        key = db.DatabaseKey(vault.unlock(Path(path), "alice", "demo"))
        return bootstrap.open_store(path, key=key)
    return bootstrap.open_store(path)


def _count(path: str, model: type, *where: object) -> int:
    store = _open(path)
    try:
        with store.read() as session:
            return session.exec(select(func.count()).select_from(model).where(*where)).one()
    finally:
        store.dispose()


def _pull(run: Run, laptop: str, master: str, *extra: str) -> tuple[int, str, str]:
    return run("--db", laptop, "--user", "alice", "--now", NOW, "sync", "pull", "--from", master,
               *extra)  # fmt: skip


def test_pull_log_push_pull_round_trip(
    run: Run, master_path: str, laptop_path: str, users: dict[str, Actor], place
) -> None:
    place("A-1")
    place("B-1", assigned_to_id=users["bob"].user_id)

    code, out, err = _pull(run, laptop_path, master_path, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["created"] is True and json.loads(out)["cases"] == 1
    assert _count(laptop_path, Case) == 1
    assert (
        vault.is_encrypted(Path(laptop_path))
        and b"Debtor A-1" not in Path(laptop_path).read_bytes()
    )

    # Offline work with the usual commands, on the laptop, as the agent (offline login).
    code, _, err = run("--db", laptop_path, "--user", "alice", "--now", NOW, "log", "A-1",
                       "--disposition", "right_party", "--note", "from the laptop")  # fmt: skip
    assert (code, err) == (0, "")
    assert _count(laptop_path, SyncOutboxOp) > 0

    code, out, err = run("--db", laptop_path, "--user", "alice", "--now", LATER, "sync", "status",
                         "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["pending"] > 0

    # The master is remembered from the pull: no --to needed.
    code, out, err = run("--db", laptop_path, "--user", "alice", "--now", LATER, "sync", "push")
    assert (code, err) == (0, "")
    assert "accepted" in out and "0 rejected" in out
    assert _count(master_path, Activity, Activity.note == "from the laptop") == 1

    code, out, err = run("--db", laptop_path, "--user", "alice", "--now", LATER, "sync", "pull")
    assert (code, err) == (0, "")
    assert "1 refreshed" in out
    assert _count(laptop_path, SyncOutboxOp) == 0


def test_sync_errors_are_one_line_with_exit_status(
    run: Run, master_path: str, laptop_path: str, place, tmp_path: Path
) -> None:
    place("A-1")
    code, _, err = _pull(run, laptop_path, str(tmp_path / "nowhere.db"))
    assert code == 1 and "no master database" in _one_error_line(err)
    assert not Path(laptop_path).exists()  # nothing created by a refused pull

    code, _, err = run("--db", laptop_path, "--user", "alice", "sync", "pull", "--from",
                       master_path, password="wrong")  # fmt: skip
    assert code == 1 and "wrong user name or password" in _one_error_line(err)
    assert not Path(laptop_path).exists()

    code, _, err = run("--db", laptop_path, "--user", "alice", "sync", "pull")
    assert code == 1 and "--from MASTER" in _one_error_line(err)

    code, _, err = run("--db", master_path, "--user", "alice", "sync", "push", "--to", master_path)
    assert code == 1 and "not a laptop" in _one_error_line(err)

    code, _, err = run("--db", laptop_path, "sync")
    assert code == 2 and "sync pull" in _one_error_line(err)

    code, _, err = run("--db", laptop_path, "sync", "pull", "--frm", master_path)
    assert code == 2
    _one_error_line(err)

    assert _pull(run, laptop_path, master_path)[0] == 0
    code, _, err = run("--db", laptop_path, "--user", "bob", "sync", "pull", "--from", master_path)
    # alice's laptop file is encrypted for her: bob cannot even open it.
    assert code == 1 and _one_error_line(err).endswith("wrong user name or password")
    code, _, err = run(
        "--db", str(Path(laptop_path).with_name("plain.db")), "--user", "alice", "sync", "pull",
        "--from", master_path, "--plain",
    )  # fmt: skip
    assert code == 0 and not vault.is_encrypted(Path(laptop_path).with_name("plain.db"))
    code, _, err = run(
        "--db", str(Path(laptop_path).with_name("plain.db")), "--user", "bob", "sync", "pull",
        "--from", master_path,
    )  # fmt: skip
    assert code == 1 and "another agent" in _one_error_line(err)


def test_packets_on_the_command_line(
    run: Run, master_path: str, tmp_path: Path, users: dict[str, Actor], place
) -> None:
    place("A-1")
    briefcase = str(tmp_path / "usb" / "alice.jsonl")
    outbox = str(tmp_path / "usb" / "alice-outbox.jsonl")
    laptop = str(tmp_path / "far" / "laptop.db")

    code, out, err = run("--db", master_path, "--user", "sam", "--now", NOW, "packet", "export",
                         "--agent", "alice", briefcase)  # fmt: skip
    assert (code, err) == (0, "") and "1 case(s) of alice" in out

    code, out, err = run("--db", laptop, "--user", "alice", "--now", NOW, "packet", "apply",
                         briefcase, "--json")  # fmt: skip
    assert (code, err) == (0, "")
    assert json.loads(out)["created"] is True
    code, _, err = run("--db", laptop, "--user", "alice", "--now", NOW, "log", "A-1",
                       "--disposition", "no_answer")  # fmt: skip
    assert code == 0, err

    code, out, err = run("--db", laptop, "--user", "alice", "--now", LATER, "packet", "export",
                         outbox)  # fmt: skip
    assert (code, err) == (0, "") and "outbox packet" in out
    code, out, err = run("--db", master_path, "--user", "alice", "--now", LATER, "packet",
                         "apply", outbox)  # fmt: skip
    assert (code, err) == (0, "")
    # The same stick twice: the second is a replay, refused; applied once.
    code, out, err = run("--db", master_path, "--user", "alice", "--now", LATER, "packet",
                         "apply", outbox)  # fmt: skip
    assert code == 1 and "replay" in _one_error_line(err)
    assert _count(master_path, Activity) == 1

    # Misdirected, damaged, missing: one line each.
    code, _, err = run("--db", laptop, "--user", "alice", "packet", "apply", outbox)
    assert code == 1 and "laptop, not a master" in _one_error_line(err)
    code, _, err = run("--db", master_path, "--user", "alice", "packet", "export", outbox)
    assert code == 1 and "--agent NAME" in _one_error_line(err)
    code, _, err = run("--db", master_path, "--user", "alice", "packet", "export", "--agent",
                       "bob", outbox)  # fmt: skip
    assert code == 1 and "only a supervisor" in _one_error_line(err)
    Path(briefcase).write_text(Path(briefcase).read_text()[:-40], encoding="utf-8")
    code, _, err = run("--db", laptop, "--user", "alice", "packet", "apply", briefcase)
    assert code == 1 and ("damaged" in err or "incomplete" in err)
    _one_error_line(err)
    code, _, err = run("--db", laptop, "--user", "alice", "packet", "apply", str(tmp_path / "x"))
    assert code == 1 and "no packet file" in _one_error_line(err)


def test_a_real_process_exits_1_with_one_line(master_path: str, tmp_path: Path, place) -> None:
    place("A-1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env["COLLECTOR_PASSWORD"] = "demo"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "collector_tui",
            "--db",
            str(tmp_path / "l.db"),
            "--user",
            "alice",
            "sync",
            "push",
            "--to",
            master_path,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    _one_error_line(done.stderr)


def test_refused_changes_are_listed_for_a_supervisor_and_marked_reviewed(
    run: Run, master_path: str, laptop_path: str, users: dict[str, Actor], place
) -> None:
    import uuid

    from collector_tui.services.sync import hlc

    place("A-1")
    assert _pull(run, laptop_path, master_path)[0] == 0
    laptop = _open(laptop_path)
    try:  # a hand-edited outbox row: a hold of a kind that does not exist
        with laptop.write() as session:
            from collector_tui.models import SyncState

            state = session.get(SyncState, 1)
            case_id = session.exec(select(Case.id)).one()
            session.add(
                SyncOutboxOp(
                    txn_id=uuid.uuid4(),
                    hlc=hlc.tick(state.clock, state.created_at, state.device_id.hex),
                    device_id=state.device_id,
                    actor_id=users["alice"].user_id,
                    kind="insert",
                    entity="hold",
                    entity_id=str(uuid.uuid4()),
                    case_id=case_id,
                    payload={"row": {"case_id": str(case_id), "kind": "nonsense"}},
                    created_at=state.created_at,
                )
            )
    finally:
        laptop.dispose()
    code, out, _ = run("--db", laptop_path, "--user", "alice", "--now", LATER, "sync", "push")
    assert code == 0 and "1 rejected" in out and "unknown hold" in out

    code, _, err = run("--db", master_path, "--user", "alice", "sync", "rejected")
    assert code == 1 and "supervisor" in _one_error_line(err)
    code, out, err = run("--db", master_path, "--user", "sam", "sync", "rejected", "--json")
    assert (code, err) == (0, "")
    (refused,) = json.loads(out)
    assert refused["user"] == "alice" and "unknown hold" in refused["reason"]
    assert refused["operation"]["payload"]["row"]["kind"] == "nonsense"

    code, out, err = run("--db", master_path, "--user", "sam", "--now", LATER, "sync",
                         "reviewed", refused["op_id"])  # fmt: skip
    assert (code, err) == (0, "") and "reviewed" in out
    code, out, _ = run("--db", master_path, "--user", "sam", "sync", "rejected", "--json")
    assert json.loads(out) == []
    code, _, err = run("--db", master_path, "--user", "sam", "sync", "reviewed", "nope")
    assert code == 1 and "operation id" in _one_error_line(err)


def test_a_pulled_laptop_is_sealed_to_the_masters_recovery_key(
    run: Run, master_path: str, laptop_path: str, users: dict[str, Actor], place
) -> None:
    place("A-1")
    team = vault.new_recovery_keys()
    public = base64.b64encode(team.public).decode()
    code, _, err = run("--db", master_path, "--user", "alice", "recovery-key", "set", public)
    assert code == 1 and "supervisor" in _one_error_line(err)
    code, _, err = run("--db", master_path, "--user", "sam", "recovery-key", "set", "nonsense")
    assert code == 1 and "not a recovery public key" in _one_error_line(err)
    code, out, err = run("--db", master_path, "--user", "sam", "recovery-key", "set", public)
    assert (code, err) == (0, ""), err
    assert _pull(run, laptop_path, master_path)[0] == 0
    laptop = Path(laptop_path)
    assert vault.recover_key(laptop, team.private) == vault.unlock(laptop, "alice", "demo")
