"""Reports.

    collector-tui report aging|promises|collections|agents|dso [--from DATE --to DATE]
                         [--period day|week] [--total] [--json|--csv]

Output: an aligned text table by default; `--csv` a header and one row per line; `--json` a list
of objects (money as decimal strings such as "1234.50", dates ISO, percentages as strings such as
"66.7" or null). `report aging --json` is exactly `{currency, bucket, count, balance}` per row. An
agent's report covers that agent's cases. The tables come from services/reporting/tables.py, the
same ones the reports dashboard shows.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from collector_tui.cli.arguments import Commands, day_value
from collector_tui.cli.context import Context
from collector_tui.cli.output import print_table
from collector_tui.services.reporting.tables import REPORT_KINDS

if TYPE_CHECKING:
    from collector_tui.config import Settings
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor

__all__ = ["register", "run_report"]


def register(commands: Commands) -> None:
    about = "print a report: aging, promises, collections, agents or dso"
    report = commands.add("report", _cmd_report, help=about, description=about)
    report.add_argument("kind", choices=REPORT_KINDS, metavar="|".join(REPORT_KINDS))
    report.add_argument(
        "--from",
        dest="date_from",
        type=day_value("--from"),
        metavar="DATE",
        help="first day (UTC)",
    )
    report.add_argument(
        "--to",
        dest="date_to",
        type=day_value("--to"),
        metavar="DATE",
        help="last day, included (UTC)",
    )
    report.add_argument(
        "--period",
        choices=("day", "week"),
        default="day",
        help="collections: per day or per ISO week (Monday first)",
    )
    report.add_argument(
        "--total", action="store_true", help="promises: one row per currency, not per agent"
    )
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--csv", action="store_true", help="print CSV with a header")


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
    )
    print_table(
        table,
        stream,
        as_json=bool(getattr(args, "json", False)),
        as_csv=bool(getattr(args, "csv", False)),
    )
    return 0
