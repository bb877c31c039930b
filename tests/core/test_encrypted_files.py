"""Encrypted database files: the keys (vault.py), the conversion in place (cipherfile.py) and the
engine that opens them (db.py). Byte searches prove what a stolen disk would show."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlmodel import select

from collector_tui import bootstrap, cipherfile, db, vault
from collector_tui.models import Activity, Case, Debtor, Phone
from collector_tui.services.casework import activities
from collector_tui.services.casework.activities import ContactInput

pytestmark = pytest.mark.sqlite_only

SECRET_NOTE = "Zhangwei-keeps-his-savings-under-the-mattress"


def _bytes_of(path: Path) -> bytes:
    found = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            found += part.read_bytes()
    return found


def _secrets(store: db.Store) -> list[bytes]:
    with store.read() as session:
        debtor = session.exec(select(Debtor)).first()
        phone = session.exec(select(Phone)).first()
    assert debtor is not None and phone is not None and phone.e164 is not None
    return [debtor.name.encode(), phone.e164.encode(), SECRET_NOTE.encode()]


@pytest.fixture
def worked(store: db.Store, place, users, settings, now) -> db.Store:  # noqa: ANN001
    """A file with a debtor, a number and a negotiation note in it."""
    case = place("ENC-1", debtor_name="Wang Xiaoming")
    with store.write() as session:
        activities.log_contact(
            session=session,
            now=now,
            actor=users["alice"],
            settings=settings,
            case_id=case.id,
            contact=ContactInput(disposition="no_answer", note=SECRET_NOTE),
        )
    return store


def test_wrapped_keys_open_with_the_right_password_only(tmp_path: Path) -> None:
    database = tmp_path / "laptop.db"
    key = vault.new_database_key()
    vault.write_keys(database, vault.new_keys(key, {"alice": "s3cret"}, None))
    assert vault.unlock(database, "alice", "s3cret") == key
    # The name as a login takes it: case, spaces and fullwidth letters fold.
    assert vault.unlock(database, " Alice ", "s3cret") == vault.unlock(
        database, "ａｌｉｃｅ", "s3cret"
    )
    for name, password in (("alice", "wrong"), ("bob", "s3cret"), ("alicia", "s3cret")):
        with pytest.raises(vault.WrongPassword, match="wrong user name or password"):
            vault.unlock(database, name, password)
    # A password change rewraps; the old password no longer opens, the key is the same.
    vault.allow_user(database, key, "alice", "n3w-pass")
    assert vault.unlock(database, "alice", "n3w-pass") == key
    with pytest.raises(vault.WrongPassword):
        vault.unlock(database, "alice", "s3cret")
    keys_text = vault.keys_path(database).read_bytes()
    assert key not in keys_text and key.hex().encode() not in keys_text
    assert oct(vault.keys_path(database).stat().st_mode & 0o777) == "0o600"


def test_a_damaged_or_foreign_keys_file_is_one_clear_message(tmp_path: Path) -> None:
    database = tmp_path / "laptop.db"
    with pytest.raises(vault.VaultError, match="keys file is missing"):
        vault.unlock(database, "alice", "x")
    vault.keys_path(database).write_text('{"format": "something else"}')
    with pytest.raises(vault.VaultError, match="not a collector-tui keys file"):
        vault.unlock(database, "alice", "x")
    entry = vault.wrap_for_user(vault.new_database_key(), "alice", "pw")
    entry["n"] = 2**40  # a cost that would take the machine's memory
    vault.write_keys(database, vault.KeyFile(users={"alice": entry}))
    with pytest.raises(vault.VaultError, match="damaged"):
        vault.unlock(database, "alice", "pw")


def test_the_recovery_key_opens_what_the_password_no_longer_does(tmp_path: Path) -> None:
    database = tmp_path / "laptop.db"
    key = vault.new_database_key()
    team = vault.new_recovery_keys()
    vault.write_keys(database, vault.new_keys(key, {"alice": "forgotten"}, team.public))
    assert vault.recover_key(database, team.private) == key
    with pytest.raises(vault.VaultError, match="does not open"):
        vault.recover_key(database, vault.new_recovery_keys().private)


def test_an_encrypted_file_shows_nothing_and_opens_with_its_key(worked: db.Store) -> None:
    path = worked.file
    assert path is not None
    secrets = _secrets(worked)
    assert all(secret in _bytes_of(path) for secret in secrets)  # the plain file shows them
    worked.dispose()
    key = vault.new_database_key()
    cipherfile.encrypt_file(path, key, vault.new_keys(key, {"alice": "demo"}, None))

    assert vault.is_encrypted(path)
    on_disk = _bytes_of(path) + b"".join(p.read_bytes() for p in path.parent.iterdir())
    for secret in secrets:
        assert secret not in on_disk
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()
    # Leftovers of the conversion are gone; only the file, its keys and the test's own remain.
    assert not [p for p in path.parent.iterdir() if p.name.endswith((".converting", ".replaced"))]

    opened = bootstrap.open_store(path, key=db.DatabaseKey(key))
    try:
        with opened.write() as session:  # works as before, WAL included
            note = session.exec(select(Activity.note)).one()
            debtor = session.exec(select(Debtor)).one()
            debtor.capacity_notes = "writes work too"
            session.add(debtor)
        assert note == SECRET_NOTE
        for secret in secrets:
            assert secret not in _bytes_of(path)
    finally:
        opened.dispose()
    wrong = bootstrap.open_store(path, key=db.DatabaseKey(vault.new_database_key()))
    with pytest.raises(Exception, match="does not open"):
        with wrong.read() as session:
            session.exec(select(Case)).all()
    wrong.dispose()
    locked = bootstrap.open_store(path, key=db.DatabaseKey())
    assert locked.locked
    with pytest.raises(Exception, match="log in to open it"):
        with locked.read() as session:
            session.exec(select(Case)).all()
    locked.dispose()

    cipherfile.decrypt_file(path, key)
    assert not vault.is_encrypted(path) and not vault.keys_path(path).exists()
    plain = sqlite3.connect(path)
    assert plain.execute("SELECT note FROM activity").fetchone() == (SECRET_NOTE,)
    plain.close()


def test_a_conversion_refuses_what_it_cannot_do(tmp_path: Path, worked: db.Store) -> None:
    path = worked.file
    assert path is not None
    key = vault.new_database_key()
    with pytest.raises(cipherfile.ConversionError, match="not encrypted"):
        cipherfile.decrypt_file(path, key)
    with pytest.raises(cipherfile.ConversionError, match="no database file"):
        cipherfile.encrypt_file(tmp_path / "none.db", key, vault.KeyFile())
    worked.dispose()
    cipherfile.encrypt_file(path, key, vault.new_keys(key, {"alice": "demo"}, None))
    with pytest.raises(cipherfile.ConversionError, match="already encrypted"):
        cipherfile.encrypt_file(path, key, vault.KeyFile())
    with pytest.raises(cipherfile.ConversionError, match="cannot be read with this key"):
        cipherfile.decrypt_file(path, vault.new_database_key())
    assert vault.is_encrypted(path)


KILLED_RUN = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from collector_tui import cipherfile, vault

    stop_at = sys.argv[2]
    real = {"export": cipherfile._export, "write_keys": vault.write_keys,
            "shred": cipherfile.shred}

    def killer(name):
        def run(*args, **kwargs):
            swapped = vault.is_encrypted(Path(sys.argv[1]))
            if name == stop_at and (name != "shred" or swapped):  # shred: after the swap
                os._exit(9)  # as kill -9: nothing is cleaned up
            return real[name](*args, **kwargs)
        return run

    cipherfile._export = killer("export")
    vault.write_keys = killer("write_keys")
    cipherfile.shred = killer("shred")
    key = bytes.fromhex(sys.argv[3])
    keys = vault.KeyFile(users={"alice": vault.wrap_for_user(key, "alice", "demo")})
    cipherfile.encrypt_file(Path(sys.argv[1]), key, keys)
    """
)


@pytest.mark.parametrize("stop_at", ["export", "write_keys", "shred"])
def test_killed_mid_way_the_file_is_the_old_one_or_the_new_one_whole(
    worked: db.Store, stop_at: str
) -> None:
    path = worked.file
    assert path is not None
    with worked.read() as session:
        expected = sorted(str(row) for row in session.exec(select(Activity.id)).all())
    worked.dispose()
    key = vault.new_database_key()
    done = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(path), stop_at, key.hex()],
        capture_output=True,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 9, done.stderr
    if vault.is_encrypted(path):
        opened = bootstrap.open_store(path, key=db.DatabaseKey(key))
    else:
        opened = bootstrap.open_store(path)
    try:
        with opened.read() as session:
            rows = sorted(str(row) for row in session.exec(select(Activity.id)).all())
            assert session.exec(select(Case)).first() is not None
    finally:
        opened.dispose()
    assert rows == expected
    assert vault.is_encrypted(path) == (stop_at == "shred")
    # The next run clears what the killed one left and finishes the job.
    if not vault.is_encrypted(path):
        cipherfile.encrypt_file(path, key, vault.new_keys(key, {"alice": "demo"}, None))
    else:  # opening the file clears the plaintext the killed run left beside it
        assert bootstrap.encrypted_file(path) == path
    assert SECRET_NOTE.encode() not in b"".join(p.read_bytes() for p in path.parent.iterdir())
    leftovers = [
        p.name for p in path.parent.iterdir() if ".converting" in p.name or ".replaced" in p.name
    ]
    assert leftovers == []
