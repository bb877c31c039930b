"""The database and its users.

    collector-tui init [--admin NAME] [--encrypt [--recovery PUBLIC_KEY]]
                                                          create or upgrade; the first admin;
                                                          --encrypt: an encrypted SQLite file
    collector-tui user password [NAME]                    a new password (one's own; admins: any)
    collector-tui user add NAME --role ROLE [--tz ZONE] [--name DISPLAY] [--lang LANG] [--json]
                                                          (admins)
    collector-tui user set NAME --lang zh_CN|en|none      a user's language (self, or admins)
    collector-tui user limit NAME PERCENT                 an agent's settlement limit (supervisors)

After `user add` and `user set`, `--lang` is the user's language, not this run's (give the run's
before the command: `--lang en user set li --lang zh_CN`).

The first admin's password comes from $COLLECTOR_PASSWORD (or a prompt, twice), a new user's from
$COLLECTOR_NEW_PASSWORD (or a prompt, twice).
"""

from __future__ import annotations

import argparse

from collector_tui import i18n
from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import PROG, CliError, UsageError, show
from collector_tui.i18n import LANGUAGES
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import Forbidden

__all__ = ["register"]


def _percent(text: str) -> int:
    try:
        value = int(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a whole percent: {text}").format(text=repr(text))
        ) from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(_("choose 0 to 100"))
    return value


def register(commands: Commands) -> None:
    about = _("create or upgrade the database; on an empty one add the first admin")
    init = commands.add("init", _cmd_init, help=about, description=about)
    init.add_argument("--admin", metavar="NAME", help=_("name of the first admin (default: admin)"))
    init.add_argument(
        "--encrypt",
        action="store_true",
        help=_(
            "encrypt the SQLite file (SQLCipher): it opens with the admin's (or --user's) password"
        ),
    )
    init.add_argument(
        "--recovery", metavar="PUBLIC_KEY", help=_("with --encrypt: the team's recovery public key")
    )

    users = commands.group(
        "user",
        help=_("manage users"),
        description=_("manage users"),
        dest="user_command",
        without_action=_("user: say what to do, e.g. `user add NAME --role agent`"),
    )
    add = users.add(
        "add",
        _cmd_user_add,
        help=_("add a user (admins only)"),
        description=_("add a user"),
        own_lang=True,
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=("agent", "supervisor", "admin"))
    add.add_argument("--tz", metavar="ZONE", default="UTC", help=_("IANA time zone"))
    add.add_argument("--name", dest="display_name", metavar="DISPLAY", help=_("full name"))
    _user_language_option(add)
    add.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    password = users.add(
        "password",
        _cmd_user_password,
        help=_("set a new password (one's own; admins: anyone's)"),
        description=_(
            "set a new password; on an encrypted file it also opens the file from then on"
        ),
    )
    password.add_argument("name", metavar="NAME", nargs="?", help=_("whose (default: yourself)"))
    password.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    chosen = users.add(
        "set",
        _cmd_user_set,
        help=_("set a user's language (your own; admins: anyone's)"),
        description=_("set a user's language (your own; admins: anyone's)"),
        own_lang=True,
    )
    chosen.add_argument("name", metavar="NAME")
    _user_language_option(chosen, required=True)
    chosen.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    limit = users.add(
        "limit",
        _cmd_user_limit,
        help=_("set an agent's settlement limit (supervisors)"),
        description=_(
            "the discount, in percent of the balance, an agent may agree without "
            "a supervisor's approval"
        ),
    )
    limit.add_argument("name", metavar="NAME")
    limit.add_argument("percent", type=_percent, metavar="PERCENT")


def _user_language_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    # This command's --lang is the user's language (the parser was made with `own_lang`).
    parser.add_argument(
        "--lang",
        dest="user_language",
        metavar="LANG",
        required=required,
        choices=(*LANGUAGES, "none"),
        help=_("the user's language: {choices} (none: the environment's)").format(
            choices=", ".join(LANGUAGES)
        ),
    )


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
            _("--encrypt: only a SQLite file can be encrypted (PostgreSQL: the server's disk)")
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
        ctx.password(
            "COLLECTOR_PASSWORD",
            _("password for the new admin {name}: ").format(name=name),
            confirm=True,
        )
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
        print(
            _("{prog}: note: the database already has users; --admin ignored").format(prog=PROG),
            file=ctx.err,
        )
    where = ctx.shown_target()
    if before == after:
        ctx.print(
            _("database {where} is up to date (schema {schema})").format(where=where, schema=after)
        )
    else:
        ctx.print(
            _("database {where} upgraded to schema {schema}").format(where=where, schema=after)
        )
    if password is not None:
        ctx.print(_("created admin {name}").format(name=name))
    if ctx.option("encrypt"):
        if store.key is not None:
            ctx.print(_("database {where} is already encrypted").format(where=where))
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
        raise Forbidden(_("only an admin can add users"))
    args = ctx.args
    password = ctx.password(
        "COLLECTOR_NEW_PASSWORD",
        _("password for the new user {name}: ").format(name=args.name),
        confirm=True,
    )
    created = ctx.run(
        accounts.create_user,
        username=args.name,
        password=password,
        role=args.role,
        display_name=args.display_name,
        time_zone=args.tz,
        by=actor,
        language=args.user_language,
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
        ctx.print(
            _("added {role} {name} ({zone})").format(
                role=created.role, name=show(created.username), zone=created.time_zone
            )
        )
    return 0


def _cmd_user_set(ctx: Context) -> int:
    from collector_tui.services import accounts

    args = ctx.args
    ctx.actor()
    changed = ctx.run(accounts.set_user_language, username=args.name, language=args.user_language)
    if changed.user_id == ctx.actor().user_id:
        # Your own new language answers at once.
        i18n.set_language(changed.language or i18n.environment_language())
    if args.json:
        ctx.json({"username": changed.username, "language": changed.language})
    elif changed.language is None:
        ctx.print(
            _("{name} now uses the environment's language").format(name=show(changed.username))
        )
    else:
        ctx.print(
            _("{name} now uses {language}").format(
                name=show(changed.username), language=LANGUAGES[changed.language]
            )
        )
    return 0


def _cmd_user_limit(ctx: Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.casework import settlements

    args = ctx.args
    ctx.actor()
    target = ctx.run(accounts.get_actor, username=args.name)
    ctx.run(settlements.set_settlement_limit, user_id=target.user_id, limit_pct=args.percent)
    ctx.print(
        _("{name} may now agree settlements up to {percent} off").format(
            name=show(target.username), percent=f"{args.percent}%"
        )
    )
    return 0
