"""The command line (DESIGN.md §7): open the app, or run one command and exit.

Handlers only parse arguments, open the store, call the services in one unit of work and print.
Every refusal is one line on stderr (`collector-tui: error: ...`) with exit status 1, a usage
mistake exits with 2, and nothing is half-written: each command that changes data does it in one
transaction. Heavy modules (SQLAlchemy, the services, Textual) are imported inside the handlers so
`--help` and argument mistakes answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from collector_tui import __version__, bootstrap
from collector_tui.services.errors import Forbidden, ServiceError

if TYPE_CHECKING:
    from collector_tui.clock import Clock
    from collector_tui.config import Settings
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor
    from collector_tui.services.casework.queue import QueueEntry

PROG = "collector-tui"
REJECTS_SHOWN = 20  # bad import lines printed before "... and K more"
QUEUE_MAX = 500


class UsageError(Exception):
    """A mistake in the command line itself: exit status 2."""


class CliError(Exception):
    """A refusal the command line makes itself (no password, no database): exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage dump
        raise UsageError(message)


# --- argument types -------------------------------------------------------------------------


def _positive_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= QUEUE_MAX:
        raise argparse.ArgumentTypeError(f"choose 1 to {QUEUE_MAX}")
    return value


class BadValue(Exception):
    """An option value that is bad input rather than a misuse of the command line (a date that
    cannot be read or lies outside the accepted range): exit status 1 like any bad input. Not a
    ValueError, so argparse lets it through instead of turning it into a usage message."""


def day_value(what: str) -> Callable[[str], date]:
    """The argparse type of a date option (`--on`, `report --from`): in the accepted range."""

    def parse(text: str) -> date:
        from collector_tui.dates import parse_day

        try:
            return parse_day(text, what=what)
        except ValueError as bad:
            raise BadValue(str(bad)) from None

    return parse


def instant_value(what: str) -> Callable[[str], datetime]:
    """The argparse type of an instant option (`--now`, `--at`, `--follow-up`): in the accepted
    range, in UTC; without an offset the instant is UTC."""

    def parse(text: str) -> datetime:
        from collector_tui.dates import parse_instant

        try:
            return parse_instant(text, what=what)
        except ValueError as bad:
            raise BadValue(str(bad)) from None

    return parse


def _promise_text(text: str) -> tuple[str, date]:
    amount, separator, when = text.rpartition("@")
    if not separator or not amount.strip():
        raise argparse.ArgumentTypeError(f"expected AMOUNT@DATE like 500.00@2026-12-01: {text!r}")
    return amount.strip(), day_value("the date in AMOUNT@DATE")(when)


# --- the parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    # The global options work before and after the command (`--db X queue` and `queue --db X`):
    # every subparser repeats them with SUPPRESS so a missing one never hides the other.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL|PATH",
        default=argparse.SUPPRESS,
        help="database file or URL (default: $COLLECTOR_DB, then collector.db in the user data "
        "folder)",
    )
    common.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="act as this user (default: $COLLECTOR_USER); the password comes from "
        "$COLLECTOR_PASSWORD or a prompt",
    )
    common.add_argument(
        "--now",
        metavar="ISO",
        default=argparse.SUPPRESS,
        type=instant_value("--now"),
        help="fix the clock at this instant (training, demos, tests)",
    )

    parser = _Parser(
        prog=PROG,
        parents=[common],
        description="Keyboard-driven workspace for debt collection. Without a command, opens "
        "the app.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open a fresh copy of the demo database (clock fixed at 2026-11-20 09:30 "
        "Shanghai unless --now is given)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, handler: Callable[[_Context], int]) -> Any:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", "create or upgrade the database; on an empty one add the first admin",
                   _cmd_init)  # fmt: skip
    init.add_argument("--admin", metavar="NAME", help="name of the first admin (default: admin)")

    user = command("user", "manage users", _cmd_user_missing)
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION")
    user_add = user_commands.add_parser(
        "add", parents=[common], help="add a user (admins only)", description="add a user"
    )
    user_add.set_defaults(handler=_cmd_user_add)
    user_add.add_argument("name", metavar="NAME")
    user_add.add_argument("--role", required=True, choices=("agent", "supervisor", "admin"))
    user_add.add_argument("--tz", metavar="ZONE", default="UTC", help="IANA time zone")
    user_add.add_argument("--name", dest="display_name", metavar="DISPLAY", help="full name")
    user_add.add_argument("--json", action="store_true", help="print the result as JSON")

    imports = command("import", "import a file", _cmd_import_missing)
    import_commands = imports.add_subparsers(dest="import_command", metavar="KIND")
    import_cases = import_commands.add_parser(
        "cases",
        parents=[common],
        help="import placements from a CSV file (DESIGN.md §8)",
        description="import placements from a CSV file; one bad row rejects the whole file "
        "unless --skip-bad",
    )
    import_cases.set_defaults(handler=_cmd_import_cases)
    import_cases.add_argument("file", metavar="FILE.csv", type=Path)
    import_cases.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    import_cases.add_argument("--region", metavar="CC", help="country for numbers without +code")
    import_cases.add_argument("--client", metavar="NAME", help="client for rows without one")
    import_cases.add_argument("--currency", metavar="CODE", help="currency for rows without one")
    import_cases.add_argument("--skip-bad", action="store_true", help="import the good rows")
    import_cases.add_argument(
        "--rejects", metavar="FILE", type=Path, help="with --skip-bad: write bad rows here"
    )
    import_cases.add_argument("--assign-to", metavar="NAME", help="give the new cases to NAME")
    import_cases.add_argument(
        "--allow-zero-balance", action="store_true", help="take rows with nothing to collect"
    )
    add_file_reading_arguments(import_cases)
    import_cases.add_argument("--json", action="store_true", help="print the report as JSON")

    queue = command("queue", "print an agent's call queue", _cmd_queue)
    queue.add_argument("--agent", metavar="NAME", help="whose queue (default: yours)")
    queue.add_argument("--json", action="store_true", help="print JSON (DESIGN.md §7)")
    queue.add_argument(
        "--limit", type=_positive_limit, default=50, metavar="N", help="callable cases, 1-500"
    )
    queue.add_argument("--held", action="store_true", help="add the held cases and why")

    log = command("log", "log a contact attempt (e.g. a dialer's result)", _cmd_log)
    log.add_argument("case", metavar="CASE_REF", help="client reference, CLIENT/REF, or case id")
    log.add_argument("--disposition", required=True, metavar="CODE")
    log.add_argument("--note", metavar="TEXT")
    log.add_argument("--phone", metavar="E164", help="the number dialled")
    log.add_argument("--at", type=instant_value("--at"), metavar="ISO", help="when (default: now)")
    log.add_argument(
        "--promise", type=_promise_text, metavar="AMOUNT@DATE", help="e.g. 500.00@2026-12-01"
    )
    log.add_argument(
        "--follow-up", type=instant_value("--follow-up"), metavar="ISO", help="when to call back"
    )
    log.add_argument("--reason", metavar="TEXT", help="why to call back (with --follow-up)")
    log.add_argument("--channel", default="call", metavar="CHANNEL", help="call, sms, ...")
    log.add_argument("--inbound", action="store_true", help="the debtor called us")
    log.add_argument("--duration", type=int, metavar="SECONDS")
    log.add_argument("--json", action="store_true", help="print the result as JSON")

    payment = command("payment", "post a payment received", _cmd_payment)
    payment.add_argument("case", metavar="CASE_REF")
    payment.add_argument("amount", metavar="AMOUNT", help="in the case's currency, e.g. 1234.50")
    payment.add_argument(
        "--on", type=day_value("--on"), metavar="DATE", help="received (default: today)"
    )
    payment.add_argument("--reference", metavar="TEXT", help="bank reference (no duplicates)")
    payment.add_argument("--method", metavar="M", help="bank transfer, card, ...")
    payment.add_argument("--json", action="store_true", help="print the result as JSON")

    assign = command("assign", "give cases to a user (supervisors)", _cmd_assign)
    assign.add_argument("cases", metavar="CASE_REF", nargs="+")
    assign.add_argument("--to", required=True, metavar="NAME", help="a user, or none to unassign")
    assign.add_argument("--reason", metavar="TEXT")
    assign.add_argument("--json", action="store_true", help="print the result as JSON")

    sweep = command("sweep", "judge due promises: kept, partial or broken", _cmd_sweep)
    sweep.add_argument("--json", action="store_true", help="print the result as JSON")

    export = command(
        "export", "write cases, activities, promises or payments to a CSV file", _cmd_export
    )
    export.add_argument("what", choices=("cases", "activities", "promises", "payments"))
    export.add_argument("file", metavar="FILE.csv", type=Path)
    export.add_argument("--bom", action="store_true", help="start with a UTF-8 BOM (Excel)")
    export.add_argument("--json", action="store_true", help="print the result as JSON")

    from collector_tui import cli_report

    cli_report.add_commands(
        commands,
        parents=[common],
        import_subparsers=import_commands,
        report_handler=_cmd_report,
        import_handler=_cmd_import_payments,
    )
    # Supervisors' commands (issue #5): workload, cases, balance, route, decide, settle, approve,
    # routed, history, user limit.
    from collector_tui import cli_supervision

    cli_supervision.add_commands(commands, parents=[common], user_subparsers=user_commands)
    # Offline laptops (issue #8): sync pull/push/status, packet export/apply.
    from collector_tui import cli_sync

    cli_sync.add_commands(commands, parents=[common])
    # The laptops' devices registered on the master: device list/revoke.
    from collector_tui import cli_devices

    cli_devices.add_commands(commands, parents=[common])
    # Corrections: hold release, contact void, promise withdraw, plan cancel/reschedule, followup
    # move.
    from collector_tui import cli_corrections

    cli_corrections.add_commands(commands, parents=[common])
    return parser


# --- context: options, store, acting user ----------------------------------------------------


@dataclass
class _Context:
    args: argparse.Namespace
    out: TextIO
    err: TextIO
    stdin: TextIO
    settings: Settings | None = None
    _clock: Clock | None = None
    _store: Store | None = None
    _actor: Actor | None = None
    opened: list[Store] = field(default_factory=list)

    def option(self, name: str) -> Any:
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

    def now(self) -> datetime:
        return self.clock.now()

    def target(self) -> str:
        explicit = self.option("db")
        if explicit:
            return str(explicit)
        configured = self.load_settings().database
        if configured:
            return configured
        from collector_tui.db import default_database_path

        return str(default_database_path())

    def shown_target(self) -> str:
        from collector_tui.services.sync.locations import shown

        return shown(self.target())

    def open(self, *, must_exist: bool = True) -> Store:
        """The store; with `must_exist`, refuse a missing or uninitialised database (and never
        create an empty file by looking for one)."""
        if self._store is not None:
            return self._store
        from sqlalchemy.engine import make_url

        from collector_tui import db

        target = self.target()
        url = make_url(db.database_url(target))
        is_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        if must_exist and is_file and not Path(str(url.database)).exists():
            raise CliError(f"no database at {url.database}: run `{PROG} init` first")
        store = bootstrap.open_store(target)
        self.opened.append(store)
        if must_exist:
            current = db.current_revision(store)
            if current is None:
                raise CliError(
                    f"the database at {self.shown_target()} is not initialised: "
                    f"run `{PROG} init` first"
                )
            if current != db.head_revision(store):
                raise CliError(
                    f"the database at {self.shown_target()} has schema {current}, this program "
                    f"needs {db.head_revision(store)}: run `{PROG} init` to upgrade it"
                )
        self._store = store
        return store

    def username(self) -> str | None:
        return self.option("user") or os.environ.get("COLLECTOR_USER") or None

    def actor(self) -> Actor:
        """Log the acting user in (password from $COLLECTOR_PASSWORD or a prompt)."""
        if self._actor is not None:
            return self._actor
        name = self.username()
        if not name:
            raise CliError("this command acts as a user: give --user NAME (or set COLLECTOR_USER)")
        store = self.open()
        password = self.password("COLLECTOR_PASSWORD", f"password for {name}: ")
        from collector_tui.services import accounts

        with store.read() as session:
            self._actor = accounts.authenticate(session=session, username=name, password=password)
        return self._actor

    def password(self, variable: str, prompt: str, *, confirm: bool = False) -> str:
        value = os.environ.get(variable)
        if value:
            return value
        if not _interactive(self.stdin):
            raise CliError(f"no password: set {variable} or run from a terminal to be asked")
        import getpass

        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("again: ") != first:
            raise CliError("the two passwords differ")
        return first

    def close(self) -> None:
        for store in self.opened:
            store.dispose()
        self.opened.clear()

    # -- printing ------------------------------------------------------------------------------

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def json(self, value: Any) -> None:
        """Every command's JSON output: controls and bidi characters escaped (display.json_text)."""
        from collector_tui.display import json_text

        print(json_text(value), file=self.out)


def _interactive(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _show(text: str | None) -> str:
    """Stored text as one safe terminal line: escape sequences and bidi tricks made visible."""
    from collector_tui.display import printable

    return printable(text)


def _pad(text: str, width: int) -> str:
    from rich.cells import cell_len

    from collector_tui.display import cut

    shown = cut(_show(text), width)
    return shown + " " * (width - cell_len(shown))


def _money(amount: int, currency: str) -> str:
    from collector_tui.money import Money, MoneyError, format_plain

    try:
        return format_plain(Money(amount, currency))
    except (MoneyError, TypeError):
        return f"{amount} {currency} (minor units)"


def _decimal(amount: int, currency: str) -> str:
    from collector_tui.money import Money, MoneyError

    try:
        return Money(amount, currency).decimal_string()
    except (MoneyError, TypeError):
        return str(amount)


def _local(instant: datetime | None, zone: str) -> str:
    if instant is None:
        return ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _find_user_id(ctx: _Context, name: str) -> Any:
    from collector_tui.services import accounts

    with ctx.open().read() as session:
        return accounts.get_actor(session=session, username=name).user_id


# --- commands ------------------------------------------------------------------------------------


def _cmd_user_missing(ctx: _Context) -> int:
    raise UsageError("user: say what to do, e.g. `user add NAME --role agent`")


def add_file_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """How to read an imported file: its decimal mark and its encoding (both imports)."""
    marks = parser.add_mutually_exclusive_group()
    marks.add_argument(
        "--decimal-point",
        dest="decimal",
        action="store_const",
        const="point",
        help="amounts are written 1,234.50 (default for comma-separated files)",
    )
    marks.add_argument(
        "--decimal-comma",
        dest="decimal",
        action="store_const",
        const="comma",
        help="amounts are written 1.234,50",
    )
    parser.add_argument(
        "--encoding", metavar="NAME", help="the file's encoding when it is not UTF-8 (e.g. gbk)"
    )


def _cmd_import_missing(ctx: _Context) -> int:
    raise UsageError("import: say what to import, e.g. `import cases FILE.csv`")


def _cmd_init(ctx: _Context) -> int:
    from collector_tui import db
    from collector_tui.services import accounts

    store = ctx.open(must_exist=False)
    needs_admin = True
    if db.current_revision(store) is not None:
        try:
            with store.read() as session:
                needs_admin = not accounts.has_users(session=session)
        except Exception:  # an old schema without the users table: the upgrade will tell
            needs_admin = True
    name = ctx.option("admin") or ctx.username() or "admin"
    # Ask for the password before touching anything: no schema without its first admin.
    password = (
        ctx.password("COLLECTOR_PASSWORD", f"password for the new admin {name}: ", confirm=True)
        if needs_admin
        else None
    )
    before = db.current_revision(store)
    db.upgrade(store)
    after = db.current_revision(store)
    if password is not None:
        with store.write() as session:
            accounts.create_user(
                session=session,
                now=ctx.now(),
                username=name,
                password=password,
                role="admin",
                display_name=name,
            )
    elif ctx.option("admin"):
        print(f"{PROG}: note: the database already has users; --admin ignored", file=ctx.err)
    where = ctx.shown_target()
    if before == after:
        ctx.print(f"database {where} is up to date (schema {after})")
    else:
        ctx.print(f"database {where} upgraded to schema {after}")
    if password is not None:
        ctx.print(f"created admin {name}")
    return 0


def _cmd_user_add(ctx: _Context) -> int:
    from collector_tui.services import accounts

    actor = ctx.actor()
    if not actor.is_admin:  # before asking for a password nobody will use
        raise Forbidden("only an admin can add users")
    args = ctx.args
    password = ctx.password(
        "COLLECTOR_NEW_PASSWORD", f"password for the new user {args.name}: ", confirm=True
    )
    with ctx.open().write() as session:
        created = accounts.create_user(
            session=session,
            now=ctx.now(),
            username=args.name,
            password=password,
            role=args.role,
            display_name=args.display_name,
            time_zone=args.tz,
            by=actor,
        )
    if args.json:
        ctx.json(
            {
                "user_id": str(created.user_id),
                "username": created.username,
                "display_name": created.display_name,
                "role": created.role,
                "time_zone": created.time_zone,
            }
        )
    else:
        ctx.print(f"added {created.role} {_show(created.username)} ({created.time_zone})")
    return 0


def _report_dict(report: Any) -> dict[str, Any]:
    keys = (
        "rows",
        "cases_created",
        "cases_existing",
        "invoices",
        "phones",
        "phones_invalid",
        "dry_run",
        "encoding",
        "delimiter",
    )
    result: dict[str, Any] = {key: getattr(report, key, None) for key in keys}
    result["rejected"] = [
        {"line": error.line, "reason": error.reason} for error in getattr(report, "rejected", ())
    ]
    return result


def _cmd_import_cases(ctx: _Context) -> int:
    from collector_tui.services.imports import placement_file

    args = ctx.args
    if args.rejects is not None and not args.skip_bad:
        raise UsageError("--rejects goes with --skip-bad")
    actor = ctx.actor()
    assign_to = _find_user_id(ctx, args.assign_to) if args.assign_to else None
    try:
        report = placement_file.import_cases(
            store=ctx.open(),
            path=args.file,
            now=ctx.now(),
            settings=ctx.load_settings(),
            actor=actor,
            dry_run=args.dry_run,
            skip_bad=args.skip_bad,
            rejects_path=args.rejects,
            region=args.region,
            client=args.client,
            currency=args.currency,
            assign_to=assign_to,
            decimal=args.decimal,
            encoding=args.encoding,
            allow_zero_balance=args.allow_zero_balance,
        )
    except placement_file.ImportRejected as rejected:
        _error(ctx.err, str(rejected))
        errors = tuple(getattr(rejected.report, "rejected", ()))
        for error in errors[:REJECTS_SHOWN]:
            print(f"line {error.line}: {_show(error.reason)}", file=ctx.err)
        if len(errors) > REJECTS_SHOWN:
            print(f"... and {len(errors) - REJECTS_SHOWN} more", file=ctx.err)
        return 1
    if args.json:
        ctx.json(_report_dict(report))
        return 0
    rejected_count = len(report.rejected)
    created = "would be created" if report.dry_run else "created"
    ctx.print(
        f"{_show(str(args.file))}: {report.rows} rows, {report.cases_created} cases {created}, "
        f"{report.cases_existing} already there, {report.invoices} invoices, "
        f"{report.phones} phones ({report.phones_invalid} invalid), {rejected_count} rejected"
    )
    if report.dry_run:
        ctx.print("dry run: nothing was written")
    elif rejected_count and args.rejects is not None:
        ctx.print(f"bad rows written to {_show(str(args.rejects))}")
    return 0


def _cmd_import_payments(ctx: _Context) -> int:
    from collector_tui.cli_report import run_import_payments

    return run_import_payments(
        ctx.args,
        store=ctx.open(),
        settings=ctx.load_settings(),
        now=ctx.now(),
        actor=ctx.actor(),
        out=ctx.out,
        err=ctx.err,
    )


def _cmd_report(ctx: _Context) -> int:
    from collector_tui.cli_report import run_report

    return run_report(
        ctx.args,
        store=ctx.open(),
        settings=ctx.load_settings(),
        now=ctx.now(),
        actor=ctx.actor(),
        out=ctx.out,
    )


def _queue_line(position: str, entry: QueueEntry, zone: str) -> str:
    waiting = f" (from {_local(entry.callable_at, zone)})" if entry.callable_at else ""
    return "  ".join(
        (
            _pad(position, 4),
            _pad(entry.tier_name, 16),
            f"{entry.score:>5}",
            _pad(f"{entry.client}/{entry.client_ref}", 26),
            _pad(entry.debtor, 22),
            f"{_money(entry.balance, entry.currency):>18}",
            _pad(entry.status, 8),
            _show(entry.reason) + waiting,
        )
    )


def _cmd_queue(ctx: _Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.casework import queue

    args = ctx.args
    actor = ctx.actor()
    store = ctx.open()
    own = not args.agent or accounts.username_key(args.agent) == accounts.username_key(
        actor.username
    )
    if not actor.is_supervisor and not own:  # before the look-up: no oracle of user names
        raise Forbidden("agents see only their own queue")
    with store.read() as session:
        agent = accounts.get_actor(session=session, username=args.agent) if args.agent else actor
    with store.write() as session:  # the queue runs the promise sweep first
        page = queue.build_queue(
            session=session,
            now=ctx.now(),
            agent_id=agent.user_id,
            settings=ctx.load_settings(),
            limit=args.limit,
            include_held=args.held,
        )
    if args.json:
        entries = [queue.entry_json(entry) for entry in page.entries]
        if args.held:
            entries += [queue.entry_json(entry) for entry in page.held]
        ctx.json(entries)
        return 0
    counts = page.counts
    ctx.print(
        f"queue of {_show(agent.username)} at {_local(ctx.now(), actor.time_zone)} "
        f"({actor.time_zone}): {len(page.entries)} to call, {counts.follow_ups_due} follow-ups "
        f"due, {counts.broken_promises} broken promises, {counts.held} held"
    )
    for number, entry in enumerate(page.entries, start=1):
        ctx.print(_queue_line(str(number), entry, actor.time_zone))
    if args.held:
        ctx.print("held:")
        for entry in page.held:
            ctx.print(_queue_line("-", entry, actor.time_zone))
    return 0


def _cmd_log(ctx: _Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import activities, cases
    from collector_tui.services.casework.followups import FollowUpInput
    from collector_tui.services.casework.promises import PromiseInput

    args = ctx.args
    if args.reason is not None and args.follow_up is None:
        raise UsageError("--reason goes with --follow-up")
    actor = ctx.actor()
    settings = ctx.load_settings()
    now = ctx.now()
    with ctx.open().write() as session:
        case = cases.find_case(session=session, reference=args.case, actor=actor)
        promise = None
        if args.promise is not None:
            amount_text, due = args.promise
            amount = parse_money(amount_text, case.currency, settings.locale)
            promise = PromiseInput(amount=amount.minor, due_date=due)
        follow_up = (
            FollowUpInput(due_at=args.follow_up, reason=args.reason or "")
            if args.follow_up is not None
            else None
        )
        logged = activities.log_contact(
            session=session,
            now=now,
            actor=actor,
            case_id=case.id,
            contact=activities.ContactInput(
                disposition=args.disposition,
                channel=args.channel,
                direction="inbound" if args.inbound else "outbound",
                phone_e164=args.phone,
                note=args.note,
                duration_s=args.duration,
                occurred_at=args.at,
                promise=promise,
                follow_up=follow_up,
            ),
            settings=settings,
        )
        reference = f"{case.client}/{case.client_ref}"
        currency = case.currency
    if args.json:
        ctx.json(
            {
                "activity_id": str(logged.activity_id),
                "case_id": str(case.id),
                "client": case.client,
                "client_ref": case.client_ref,
                "case_status": logged.case_status,
                "promise_ids": [str(i) for i in logged.promise_ids],
                "plan_id": str(logged.plan_id) if logged.plan_id else None,
                "follow_up_id": str(logged.follow_up_id) if logged.follow_up_id else None,
                "hold_ids": [str(i) for i in logged.hold_ids],
            }
        )
        return 0
    parts = [f"logged {args.disposition} on {_show(reference)}; status {logged.case_status}"]
    if promise is not None:
        parts.append(
            f"promise of {_money(promise.amount, currency)} due {promise.due_date.isoformat()}"
        )
    if logged.follow_up_id is not None and follow_up is not None:
        parts.append(f"follow-up at {_local(follow_up.due_at, actor.time_zone)} {actor.time_zone}")
    if logged.hold_ids:
        parts.append("hold placed")
    ctx.print("; ".join(parts))
    return 0


def _cmd_payment(ctx: _Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import cases, payments

    args = ctx.args
    actor = ctx.actor()
    settings = ctx.load_settings()
    now = ctx.now()
    received_on = args.on or now.astimezone(UTC).date()
    with ctx.open().write() as session:
        case = cases.find_case(session=session, reference=args.case, actor=actor)
        amount = parse_money(args.amount, case.currency, settings.locale)
        posted = payments.post_payment(
            session=session,
            now=now,
            actor=actor,
            case_id=case.id,
            amount=amount.minor,
            received_on=received_on,
            settings=settings,
            method=args.method,
            reference=args.reference,
        )
        reference = f"{case.client}/{case.client_ref}"
        currency = case.currency
    if args.json:
        ctx.json(
            {
                "payment_id": str(posted.payment_id),
                "case_id": str(case.id),
                "client": case.client,
                "client_ref": case.client_ref,
                "currency": currency,
                "amount": _decimal(amount.minor, currency),
                "received_on": received_on.isoformat(),
                "balance_after": _decimal(posted.balance_after, currency),
                "case_status": posted.case_status,
                "allocations": [
                    {"promise_id": str(promise_id), "amount": _decimal(part, currency)}
                    for promise_id, part in posted.allocations
                ],
            }
        )
        return 0
    ctx.print(
        f"posted {_money(amount.minor, currency)} to {_show(reference)} on "
        f"{received_on.isoformat()}: balance {_money(posted.balance_after, currency)}, "
        f"status {posted.case_status}, {len(posted.allocations)} promise(s) paid into"
    )
    return 0


def _cmd_assign(ctx: _Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.casework import cases
    from collector_tui.services.supervision import assignment

    args = ctx.args
    actor = ctx.actor()
    with ctx.open().write() as session:
        case_ids = [
            cases.find_case(session=session, reference=reference, actor=actor).id
            for reference in args.cases
        ]
        unassign = args.to.strip().lower() == "none"
        target = None if unassign else accounts.get_actor(session=session, username=args.to)
        moved = assignment.assign_cases(
            session=session,
            now=ctx.now(),
            actor=actor,
            case_ids=case_ids,
            to_user_id=target.user_id if target else None,
            settings=ctx.load_settings(),
            reason=args.reason,
        )
    to_name = target.username if target else None
    if args.json:
        ctx.json({"moved": moved, "cases": len(set(case_ids)), "to": to_name})
    else:
        where = f"to {_show(to_name)}" if to_name else "to nobody (unassigned)"
        ctx.print(f"moved {moved} of {len(set(case_ids))} case(s) {where}")
    return 0


def _cmd_sweep(ctx: _Context) -> int:
    from collector_tui.services.casework import sweep

    actor = ctx.actor()
    now = ctx.now()
    with ctx.open().write() as session:
        # An agent's command touches only that agent's cases.
        result = sweep.sweep(
            session=session,
            now=now,
            settings=ctx.load_settings(),
            agent_id=None if actor.is_supervisor else actor.user_id,
        )
    if ctx.args.json:
        ctx.json(
            {
                "at": now.astimezone(UTC).isoformat(),
                "kept": result.kept,
                "partial": result.partial,
                "broken": result.broken,
            }
        )
    else:
        ctx.print(
            f"sweep at {_local(now, actor.time_zone)} ({actor.time_zone}): kept {result.kept}, "
            f"partial {result.partial}, broken {result.broken}"
        )
    return 0


def _cmd_export(ctx: _Context) -> int:
    from collector_tui.services.reporting import exports

    args = ctx.args
    actor = ctx.actor()
    with ctx.open().read() as session:
        count = exports.export(
            args.what, session=session, path=args.file, bom=args.bom, actor=actor
        )
    if args.json:
        ctx.json({"exported": args.what, "rows": count, "path": str(args.file)})
    else:
        ctx.print(f"wrote {count} {args.what} to {_show(str(args.file))}")
    return 0


# --- the app --------------------------------------------------------------------------------------


def _run_app(app: Any) -> int:
    """Run the Textual app in this terminal (tests replace this to inspect the app instead)."""
    if not (_interactive(sys.stdin) and _interactive(sys.stdout)):
        raise CliError("the app needs a terminal; for scripts use a command (see --help)")
    app.run()
    return int(app.return_code or 0)


def _open_app(ctx: _Context) -> int:
    from collector_tui.tui.app import make_app

    store = ctx.open()
    app = make_app(
        store=store, settings=ctx.load_settings(), clock=ctx.clock, username=ctx.username()
    )
    return _run_app(app)


def _open_demo(ctx: _Context) -> int:
    import shutil
    import tempfile

    from collector_tui.clock import FixedClock, parse_instant
    from collector_tui.demo import DEMO_NOW_TEXT, fresh_demo_copy

    if ctx.option("db"):
        raise UsageError("--demo opens its own copy of the demo database: drop --db")
    folder = Path(tempfile.mkdtemp(prefix="collector-demo-"))
    try:
        path = fresh_demo_copy(folder)
        ctx.args.db = str(path)
        if ctx.option("now") is None:
            ctx._clock = FixedClock(parse_instant(DEMO_NOW_TEXT))
        return _open_app(ctx)
    finally:
        ctx.close()
        shutil.rmtree(folder, ignore_errors=True)


# --- errors and main ----------------------------------------------------------------------------


def _error(stream: TextIO, message: str) -> None:
    from collector_tui.services.sync.locations import scrub

    line = " ".join(_show(scrub(message)).replace("\u2424", " ").split())
    print(f"{PROG}: error: {line}", file=stream)


def _database_message(error: Exception) -> str | None:
    """A sentence for the database errors a user can meet; None for anything else."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if type(error).__name__ == "CommandError":  # Alembic: e.g. a schema newer than this program
        return f"cannot migrate the database: {error}"
    if not isinstance(error, DBAPIError):
        return None
    detail = str(error.orig if error.orig is not None else error).strip().splitlines()
    text = detail[0] if detail else type(error).__name__
    lowered = text.lower()
    if isinstance(error, OperationalError):
        if "locked" in lowered or "busy" in lowered:
            return "the database is busy (another program is writing to it); try again"
        if "no such table" in lowered or "no such column" in lowered:
            return f"the database is not initialised or is out of date: run `{PROG} init` ({text})"
        if "unable to open" in lowered:
            return f"cannot open the database file ({text})"
    return f"database error: {text}"


def _silence_stdout() -> None:
    # Python would complain again when it flushes stdout at exit; point it at /dev/null.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    err = sys.stderr
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except UsageError as usage:
        _error(err, f"{usage} (see {PROG} --help)")
        return 2
    except BadValue as bad:
        _error(err, str(bad))
        return 1
    except SystemExit as done:  # --help, --version
        return int(done.code or 0)
    ctx = _Context(args=args, out=sys.stdout, err=err, stdin=sys.stdin)
    try:
        if args.demo:
            if args.command:
                raise UsageError("--demo opens the app: it takes no command")
            return _open_demo(ctx)
        handler = getattr(args, "handler", None)
        if handler is None:
            return _open_app(ctx)
        return int(handler(ctx))
    except UsageError as usage:
        _error(err, f"{usage} (see {PROG} --help)")
        return 2
    except (CliError, ServiceError) as refusal:
        _error(err, str(refusal))
        return 1
    except KeyboardInterrupt:
        _error(err, "interrupted")
        return 130
    except BrokenPipeError:  # `collector-tui queue | head`: the reader has seen enough
        _silence_stdout()
        return 141
    except OSError as failure:  # files to import or export: missing, unreadable, no space
        where = f": {failure.filename}" if failure.filename else ""
        _error(err, f"{failure.strerror or failure}{where}")
        return 1
    except ValueError as bad:  # amounts (MoneyError), config values, dates
        _error(err, str(bad))
        return 1
    except Exception as failure:
        message = _database_message(failure)
        if message is None:
            if os.environ.get("COLLECTOR_DEBUG"):
                raise
            message = f"unexpected {type(failure).__name__}: {failure} (set COLLECTOR_DEBUG=1)"
        _error(err, message)
        return 1
    finally:
        ctx.close()
