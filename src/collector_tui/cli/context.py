"""What one run of the command line works with: the parsed options, the streams, the settings,
the clock (`--now`), the store (`--db`) and the acting user (`--user` with $COLLECTOR_PASSWORD or a
prompt). Everything is made on first use, so a command that needs no database never opens one and
a usage mistake never loads SQLAlchemy.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from collector_tui import i18n
from collector_tui.cli.output import PROG, CliError, json_text
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.clock import Clock
    from collector_tui.config import Settings
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor

__all__ = ["Context", "Handler", "interactive"]

Result = TypeVar("Result")


def interactive(stream: TextIO) -> bool:
    """Whether `stream` is a terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@dataclass
class Context:
    args: argparse.Namespace
    out: TextIO
    err: TextIO
    stdin: TextIO
    settings: Settings | None = None
    # Every store opened during the run (the laptop and its master for sync): closed at the end.
    opened: list[Store] = field(default_factory=list)
    _clock: Clock | None = None
    _store: Store | None = None
    _actor: Actor | None = None
    # The password that opened an encrypted file: the same user then logs in with it, unasked.
    _password: str | None = None

    def option(self, name: str) -> Any:
        """A global option (--db, --user, --now) or a command's, None when not given."""
        return getattr(self.args, name, None)

    def load_settings(self) -> Settings:
        if self.settings is None:
            from collector_tui.config import load_settings

            self.settings = load_settings()
        return self.settings

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            from collector_tui.clock import FixedClock, SystemClock

            now = self.option("now")
            self._clock = FixedClock(now) if now is not None else SystemClock()
        return self._clock

    def fix_clock(self, clock: Clock) -> None:
        """Use `clock` instead of the one --now asks for (the demo's own instant)."""
        self._clock = clock

    def now(self) -> datetime:
        return self.clock.now()

    def target(self) -> str:
        """The database as given: --db, then the settings ($COLLECTOR_DB), then the default."""
        explicit = self.option("db")
        if explicit:
            return str(explicit)
        configured = self.load_settings().database
        if configured:
            return configured
        from collector_tui.db import default_database_path

        return str(default_database_path())

    def shown_target(self) -> str:
        """The database for a message: a URL's password masked."""
        from collector_tui.services.sync.locations import shown

        return shown(self.target())

    def open(self, *, must_exist: bool = True, unlock: bool = True) -> Store:
        """The store; with `must_exist`, refuse a missing or uninitialised database (and never
        create an empty file by looking for one). An encrypted file is opened with the user's
        password; without `unlock` it is left locked for the login screen."""
        if self._store is not None:
            return self._store
        from sqlalchemy.engine import make_url

        from collector_tui import db

        target = self.target()
        url = make_url(db.database_url(target))
        is_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        if must_exist and is_file and not Path(str(url.database)).exists():
            raise CliError(
                _("no database at {path}: run `{prog} init` first").format(
                    path=url.database, prog=PROG
                )
            )
        from collector_tui import bootstrap

        encrypted = bootstrap.encrypted_file(target)
        key = None
        if encrypted is not None:
            key = db.DatabaseKey()
            if unlock:
                key.set(self._unwrap_key(encrypted))
        store = bootstrap.open_store(target, key=key)
        self.opened.append(store)
        if store.locked:
            self._store = store
            return store
        if must_exist:
            current = db.current_revision(store)
            if current is None:
                raise CliError(
                    _("the database at {where} is not initialised: run `{prog} init` first").format(
                        where=self.shown_target(), prog=PROG
                    )
                )
            if current != db.head_revision(store):
                raise CliError(
                    _(
                        "the database at {where} has schema {current}, this program needs "
                        "{head}: run `{prog} init` to upgrade it"
                    ).format(
                        where=self.shown_target(),
                        current=current,
                        head=db.head_revision(store),
                        prog=PROG,
                    )
                )
        self._store = store
        return store

    def open_later(self) -> Callable[[], Store]:
        """The app's store, as a function the app runs in a thread while its login screen paints
        (SQLAlchemy, SQLModel and the models are most of the start-up's imports). A plain SQLite
        file is checked now without them: missing, not initialised or of another schema, the
        refusal is `open`'s, before any screen. Any other target (a URL, an encrypted file, a
        file the quick look cannot read) is opened now, as `open` does."""
        if self._store is None:
            path = self._plain_file()
            if path is not None and self._check_revision(path):
                return lambda: self.open(must_exist=False, unlock=False)
        store = self.open(unlock=False)
        return lambda: store

    def _plain_file(self) -> Path | None:
        """The file of a --db given as a path (not a URL) to an unencrypted SQLite file; a
        missing file is refused as `open` refuses it."""
        from collector_tui import vault

        target = self.target()
        if "://" in target:
            return None
        path = Path(target).expanduser().resolve()
        if not path.exists():
            raise CliError(
                _("no database at {path}: run `{prog} init` first").format(path=path, prog=PROG)
            )
        return None if vault.is_encrypted(path) else path

    def _check_revision(self, path: Path) -> bool:
        """Refuse a file whose schema is not this program's, read with sqlite3 alone; False when
        the quick look cannot tell (an unreadable file, several heads): `open` then decides, and
        says what is wrong as it always has."""
        import sqlite3
        from contextlib import closing

        from collector_tui.schema import SCHEMA_HEAD

        try:
            with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
                found = connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                ).fetchone()
                versions = (
                    connection.execute("SELECT version_num FROM alembic_version").fetchall()
                    if found
                    else []
                )
        except sqlite3.Error:
            return False
        if len(versions) > 1:
            return False
        if not versions:
            raise CliError(
                _("the database at {where} is not initialised: run `{prog} init` first").format(
                    where=self.shown_target(), prog=PROG
                )
            )
        current = versions[0][0]
        if current != SCHEMA_HEAD:
            raise CliError(
                _(
                    "the database at {where} has schema {current}, this program needs "
                    "{head}: run `{prog} init` to upgrade it"
                ).format(where=self.shown_target(), current=current, head=SCHEMA_HEAD, prog=PROG)
            )
        return True

    def _unwrap_key(self, database: Path) -> bytes:
        from collector_tui import vault

        name = self.username()
        if not name:
            raise CliError(
                _("{file} is encrypted: give --user NAME to open it").format(file=database.name)
            )
        password = self.given_password_or_ask()
        try:
            key = vault.unlock(database, name, password)
        except vault.VaultError as error:  # WrongPassword says what a failed login says
            raise CliError(str(error)) from None
        self._password = password
        return key

    def run(self, service: Callable[..., Result], /, **arguments: Any) -> Result:
        """Run a declared service in one unit of work on this run's store, through
        `services.context.Context.run`: `now` from --now, the settings and the acting user where
        the service takes them. The user is logged in (and the settings read) only when the
        service takes them and the handler did not give them."""
        from collector_tui.config import Settings
        from collector_tui.services.context import Context as Services
        from collector_tui.services.context import takes

        store = self.open()
        if self._actor is None and "actor" not in arguments and takes(service, "actor"):
            self.actor()
        wants_settings = "settings" not in arguments and takes(service, "settings")
        settings = self.load_settings() if wants_settings else (self.settings or Settings())
        services = Services(store=store, clock=self.clock, settings=settings, actor=self._actor)
        return services.run(service, **arguments)

    def username(self) -> str | None:
        return self.option("user") or os.environ.get("COLLECTOR_USER") or None

    def actor(self) -> Actor:
        """Log the acting user in (password from $COLLECTOR_PASSWORD or a prompt)."""
        if self._actor is not None:
            return self._actor
        name = self.username()
        if not name:
            raise CliError(
                _("this command acts as a user: give --user NAME (or set COLLECTOR_USER)")
            )
        self.open()
        password = self.given_password_or_ask()
        from collector_tui.services import accounts

        self._actor = self.run(accounts.authenticate, username=name, password=password)
        self._password = password
        if self.option("lang") is None and self._actor.language:
            # The user's own language, unless --lang asked for another for this run.
            i18n.set_language(self._actor.language)
        return self._actor

    def use_login(self, username: str, password: str) -> None:
        """Act as this user with this password (the admin `init` just made)."""
        self.args.user = username
        self._password = password
        self._actor = None

    def given_password_or_ask(self) -> str:
        """The acting user's password: the one already given in this run, else asked."""
        name = self.username()
        return self._password or self.password(
            "COLLECTOR_PASSWORD", _("password for {name}: ").format(name=name)
        )

    def given_password(self) -> str:
        """The password the acting user logged in with (to wrap an encrypted file's key)."""
        if self._password is None:
            raise CliError(_("log in first"))
        return self._password

    def password(self, variable: str, prompt: str, *, confirm: bool = False) -> str:
        """A password from the environment `variable`, else asked on the terminal."""
        value = os.environ.get(variable)
        if value:
            return value
        if not interactive(self.stdin):
            raise CliError(
                _("no password: set {variable} or run from a terminal to be asked").format(
                    variable=variable
                )
            )
        import getpass

        first = getpass.getpass(prompt)
        if confirm and getpass.getpass(_("again: ")) != first:
            raise CliError(_("the two passwords differ"))
        return first

    def close(self) -> None:
        for store in self.opened:
            store.dispose()
        self.opened.clear()
        self._store = None

    # -- printing ------------------------------------------------------------------------------

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def json(self, value: Any) -> None:
        """Every command's JSON output: controls and bidi characters escaped (display.json_text)."""
        print(json_text(value), file=self.out)


# A command's handler: runs with the context, returns the exit status or raises for a refusal.
Handler = Callable[[Context], int]
