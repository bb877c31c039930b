"""The argparse tree: the global options, then each command group's `register`, in the order
`--help` lists them."""

from __future__ import annotations

import argparse
import unicodedata
from collections.abc import Sequence
from typing import Any, NoReturn

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
# looks them up with the standard library's `gettext`, whose domain has no Chinese here, through
# the names `_` and `ngettext` of its module; pointing those at i18n touches argparse only (no
# global gettext is installed). Its messages for mistakes in building a parser (a programmer's,
# never a user's) are not listed and stay English.
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("expected %s argument"),
    N_("expected %s arguments"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("unexpected option string: %s"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
)


def _argparse_plural(singular: str, plural: str, count: int) -> str:
    # Each form is a message of its own above (Chinese has one form; English keeps argparse's).
    return i18n.gettext(singular if count == 1 else plural)


argparse._ = i18n.gettext  # type: ignore[attr-defined]
argparse.ngettext = _argparse_plural  # type: ignore[attr-defined]

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


class _Formatter(argparse.HelpFormatter):
    """argparse's help wrapped by terminal cells: a Chinese character takes two cells and Chinese
    has no spaces to break at, so argparse's wrapping (textwrap: len() and spaces) would run
    Chinese help past the terminal's edge and misalign the usage. Text without a wide character
    is left to argparse, so English help is what it always was."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if not _has_wide(text):
            return super()._split_lines(text, width)
        return wrap_cells(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if not _has_wide(text):
            return super()._fill_text(text, width, indent)
        lines = wrap_cells(self._whitespace_matcher.sub(" ", text).strip(), width - len(indent))
        return "\n".join(indent + line for line in lines)

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        # argparse indents the usage's next lines by len(prefix): lay it out with an ASCII
        # stand-in as wide as the prefix on screen ("用法：" is 6 cells, 3 characters).
        if prefix is None:
            prefix = _("usage: ")
        stand_in = "u" * cell_width(prefix)
        text: str = super()._format_usage(usage, actions, groups, stand_in)
        return prefix + text[len(stand_in) :]


def _wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in ("W", "F")


def _has_wide(text: str) -> bool:
    return not text.isascii() and any(_wide(character) for character in text)


def cell_width(text: str) -> int:
    """The cells `text` takes in a terminal (wide East Asian characters take two)."""
    return sum(2 if _wide(character) else 1 for character in text)


# Closing punctuation never starts a line, opening never ends one (the Chinese line-breaking
# rule); ASCII ones are in words already.
_NO_LINE_START = frozenset("，。、；：？！）」』】》〉”’…")
_NO_LINE_END = frozenset("（「『【《〈“‘")


def wrap_cells(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells, broken at spaces and between wide characters;
    a run of narrow characters (a word, an option, `$COLLECTOR_DB`) is never cut."""
    tokens: list[str] = []
    for character in text:
        if character == " ":
            tokens.append(" ")
        elif _wide(character) or not tokens or tokens[-1] == " " or _wide(tokens[-1][-1]):
            tokens.append(character)
        else:
            tokens[-1] += character
    glued: list[str] = []
    for token in tokens:
        if (
            glued
            and glued[-1] != " "
            and (token[0] in _NO_LINE_START or glued[-1][-1] in _NO_LINE_END)
        ):
            glued[-1] += token
        else:
            glued.append(token)
    lines: list[str] = []
    line, spaced = "", False
    for token in glued:
        if token == " ":
            spaced = bool(line)
            continue
        piece = f" {token}" if spaced else token
        if line and cell_width(line + piece) > width:
            lines.append(line)
            line = token
        else:
            line += piece
        spaced = False
    if line:
        lines.append(line)
    return lines


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

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
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
        help=_("show program's version number and exit"),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = Commands(subparsers, [common], [_global_options(with_lang=False)])
    for group in GROUPS:
        group.register(commands)
    return parser
