"""Importing files.

    collector-tui import cases FILE.csv [--dry-run] [--region CC] [--client NAME] [--currency CODE]
                         [--skip-bad [--rejects FILE]] [--assign-to NAME] [--allow-zero-balance]
                         [--decimal-point|--decimal-comma] [--encoding NAME] [--json]
    collector-tui import payments FILE.csv [--dry-run] [--decimal-point|--decimal-comma]
                         [--encoding NAME] [--json]

One bad row rejects the whole file (for cases, unless --skip-bad): the error line, then the first
REJECTS_SHOWN bad lines on stderr, exit status 1, nothing written.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import PROG, UsageError, decimal, error, json_text, money, show
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.config import Settings
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor

__all__ = ["REJECTS_SHOWN", "register", "run_import_payments"]

REJECTS_SHOWN = 20  # bad import lines printed before "... and K more"


def _add_file_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """How to read an imported file: its decimal mark and its encoding (both imports)."""
    marks = parser.add_mutually_exclusive_group()
    marks.add_argument(
        "--decimal-point",
        dest="decimal",
        action="store_const",
        const="point",
        help=_("amounts are written 1,234.50 (default for comma-separated files)"),
    )
    marks.add_argument(
        "--decimal-comma",
        dest="decimal",
        action="store_const",
        const="comma",
        help=_("amounts are written 1.234,50"),
    )
    parser.add_argument(
        "--encoding", metavar="NAME", help=_("the file's encoding when it is not UTF-8 (e.g. gbk)")
    )


def register(commands: Commands) -> None:
    kinds = commands.group(
        "import",
        help=_("import a file"),
        description=_("import a file"),
        dest="import_command",
        metavar="KIND",
        without_action=_("import: say what to import, e.g. `import cases FILE.csv`"),
    )
    cases = kinds.add(
        "cases",
        _cmd_import_cases,
        help=_("import placements from a CSV file"),
        description=_(
            "import placements from a CSV file; one bad row rejects the whole file "
            "unless --skip-bad"
        ),
    )
    cases.add_argument("file", metavar="FILE.csv", type=Path)
    cases.add_argument("--dry-run", action="store_true", help=_("check only, write nothing"))
    cases.add_argument("--region", metavar="CC", help=_("country for numbers without +code"))
    cases.add_argument("--client", metavar="NAME", help=_("client for rows without one"))
    cases.add_argument("--currency", metavar="CODE", help=_("currency for rows without one"))
    cases.add_argument("--skip-bad", action="store_true", help=_("import the good rows"))
    cases.add_argument(
        "--rejects", metavar="FILE", type=Path, help=_("with --skip-bad: write bad rows here")
    )
    cases.add_argument("--assign-to", metavar="NAME", help=_("give the new cases to NAME"))
    cases.add_argument(
        "--allow-zero-balance", action="store_true", help=_("take rows with nothing to collect")
    )
    _add_file_reading_arguments(cases)
    cases.add_argument("--json", action="store_true", help=_("print the report as JSON"))

    payments = kinds.add(
        "payments",
        _cmd_import_payments,
        help=_("post payments received from a CSV file"),
        description=_(
            "post payments from a CSV file (client_ref or case_id, amount, date, "
            "reference); one bad row rejects the whole file; a reference already recorded on "
            "its case is skipped"
        ),
    )
    payments.add_argument("file", metavar="FILE.csv", type=Path)
    payments.add_argument("--dry-run", action="store_true", help=_("check only, write nothing"))
    _add_file_reading_arguments(payments)
    payments.add_argument("--json", action="store_true", help=_("print the report as JSON"))


# --- import cases --------------------------------------------------------------------------------


def _cases_json(report: Any) -> dict[str, Any]:
    keys = (
        "rows",
        "cases_created",
        "cases_existing",
        "invoices",
        "phones",
        "phones_invalid",
        "dry_run",
        "encoding",
        "delimiter",
    )
    result: dict[str, Any] = {key: getattr(report, key, None) for key in keys}
    result["rejected"] = [
        {"line": bad.line, "reason": bad.reason} for bad in getattr(report, "rejected", ())
    ]
    return result


def _user_id(ctx: Context, name: str) -> Any:
    from collector_tui.services import accounts

    return ctx.run(accounts.get_actor, username=name).user_id


def _cmd_import_cases(ctx: Context) -> int:
    from collector_tui.services.imports import placement_file

    args = ctx.args
    if args.rejects is not None and not args.skip_bad:
        raise UsageError(_("--rejects goes with --skip-bad"))
    actor = ctx.actor()
    assign_to = _user_id(ctx, args.assign_to) if args.assign_to else None
    try:
        report = placement_file.import_cases(
            store=ctx.open(),
            path=args.file,
            now=ctx.now(),
            settings=ctx.load_settings(),
            actor=actor,
            dry_run=args.dry_run,
            skip_bad=args.skip_bad,
            rejects_path=args.rejects,
            region=args.region,
            client=args.client,
            currency=args.currency,
            assign_to=assign_to,
            decimal=args.decimal,
            encoding=args.encoding,
            allow_zero_balance=args.allow_zero_balance,
        )
    except placement_file.ImportRejected as rejected:
        error(ctx.err, str(rejected))
        errors = tuple(getattr(rejected.report, "rejected", ()))
        for bad in errors[:REJECTS_SHOWN]:
            print(
                _("line {line}: {reason}").format(line=bad.line, reason=show(bad.reason)),
                file=ctx.err,
            )
        if len(errors) > REJECTS_SHOWN:
            print(_("... and {count} more").format(count=len(errors) - REJECTS_SHOWN), file=ctx.err)
        return 1
    if args.json:
        ctx.json(_cases_json(report))
        return 0
    rejected_count = len(report.rejected)
    if report.dry_run:
        summary = _(
            "{file}: {rows} rows, {created} cases would be created, {existing} already there, "
            "{invoices} invoices, {phones} phones ({invalid} invalid), {rejected} rejected"
        )
    else:
        summary = _(
            "{file}: {rows} rows, {created} cases created, {existing} already there, "
            "{invoices} invoices, {phones} phones ({invalid} invalid), {rejected} rejected"
        )
    ctx.print(
        summary.format(
            file=show(str(args.file)),
            rows=report.rows,
            created=report.cases_created,
            existing=report.cases_existing,
            invoices=report.invoices,
            phones=report.phones,
            invalid=report.phones_invalid,
            rejected=rejected_count,
        )
    )
    if report.dry_run:
        ctx.print(_("dry run: nothing was written"))
    elif rejected_count and args.rejects is not None:
        ctx.print(_("bad rows written to {file}").format(file=show(str(args.rejects))))
    return 0


# --- import payments -----------------------------------------------------------------------------


def _payments_json(report: Any) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "posted": report.posted,
        "duplicates": report.duplicates,
        "rejected": [{"line": e.line, "reason": e.reason} for e in report.rejected],
        "dry_run": report.dry_run,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "totals": {currency: decimal(amount, currency) for currency, amount in report.totals},
    }


def _cmd_import_payments(ctx: Context) -> int:
    return run_import_payments(
        ctx.args,
        store=ctx.open(),
        settings=ctx.load_settings(),
        now=ctx.now(),
        actor=ctx.actor(),
        out=ctx.out,
        err=ctx.err,
    )


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
            print(json_text(_payments_json(rejected.report)), file=stream)
        message = " ".join(show(str(rejected)).split())
        print(
            _("{prog}: error: {message}; nothing was written").format(prog=PROG, message=message),
            file=errors,
        )
        bad = rejected.report.rejected
        for line in bad[:REJECTS_SHOWN]:
            print(
                _("line {line}: {reason}").format(line=line.line, reason=show(line.reason)),
                file=errors,
            )
        if len(bad) > REJECTS_SHOWN:
            print(_("... and {count} more").format(count=len(bad) - REJECTS_SHOWN), file=errors)
        return 1
    if getattr(args, "json", False):
        print(json_text(_payments_json(report)), file=stream)
        return 0
    totals = ", ".join(money(amount, currency) for currency, amount in report.totals)
    if report.dry_run:
        summary = _(
            "{file}: {rows} rows, {posted} payments to post{totals}, "
            "{duplicates} already recorded (skipped)"
        )
    else:
        summary = _(
            "{file}: {rows} rows, {posted} payments posted{totals}, "
            "{duplicates} already recorded (skipped)"
        )
    print(
        summary.format(
            file=show(str(args.file)),
            rows=report.rows,
            posted=report.posted,
            totals=f" ({totals})" if totals else "",
            duplicates=report.duplicates,
        ),
        file=stream,
    )
    if report.dry_run:
        print(_("dry run: nothing was written"), file=stream)
    return 0
