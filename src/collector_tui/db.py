"""Engine and unit-of-work factory, SQLite pragmas, migrations entry.

SQLite with Python's sqlite3 driver needs explicit transaction control (docs/decisions.md,
transactions): the driver's own implicit BEGIN is switched off and we emit `BEGIN` or
`BEGIN IMMEDIATE` ourselves. A deferred transaction that reads and then writes fails at once with
"database is locked" when another process committed in between; `BEGIN IMMEDIATE` takes the write
lock up front and waits (busy timeout).

PostgreSQL gets the same semantics, so that the services behave alike on both: a write unit takes
one transaction-scoped advisory lock before its first statement, so write units run one after
another (as on SQLite) while reads never wait (MVCC). The services check-then-insert (a payment
reference posted once per case, frequency caps, idempotent imports) and rely on that; READ
COMMITTED with version counters alone would let two such checks pass side by side, and SERIALIZABLE
would make concurrent units fail where SQLite waits, with no place to retry a unit of work.
Version counters still refuse an edit of a row read in an earlier unit of work (a stale screen).
Read units see one snapshot from their first statement on (REPEATABLE READ), as on SQLite.

Waiting for the write lock (`BUSY_TIMEOUT_MS`, 60 s): a write unit waits up to that long in total
for the lock, then fails with "database is locked" (PostgreSQL: "lock timeout") and writes nothing.
On PostgreSQL the waiters queue on the advisory lock in order. SQLite has no queue: waiters poll,
and its busy handler polls ever more slowly (1, 2, 5 ... then every 100 ms), so with several
writers on loaded cores a waiter that has waited long keeps losing the lock to fresh ones and can
starve. So `BEGIN IMMEDIATE` is tried in short attempts (`LOCK_ATTEMPT_MS` of SQLite's own waiting
each, back to its fast polling every time) with a short random pause between them (backoff with
jitter, so the waiters do not poll in step), until the 60 s are spent. Only the BEGIN is retried:
when it fails nothing has been read or written, so trying again is the same unit of work from its
start; a statement failing later in a unit is never retried (the unit rolls back and the error
reaches the caller).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from sqlmodel.sql.expression import Select

from collector_tui.i18n import _
from collector_tui.schema import SCHEMA_HEAD as SCHEMA_HEAD

# The longest a write unit waits for the write lock, in all, before it gives up (the module
# docstring says how): 60 s. Also SQLite's busy timeout for any other statement.
BUSY_TIMEOUT_MS = 60_000
# One attempt at SQLite's BEGIN IMMEDIATE: long enough to ride out one ordinary unit of work, short
# enough that SQLite's busy handler is still polling every few ms when it ends.
LOCK_ATTEMPT_MS = 250
# The random pause between two attempts grows from 1 ms and never exceeds this.
LOCK_PAUSE_MAX_S = 0.05
# The advisory lock key of PostgreSQL write units ("coll" in ASCII): any constant works, it only
# has to be the same in every process on the database.
PG_WRITE_LOCK_KEY = 0x636F6C6C


class DatabaseError(RuntimeError):
    """A database problem with a message fit for a user (one stderr line or a notification)."""


SQL_BATCH = 500  # values per IN (...) list, well under every backend's bound-parameter limit
T = TypeVar("T")


def in_batches(values: Iterable[T], size: int = SQL_BATCH) -> Iterator[list[T]]:
    """Values in lists of at most `size`, in order: IN (...) lists and rounds of inserts."""
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a file path."""
    text = str(target)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def default_database_path() -> Path:
    import platformdirs

    folder = Path(platformdirs.user_data_dir("collector-tui", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "collector.db"


class DatabaseLocked(DatabaseError):
    """An encrypted database asked for before its key was given, or with the wrong key."""


class DatabaseKey:
    """The key of an encrypted (SQLCipher) file, held only by the engine's connect hook: never
    in the URL, a log or an error. Empty until the user's password unwrapped it (vault.py)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key

    def set(self, key: bytes) -> None:
        self._key = key

    def clear(self) -> None:
        self._key = None

    @property
    def locked(self) -> bool:
        return self._key is None

    def pragma(self) -> str:
        if self._key is None:
            raise DatabaseLocked(_("the database is encrypted: log in to open it"))
        from collector_tui.vault import pragma_key

        return pragma_key(self._key)

    def reveal(self) -> bytes:
        """The raw key, for rewrapping it (a password change) or converting the file only."""
        if self._key is None:
            raise DatabaseLocked(_("the database is encrypted: log in to open it"))
        return self._key

    def __repr__(self) -> str:
        return f"DatabaseKey({'locked' if self._key is None else 'set'})"


def _apply_key(dbapi_connection: Any, key: DatabaseKey) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # SQLCipher logs decryption failures to stderr, which would garble the TUI.
        cursor.execute("PRAGMA cipher_log_level = NONE")
        cursor.execute(key.pragma())
        try:
            cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except Exception:
            raise DatabaseLocked(_("this key does not open the database")) from None
    finally:
        cursor.close()


def _configure_sqlite(engine: Engine, key: DatabaseKey | None = None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if key is not None:
            _apply_key(dbapi_connection, key)
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
            "synchronous=FULL",
            "secure_delete=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        if mode == "IMMEDIATE":
            _begin_immediate(connection)
        else:
            connection.exec_driver_sql(f"BEGIN {mode}".strip())


def _is_busy(error: OperationalError) -> bool:
    text = str(error.orig if error.orig is not None else error).lower()
    return "locked" in text or "busy" in text


def _begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock in short attempts with jittered pauses, for BUSY_TIMEOUT_MS in
    all; then the last "database is locked" goes to the caller. Nothing was written before."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    attempt = 0
    try:
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            connection.exec_driver_sql(
                f"PRAGMA busy_timeout = {max(0, min(LOCK_ATTEMPT_MS, left_ms))}"
            )
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    raise
            attempt += 1
            pause = random.uniform(0, min(LOCK_PAUSE_MAX_S, 0.001 * 2**attempt))
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
    finally:
        # Any other statement (and the next unit) waits with the connection's full patience.
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("write_unit"):
            # Wait for the other writers (in order, PostgreSQL queues lock waiters) as long as
            # SQLite would, then fail instead of hanging.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})")


def select_columns(*columns: Any) -> Select[*tuple[Any, ...]]:
    """`sqlmodel.select(...)` of several columns, its rows read by position (rows even of one).

    The same statement `select` builds for two columns or more; its typed overloads stop at four,
    past which the type checker finds none that matches."""
    return Select(*columns)


def make_engine(target: str | Path, *, key: DatabaseKey | None = None, **kwargs: Any) -> Engine:
    """An engine configured for its backend, with no listeners: faces use bootstrap.make_engine.
    With `key`, a SQLite file is opened through SQLCipher with that key."""
    url = make_url(database_url(target))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        if key is not None:
            import sqlcipher3.dbapi2  # type: ignore[import-untyped]

            kwargs["module"] = sqlcipher3.dbapi2
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine, key)
        return engine
    if key is not None:
        raise DatabaseError(
            _("only a SQLite file can be encrypted (PostgreSQL: the server's disk)")
        )
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if url.get_backend_name() == "postgresql":
        _configure_postgresql(engine)
    return engine


@dataclass(frozen=True)
class Store:
    """The database a process works on: hands out short units of work, one per action."""

    engine: Engine
    # An encrypted file's key (SQLCipher); None for plain SQLite and PostgreSQL.
    key: DatabaseKey | None = None

    @property
    def locked(self) -> bool:
        return self.key is not None and self.key.locked

    def lock(self) -> None:
        """Forget an encrypted file's key and close its connections (logout, idle lock): the
        next user opens it with their own password."""
        if self.key is not None and not self.key.locked:
            self.key.clear()
            self.engine.dispose()

    @property
    def file(self) -> Path | None:
        """The SQLite file, if the store is one."""
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
            return None
        return Path(str(database))

    @contextmanager
    def read(self) -> Iterator[Session]:
        engine = self.engine
        if engine.dialect.name == "postgresql":
            # One snapshot for the whole unit, as a SQLite read transaction has: a report's totals
            # and its rows agree even while others write.
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        with Session(engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that commits on success and rolls back on any error."""
        engine = self.engine
        if engine.dialect.name == "sqlite":
            engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            engine = engine.execution_options(write_unit=True)
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def checkpoint(self) -> bool:
        """Fold a SQLite WAL into the main file and empty it, so that pages an erasure rewrote
        leave no old copy behind (with `secure_delete` on, freed space is zeroed). False when a
        reader still holds an old snapshot (it is then folded at the next checkpoint)."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        return not busy

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(target: str | Path, *, key: DatabaseKey | None = None, **kwargs: Any) -> Store:
    return Store(make_engine(target, key=key, **kwargs), key=key)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    here = Path(__file__).parent
    config = Config()
    config.set_main_option("script_location", str(here / "migrations"))
    # The option goes through ConfigParser interpolation: a `%` (URL-quoted socket folder or
    # password) must be doubled.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    config = _alembic_config(store.engine)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# The app checks the schema revision at every start; importing Alembic for it (with Mako and
# Pygments) cost a tenth of a second of the start-up budget, and reading the version files to find
# their head a few milliseconds more (docs/decisions.md, performance). The database's revision is
# read from alembic_version and compared with SCHEMA_HEAD (schema.py: the newest migration's
# revision, kept apart so the command line can check a file without SQLAlchemy).


def current_revision(store: Store) -> str | None:
    from sqlalchemy import inspect, text

    with store.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    if len(versions) <= 1:
        return versions[0][0] if versions else None
    from alembic.runtime.migration import MigrationContext  # several heads: Alembic's refusal

    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(store: Store | None = None) -> str:
    """The schema revision this program needs: the migrations' head (SCHEMA_HEAD)."""
    return SCHEMA_HEAD
