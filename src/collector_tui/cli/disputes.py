"""Invoice disputes.

    collector-tui dispute open CASE_REF --invoice NO [--amount A] --category C --reason TEXT
                      [--owner NAME] [--by DATE] [--json]
    collector-tui dispute resolve ID --upheld|--rejected|--partly AMOUNT --reason TEXT [--json]
    collector-tui dispute list [--all] [--case CASE_REF] [--json]

An open dispute's amount is out of the collectible balance until it is resolved
(services/casework/disputes.py).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands, day_value
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, UsageError, decimal, iso_utc, money, pad, show
from collector_tui.i18n import gettext as _
from collector_tui.labels import case_status_label, outcome_label

if TYPE_CHECKING:
    from collector_tui.services.casework.disputes import DisputeChange, DisputeView

__all__ = ["register"]

CATEGORIES = ("goods_not_received", "quality", "price", "already_paid", "not_mine", "other")


def register(commands: Commands) -> None:
    disputes = commands.group(
        "dispute",
        help=_("invoice disputes: open, resolve, list"),
        description=_("invoice disputes: the disputed amount is not collected until resolved"),
        dest="dispute_command",
        without_action=_("dispute: say what to do, e.g. `dispute list`"),
    )
    about = _("dispute an invoice, whole or an amount of it")
    opened = disputes.add("open", _cmd_open, help=about, description=about)
    opened.add_argument("case", metavar="CASE_REF")
    opened.add_argument("--invoice", required=True, metavar="NO", help=_("the invoice number"))
    opened.add_argument("--amount", metavar="A", help=_("the disputed amount (default: all of it)"))
    opened.add_argument("--category", required=True, choices=CATEGORIES)
    opened.add_argument("--reason", required=True, metavar="TEXT")
    opened.add_argument("--owner", metavar="NAME", help=_("who resolves it (default: the agent)"))
    opened.add_argument("--by", type=day_value("--by"), metavar="DATE", help=_("resolve by"))
    opened.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("resolve a dispute: upheld (credit), rejected, or partly upheld")
    resolve = disputes.add("resolve", _cmd_resolve, help=about, description=about)
    resolve.add_argument("dispute", metavar="ID")
    outcome = resolve.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--upheld", action="store_true", help=_("credit the disputed amount"))
    outcome.add_argument("--rejected", action="store_true", help=_("the amount is owed after all"))
    outcome.add_argument("--partly", metavar="AMOUNT", help=_("credit AMOUNT, the rest is owed"))
    resolve.add_argument("--reason", required=True, metavar="TEXT")
    resolve.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("list disputes (open ones unless --all)")
    listed = disputes.add("list", _cmd_list, help=about, description=about)
    listed.add_argument("--all", action="store_true", help=_("resolved ones too"))
    listed.add_argument("--case", metavar="CASE_REF", help=_("one case's disputes"))
    listed.add_argument("--json", action="store_true", help=_("print JSON"))


def _change_json(change: DisputeChange) -> dict[str, Any]:
    currency = change.currency
    return {
        "dispute_id": str(change.dispute_id),
        "status": change.status,
        "currency": currency,
        "amount": decimal(change.amount, currency),
        "credited": decimal(change.credited, currency),
        "case_status": change.case_status,
        "balance": decimal(change.balance, currency),
        "disputed": decimal(change.disputed, currency),
        "collectible": decimal(change.collectible, currency),
    }


def _cmd_open(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services import accounts
    from collector_tui.services.casework import cases, disputes

    args = ctx.args
    ctx.actor()
    settings = ctx.load_settings()
    case = ctx.run(cases.resolve_case, reference=args.case)
    amount = (
        parse_money(args.amount, case.currency, settings.locale).minor
        if args.amount is not None
        else None
    )
    owner = ctx.run(accounts.get_actor, username=args.owner).user_id if args.owner else None
    change = ctx.run(
        disputes.open_dispute,
        case_id=case.case_id,
        invoice=args.invoice,
        category=args.category,
        reason=args.reason,
        amount=amount,
        owner_id=owner,
        resolve_by=args.by,
    )
    reference = f"{case.client}/{case.client_ref}"
    if args.json:
        ctx.json(_change_json(change))
        return 0
    ctx.print(
        f"dispute {change.dispute_id} opened on {show(reference)} invoice {show(args.invoice)}: "
        f"{money(change.amount, change.currency)} disputed; collectible "
        f"{money(change.collectible, change.currency)}, status {change.case_status}"
    )
    return 0


def _cmd_resolve(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import disputes

    args = ctx.args
    try:
        dispute_id = uuid.UUID(args.dispute)
    except ValueError:
        raise CliError(_("not a dispute id: {text}").format(text=show(args.dispute[:64]))) from None
    outcome = "upheld" if args.upheld else "rejected" if args.rejected else "partly"
    ctx.actor()
    settings = ctx.load_settings()
    amount = None
    if outcome == "partly":
        currency = ctx.run(disputes.dispute_currency, dispute_id=dispute_id)
        # An unknown id: the service says there is no such dispute.
        amount = parse_money(args.partly, currency, settings.locale).minor if currency else 0
    change = ctx.run(
        disputes.resolve_dispute,
        dispute_id=dispute_id,
        outcome=outcome,
        reason=args.reason,
        amount=amount,
    )
    if args.json:
        ctx.json(_change_json(change))
        return 0
    ctx.print(
        _("dispute {id} {outcome}: credited {credited}; balance {balance}, status {status}").format(
            id=change.dispute_id,
            outcome=outcome_label(change.status),
            credited=money(change.credited, change.currency),
            balance=money(change.balance, change.currency),
            status=case_status_label(change.case_status),
        )
    )
    return 0


def _view_json(view: DisputeView) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "client": view.client,
        "client_ref": view.client_ref,
        "invoice": view.invoice,
        "currency": view.currency,
        "amount": decimal(view.amount, view.currency),
        "category": view.category,
        "reason": view.reason,
        "owner": view.owner,
        "resolve_by": view.resolve_by.isoformat(),
        "overdue": view.overdue,
        "status": view.status,
        "credited": decimal(view.credited, view.currency),
        "opened_at": iso_utc(view.opened_at),
        "resolved_at": iso_utc(view.resolved_at),
        "resolution_reason": view.resolution_reason,
    }


def _cmd_list(ctx: Context) -> int:
    from collector_tui.services.casework import cases, disputes

    args = ctx.args
    if args.case is not None and not args.case.strip():
        raise UsageError(_("--case needs a case reference"))
    ctx.actor()
    case_id = ctx.run(cases.resolve_case, reference=args.case).case_id if args.case else None
    views = ctx.run(disputes.list_disputes, status=None if args.all else "open", case_id=case_id)
    if args.json:
        ctx.json([_view_json(view) for view in views])
        return 0
    if not views:
        ctx.print(_("no disputes") if args.all else _("no open disputes"))
    for view in views:
        ctx.print(
            "  ".join(
                (
                    str(view.id),
                    pad(f"{view.client}/{view.client_ref}", 26),
                    pad(view.invoice, 14),
                    f"{money(view.amount, view.currency):>16}",
                    pad(view.category, 18),
                    pad(view.owner, 10),
                    view.resolve_by.isoformat() + (" " + _("overdue") if view.overdue else ""),
                    outcome_label(view.status),
                )
            )
        )
    return 0
