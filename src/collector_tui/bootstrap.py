"""Where a process is wired together: the database every face opens, with the listeners the
services need on it.

The core (`db.py`) knows nothing of services. A laptop's outbox (services.sync.capture) must see
every write made through an engine, in the writer's own transaction, so an engine is watched the
moment it is made — here, and only here. Faces (the TUI, the CLI, the demo builder, the bench and
the tests) open databases through this module, never through `db.make_engine` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from collector_tui import db
from collector_tui.services.sync.capture import watch


def make_engine(target: str | Path, **kwargs: Any) -> Engine:
    engine = db.make_engine(target, **kwargs)
    watch(engine)  # only SQLite files can become laptops; others are left alone
    return engine


def open_store(target: str | Path, *, key: db.DatabaseKey | None = None, **kwargs: Any) -> db.Store:
    """The store on `target`; an encrypted file needs `key` (possibly still locked: the login
    screen unlocks it with `unlock`)."""
    return db.Store(make_engine(target, key=key, **kwargs), key=key)


def encrypted_file(target: str | Path) -> Path | None:
    """The file of `target` if it is an existing, encrypted SQLite file."""
    from sqlalchemy.engine import make_url

    from collector_tui import vault

    url = make_url(db.database_url(target))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(str(url.database))
    if not vault.is_encrypted(path):
        return None
    from collector_tui import cipherfile

    cipherfile.clear_leftovers(path)  # of a conversion killed mid-way: never plaintext left
    return path


def unlock(store: db.Store, username: str, password: str) -> None:
    """Open a locked store with a user's password, then make sure its schema is this program's.
    Refusals are ServiceErrors a screen shows as they are: a wrong password says what a failed
    login says."""
    from collector_tui import vault
    from collector_tui.services.errors import Forbidden, ServiceError

    if store.key is None or not store.key.locked or store.file is None:
        return
    try:
        key = vault.unlock(store.file, username, password)
    except vault.WrongPassword:
        raise Forbidden("wrong user name or password") from None
    except vault.VaultError as error:
        raise ServiceError(str(error)) from None
    store.key.set(key)
    problem = schema_problem(store)
    if problem is not None:
        store.key.clear()
        raise ServiceError(problem)


def schema_problem(store: db.Store) -> str | None:
    """Why this program cannot work on the store's schema, or None."""
    current = db.current_revision(store)
    if current is None:
        return "the database is not initialised: run `collector-tui init` first"
    head = db.head_revision(store)
    if current != head:
        return (
            f"the database has schema {current}, this program needs {head}: "
            "run `collector-tui init` to upgrade it"
        )
    return None


def warm_up() -> None:
    """Import and prepare what an agent's first screen needs (the queue's services, every
    model's mapper), ahead of the login's answer: the login screen runs it in a thread while
    the password is typed, and the scrypt check then runs beside it (docs/decisions.md,
    performance). Safe to run at any time, and more than once."""
    from sqlalchemy.orm import configure_mappers

    from collector_tui.services.casework import queue  # noqa: F401

    configure_mappers()
