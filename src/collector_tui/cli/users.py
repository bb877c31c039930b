"""The database and its users.

    collector-tui init [--admin NAME]                     create or upgrade; the first admin
    collector-tui user add NAME --role ROLE [--tz ZONE] [--name DISPLAY] [--json]   (admins)
    collector-tui user limit NAME PERCENT                 an agent's settlement limit (supervisors)

The first admin's password comes from $COLLECTOR_PASSWORD (or a prompt, twice), a new user's from
$COLLECTOR_NEW_PASSWORD (or a prompt, twice).
"""

from __future__ import annotations

import argparse

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import PROG, show
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

    users = commands.group(
        "user",
        help="manage users",
        description="manage users",
        dest="user_command",
        without_action="user: say what to do, e.g. `user add NAME --role agent`",
    )
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
    from collector_tui import db
    from collector_tui.services import accounts

    store = ctx.open(must_exist=False)
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
