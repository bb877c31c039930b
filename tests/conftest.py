"""Shared fixtures: a real database migrated to head (SQLite, and PostgreSQL when one is given), a
fixed clock, users.

Store and service tests run on both backends: a test that uses `store` (or `databases`) is
parametrized `[sqlite]` and `[postgresql]`. The PostgreSQL half needs a server:
`COLLECTOR_TEST_PG_URL=postgresql+psycopg://USER@HOST/DB` where USER may create databases
(`.ci/with-postgres COMMAND` starts a throw-away one and sets it); without it those tests skip and
say so. Tests that are about SQLite itself (pragmas, file locks, raw sqlite3) or that hand the
SQLite file to the command line carry `@pytest.mark.sqlite_only`; the command line files
(test_*cli*.py), the app (tests/tui/, test_*tui*.py) and the demo database run on SQLite only.
"""

from __future__ import annotations

import gc
import itertools
import os
import secrets
import shutil
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.cases import PlacementInput, add_placement

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # a Friday afternoon in UTC

PG_URL_VARIABLE = "COLLECTOR_TEST_PG_URL"
PG_SKIP_REASON = (
    f"no PostgreSQL server: set {PG_URL_VARIABLE}=postgresql+psycopg://USER@HOST/DB (USER may "
    "create databases), or run the tests under .ci/with-postgres (README, PostgreSQL)"
)
# Read once: some tests clear COLLECTOR_* variables while they run.
PG_URL = os.environ.get(PG_URL_VARIABLE, "")
# The command line (test_*cli*.py, given `tmp_path / "test.db"`), the app (tests/tui/,
# test_*tui*.py) and the demo file run on SQLite only; tests/core/test_postgres.py runs the command
# line on PostgreSQL.
SQLITE_ONLY_FILES = ("test_demo_db.py",)
SQLITE_ONLY_FOLDERS = ("tui",)

T = TypeVar("T")


@pytest.fixture(autouse=True)
def english_interface(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in English whatever the machine's locale, and a test that switches the
    language (the app, --lang, i18n.set_language) leaves none of it to the next."""
    from collector_tui import i18n

    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    i18n.set_language(i18n.ENGLISH)
    yield
    i18n.set_language(i18n.ENGLISH)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: about SQLite itself (pragmas, file locks, raw sqlite3)"
    )
    config.addinivalue_line("markers", "postgresql_only: about PostgreSQL itself")
    if os.environ.get("COLLECTOR_TEST_PG_REQUIRED") and not PG_URL:
        # CI must test PostgreSQL: a lost server address is an error there, never a quiet skip.
        raise pytest.UsageError(f"COLLECTOR_TEST_PG_REQUIRED is set but {PG_URL_VARIABLE} is not")


def _sqlite_only(definition: pytest.Item) -> bool:
    path = Path(str(definition.path))
    return (
        definition.get_closest_marker("sqlite_only") is not None
        or path.name in SQLITE_ONLY_FILES
        or any(word in path.stem for word in ("cli", "tui"))
        or path.parent.name in SQLITE_ONLY_FOLDERS
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that reaches a database is parametrized, SQLite-only ones with just "sqlite": the
    # session's databases then follow the parameter (a plain fixture next to the parameter would
    # leave the other backend's databases in pytest's cache).
    if "backend" not in metafunc.fixturenames:
        return
    postgresql = pytest.param(
        "postgresql", marks=pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
    )
    if _sqlite_only(metafunc.definition):
        values = ["sqlite"]
    elif metafunc.definition.get_closest_marker("postgresql_only"):
        values = [postgresql]
    else:
        values = ["sqlite", postgresql]
    metafunc.parametrize("backend", values, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The test's backend, "sqlite" or "postgresql" (the parameter of pytest_generate_tests)."""
    return str(request.param)


@dataclass(frozen=True)
class Template(Generic[T]):
    """A migrated database with some rows in it, made once; `open` gives each test its own copy."""

    databases: TestDatabases
    value: T  # what the seed function returned (users, ...)
    path: Path | None = None  # SQLite: the file to copy
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # PostgreSQL: the rows

    def open(self, folder: Path, name: str = "test.db") -> db.Store:
        return self.databases.open(folder, name, template=self)


@dataclass(frozen=True)
class _PooledStore(db.Store):
    """A store on one of the session's PostgreSQL databases; disposing it frees the database (so
    does losing it: a test that fails before its `dispose` must not use up the server's
    connections, above all under Hypothesis, which fails many examples while shrinking)."""

    release: Callable[[], None] = lambda: None

    def dispose(self) -> None:
        self.release()


class TestDatabases:
    """Migrated databases on one backend, empty or copied from a seeded template.

    SQLite: the schema is migrated once into a file that each store copies (a copy is much faster
    than running the migrations). PostgreSQL: one database per session is migrated and serves as
    the template of a small pool of databases (usually one, more only while several stores are
    open at once); a store takes a free database, empties it and puts the template's rows back:
    milliseconds, where CREATE DATABASE per test costs ~40 ms and migrations ~250 ms.
    """

    __test__ = False  # not a test class, whatever its name

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self._templates = itertools.count()
        self._base: Path | None = None
        self._server: sa.Engine | None = None
        self._free: list[str] = []
        self._made: list[str] = []
        self._superuser = False
        self._open: weakref.WeakSet[_PooledStore] = weakref.WeakSet()
        if backend == "postgresql":
            self._start_server()

    # --- SQLite -------------------------------------------------------------------------------

    def _sqlite_base(self) -> Path:
        if self._base is None:
            path = self.folder / "migrated.db"
            store = bootstrap.open_store(path)
            db.upgrade(store)
            store.dispose()
            self._base = path
        return self._base

    # --- PostgreSQL ---------------------------------------------------------------------------

    def _start_server(self) -> None:
        self._url = sa.make_url(PG_URL)
        self._server = sa.create_engine(
            self._url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )
        self._prefix = f"collector_test_{os.getpid()}_{secrets.token_hex(3)}"
        with self._server.connect() as connection:
            self._superuser = connection.exec_driver_sql("SHOW is_superuser").scalar() == "on"
            connection.exec_driver_sql(f'CREATE DATABASE "{self._prefix}"')
        self._made.append(self._prefix)
        base = bootstrap.open_store(self._database_url(self._prefix))
        try:
            db.upgrade(base)
        finally:
            base.dispose()

    def _database_url(self, name: str) -> str:
        return self._url.set(database=name).render_as_string(hide_password=False)

    def _take_database(self) -> str:
        if not self._free:
            gc.collect()  # frees the databases of stores that were dropped without `dispose`
        if self._free:
            return self._free.pop()
        # Several stores open at once, or some were lost without `dispose` and are still referenced
        # (a failing test's traceback): close their idle connections, which a store reopens when
        # used again, so that lost stores cannot exhaust the server's connections.
        for store in list(self._open):
            store.engine.dispose()
        name = f"{self._prefix}_{len(self._made)}"
        assert self._server is not None
        with self._server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self._prefix}"')
        self._made.append(name)
        return name

    def _give_back(self, engine: sa.Engine, database: str) -> None:
        engine.dispose()
        for store in list(self._open):
            if store.engine is engine:
                self._open.discard(store)
        self._free.append(database)

    def _fill(self, engine: sa.Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
        """Empty every table but Alembic's and insert `rows` (table name -> rows)."""
        with engine.begin() as connection:
            tables = connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            ).scalars()
            quoted = [f'"{name}"' for name in tables]
            if self._superuser:
                # Replica mode skips triggers (the audit trail refuses DELETE) and foreign key
                # checks; a DELETE of a few rows is ~5x faster than TRUNCATE.
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                for name in quoted:
                    connection.exec_driver_sql(f"DELETE FROM {name}")
            elif quoted:
                connection.exec_driver_sql(f"TRUNCATE {', '.join(quoted)} CASCADE")
            for table in SQLModel.metadata.sorted_tables:
                if table.name in ("workload_counter", "attempt_counter") and not self._superuser:
                    continue  # the triggers (not skipped here) count the rows inserted again
                if rows.get(table.name):
                    connection.execute(sa.insert(table), rows[table.name])

    # --- Both -----------------------------------------------------------------------------------

    def open(
        self, folder: Path, name: str = "test.db", template: Template[Any] | None = None
    ) -> db.Store:
        """A store of its own, empty or a copy of `template`; the caller disposes it."""
        if self.backend == "sqlite":
            target = folder / name
            source = template.path if template is not None else self._sqlite_base()
            assert source is not None
            shutil.copyfile(source, target)
            return bootstrap.open_store(target)
        database = self._take_database()
        engine = bootstrap.make_engine(self._database_url(database))
        store = _PooledStore(engine)
        # Runs once, on `dispose` or when the store is garbage: closes its connections and gives
        # the database back to the pool.
        release = weakref.finalize(store, self._give_back, engine, database)
        object.__setattr__(store, "release", release)
        self._open.add(store)
        try:
            self._fill(store.engine, template.rows if template is not None else {})
        except BaseException:
            store.dispose()
            raise
        return store

    def template(self, seed: Callable[[Session], T]) -> Template[T]:
        """A template holding what `seed(session)` writes in one unit of work (users, ...)."""
        if self.backend == "sqlite":
            path = self.folder / f"template-{next(self._templates)}.db"
            shutil.copyfile(self._sqlite_base(), path)
            store = bootstrap.open_store(path)
            try:
                with store.write() as session:
                    value = seed(session)
            finally:
                store.dispose()
            return Template(self, value, path=path)
        store = self.open(self.folder)
        try:
            with store.write() as session:
                value = seed(session)
            with store.engine.connect() as connection:
                rows = {
                    table.name: [dict(r) for r in connection.execute(sa.select(table)).mappings()]
                    for table in SQLModel.metadata.sorted_tables
                }
        finally:
            store.dispose()
        return Template(self, value, rows=rows)

    def blank_url(self) -> str:
        """The URL of a new PostgreSQL database with nothing in it (not even the schema), dropped
        at the end of the session: for `collector-tui init` and the migrations from scratch."""
        assert self._server is not None, "blank databases exist on PostgreSQL only"
        name = f"{self._prefix}_blank_{len(self._made)}"
        with self._server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self._made.append(name)
        return self._database_url(name)

    def close(self) -> None:
        if self._server is None:
            return
        with self._server.connect() as connection:
            for name in reversed(self._made):
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._server.dispose()


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    made = TestDatabases(backend, tmp_path_factory.mktemp(f"databases-{backend}"))
    yield made
    made.close()


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def settings() -> Settings:
    return Settings()


USERS = (("alice", "agent"), ("bob", "agent"), ("sam", "supervisor"), ("root", "admin"))


def create_users(session: Session, *, now: datetime = NOW, **options: Any) -> dict[str, Actor]:
    """The usual users, password "demo": alice and bob (agents), sam (supervisor), root (admin).
    `options` go to every `accounts.create_user` (`time_zone=...`)."""
    return {
        name: accounts.create_user(
            session=session, now=now, username=name, password="demo", role=role, **options
        )
        for name, role in USERS
    }


@pytest.fixture(scope="session")
def users_template(databases: TestDatabases) -> Template[dict[str, Actor]]:
    """A migrated database with the usual users, made once per backend: each test that uses
    `users` gets a copy (hashing four passwords and migrating cost ~0.3 s a test, a copy almost
    nothing)."""
    return databases.template(create_users)


@pytest.fixture
def store_template(request: pytest.FixtureRequest) -> Template[Any] | None:
    """What `store` starts from: the usual users when the test uses `users`, else nothing (the
    migrated schema). A module whose tests all start from rows of their own overrides this with
    its own template (made once: `databases.template(seed)` in a module-scoped fixture); it holds
    the usual users if those tests use `users`."""
    if "users" in request.fixturenames:
        return request.getfixturevalue("users_template")
    return None


@pytest.fixture
def store(
    databases: TestDatabases, store_template: Template[Any] | None, tmp_path: Path
) -> Iterator[db.Store]:
    """A store migrated to head (SQLite: `tmp_path / "test.db"`), a copy of `store_template`."""
    store = databases.open(tmp_path, template=store_template)
    yield store
    store.dispose()


@pytest.fixture
def users(store: db.Store) -> dict[str, Actor]:
    """The usual users (see `create_users`), as the store holds them."""
    with store.read() as session:
        return {name: accounts.get_actor(session=session, username=name) for name, _ in USERS}


@pytest.fixture
def place(store: db.Store, settings: Settings, users: dict[str, Actor]):  # noqa: ANN201
    """Place a case: `place("REF-1", balance=10_000, phones=("+8613800138000",))`."""

    def _place(client_ref: str, **overrides: object):  # noqa: ANN202
        values: dict[str, object] = {
            "client": "ACME Bank",
            "client_ref": client_ref,
            "debtor_name": f"Debtor {client_ref}",
            "country": "CN",
            "currency": "CNY",
            "principal": 100_000,
            "due_date": date(2026, 9, 1),
            "placed_date": date(2026, 10, 1),
            "phones": ("+86 138 0013 8000",),
            "assigned_to_id": users["alice"].user_id,
        }
        values.update(overrides)
        with store.write() as session:
            return add_placement(
                session=session, now=NOW, placement=PlacementInput(**values), settings=settings
            )

    return _place


# -- the command line -----------------------------------------------------------------------------

CLI_NOW_TEXT = "2026-11-20T14:30:00+00:00"


@pytest.fixture
def cli_runner(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[[str], Callable[..., tuple[int, str, str]]]:
    """`runner(default_user)` gives `run(*args, user=default_user) -> (status, stdout, stderr)`:
    the command on `tmp_path/test.db` at CLI_NOW_TEXT, as `user` with the password "demo"."""
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLLECTOR_PASSWORD", "demo")
    from collector_tui import cli

    def runner(default_user: str) -> Callable[..., tuple[int, str, str]]:
        def _run(*args: str, user: str = default_user) -> tuple[int, str, str]:
            capsys.readouterr()
            code = cli.main(
                [*args, "--db", str(tmp_path / "test.db"), "--now", CLI_NOW_TEXT, "--user", user]
            )
            captured = capsys.readouterr()
            return code, captured.out, captured.err

        return _run

    return runner
