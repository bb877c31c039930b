"""The argparse tree: the global options, then each command group's `register`, in the order
`--help` lists them."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from collector_tui import __version__, i18n
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
    strategies,
    supervision,
    sync,
    users,
)
from collector_tui.cli.arguments import Commands, instant_value
from collector_tui.cli.output import PROG, UsageError
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _

__all__ = ["asked_language", "build_parser", "language_value"]

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
    strategies,
)


def language_value(text: str) -> str:
    """The argparse type of `--lang`: a language the app speaks (i18n.LANGUAGES)."""
    found = i18n.normalize(text)
    if found is None or found not in i18n.LANGUAGES:
        raise argparse.ArgumentTypeError(
            _("unknown language {language}: use {choices}").format(
                language=repr(text), choices=", ".join(i18n.LANGUAGES)
            )
        )
    return found


# argparse's own words (its help's headings, its usage mistakes) through our catalog: argparse
# looks them up with the standard library's `gettext`, whose domain has no Chinese here. Words not
# listed stay English, as before.
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
)
argparse._ = i18n.gettext  # type: ignore[attr-defined]

# Commands whose own --lang names a user's language: `user add`, `user set`.
OWN_LANG_COMMANDS = ("add", "set")


def asked_language(arguments: Sequence[str]) -> str | None:
    """The language `--lang` asks for in `arguments`, read before they are parsed (so that the
    parser's own words are in it); None when not given or not a language the app speaks."""
    found: str | None = None
    for index, argument in enumerate(arguments):
        if argument == "--":
            break
        if argument in OWN_LANG_COMMANDS and arguments[index - 1 : index] == ["user"]:
            break  # from here on --lang is the user's language (cli/users.py), not the run's
        if argument == "--lang" and index + 1 < len(arguments):
            found = arguments[index + 1]
        elif argument.startswith("--lang="):
            found = argument.split("=", 1)[1]
    chosen = i18n.normalize(found)
    return chosen if chosen in i18n.LANGUAGES else None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage dump
        raise UsageError(message)


def _global_options(*, with_lang: bool = True) -> argparse.ArgumentParser:
    # The global options work before and after the command (`--db X queue` and `queue --db X`):
    # every subparser repeats them with SUPPRESS so a missing one never hides the other.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL|PATH",
        default=argparse.SUPPRESS,
        help=_(
            "database file or URL (default: $COLLECTOR_DB, then collector.db in the user data "
            "folder)"
        ),
    )
    common.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help=_(
            "act as this user (default: $COLLECTOR_USER); the password comes from "
            "$COLLECTOR_PASSWORD or a prompt"
        ),
    )
    common.add_argument(
        "--now",
        metavar="ISO",
        default=argparse.SUPPRESS,
        type=instant_value("--now"),
        help=_("fix the clock at this instant (training, demos, tests)"),
    )
    if not with_lang:
        return common
    common.add_argument(
        "--lang",
        metavar="LANG",
        default=argparse.SUPPRESS,
        type=language_value,
        help=_(
            "the language of the interface: zh_CN or en (default: the user's, then the "
            "environment's locale)"
        ),
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = _Parser(
        prog=PROG,
        parents=[common],
        description=_(
            "Keyboard-driven workspace for debt collection. Without a command, opens the app."
        ),
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=_(
            "open a fresh copy of the demo database (clock fixed at 2026-11-20 09:30 "
            "Shanghai unless --now is given)"
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = Commands(subparsers, [common], [_global_options(with_lang=False)])
    for group in GROUPS:
        group.register(commands)
    return parser
