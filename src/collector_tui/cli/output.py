"""What the command line prints: JSON, CSV and text tables on stdout, stored text and money made
fit for one terminal line, and the one-line error on stderr with the exit status it goes with.

    exit 0  done
    exit 1  bad input or a refusal (CliError, ServiceError, BadValue, files, the database)
    exit 2  a mistake in the command line itself (UsageError)

Heavy modules (Rich, the money and display helpers) are imported inside the functions: this module
is loaded before the arguments are even read, and `--help` must answer at once.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collector_tui.services.reporting.tables import ReportTable

__all__ = [
    "PROG",
    "BadValue",
    "CliError",
    "UsageError",
    "database_message",
    "day_text",
    "decimal",
    "error",
    "iso_utc",
    "json_text",
    "local",
    "cell_len",
    "money",
    "align_right",
    "pad",
    "print_table",
    "show",
    "silence_stdout",
    "text_table",
]

PROG = "collector-tui"


class UsageError(Exception):
    """A mistake in the command line itself: exit status 2."""


class CliError(Exception):
    """A refusal the command line makes itself (no password, no database): exit status 1."""


class BadValue(Exception):
    """An option value that is bad input rather than a misuse of the command line (a date that
    cannot be read or lies outside the accepted range): exit status 1 like any bad input. Not a
    ValueError, so argparse lets it through instead of turning it into a usage message."""


# --- text for one terminal line ------------------------------------------------------------------


def show(text: str | None) -> str:
    """Stored text as one safe terminal line: escape sequences and bidi tricks made visible."""
    from collector_tui.display import printable

    return printable(text)


def pad(text: str, width: int, *, cut: bool = True) -> str:
    """`text` shown safely, cut or padded to exactly `width` terminal cells; with `cut=False`
    only padded (like `f"{text:<{width}}"`, a longer text takes the room it needs)."""
    from rich.cells import cell_len

    from collector_tui.display import cut as cut_to

    shown = cut_to(show(text), width) if cut else show(text)
    return shown + " " * max(0, width - cell_len(shown))


def align_right(text: str, width: int) -> str:
    """`text` shown safely and right-aligned in `width` terminal cells: `pad`'s twin for numbers
    and amounts. Never cut: like `f"{text:>{width}}"`, a longer text takes the room it needs (a
    count or an amount cut short would read as another figure)."""
    from rich.cells import cell_len

    shown = show(text)
    return " " * max(0, width - cell_len(shown)) + shown


def cell_len(text: str) -> int:
    """The terminal cells `text` takes (a Chinese character takes two)."""
    from rich.cells import cell_len as measure

    return measure(text)


def money(amount: int, currency: str) -> str:
    """ "1,234.50 CNY"; an amount the currency cannot hold is printed as it is stored."""
    from collector_tui.money import Money, MoneyError, format_plain

    try:
        return format_plain(Money(amount, currency))
    except (MoneyError, TypeError):
        from collector_tui.i18n import gettext as _

        return _("{amount} {currency} (minor units)").format(amount=amount, currency=currency)


def decimal(amount: int, currency: str) -> str:
    """ "1234.50": JSON's and CSV's money, a decimal string without grouping."""
    from collector_tui.money import Money, MoneyError

    try:
        return Money(amount, currency).decimal_string()
    except (MoneyError, TypeError):
        return str(amount)


def local(instant: datetime | None, zone: str) -> str:
    """ "2026-11-20 17:30" in the user's time zone (UTC when the zone is unknown); "" for None."""
    if instant is None:
        return ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    from collector_tui.i18n import format_day_time

    return format_day_time(instant.astimezone(tz))


def iso_utc(instant: datetime | None) -> str | None:
    """An instant for JSON: ISO 8601 in UTC, or None."""
    return instant.astimezone(UTC).isoformat() if instant is not None else None


def day_text(day: date | None) -> str | None:
    """A date for JSON: ISO 8601, or None."""
    return day.isoformat() if day is not None else None


# --- JSON, CSV and tables ----------------------------------------------------------------------


def json_text(value: Any) -> str:
    """Every command's JSON: controls and bidi characters escaped (display.json_text)."""
    from collector_tui.display import json_text as write

    return write(value)


def text_table(table: ReportTable) -> list[str]:
    """A report as aligned lines: its title, a blank line, the header, a rule and the rows."""
    from rich.cells import cell_len

    shown = [tuple(show(cell) for cell in row) for row in table.rows]
    from collector_tui.services.reporting.tables import column_label

    # The header in the reader's language; CSV and JSON keep the column names.
    headers = [show(column_label(name)) for name in table.columns]
    widths = [
        max([cell_len(header), *(cell_len(row[i]) for row in shown)])
        for i, header in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for name, cell, width in zip(table.columns, cells, widths, strict=True):
            space = " " * (width - cell_len(cell))
            parts.append(space + cell if name in table.numeric else cell + space)
        return "  ".join(parts).rstrip()

    lines = [show(table.title), "", line(headers), line(["-" * w for w in widths])]
    lines.extend(line(row) for row in shown)
    if not shown:
        from collector_tui.i18n import gettext as _

        lines.append(_("(nothing to report)"))
    return lines


def print_table(table: ReportTable, out: TextIO, *, as_json: bool, as_csv: bool) -> None:
    """A report on `out`: a JSON list of objects, CSV with a header, or the aligned text."""
    if as_json:
        print(json_text(list(table.json_rows)), file=out)
    elif as_csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows(table.csv_rows)
    else:
        for text in text_table(table):
            print(text, file=out)


# --- errors --------------------------------------------------------------------------------------


def error(stream: TextIO, message: str) -> None:
    """`collector-tui: error: ...` as one line: database URLs masked, controls made visible."""
    from collector_tui.i18n import gettext as _
    from collector_tui.services.sync.locations import scrub

    line = " ".join(show(scrub(message)).replace("\u2424", " ").split())
    print(_("{prog}: error: {message}").format(prog=PROG, message=line), file=stream)


def database_message(failure: Exception) -> str | None:
    """A sentence for the database errors a user can meet; None for anything else."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from collector_tui.i18n import gettext as _

    if type(failure).__name__ == "CommandError":  # Alembic: e.g. a schema newer than this program
        return _("cannot migrate the database: {detail}").format(detail=failure)
    if not isinstance(failure, DBAPIError):
        return None
    detail = str(failure.orig if failure.orig is not None else failure).strip().splitlines()
    text = detail[0] if detail else type(failure).__name__
    lowered = text.lower()
    if isinstance(failure, OperationalError):
        if "locked" in lowered or "busy" in lowered:
            return _("the database is busy (another program is writing to it); try again")
        if "no such table" in lowered or "no such column" in lowered:
            return _(
                "the database is not initialised or is out of date: run `{prog} init` ({detail})"
            ).format(prog=PROG, detail=text)
        if "unable to open" in lowered:
            return _("cannot open the database file ({detail})").format(detail=text)
    return _("database error: {detail}").format(detail=text)


def silence_stdout() -> None:
    """After a broken pipe: Python would complain again when it flushes stdout at exit, so point
    stdout at /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
