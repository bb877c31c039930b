"""What every command group uses to declare its commands: `Commands` (one level of the command
tree, whose commands all take the global options) and the argparse types of the values that recur
(dates, instants, AMOUNT@DATE, limits).

The groups import this module, never parser.py: parser.py imports every group to build the tree,
so this is the piece they share without a cycle.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from collector_tui.cli.output import BadValue, UsageError
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.cli.context import Context, Handler

__all__ = [
    "Commands",
    "day_value",
    "instant_value",
    "limit_value",
    "missing",
    "promise_value",
]


class Commands:
    """The subcommands of one level (the root, or `user`, `import`, `sync`...): each command
    repeats the global options (--db, --user, --now), so they work before and after it."""

    def __init__(
        self,
        subparsers: Any,
        parents: Sequence[argparse.ArgumentParser],
        parents_without_lang: Sequence[argparse.ArgumentParser] | None = None,
    ) -> None:
        self.subparsers = subparsers
        self.parents = list(parents)
        # The global options but --lang, for a command that gives --lang a meaning of its own
        # (`user set NAME --lang zh_CN`: the user's language, not this run's).
        self.parents_without_lang = list(parents_without_lang or parents)
        # Groups by name: two modules may add actions to one (`contact add` in contacts.py,
        # `contact void` in corrections.py); the first to register it gives its help.
        self.groups: dict[str, Commands] = {}

    def add(
        self,
        name: str,
        handler: Handler,
        *,
        help: str,
        description: str | None = None,
        own_lang: bool = False,
    ) -> argparse.ArgumentParser:
        """A command that runs `handler`; its --help shows `description` (None: no text).
        With `own_lang` the global --lang is left out: the command declares a --lang of its own
        (the run's language is then given before the command)."""
        parser: argparse.ArgumentParser = self.subparsers.add_parser(
            name,
            parents=self.parents_without_lang if own_lang else self.parents,
            help=help,
            description=description,
        )
        parser.set_defaults(handler=handler)
        return parser

    def group(
        self,
        name: str,
        *,
        help: str,
        description: str | None = None,
        dest: str,
        metavar: str = "ACTION",
        without_action: str,
    ) -> Commands:
        """A command made of actions (`user add`, `sync pull`); given alone it is a usage error
        saying `without_action`."""
        if name in self.groups:
            return self.groups[name]
        parser = self.add(name, missing(without_action), help=help, description=description)
        actions = Commands(
            parser.add_subparsers(dest=dest, metavar=metavar),
            self.parents,
            self.parents_without_lang,
        )
        self.groups[name] = actions
        return actions


def missing(message: str) -> Handler:
    """The handler of a group given without its action: a usage error."""

    def handler(ctx: Context) -> int:
        raise UsageError(message)

    return handler


# --- argument types -------------------------------------------------------------------------


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


def promise_value(text: str) -> tuple[str, date]:
    """AMOUNT@DATE (`log --promise`, `settle`): the amount's text, read later in the case's
    currency, and the date."""
    amount, separator, when = text.rpartition("@")
    if not separator or not amount.strip():
        raise argparse.ArgumentTypeError(
            _("expected AMOUNT@DATE like 500.00@2026-12-01: {text}").format(text=repr(text))
        )
    return amount.strip(), day_value(N_("the date in AMOUNT@DATE"))(when)


def limit_value(maximum: int) -> Callable[[str], int]:
    """The argparse type of a `--limit`: a whole number from 1 to `maximum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                _("not a whole number: {text}").format(text=repr(text))
            ) from None
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(_("choose 1 to {max}").format(max=maximum))
        return value

    return parse
