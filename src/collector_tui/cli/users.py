"""The database and its users.

    collector-tui init [--admin NAME] [--encrypt [--recovery PUBLIC_KEY]]
                                                          create or upgrade; the first admin;
                                                          --encrypt: an encrypted SQLite file
    collector-tui user password [NAME]                    a new password (one's own; admins: any)
    collector-tui user add NAME --role ROLE [--tz ZONE] [--name DISPLAY] [--json]   (admins)
    collector-tui user limit NAME PERCENT                 an agent's settlement limit (supervisors)

The first admin's password comes from $COLLECTOR_PASSWORD (or a prompt, twice), a new user's from
$COLLECTOR_NEW_PASSWORD (or a prompt, twice).
"""

from __future__ import annotations

import argparse

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import PROG, CliError, UsageError, show
from collector_tui.services.errors import Forbidden

__all__ = ["register"]


def _percent(text: str) -> int:
    try:
        value = int(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole percent: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("choose 0 to 100")
    return value


def register(commands: Commands) -> None:
    about = "create or upgrade the database; on an empty one add the first admin"
    init = commands.add("init", _cmd_init, help=about, description=about)
    init.add_argument("--admin", metavar="NAME", help="name of the first admin (default: admin)")
    init.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt the SQLite file (SQLCipher): it opens with the admin's (or --user's) "
        "password",
    )
    init.add_argument(
        "--recovery", metavar="PUBLIC_KEY", help="with --encrypt: the team's recovery public key"
    )

    users = commands.group(
        "user",
        help="manage users",
        description="manage users",
        dest="user_command",
        without_action="user: say what to do, e.g. `user add NAME --role agent`",
    )
    password = users.add(
        "password",
        _cmd_user_password,
        help="set a new password (one's own; admins: anyone's)",
        description="set a new password; on an encrypted file it also opens the file from then on",
    )
    password.add_argument("name", metavar="NAME", nargs="?", help="whose (default: yourself)")
    password.add_argument("--json", action="store_true", help="print the result as JSON")
    add = users.add("add", _cmd_user_add, help="add a user (admins only)", description="add a user")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=("agent", "supervisor", "admin"))
    add.add_argument("--tz", metavar="ZONE", default="UTC", help="IANA time zone")
    add.add_argument("--name", dest="display_name", metavar="DISPLAY", help="full name")
    add.add_argument("--json", action="store_true", help="print the result as JSON")

    limit = users.add(
        "limit",
        _cmd_user_limit,
        help="set an agent's settlement limit (supervisors)",
        description="the discount, in percent of the balance, an agent may agree without "
        "a supervisor's approval",
    )
    limit.add_argument("name", metavar="NAME")
    limit.add_argument("percent", type=_percent, metavar="PERCENT")


def _cmd_init(ctx: Context) -> int:
    from collector_tui import db, vault
    from collector_tui.services import accounts

    recovery = None
    if ctx.option("recovery") is not None:
        if not ctx.option("encrypt"):
            raise UsageError("--recovery goes with --encrypt")
        try:
            recovery = vault.recovery_public(ctx.option("recovery"))
        except vault.VaultError as error:
            raise CliError(f"--recovery: {error}") from None
    store = ctx.open(must_exist=False)
    if ctx.option("encrypt") and store.file is None:
        raise CliError(
            "--encrypt: only a SQLite file can be encrypted (PostgreSQL: the server's disk)"
        )
    needs_admin = True
    if db.current_revision(store) is not None:
        try:
            needs_admin = not ctx.run(accounts.has_users)
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
        ctx.run(
            accounts.create_user, username=name, password=password, role="admin", display_name=name
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
    if ctx.option("encrypt"):
        if store.key is not None:
            ctx.print(f"database {where} is already encrypted")
            return 0
        from collector_tui import cipherfile

        if password is not None:  # the admin just made opens the file
            ctx.use_login(name, password)
        actor = ctx.actor()
        path = store.file
        assert path is not None
        ctx.close()  # the conversion needs the file to itself
        try:
            cipherfile.encrypt_for(path, actor.username, ctx.given_password(), recovery)
        except cipherfile.ConversionError as error:
            raise CliError(str(error)) from None
        ctx.print(f"encrypted {show(str(path))}: it opens with {actor.username}'s password")
    return 0


def _cmd_user_password(ctx: Context) -> int:
    from collector_tui.services import accounts

    actor = ctx.actor()
    name = ctx.args.name or actor.username
    if name != actor.username and not actor.is_admin:  # before asking for a password
        raise Forbidden("only an admin can change another user's password")
    password = ctx.password("COLLECTOR_NEW_PASSWORD", f"new password for {name}: ", confirm=True)
    store = ctx.open()
    changed = ctx.run(accounts.change_password, username=name, password=password)
    if store.key is not None and store.file is not None:
        from collector_tui import vault

        # Rewrapped, not re-encrypted: the file's key stays, the new password opens it.
        vault.allow_user(store.file, store.key.reveal(), changed.username, password)
    if ctx.args.json:
        ctx.json({"user": changed.username, "password": "changed"})
    else:
        ctx.print(f"password of {show(changed.username)} changed")
    return 0


def _cmd_user_add(ctx: Context) -> int:
    from collector_tui.services import accounts

    actor = ctx.actor()
    if not actor.is_admin:  # before asking for a password nobody will use
        raise Forbidden("only an admin can add users")
    args = ctx.args
    password = ctx.password(
        "COLLECTOR_NEW_PASSWORD", f"password for the new user {args.name}: ", confirm=True
    )
    created = ctx.run(
        accounts.create_user,
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
        ctx.print(f"added {created.role} {show(created.username)} ({created.time_zone})")
    return 0


def _cmd_user_limit(ctx: Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.casework import settlements

    args = ctx.args
    ctx.actor()
    target = ctx.run(accounts.get_actor, username=args.name)
    ctx.run(settlements.set_settlement_limit, user_id=target.user_id, limit_pct=args.percent)
    ctx.print(f"{show(target.username)} may now agree settlements up to {args.percent}% off")
    return 0
