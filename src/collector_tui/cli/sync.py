"""`sync` and `packet` for the command line: offline laptops and their master.

    collector-tui --db LAPTOP --user NAME sync pull --from MASTER   (the first pull creates LAPTOP)
    collector-tui --db LAPTOP --user NAME sync push [--to MASTER]
    collector-tui --db LAPTOP --user NAME sync status
    collector-tui --db MASTER --user NAME packet export --agent AGENT FILE   (a briefcase)
    collector-tui --db LAPTOP --user NAME packet export FILE                 (the outbox)
    collector-tui --db DB --user NAME packet apply FILE                      (either kind)

MASTER is a file path or a database URL; without --from/--to, the master the laptop was pulled
from (then the `master` setting) is used. The laptop keeps its master without the password
(`***` in its place): that comes from the URL as typed, COLLECTOR_MASTER_PASSWORD or a prompt.
The user's password is checked on the master for pull and push (the laptop has the same hash),
against the packet's own credentials for a briefcase packet applied to a new laptop, and on the
database for the rest. What a laptop sends is signed with its device key and applied as the
device's user (services/sync/devices.py). Every refusal is one line on stderr with exit status 1;
`sync push` also exits 1 when some changes could not be applied and stay in the outbox for the
next push.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, show
from collector_tui.i18n import gettext as _
from collector_tui.labels import PACKET_KINDS, word
from collector_tui.services.errors import InvalidInput

if TYPE_CHECKING:
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor
    from collector_tui.services.sync.briefcase import PullResult
    from collector_tui.services.sync.engine import PushResult

__all__ = ["register"]

NOTES_SHOWN = 20


def register(commands: Commands) -> None:
    """`sync` (pull, push, status, rejected, reviewed) and `packet` (export, apply)."""
    actions = commands.group(
        "sync",
        help=_("exchange changes between this laptop and the master"),
        description=_(
            "pull the briefcase from the master, push the laptop's changes, or show "
            "where the laptop stands"
        ),
        dest="sync_command",
        without_action=_("sync: say what to do, e.g. `sync pull --from MASTER`"),
    )
    pull = actions.add(
        "pull",
        _cmd_pull,
        help=_("bring your briefcase from the master (creates the laptop database the first time)"),
        description=_(
            "bring your briefcase from the master: your cases with their history; "
            "cases moved away become read-only, and are dropped once their changes are pushed"
        ),
    )
    pull.add_argument("--from", dest="master", metavar="MASTER", help=_("master path or URL"))
    pull.add_argument(
        "--plain",
        action="store_true",
        help=_("make a new laptop file unencrypted (default: encrypted with your password)"),
    )
    pull.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    push = actions.add(
        "push",
        _cmd_push,
        help=_("send the laptop's changes to the master"),
        description=_(
            "send the changes waiting in the laptop's outbox to the master; each is "
            "answered accepted, conflict or rejected"
        ),
    )
    push.add_argument("--to", dest="master", metavar="MASTER", help=_("master path or URL"))
    push.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    status = actions.add("status", _cmd_status, help=_("the laptop's master, outbox and briefcase"))
    status.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    rejected = actions.add(
        "rejected",
        _cmd_rejected,
        help=_("on the master: the laptops' changes it refused, for review (supervisors)"),
        description=_(
            "list the operations the master refused, with who sent them, the reason and "
            "what they carried; reviewed ones only with --all"
        ),
    )
    rejected.add_argument("--all", action="store_true", help=_("include the reviewed ones"))
    rejected.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    reviewed = actions.add(
        "reviewed",
        _cmd_reviewed,
        help=_("on the master: mark a refused change reviewed (supervisors)"),
    )
    reviewed.add_argument(
        "op_id", metavar="OP_ID", help=_("the operation's id (from `sync rejected`)")
    )
    reviewed.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    packets = commands.group(
        "packet",
        help=_("carry a briefcase or an outbox as a file (no network)"),
        description=_(
            "write or apply packet files: a briefcase from the master to a laptop, an "
            "outbox from a laptop to the master"
        ),
        dest="packet_command",
        without_action=_("packet: say what to do, e.g. `packet apply FILE`"),
    )
    export = packets.add(
        "export",
        _cmd_packet_export,
        help=_("on the master: an agent's briefcase (--agent); on a laptop: its outbox"),
        description=_(
            "on the master, write AGENT's briefcase to FILE; on a laptop, write the "
            "changes waiting in its outbox to FILE"
        ),
    )
    export.add_argument("--agent", metavar="NAME", help=_("whose briefcase (on the master)"))
    export.add_argument("file", metavar="FILE", type=Path)
    export.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    apply = packets.add(
        "apply",
        _cmd_packet_apply,
        help=_("apply a packet: a briefcase on a laptop (created if new), an outbox on the master"),
    )
    apply.add_argument("file", metavar="FILE", type=Path)
    apply.add_argument("--json", action="store_true", help=_("print the result as JSON"))


# --- helpers ------------------------------------------------------------------------------------


def _is_file(target: str) -> tuple[bool, str | None]:
    from sqlalchemy.engine import make_url

    from collector_tui.db import database_url

    url = make_url(database_url(target))
    if url.get_backend_name() != "sqlite":
        return False, None
    return True, url.database


def _shown(target: str) -> str:
    from collector_tui.services.sync import locations

    return locations.shown(target)


def _open_master(ctx: Context, target: str) -> Store:
    """The master, its password (never stored on the laptop) from the URL as typed, then
    COLLECTOR_MASTER_PASSWORD, then a prompt on a terminal."""
    from collector_tui.services.sync import locations

    is_file, path = _is_file(target)
    if is_file and (not path or path == ":memory:" or not Path(path).exists()):
        raise CliError(_("no master database at {path}").format(path=path or target))

    def ask() -> str:
        return ctx.password(
            locations.PASSWORD_VARIABLE, f"password for the master {locations.masked(target)}: "
        )

    from collector_tui import bootstrap

    store = bootstrap.open_store(locations.with_password(target, ask=ask))
    ctx.opened.append(store)
    return store


def _laptop_target(ctx: Context) -> str:
    target = ctx.target()
    is_file, path = _is_file(target)
    if not is_file or not path or path == ":memory:":
        raise CliError(_("a laptop is a SQLite file: give --db PATH"))
    return target


def _master_target(ctx: Context, given: str | None, stored: str | None) -> str:
    target = given or stored or ctx.load_settings().master
    if not target:
        raise CliError(_("say where the master is: --from MASTER (or --to for a push)"))
    return str(target)


def _login(ctx: Context, store: Store) -> Actor:
    from collector_tui.config import Settings
    from collector_tui.services import accounts
    from collector_tui.services.context import Context as Services

    name = ctx.username()
    if not name:
        raise CliError(_("this command acts as a user: give --user NAME (or set COLLECTOR_USER)"))
    password = ctx.given_password_or_ask()
    # On `store` (the master for a pull), not the run's own store: a context of its own.
    on_store = Services(store=store, clock=ctx.clock, settings=ctx.settings or Settings())
    actor = on_store.run(accounts.authenticate, username=name, password=password)
    ctx.use_login(name, password)
    return actor


def _pull_json(result: PullResult) -> dict[str, Any]:
    return {
        "created": result.created,
        "cases": result.cases,
        "refreshed": result.refreshed,
        "kept_local": result.kept_local,
        "read_only": result.read_only,
        "dropped": result.purged,
        "context_cases": result.context_cases,
        "answers": result.answers,
    }


def _pull_line(result: PullResult, source: str, laptop: str) -> str:
    made = "created the laptop and " if result.created else ""
    return (
        f"{made}pulled {result.cases} case(s) from {source} into {laptop}: "
        f"{result.refreshed} refreshed, {result.kept_local} kept as they are (changes not yet "
        f"pushed), {result.read_only} read-only, {result.purged} dropped, "
        f"{result.answers} answer(s) recorded"
    )


def _push_json(result: PushResult) -> dict[str, Any]:
    return {
        "sent": result.sent,
        "accepted": result.accepted,
        "conflict": result.conflict,
        "rejected": result.rejected,
        "errors": result.errors,
        "reviews": result.reviews,
        "notes": list(result.notes),
    }


def _print_push(ctx: Context, result: PushResult, target: str) -> int:
    if ctx.args.json:
        ctx.json(_push_json(result))
    else:
        ctx.print(
            f"sent {result.sent} change(s) to {target}: {result.accepted} accepted, "
            f"{result.conflict} conflict, {result.rejected} rejected"
            + (f", {result.reviews} review task(s) raised" if result.reviews else "")
        )
        for note in result.notes[:NOTES_SHOWN]:
            ctx.print(f"  {show(note)}")
        if len(result.notes) > NOTES_SHOWN:
            ctx.print(_("  ... and {count} more").format(count=len(result.notes) - NOTES_SHOWN))
    if result.errors:
        first = next((n for n in result.notes if n.startswith("error")), "")
        raise CliError(
            _(
                "{count} change(s) could not be applied and stay in the outbox for the next "
                "push ({first})"
            ).format(count=result.errors, first=first)
        )
    return 0


# --- commands -----------------------------------------------------------------------------------


def _cmd_pull(ctx: Context) -> int:
    from collector_tui import bootstrap
    from collector_tui.services.sync import engine

    laptop_target = _laptop_target(ctx)
    _, laptop_path = _is_file(laptop_target)
    stored = None
    existing = None
    if laptop_path and Path(laptop_path).exists():
        existing = ctx.open(must_exist=False)  # an encrypted laptop opens with your password
        info = engine.laptop_info(existing)
        stored = info.master if info is not None else None
    master_target = _master_target(ctx, ctx.args.master, stored)
    master = _open_master(ctx, master_target)
    actor = _login(ctx, master)
    if existing is None and laptop_path and not ctx.args.plain:
        _new_encrypted_laptop(ctx, master, Path(laptop_path), actor.username)
        existing = ctx.open(must_exist=False)
    laptop = existing or bootstrap.open_store(laptop_target)
    ctx.opened.append(laptop)
    result = engine.pull(
        master=master,
        laptop=laptop,
        actor=actor,
        now=ctx.now(),
        settings=ctx.load_settings(),
        master_location=master_target,
    )
    if ctx.args.json:
        ctx.json(_pull_json(result))
    else:
        ctx.print(_pull_line(result, _shown(master_target), _shown(laptop_target)))
    return 0


def _new_encrypted_laptop(ctx: Context, master: Store, path: Path, username: str) -> None:
    """The first pull makes the laptop file encrypted: it opens with the agent's password and,
    when the master has one, the team's recovery key."""
    from collector_tui import cipherfile, vault
    from collector_tui.config import Settings
    from collector_tui.services.context import Context as Services
    from collector_tui.services.sync import devices

    on_master = Services(store=master, clock=ctx.clock, settings=ctx.settings or Settings())
    public = on_master.run(devices.recovery_key)
    recovery = vault.recovery_public(public) if public else None
    key = vault.new_database_key()
    cipherfile.create_encrypted(
        path, key, vault.new_keys(key, {username: ctx.given_password()}, recovery)
    )


def _cmd_push(ctx: Context) -> int:
    from collector_tui.services.sync import engine

    laptop = ctx.open()
    info = engine.laptop_info(laptop)
    if info is None or not info.is_laptop:
        raise InvalidInput(
            _("this database is not a laptop: make one with `sync pull --from MASTER`")
        )
    master_target = _master_target(ctx, ctx.args.master, info.master)
    master = _open_master(ctx, master_target)
    actor = _login(ctx, master)
    result = engine.push(
        laptop=laptop, master=master, actor=actor, now=ctx.now(), settings=ctx.load_settings()
    )
    return _print_push(ctx, result, _shown(master_target))


def _cmd_status(ctx: Context) -> int:
    from collector_tui.services.sync import engine

    laptop = ctx.open()
    ctx.actor()
    state = engine.status(laptop=laptop)
    info, outbox = state.info, state.outbox
    values = {
        "device_id": str(info.device_id),
        "master": info.master,
        "last_pull_at": info.last_pull_at.isoformat() if info.last_pull_at else None,
        "last_push_at": info.last_push_at.isoformat() if info.last_push_at else None,
        "pending": outbox.pending,
        "conflict": outbox.conflict,
        "rejected": outbox.rejected,
        "active_cases": outbox.active_cases,
        "read_only_cases": outbox.read_only_cases,
    }
    if ctx.args.json:
        ctx.json(
            {
                **values,
                "answers": [
                    {
                        "entity": a.entity,
                        "kind": a.kind,
                        "outcome": a.outcome,
                        "message": a.message,
                    }
                    for a in state.answers
                ],
            }
        )
        return 0
    for key, value in values.items():
        ctx.print(f"{key.replace('_', ' ')}: {show(str(value) if value is not None else '-')}")
    for answer in state.answers:
        ctx.print(f"  {answer.outcome}: {answer.kind} {answer.entity}: {show(answer.message)}")
    return 0


def _cmd_rejected(ctx: Context) -> int:
    from collector_tui.services.sync import review

    ctx.open()
    ctx.actor()
    found = ctx.run(review.rejected_ops, include_reviewed=ctx.args.all)
    if ctx.args.json:
        ctx.json(
            [
                {
                    "op_id": str(op.op_id),
                    "device_id": str(op.device_id),
                    "user": op.user,
                    "kind": op.kind,
                    "entity": op.entity,
                    "entity_id": op.entity_id,
                    "case_id": str(op.case_id) if op.case_id else None,
                    "reason": op.reason,
                    "applied_at": op.applied_at.isoformat(),
                    "reviewed_at": op.reviewed_at.isoformat() if op.reviewed_at else None,
                    "operation": op.payload,
                }
                for op in found
            ]
        )
        return 0
    if not found:
        ctx.print(_("no refused changes waiting for review"))
    for op in found:
        done = f" (reviewed {op.reviewed_at:%Y-%m-%d})" if op.reviewed_at else ""
        ctx.print(
            f"{op.op_id}  {op.applied_at:%Y-%m-%d %H:%M}  {show(op.user or '-')}  "
            f"{op.kind} {op.entity}: {show(op.reason)}{done}"
        )
    return 0


def _cmd_reviewed(ctx: Context) -> int:
    import uuid

    from collector_tui.services.sync import review

    try:
        op_id = uuid.UUID(ctx.args.op_id)
    except ValueError:
        raise InvalidInput(_("OP_ID is an operation id, as `sync rejected` prints it")) from None
    ctx.open()
    ctx.actor()
    ctx.run(review.mark_reviewed, op_id=op_id)
    if ctx.args.json:
        ctx.json({"op_id": str(op_id), "reviewed": True})
    else:
        ctx.print(_("{op_id} reviewed").format(op_id=op_id))
    return 0


def _cmd_packet_export(ctx: Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.errors import Forbidden
    from collector_tui.services.sync import engine

    store = ctx.open()
    info = engine.laptop_info(store)
    actor = ctx.actor()
    now = ctx.now()
    if info is not None and info.is_laptop:
        if ctx.args.agent:
            raise InvalidInput(_("on a laptop, packet export writes its outbox: drop --agent"))
        written = engine.export_outbox_packet(laptop=store, path=ctx.args.file, now=now)
        what = _("{count} change(s)").format(count=written.cases)
    else:
        if not ctx.args.agent:
            raise InvalidInput(_("on the master, say whose briefcase: --agent NAME"))
        agent = ctx.run(accounts.get_actor, username=ctx.args.agent)
        if agent.user_id != actor.user_id and not actor.is_supervisor:
            raise Forbidden(_("only a supervisor can export another agent's briefcase"))
        written = engine.export_briefcase_packet(
            master=store,
            agent=agent,
            path=ctx.args.file,
            now=now,
            settings=ctx.load_settings(),
            by=actor,
        )
        what = _("{count} case(s) of {agent}").format(count=written.cases, agent=agent.username)
    if ctx.args.json:
        ctx.json(
            {
                "kind": written.kind,
                "file": str(written.path),
                "records": written.records,
                "count": written.cases,
            }  # fmt: skip
        )
    else:
        ctx.print(
            _("wrote a {kind} packet with {what} to {file}").format(
                kind=word(PACKET_KINDS, written.kind), what=what, file=written.path
            )
        )
    return 0


def _cmd_packet_apply(ctx: Context) -> int:
    from collector_tui.services.sync import engine, packet

    path: Path = ctx.args.file
    kind = packet.packet_kind(path)
    now = ctx.now()
    if kind == "briefcase":
        carried = packet.read_briefcase(path)
        name = ctx.username()
        if not name:
            raise CliError(_("this command acts as a user: give --user NAME"))
        password = ctx.password("COLLECTOR_PASSWORD", f"password for {name}: ")
        actor = engine.briefcase_login(carried, name, password)
        target = _laptop_target(ctx)
        from collector_tui import bootstrap

        laptop = bootstrap.open_store(target)
        ctx.opened.append(laptop)
        result = engine.apply_briefcase_packet(
            laptop=laptop, briefcase=carried, actor=actor, now=now
        )
        if ctx.args.json:
            ctx.json({"kind": kind, **_pull_json(result)})
        else:
            ctx.print(_pull_line(result, f"packet {path.name}", _shown(target)))
        return 0
    outbox = packet.read_outbox(path)
    master = ctx.open()
    actor = ctx.actor()
    pushed = engine.apply_outbox_packet(
        master=master, outbox=outbox, actor=actor, now=now, settings=ctx.load_settings()
    )
    return _print_push(ctx, pushed, ctx.shown_target())
