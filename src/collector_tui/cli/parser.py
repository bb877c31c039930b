"""The argparse tree: the global options, then each command group's `register`, in the order
`--help` lists them."""

from __future__ import annotations

import argparse
from typing import NoReturn

from collector_tui import __version__
from collector_tui.cli import (
    assessment,
    cases,
    charges,
    contacts,
    corrections,
    devices,
    disputes,
    encryption,
    exports,
    imports,
    reminders,
    reports,
    supervision,
    sync,
    users,
)
from collector_tui.cli.arguments import Commands, instant_value
from collector_tui.cli.output import PROG, UsageError

__all__ = ["build_parser"]

# users first (init, user), then the day's work, supervision, the laptops and the corrections.
GROUPS = (
    users,
    imports,
    cases,
    contacts,
    disputes,
    exports,
    reports,
    supervision,
    sync,
    devices,
    corrections,
    encryption,
    charges,
    reminders,
    assessment,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage dump
        raise UsageError(message)


def _global_options() -> argparse.ArgumentParser:
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
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = Commands(subparsers, [common])
    for group in GROUPS:
        group.register(commands)
    return parser
