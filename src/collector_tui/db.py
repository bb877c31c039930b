"""Engine and unit-of-work factory, SQLite pragmas, migrations entry.

SQLite with Python's sqlite3 driver needs explicit transaction control (DESIGN.md §11): the driver's
own implicit BEGIN is switched off and we emit `BEGIN` or `BEGIN IMMEDIATE` ourselves. A deferred
transaction that reads and then writes fails at once with "database is locked" when another process
committed in between; `BEGIN IMMEDIATE` takes the write lock up front and waits (busy timeout).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

BUSY_TIMEOUT_MS = 10_000


class DatabaseError(RuntimeError):
    """A database problem with a message fit for a user (one stderr line or a notification)."""


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


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
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
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def make_engine(target: str | Path, **kwargs: Any) -> Engine:
    url = make_url(database_url(target))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@dataclass(frozen=True)
class Store:
    """The database a process works on: hands out short units of work, one per action."""

    engine: Engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that commits on success and rolls back on any error."""
        engine = self.engine
        if engine.dialect.name == "sqlite":
            engine = engine.execution_options(sqlite_begin="IMMEDIATE")  # type: ignore[assignment]
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

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(target: str | Path, **kwargs: Any) -> Store:
    return Store(make_engine(target, **kwargs))


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    here = Path(__file__).parent
    config = Config()
    config.set_main_option("script_location", str(here / "migrations"))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    config = _alembic_config(store.engine)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(store: Store) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(store.engine)).get_current_head()
