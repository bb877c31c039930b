"""`report` and `import payments` for the command line (DESIGN.md §7); cli.py wires them in.

    collector-tui report aging|promises|collections|agents|dso [--from DATE --to DATE]
                         [--period day|week] [--total] [--json|--csv]
    collector-tui import payments FILE.csv [--dry-run] [--json]

Output: an aligned text table by default; `--csv` a header and one row per line; `--json` a list
of objects (money as decimal strings such as "1234.50", dates ISO, percentages as strings such as
"66.7" or null). `report aging --json` is exactly the §7 shape: `{currency, bucket, count,
balance}`. An agent's report covers that agent's cases.

The handlers take what cli.py already has (the parsed args, store, settings, now, acting user),
print to `out` (stdout) and return the exit status; refusals are raised as ServiceError for the
command line's one-line error, except a rejected payment file, whose bad lines are all listed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collector_tui.config import Settings
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor

__all__ = [
    "REPORT_KINDS",
    "ReportTable",
    "add_commands",
    "add_import_payments_arguments",
    "add_report_arguments",
    "grouped",
    "report_table",
    "run_import_payments",
    "run_report",
]

PROG = "collector-tui"
REPORT_KINDS = ("aging", "promises", "collections", "agents", "dso")
REJECTS_SHOWN = 20  # bad lines printed before "... and K more"
_RIGHT = "right"


@dataclass(frozen=True)
class ReportTable:
    """A report as rows of cells: the same figures for text, CSV and JSON."""

    title: str
    columns: tuple[str, ...]
    numeric: frozenset[str]  # right-aligned in text
    rows: tuple[tuple[str, ...], ...]  # text cells (grouped money for reading)
    csv_rows: tuple[tuple[str, ...], ...]  # machine cells (decimal strings)
    json_rows: tuple[dict[str, Any], ...]
    # The service's own rows (reports.AgingRow, ...), in the order of `rows`: the TUI draws its
    # charts from them, so a chart and its table come from one query.
    records: tuple[Any, ...] = ()


# --- arguments -----------------------------------------------------------------------------------


def _day_option(what: str) -> Callable[[str], date]:
    # The command line's one date parser (the accepted range, exit status 1 for a bad date).
    def parse(text: str) -> date:
        from collector_tui.cli import day_value

        return day_value(what)(text)

    return parse


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=REPORT_KINDS, metavar="|".join(REPORT_KINDS))
    parser.add_argument(
        "--from",
        dest="date_from",
        type=_day_option("--from"),
        metavar="DATE",
        help="first day (UTC)",
    )
    parser.add_argument(
        "--to",
        dest="date_to",
        type=_day_option("--to"),
        metavar="DATE",
        help="last day, included (UTC)",
    )
    parser.add_argument(
        "--period",
        choices=("day", "week"),
        default="day",
        help="collections: per day or per ISO week (Monday first)",
    )
    parser.add_argument(
        "--total", action="store_true", help="promises: one row per currency, not per agent"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON (DESIGN.md §7)")
    output.add_argument("--csv", action="store_true", help="print CSV with a header")


def add_import_payments_arguments(parser: argparse.ArgumentParser) -> None:
    from collector_tui.cli import add_file_reading_arguments

    parser.add_argument("file", metavar="FILE.csv", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    add_file_reading_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def add_commands(
    subparsers: Any,
    *,
    parents: Sequence[argparse.ArgumentParser] = (),
    import_subparsers: Any = None,
    report_handler: Callable[..., int] | None = None,
    import_handler: Callable[..., int] | None = None,
) -> None:
    """Register `report` on `subparsers` and, given the `import` command's subparsers,
    `import payments`. `parents` are the global option parsers (--db, --user, --now); a handler,
    when given, is stored as the `handler` default of its command."""
    help_text = "print a report: aging, promises, collections, agents or dso"
    report = subparsers.add_parser(
        "report", parents=list(parents), help=help_text, description=help_text
    )
    add_report_arguments(report)
    if report_handler is not None:
        report.set_defaults(handler=report_handler)
    if import_subparsers is not None:
        payments = import_subparsers.add_parser(
            "payments",
            parents=list(parents),
            help="post payments received from a CSV file",
            description="post payments from a CSV file (client_ref or case_id, amount, date, "
            "reference); one bad row rejects the whole file; a reference already recorded on "
            "its case is skipped",
        )
        add_import_payments_arguments(payments)
        if import_handler is not None:
            payments.set_defaults(handler=import_handler)


# --- formatting ----------------------------------------------------------------------------------


def _show(text: str | None) -> str:
    from collector_tui.display import printable

    return printable(text)


def json_text(value: Any) -> str:
    """The command line's one JSON writer (display.json_text: terminal-inert, Chinese readable)."""
    from collector_tui.display import json_text as write

    return write(value)


def _decimal(amount: int, currency: str) -> str:
    from collector_tui.money import Money, MoneyError

    try:
        return Money(amount, currency).decimal_string()
    except (MoneyError, TypeError):
        return str(amount)


def grouped(amount: int, currency: str) -> str:
    """ "1,234.50": the amount with its grouping, without the currency (text tables)."""
    from collector_tui.money import Money, MoneyError, format_plain

    try:
        return format_plain(Money(amount, currency)).rsplit(" ", 1)[0]
    except (MoneyError, TypeError):
        return str(amount)


def _money(amount: int, currency: str) -> str:
    from collector_tui.money import Money, MoneyError, format_plain

    try:
        return format_plain(Money(amount, currency))
    except (MoneyError, TypeError):
        return f"{amount} {currency} (minor units)"


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _period_text(first: date, last: date) -> str:
    return f"{first.isoformat()} to {last.isoformat()} (UTC dates)"


def _scope_text(actor: Actor | None) -> str:
    if actor is None or actor.is_supervisor:
        return "all cases"
    return f"cases of {_show(actor.username)}"


def report_table(
    kind: str,
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    date_from: date | None = None,
    date_to: date | None = None,
    period: str = "day",
    by_agent: bool = True,
) -> ReportTable:
    """Run one report and lay it out (the TUI's report screen can show the same table)."""
    from collector_tui.services.reporting import reports

    scope = _scope_text(actor)
    if kind == "aging":
        aging = reports.aging(session=session, now=now, actor=actor)
        today = reports.utc_today(now)
        return ReportTable(
            title=f"Aging on {today.isoformat()} (UTC), {scope}",
            columns=("currency", "bucket", "count", "balance"),
            numeric=frozenset({"count", "balance"}),
            rows=tuple(
                (r.currency, r.bucket, str(r.count), grouped(r.balance, r.currency)) for r in aging
            ),
            csv_rows=tuple(
                (r.currency, r.bucket, str(r.count), _decimal(r.balance, r.currency)) for r in aging
            ),
            json_rows=tuple(
                {
                    "currency": r.currency,
                    "bucket": r.bucket,
                    "count": r.count,
                    "balance": _decimal(r.balance, r.currency),
                }
                for r in aging
            ),
            records=tuple(aging),
        )
    if kind == "dso":
        dso = reports.dso(session=session, now=now, actor=actor)
        return ReportTable(
            title=f"Days sales outstanding of open invoices on {reports.utc_today(now)}, {scope}",
            columns=("currency", "open_receivables", "invoices", "days"),
            numeric=frozenset({"open_receivables", "invoices", "days"}),
            rows=tuple(
                (r.currency, grouped(r.open_receivables, r.currency), str(r.invoices), str(r.days))
                for r in dso
            ),
            csv_rows=tuple(
                (
                    r.currency,
                    _decimal(r.open_receivables, r.currency),
                    str(r.invoices),
                    str(r.days),
                )
                for r in dso
            ),
            json_rows=tuple(
                {
                    "currency": r.currency,
                    "open_receivables": _decimal(r.open_receivables, r.currency),
                    "invoices": r.invoices,
                    "days": str(r.days),
                }
                for r in dso
            ),
            records=tuple(dso),
        )

    first, last = reports.period_bounds(now, date_from, date_to)
    during = _period_text(first, last)
    if kind == "promises":
        stats = reports.promise_stats(
            session=session,
            now=now,
            date_from=first,
            date_to=last,
            actor=actor,
            by_agent=by_agent,
        )
        columns = (
            "agent",
            "currency",
            "made",
            "kept",
            "partial",
            "broken",
            "pending",
            "cancelled",
            "amount_promised",
            "amount_kept",
            "kept_rate_count",
            "kept_rate_amount",
        )

        def promise_cells(
            r: reports.PromiseStatsRow, money: Callable[[int, str], str]
        ) -> tuple[str, ...]:
            counts = (r.made, r.kept, r.partial, r.broken, r.pending, r.cancelled)
            return (
                r.agent or ("(all)" if not by_agent else "(none)"),
                r.currency,
                *(str(n) for n in counts),
                money(r.amount_promised, r.currency),
                money(r.amount_kept, r.currency),
                _pct(r.kept_rate_count) or "",
                _pct(r.kept_rate_amount) or "",
            )

        return ReportTable(
            title=f"Promises made {during}, outcome as of now, {scope}",
            columns=columns,
            numeric=frozenset(columns[2:]),
            rows=tuple(promise_cells(r, grouped) for r in stats),
            csv_rows=tuple(promise_cells(r, _decimal) for r in stats),
            json_rows=tuple(
                {
                    "agent": r.agent,
                    "currency": r.currency,
                    "made": r.made,
                    "kept": r.kept,
                    "partial": r.partial,
                    "broken": r.broken,
                    "pending": r.pending,
                    "cancelled": r.cancelled,
                    "amount_promised": _decimal(r.amount_promised, r.currency),
                    "amount_kept": _decimal(r.amount_kept, r.currency),
                    "kept_rate_count": _pct(r.kept_rate_count),
                    "kept_rate_amount": _pct(r.kept_rate_amount),
                }
                for r in stats
            ),
            records=tuple(stats),
        )
    if kind == "collections":
        rows = reports.collections(
            session=session, now=now, date_from=first, date_to=last, period=period, actor=actor
        )
        columns = ("period_start", "currency", "collected", "promised_due", "payments")

        def collection_cells(
            r: reports.CollectionRow, money: Callable[[int, str], str]
        ) -> tuple[str, ...]:
            return (
                r.period_start.isoformat(),
                r.currency,
                money(r.collected, r.currency),
                money(r.promised_due, r.currency),
                str(r.payments),
            )

        return ReportTable(
            title=f"Collections per {period} {during}, {scope}",
            columns=columns,
            numeric=frozenset(columns[2:]),
            rows=tuple(collection_cells(r, grouped) for r in rows),
            csv_rows=tuple(collection_cells(r, _decimal) for r in rows),
            json_rows=tuple(
                {
                    "period_start": r.period_start.isoformat(),
                    "currency": r.currency,
                    "collected": _decimal(r.collected, r.currency),
                    "promised_due": _decimal(r.promised_due, r.currency),
                    "payments": r.payments,
                }
                for r in rows
            ),
            records=tuple(rows),
        )
    if kind == "agents":
        activity = reports.agent_activity(
            session=session, now=now, date_from=first, date_to=last, actor=actor
        )
        currencies = sorted({c for r in activity for c in r.collected_by_currency})
        columns = (
            "agent",
            "attempts",
            "right_party_contacts",
            "promises",
            *(f"collected_{c}" for c in currencies),
        )

        def agent_cells(
            r: reports.AgentActivityRow, money: Callable[[int, str], str]
        ) -> tuple[str, ...]:
            return (
                r.agent,
                str(r.attempts),
                str(r.right_party_contacts),
                str(r.promises),
                *(money(r.collected_by_currency.get(c, 0), c) for c in currencies),
            )

        return ReportTable(
            title=f"Agent activity {during}; money collected on the agents' current cases",
            columns=columns,
            numeric=frozenset(columns[1:]),
            rows=tuple(agent_cells(r, grouped) for r in activity),
            csv_rows=tuple(agent_cells(r, _decimal) for r in activity),
            json_rows=tuple(
                {
                    "agent": r.agent,
                    "attempts": r.attempts,
                    "right_party_contacts": r.right_party_contacts,
                    "promises": r.promises,
                    "collected_by_currency": {
                        c: _decimal(amount, c) for c, amount in r.collected_by_currency.items()
                    },
                }
                for r in activity
            ),
            records=tuple(activity),
        )
    from collector_tui.services.errors import InvalidInput

    raise InvalidInput(f"unknown report {kind!r}: one of {', '.join(REPORT_KINDS)}")


def _text_table(table: ReportTable) -> list[str]:
    from rich.cells import cell_len

    shown = [tuple(_show(cell) for cell in row) for row in table.rows]
    widths = [
        max([cell_len(name), *(cell_len(row[i]) for row in shown)])
        for i, name in enumerate(table.columns)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for name, cell, width in zip(table.columns, cells, widths, strict=True):
            pad = " " * (width - cell_len(cell))
            parts.append(pad + cell if name in table.numeric else cell + pad)
        return "  ".join(parts).rstrip()

    lines = [_show(table.title), "", line(table.columns), line(["-" * w for w in widths])]
    lines.extend(line(row) for row in shown)
    if not shown:
        lines.append("(nothing to report)")
    return lines


def _print_table(table: ReportTable, args: argparse.Namespace, out: TextIO) -> None:
    if getattr(args, "json", False):
        print(json_text(list(table.json_rows)), file=out)
    elif getattr(args, "csv", False):
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows(table.csv_rows)
    else:
        for text in _text_table(table):
            print(text, file=out)


# --- handlers ------------------------------------------------------------------------------------


def run_report(
    args: argparse.Namespace,
    *,
    store: Store,
    settings: Settings,
    now: datetime,
    actor: Actor | None,
    out: TextIO | None = None,
) -> int:
    """`report KIND`: read-only; prints the table and returns 0, or raises ServiceError."""
    stream = out if out is not None else sys.stdout
    with store.read() as session:
        table = report_table(
            args.kind,
            session=session,
            now=now,
            actor=actor,
            date_from=getattr(args, "date_from", None),
            date_to=getattr(args, "date_to", None),
            period=getattr(args, "period", "day") or "day",
            by_agent=not getattr(args, "total", False),
        )
    _print_table(table, args, stream)
    return 0


def _import_json(report: Any) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "posted": report.posted,
        "duplicates": report.duplicates,
        "rejected": [{"line": e.line, "reason": e.reason} for e in report.rejected],
        "dry_run": report.dry_run,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "totals": {currency: _decimal(amount, currency) for currency, amount in report.totals},
    }


def run_import_payments(
    args: argparse.Namespace,
    *,
    store: Store,
    settings: Settings,
    now: datetime,
    actor: Actor | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`import payments FILE.csv`: 0 when posted (or checked, with --dry-run); 1 with every bad
    line on stderr (and the report on stdout with --json) when the file is rejected."""
    from collector_tui.services.imports.payment_file import PaymentImportRejected, import_payments

    stream = out if out is not None else sys.stdout
    errors = err if err is not None else sys.stderr
    try:
        report = import_payments(
            store=store,
            path=args.file,
            now=now,
            settings=settings,
            actor=actor,
            dry_run=bool(getattr(args, "dry_run", False)),
            decimal=getattr(args, "decimal", None),
            encoding=getattr(args, "encoding", None),
        )
    except PaymentImportRejected as rejected:
        if getattr(args, "json", False):
            print(json_text(_import_json(rejected.report)), file=stream)
        message = " ".join(_show(str(rejected)).split())
        print(f"{PROG}: error: {message}; nothing was written", file=errors)
        bad = rejected.report.rejected
        for error in bad[:REJECTS_SHOWN]:
            print(f"line {error.line}: {_show(error.reason)}", file=errors)
        if len(bad) > REJECTS_SHOWN:
            print(f"... and {len(bad) - REJECTS_SHOWN} more", file=errors)
        return 1
    if getattr(args, "json", False):
        print(json_text(_import_json(report)), file=stream)
        return 0
    totals = ", ".join(_money(amount, currency) for currency, amount in report.totals)
    verb = "to post" if report.dry_run else "posted"
    print(
        f"{_show(str(args.file))}: {report.rows} rows, {report.posted} payments {verb}"
        + (f" ({totals})" if totals else "")
        + f", {report.duplicates} already recorded (skipped)",
        file=stream,
    )
    if report.dry_run:
        print("dry run: nothing was written", file=stream)
    return 0
