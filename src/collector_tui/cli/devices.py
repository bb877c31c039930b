"""`device` for the command line: the laptops registered on the master (supervisors and admins).

    collector-tui --db MASTER --user NAME device list [--agent NAME] [--json]
    collector-tui --db MASTER --user NAME device revoke DEVICE_ID [--reason TEXT] [--json]

A laptop's device is registered at its first `sync pull` (or when its briefcase packet is
exported); `device revoke` makes the master refuse everything it sends from then on (pushes,
outbox packets and pulls), audited. Refusals are one line on stderr, exit status 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import local, pad, show
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.services.sync.devices import Device

__all__ = ["register"]


def register(commands: Commands) -> None:
    actions = commands.group(
        "device",
        help=_("the laptops registered on the master: list, revoke (supervisors)"),
        description=_(
            "list the laptops' devices registered on the master, or revoke one so "
            "that nothing it sends is taken any more"
        ),
        dest="device_command",
        without_action=_("device: say what to do, e.g. `device list`"),
    )
    listing = actions.add(
        "list",
        _cmd_list,
        help=_("every laptop's device: user, label, registered, last seen, revoked"),
    )
    # `--user` is the acting user (a global option), so the filter is named as in `queue`.
    listing.add_argument("--agent", metavar="NAME", help=_("only this user's devices"))
    listing.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    revoke = actions.add(
        "revoke",
        _cmd_revoke,
        help=_("refuse everything a laptop sends from now on (audited)"),
    )
    revoke.add_argument("device", metavar="DEVICE_ID", help=_("the id (or its first 8 characters)"))
    revoke.add_argument("--reason", metavar="TEXT", help=_("why (kept in the audit trail)"))
    revoke.add_argument("--json", action="store_true", help=_("print the result as JSON"))


def _json(device: Device) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": str(device.id),
        "user": device.username,
        "label": device.label,
        "registered_at": iso(device.registered_at),
        "last_seen_at": iso(device.last_seen_at),
        "revoked_at": iso(device.revoked_at),
        "revoked_by": device.revoked_by,
    }


def _cmd_list(ctx: Context) -> int:
    from collector_tui.services.sync import devices

    ctx.open()
    actor = ctx.actor()
    found = ctx.run(devices.list_devices, username=ctx.args.agent)
    if ctx.args.json:
        ctx.json([_json(device) for device in found])
        return 0
    if not found:
        ctx.print(_("no devices registered"))
        return 0
    zone = actor.time_zone
    ctx.print(
        f"{pad('device', 36)}  {pad('user', 12)}  {pad('label', 30)}  "
        f"{pad('registered', 16)}  {pad('last seen', 16)}  revoked"
    )
    for device in found:
        revoked = (
            f"{local(device.revoked_at, zone)} by {device.revoked_by or '?'}"
            if device.revoked_at is not None
            else "-"
        )
        line = (
            f"{device.id}  {pad(device.username, 12)}  {pad(device.label or '', 30)}  "
            f"{pad(local(device.registered_at, zone), 16)}  "
            f"{pad(local(device.last_seen_at, zone) or 'never', 16)}  {pad(revoked, 40)}"
        )
        ctx.print(line.rstrip())
    return 0


def _cmd_revoke(ctx: Context) -> int:
    from collector_tui.services.sync import devices

    ctx.open()
    ctx.actor()
    device = ctx.run(devices.revoke, device=ctx.args.device, reason=ctx.args.reason)
    if ctx.args.json:
        ctx.json(_json(device))
    else:
        ctx.print(
            f"revoked device {device.id} of {show(device.username)}: nothing it sends is "
            "taken any more"
        )
    return 0
