"""`init --encrypt`, `encrypt`, `decrypt`, `user password`, `recovery-key new` and `recover`
through `main([...])`: who can open an encrypted file, with which password, and one stderr line
for every refusal."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from collector_tui import db, vault
from test_cli import NOW, Run, _one_error_line, clean_environment, db_path, run

__all__ = ["clean_environment", "db_path", "run"]  # fixtures of test_cli, used here by name

pytestmark = pytest.mark.sqlite_only
WRONG = "collector-tui: error: wrong user name or password"


def _sqlite_refuses(path: Path) -> bool:
    try:
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        return True
    return False


def _no_key_in(text: str) -> None:
    assert not re.search(r"[0-9a-f]{64}", text)


def test_init_encrypt_makes_a_file_only_its_admin_opens(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "laptop.db"
    code, out, err = run(
        "init", "--db", str(path), "--admin", "root", "--encrypt", password="pw-one"
    )
    assert (code, err) == (0, ""), err
    assert "encrypted" in out and vault.is_encrypted(path) and _sqlite_refuses(path)
    _no_key_in(out)
    code, out, err = run("--db", str(path), "--user", "root", "user", "add", "alice", "--role",
                         "agent", password="pw-one", new_password="alice-pw")  # fmt: skip
    assert (code, err) == (0, ""), err
    # alice is a user of the database, but the file's key is not wrapped for her yet.
    code, _, err = run("--db", str(path), "--user", "alice", "queue", password="alice-pw")
    assert code == 1 and _one_error_line(err) == WRONG
    code, _, err = run("--db", str(path), "--user", "root", "queue", "--agent", "root",
                       password="nope")  # fmt: skip
    assert code == 1 and _one_error_line(err) == WRONG
    code, _, err = run("init", "--db", str(path), password="pw-one")
    assert code == 1 and "is encrypted: give --user NAME" in _one_error_line(err)
    # Upgrading an encrypted file works like a plain one.
    code, out, err = run(
        "init", "--db", str(path), "--user", "root", "--encrypt", password="pw-one"
    )
    assert (code, err) == (0, "") and "already encrypted" in out


def test_encrypt_a_working_file_then_change_the_password_then_decrypt(
    run: Run, db_path: str, store: db.Store, place
) -> None:  # noqa: ANN001
    place("E-1")
    store.dispose()
    path = Path(db_path)
    code, out, err = run("--user", "alice", "encrypt", db_path, "--json", password="demo")
    assert (code, err) == (0, ""), err
    assert json.loads(out) == {"encrypted": db_path, "users": ["alice"], "recovery": False}
    assert vault.is_encrypted(path) and _sqlite_refuses(path)
    assert b"Debtor E-1" not in path.read_bytes()

    code, out, err = run(
        "--db", db_path, "--user", "alice", "queue", "--held", "--json", "--now", NOW
    )
    assert (code, err) == (0, ""), err
    assert "E-1" in [row["client_ref"] for row in json.loads(out)]
    code, _, err = run("--db", db_path, "--user", "bob", "queue")
    assert code == 1 and _one_error_line(err) == WRONG

    code, out, err = run("--db", db_path, "--user", "alice", "user", "password",
                         new_password="longer-secret")  # fmt: skip
    assert (code, err) == (0, "") and "password of alice changed" in out
    code, _, err = run("--db", db_path, "--user", "alice", "queue")
    assert code == 1 and _one_error_line(err) == WRONG
    code, out, err = run("--db", db_path, "--user", "alice", "queue", "--now", NOW,
                         password="longer-secret")  # fmt: skip
    assert (code, err) == (0, ""), err

    code, out, err = run("--user", "alice", "decrypt", db_path, password="longer-secret")
    assert (code, err) == (0, ""), err
    assert not vault.is_encrypted(path) and not vault.keys_path(path).exists()
    assert not _sqlite_refuses(path)


def test_recovery_key_opens_a_forgotten_password(
    run: Run, db_path: str, store: db.Store, place, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # noqa: ANN001
    place("R-1")
    store.dispose()
    monkeypatch.setenv("COLLECTOR_RECOVERY_PASSWORD", "team recovery passphrase")
    key_file = tmp_path / "recovery.json"
    code, out, err = run("recovery-key", "new", "--out", str(key_file), "--json")
    assert (code, err) == (0, ""), err
    public = json.loads(out)["public"]
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    code, _, err = run("recovery-key", "new", "--out", str(key_file))
    assert code == 1 and "never overwritten" in _one_error_line(err)

    code, out, err = run("--user", "alice", "encrypt", db_path, "--recovery", public)
    assert (code, err) == (0, "") and "or the recovery key" in out
    code, out, err = run("--user", "alice", "recover", db_path, "--key", str(key_file),
                         password=None, new_password="fresh-start")  # fmt: skip
    assert (code, err) == (0, ""), err
    code, _, err = run("--db", db_path, "--user", "alice", "queue", "--now", NOW,
                       password="fresh-start")  # fmt: skip
    assert (code, err) == (0, ""), err
    monkeypatch.setenv("COLLECTOR_RECOVERY_PASSWORD", "not the passphrase")
    code, _, err = run("--user", "alice", "recover", db_path, "--key", str(key_file),
                       new_password="x")  # fmt: skip
    assert code == 1 and "wrong passphrase" in _one_error_line(err)


def test_bad_requests_are_one_line_and_change_nothing(
    run: Run, db_path: str, store: db.Store, tmp_path: Path
) -> None:
    store.dispose()
    path = Path(db_path)
    code, _, err = run("--user", "alice", "encrypt", str(tmp_path / "none.db"))
    assert code == 1 and "no database file" in _one_error_line(err)
    code, _, err = run("--user", "alice", "encrypt", db_path, "--recovery", "not-a-key")
    assert code == 1 and "not a recovery public key" in _one_error_line(err)
    code, _, err = run("--user", "alice", "encrypt", db_path, password="wrong")
    assert code == 1 and _one_error_line(err) == WRONG
    assert not vault.is_encrypted(path)
    code, _, err = run("--user", "alice", "decrypt", db_path)
    assert code == 1 and "is not encrypted" in _one_error_line(err)
    code, _, err = run("init", "--db", db_path, "--recovery", "x", password="demo")
    assert code != 0 and "--recovery goes with --encrypt" in err
    assert not vault.is_encrypted(path) and not vault.keys_path(path).exists()
