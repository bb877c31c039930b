"""`device` for the command line: the laptops registered on the master (supervisors and admins).

    collector-tui --db MASTER --user NAME device list [--agent NAME] [--json]
    collector-tui --db MASTER --user NAME device revoke DEVICE_ID [--reason TEXT] [--json]

A laptop's device is registered at its first `sync pull` (or when its briefcase packet is
exported); `device revoke` makes the master refuse everything it sends from then on (pushes,
outbox packets and pulls), audited. cli.py wires this in; refusals are one line (cli.main).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collector_tui.services.sync.devices import Device

__all__ = ["add_commands"]


def add_commands(subparsers: Any, *, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    devices = subparsers.add_parser(
        "device",
        parents=list(parents),
        help="the laptops registered on the master: list, revoke (supervisors)",
        description="list the laptops' devices registered on the master, or revoke one so "
        "that nothing it sends is taken any more",
    )
    devices.set_defaults(handler=_missing)
    actions = devices.add_subparsers(dest="device_command", metavar="ACTION")
    listing = actions.add_parser(
        "list",
        parents=list(parents),
        help="every laptop's device: user, label, registered, last seen, revoked",
    )
    # `--user` is the acting user (a global option), so the filter is named as in `queue`.
    listing.add_argument("--agent", metavar="NAME", help="only this user's devices")
    listing.add_argument("--json", action="store_true", help="print the result as JSON")
    listing.set_defaults(handler=_cmd_list)
    revoke = actions.add_parser(
        "revoke",
        parents=list(parents),
        help="refuse everything a laptop sends from now on (audited)",
    )
    revoke.add_argument("device", metavar="DEVICE_ID", help="the id (or its first 8 characters)")
    revoke.add_argument("--reason", metavar="TEXT", help="why (kept in the audit trail)")
    revoke.add_argument("--json", action="store_true", help="print the result as JSON")
    revoke.set_defaults(handler=_cmd_revoke)


def _missing(ctx: Any) -> int:
    from collector_tui.cli import UsageError

    raise UsageError("device: say what to do, e.g. `device list`")


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


def _cmd_list(ctx: Any) -> int:
    from collector_tui.cli import _local, _pad
    from collector_tui.services.sync import devices

    store = ctx.open()
    actor = ctx.actor()
    with store.read() as session:
        found = devices.list_devices(session=session, actor=actor, username=ctx.args.agent)
    if ctx.args.json:
        ctx.json([_json(device) for device in found])
        return 0
    if not found:
        ctx.print("no devices registered")
        return 0
    zone = actor.time_zone
    ctx.print(
        f"{_pad('device', 36)}  {_pad('user', 12)}  {_pad('label', 30)}  "
        f"{_pad('registered', 16)}  {_pad('last seen', 16)}  revoked"
    )
    for device in found:
        revoked = (
            f"{_local(device.revoked_at, zone)} by {device.revoked_by or '?'}"
            if device.revoked_at is not None
            else "-"
        )
        line = (
            f"{device.id}  {_pad(device.username, 12)}  {_pad(device.label or '', 30)}  "
            f"{_pad(_local(device.registered_at, zone), 16)}  "
            f"{_pad(_local(device.last_seen_at, zone) or 'never', 16)}  {_pad(revoked, 40)}"
        )
        ctx.print(line.rstrip())
    return 0


def _cmd_revoke(ctx: Any) -> int:
    from collector_tui.cli import _show
    from collector_tui.services.sync import devices

    store = ctx.open()
    actor = ctx.actor()
    with store.write() as session:
        device = devices.revoke(
            session=session,
            now=ctx.now(),
            actor=actor,
            device=ctx.args.device,
            reason=ctx.args.reason,
        )
    if ctx.args.json:
        ctx.json(_json(device))
    else:
        ctx.print(
            f"revoked device {device.id} of {_show(device.username)}: nothing it sends is "
            "taken any more"
        )
    return 0
