"""Converting a SQLite database file between plain and encrypted (SQLCipher 4), in place.

A crash at any point leaves the file at its path either the old one or the new one, whole:
1. the old file's WAL is checkpointed into it, so the file alone holds every row;
2. the new file is written beside it (`sqlcipher_export`) and made durable;
3. for encryption, the keys file is written before the swap (a plain file never needs it);
4. the old file gets a second name (a hard link), the new one replaces it in one rename;
5. the old bytes are overwritten with zeros and the second name removed, WAL and shared-memory
   files included, so no plaintext copy is left behind in the folder. (The disk itself may keep
   old blocks, e.g. on SSDs and copy-on-write file systems: full-disk encryption covers those.)

A leftover of an interrupted run is cleared by the next (`clear_leftovers`), and when the file
is opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from collector_tui import vault

_NEW = ".converting"
_OLD = ".replaced"


class ConversionError(Exception):
    """The file cannot be converted; nothing was changed."""


def _cipher_module() -> Any:
    try:
        import sqlcipher3.dbapi2 as module  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ConversionError("SQLCipher (the sqlcipher3 package) is not installed") from None
    return module


def quiet_cipher(connection: Any) -> None:
    """SQLCipher logs decryption failures to stderr, which would garble the TUI."""
    connection.execute("PRAGMA cipher_log_level = NONE")


def _raw_key(key: bytes) -> str:
    return f"x'{key.hex()}'"


def _sibling(database: Path, suffix: str) -> Path:
    return database.with_name(database.name + suffix)


def _journal_files(database: Path) -> list[Path]:
    return [_sibling(database, "-wal"), _sibling(database, "-shm"), _sibling(database, "-journal")]


def shred(path: Path) -> None:
    """Overwrite a file with zeros, make that durable, then remove it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with path.open("r+b") as handle:
        chunk = b"\0" * (1 << 20)
        left = size
        while left > 0:
            left -= handle.write(chunk[: min(left, len(chunk))])
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def clear_leftovers(database: Path) -> None:
    new = _sibling(database, _NEW)
    for path in (new, *_journal_files(new)):
        shred(path)
    old = _sibling(database, _OLD)
    if old.exists():
        if database.exists() and os.path.samefile(old, database):
            old.unlink()  # the swap never happened: the second name is the live file
        else:
            for path in (old, *_journal_files(old)):
                shred(path)


def _export(source: Path, source_key: bytes | None, target: Path, target_key: bytes | None) -> None:
    """Copy every table, index and row of `source` into a new `target` file."""
    module = _cipher_module()
    connection = module.connect(str(source), isolation_level=None)
    try:
        quiet_cipher(connection)
        if source_key is not None:
            connection.execute(vault.pragma_key(source_key))
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except module.DatabaseError:
            raise ConversionError(f"{source.name} cannot be read with this key") from None
        # Everything into the main file, and nobody else writing while it is copied.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute(
            "ATTACH DATABASE ? AS converted KEY ?",
            (str(target), "" if target_key is None else _raw_key(target_key)),
        )
        try:
            connection.execute("BEGIN EXCLUSIVE")
        except module.OperationalError:
            raise ConversionError(f"{source.name} is in use: close the app first") from None
        connection.execute("SELECT sqlcipher_export('converted')")
        version = connection.execute("PRAGMA main.user_version").fetchone()[0]
        connection.execute(f"PRAGMA converted.user_version = {int(version)}")
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE converted")
    finally:
        connection.close()
    _fsync(target)


def _swap(database: Path, converted: Path) -> None:
    old = _sibling(database, _OLD)
    os.link(database, old)
    os.replace(converted, database)
    vault.sync_folder(database.parent)
    for path in _journal_files(database):
        shred(path)  # the old file's; the new one has none yet
    shred(old)


def encrypt_file(database: Path, key: bytes, keys: vault.KeyFile) -> None:
    """Encrypt a plain SQLite file in place with `key`; `keys` (its wrapped copies) is written
    beside it before the swap."""
    if not database.is_file():
        raise ConversionError(f"no database file at {database}")
    clear_leftovers(database)
    if vault.is_encrypted(database):
        raise ConversionError(f"{database.name} is already encrypted")
    converted = _sibling(database, _NEW)
    _export(database, None, converted, key)
    vault.write_keys(database, keys)
    _swap(database, converted)


def decrypt_file(database: Path, key: bytes) -> None:
    """Turn an encrypted file back into plain SQLite in place; its keys file goes."""
    if not database.is_file():
        raise ConversionError(f"no database file at {database}")
    clear_leftovers(database)
    if not vault.is_encrypted(database):
        raise ConversionError(f"{database.name} is not encrypted")
    converted = _sibling(database, _NEW)
    _export(database, key, converted, None)
    _swap(database, converted)
    keys = vault.keys_path(database)
    if keys.exists():
        keys.unlink()
        vault.sync_folder(database.parent)


def create_encrypted(database: Path, key: bytes, keys: vault.KeyFile) -> None:
    """An empty encrypted database file (its schema comes from the migrations)."""
    if database.exists() and database.stat().st_size > 0:
        raise ConversionError(f"{database.name} already exists")
    vault.write_keys(database, keys)
    module = _cipher_module()
    connection = module.connect(str(database), isolation_level=None)
    try:
        quiet_cipher(connection)
        connection.execute(vault.pragma_key(key))
        # Writing anything makes SQLCipher lay down its first, encrypted page.
        connection.execute("PRAGMA user_version = 0")
        connection.execute("CREATE TABLE _created (x)")
        connection.execute("DROP TABLE _created")
    finally:
        connection.close()
    _fsync(database)


def encrypt_for(database: Path, username: str, password: str, recovery: bytes | None) -> None:
    """Encrypt a plain file with a new random key that opens with this user's password (and the
    team's recovery key, if given)."""
    key = vault.new_database_key()
    encrypt_file(database, key, vault.new_keys(key, {username: password}, recovery))
