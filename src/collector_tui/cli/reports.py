"""Reports.

    collector-tui report aging|promises|collections|agents|dso|disputes|vintage|strategies
                         [--from DATE --to DATE] [--period day|week] [--total]
                         [--by agent|amount] [--currency CODE] [--months N] [--json|--csv]
    collector-tui statement CLIENT --from DATE --to DATE [--json|--csv|--pdf FILE]  (supervisors)
    collector-tui closures CLIENT --from DATE --to DATE [--json|--csv]       (supervisors)

Output: an aligned text table by default; `--csv` a header and one row per line; `--json` a list
of objects (money as decimal strings such as "1234.50", dates ISO, percentages as strings such as
"66.7" or null). `report aging --json` is exactly `{currency, bucket, count, balance, disputed,
collectible}` per row (`collectible` = `balance` - `disputed`, what open invoice disputes hold). An
agent's report covers that agent's cases. The tables come from services/reporting/tables.py, the
same ones the reports dashboard shows. `statement --pdf FILE` writes the statement as a PDF
(services/reporting/statement_pdf.py) for the client.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from collector_tui.cli.arguments import Commands, day_value
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, print_table, show
from collector_tui.i18n import gettext as _
from collector_tui.services.reporting.tables import PROMISE_GROUPINGS, REPORT_KINDS

if TYPE_CHECKING:
    from collector_tui.config import Settings
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor

__all__ = ["register", "run_report"]


def register(commands: Commands) -> None:
    about = _(
        "print a report: aging, promises, collections, agents, dso, disputes, vintage or strategies"
    )
    report = commands.add("report", _cmd_report, help=about, description=about)
    report.add_argument("kind", choices=REPORT_KINDS, metavar="|".join(REPORT_KINDS))
    report.add_argument(
        "--from",
        dest="date_from",
        type=day_value("--from"),
        metavar="DATE",
        help=_("first day (UTC)"),
    )
    report.add_argument(
        "--to",
        dest="date_to",
        type=day_value("--to"),
        metavar="DATE",
        help=_("last day, included (UTC)"),
    )
    report.add_argument(
        "--period",
        choices=("day", "week"),
        default="day",
        help=_("collections: per day or per ISO week (Monday first)"),
    )
    report.add_argument(
        "--total", action="store_true", help=_("promises: one row per currency, not per agent")
    )
    report.add_argument(
        "--by",
        choices=PROMISE_GROUPINGS,
        default="agent",
        help=_("promises: per agent (the default) or per amount band (the kept rate by amount)"),
    )
    report.add_argument(
        "--currency",
        metavar="CODE",
        help=_("only the figures of this currency (ISO 4217, e.g. CNY)"),
    )
    report.add_argument(
        "--months",
        type=_months_value,
        metavar="N",
        help=_("vintage: how many placement months back, this month included (default 12)"),
    )
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=_("print JSON"))
    output.add_argument("--csv", action="store_true", help=_("print CSV with a header"))
    _register_statement(commands)


def _months_value(text: str) -> int:
    from collector_tui.services.reporting.kpis import MAX_VINTAGE_MONTHS

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_VINTAGE_MONTHS:
        raise argparse.ArgumentTypeError(
            _("--months must be a whole number from 1 to {most}").format(most=MAX_VINTAGE_MONTHS)
        )
    return value


def _register_statement(commands: Commands) -> None:
    about = _("a client's statement: collected per case, reversals, commission, net to remit")
    statement = commands.add("statement", _cmd_statement, help=about, description=about)
    statement.add_argument("client", metavar="CLIENT")
    statement.add_argument(
        "--from", dest="date_from", type=day_value("--from"), required=True, metavar="DATE"
    )
    statement.add_argument(
        "--to", dest="date_to", type=day_value("--to"), required=True, metavar="DATE"
    )
    output = statement.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=_("print JSON"))
    output.add_argument("--csv", action="store_true", help=_("print CSV with a header"))
    output.add_argument("--pdf", type=Path, metavar="FILE", help=_("write the statement as a PDF"))

    about = _("a client's recall and closure file: its cases closed in the period")
    closures = commands.add("closures", _cmd_closures, help=about, description=about)
    closures.add_argument("client", metavar="CLIENT")
    closures.add_argument(
        "--from", dest="date_from", type=day_value("--from"), required=True, metavar="DATE"
    )
    closures.add_argument(
        "--to", dest="date_to", type=day_value("--to"), required=True, metavar="DATE"
    )
    output = closures.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=_("print JSON"))
    output.add_argument("--csv", action="store_true", help=_("print CSV with a header"))


def _cmd_closures(ctx: Context) -> int:
    from collector_tui.services.reporting.statements import client_closures
    from collector_tui.services.reporting.tables import closures_table

    args = ctx.args
    ctx.actor()
    lines = ctx.run(
        client_closures, client=args.client, date_from=args.date_from, date_to=args.date_to
    )
    table = closures_table(
        lines, client=args.client.strip(), date_from=args.date_from, date_to=args.date_to
    )
    print_table(table, ctx.out, as_json=bool(args.json), as_csv=bool(args.csv))
    return 0


def _cmd_statement(ctx: Context) -> int:
    from collector_tui.services.reporting.statements import client_statement
    from collector_tui.services.reporting.tables import statement_table

    args = ctx.args
    ctx.actor()
    statement = ctx.run(
        client_statement, client=args.client, date_from=args.date_from, date_to=args.date_to
    )
    if args.pdf is not None:
        return _write_statement_pdf(ctx, statement, args.pdf)
    table = statement_table(statement)
    if args.json:
        cases = list(table.json_rows[: len(statement.cases)])
        totals = list(table.json_rows[len(statement.cases) :])
        ctx.json(
            {
                "client": statement.client,
                "from": statement.date_from.isoformat(),
                "to": statement.date_to.isoformat(),
                "commission": statement.rule,
                "cases": cases,
                "totals": [{k: v for k, v in t.items() if k != "client_ref"} for t in totals],
            }
        )
        return 0
    print_table(table, ctx.out, as_json=False, as_csv=bool(args.csv))
    return 0


def _write_statement_pdf(ctx: Context, statement, path: Path) -> int:
    from collector_tui.services.reporting.statement_pdf import statement_pdf

    delivery = ctx.load_settings().delivery
    try:
        data = statement_pdf(
            statement, agency_name=delivery.agency_name, font_file=delivery.letter_font
        )
    except ValueError as error:  # a letter_font ReportLab cannot use
        raise CliError(str(error)) from None
    try:
        path.write_bytes(data)
    except OSError as error:
        raise CliError(
            _("cannot write {path}: {reason}").format(path=show(str(path)), reason=error.strerror)
        ) from None
    ctx.print(
        _("wrote the statement of {client} to {path}").format(
            client=show(statement.client), path=show(str(path))
        )
    )
    return 0


def _cmd_report(ctx: Context) -> int:
    return run_report(
        ctx.args,
        store=ctx.open(),
        settings=ctx.load_settings(),
        now=ctx.now(),
        actor=ctx.actor(),
        out=ctx.out,
    )


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
    from collector_tui.clock import FixedClock
    from collector_tui.services.context import Context as Services
    from collector_tui.services.reporting.tables import report_table

    stream = out if out is not None else sys.stdout
    # Scripts call this with `actor=None` (every case): given, not injected.
    table = Services(store=store, clock=FixedClock(now), settings=settings).run(
        report_table,
        kind=args.kind,
        now=now,
        actor=actor,
        date_from=getattr(args, "date_from", None),
        date_to=getattr(args, "date_to", None),
        period=getattr(args, "period", "day") or "day",
        by_agent=not getattr(args, "total", False),
        by=getattr(args, "by", "agent") or "agent",
        currency=getattr(args, "currency", None),
        months=getattr(args, "months", None),
        settings=settings,
    )
    print_table(
        table,
        stream,
        as_json=bool(getattr(args, "json", False)),
        as_csv=bool(getattr(args, "csv", False)),
    )
    return 0
