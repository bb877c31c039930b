"""Charges added to a case after placement (legal costs, fees, interest) and their waivers.

    collector-tui charge add CASE_REF AMOUNT --component costs|fees|interest --reason TEXT
                      [--invoice NO] [--json]
    collector-tui charge waive CHARGE_ID [--amount A] --reason TEXT [--json]
    collector-tui charge list CASE_REF [--json]

A supervisor's (services/casework/charges.py): the balance moves by the charge through its
components, so the next payment pays it in the client's allocation order.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, decimal, iso_utc, money, pad, show
from collector_tui.i18n import gettext as _
from collector_tui.labels import CHARGE_COMPONENTS, CHARGE_KINDS, case_status_label, word

if TYPE_CHECKING:
    from collector_tui.services.casework.charges import ChargeChange, ChargeView

__all__ = ["register"]

COMPONENTS = ("costs", "fees", "interest")


def register(commands: Commands) -> None:
    group = commands.group(
        "charge",
        help=_("charges after placement (legal costs, fees, interest): add, waive, list"),
        description=_("charges a supervisor adds to a case after placement, and their waivers"),
        dest="charge_command",
        without_action=_("charge: say what to do, e.g. `charge list CASE_REF`"),
    )
    about = _("add a charge to a case (supervisors): the balance rises by it")
    added = group.add("add", _cmd_add, help=about, description=about)
    added.add_argument("case", metavar="CASE_REF")
    added.add_argument("amount", metavar="AMOUNT", help=_("in the case's currency, e.g. 350.00"))
    added.add_argument("--component", required=True, choices=COMPONENTS)
    added.add_argument("--reason", required=True, metavar="TEXT", help=_("why (it is audited)"))
    added.add_argument("--invoice", metavar="NO", help=_("on this invoice (default: the case)"))
    added.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("waive a charge, all that is left of it or --amount (supervisors)")
    waived = group.add("waive", _cmd_waive, help=about, description=about)
    waived.add_argument("charge", metavar="CHARGE_ID")
    waived.add_argument(
        "--amount", metavar="A", help=_("waive this much (default: all that is left)")
    )
    waived.add_argument("--reason", required=True, metavar="TEXT", help=_("why (it is audited)"))
    waived.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("list a case's charges and waivers")
    listed = group.add("list", _cmd_list, help=about, description=about)
    listed.add_argument("case", metavar="CASE_REF")
    listed.add_argument("--json", action="store_true", help=_("print JSON"))


def _change_json(change: ChargeChange) -> dict[str, Any]:
    currency = change.currency
    return {
        "charge_id": str(change.charge_id),
        "component": change.component,
        "invoice": change.invoice,
        "currency": currency,
        "amount": decimal(change.amount, currency),
        "balance": decimal(change.balance, currency),
        "components": {name: decimal(value, currency) for name, value in change.components.items()},
        "case_status": change.case_status,
    }


def _cmd_add(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import cases, charges

    args = ctx.args
    ctx.actor()
    settings = ctx.load_settings()
    case = ctx.run(cases.resolve_case, reference=args.case)
    amount = parse_money(args.amount, case.currency, settings.locale).minor
    change = ctx.run(
        charges.add_charge,
        case_id=case.case_id,
        amount=amount,
        component=args.component,
        reason=args.reason,
        invoice=args.invoice,
    )
    if args.json:
        ctx.json(_change_json(change))
        return 0
    if change.invoice:
        added = _(
            "charge {id}: {amount} of {component} added to {case} on invoice {invoice}; "
            "balance {balance}"
        )
    else:
        added = _("charge {id}: {amount} of {component} added to {case}; balance {balance}")
    ctx.print(
        added.format(
            id=change.charge_id,
            amount=money(change.amount, change.currency),
            component=word(CHARGE_COMPONENTS, change.component),
            case=show(f"{case.client}/{case.client_ref}"),
            invoice=show(change.invoice or ""),
            balance=money(change.balance, change.currency),
        )
    )
    return 0


def _cmd_waive(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import charges

    args = ctx.args
    try:
        charge_id = uuid.UUID(args.charge)
    except ValueError:
        raise CliError(_("not a charge id: {text}").format(text=show(args.charge[:64]))) from None
    ctx.actor()
    settings = ctx.load_settings()
    amount = None
    if args.amount is not None:
        currency = ctx.run(charges.charge_currency, charge_id=charge_id)
        # An unknown id: the service says there is no such charge.
        amount = parse_money(args.amount, currency, settings.locale).minor if currency else 0
    change = ctx.run(charges.waive_charge, charge_id=charge_id, amount=amount, reason=args.reason)
    if args.json:
        ctx.json(_change_json(change))
        return 0
    waived = _("waived {amount} of {component} (waiver {id}); balance {balance}, status {status}")
    ctx.print(
        waived.format(
            amount=money(change.amount, change.currency),
            component=word(CHARGE_COMPONENTS, change.component),
            id=change.charge_id,
            balance=money(change.balance, change.currency),
            status=case_status_label(change.case_status),
        )
    )
    return 0


def _view_json(view: ChargeView) -> dict[str, Any]:
    currency = view.currency
    return {
        "id": str(view.id),
        "client_ref": view.client_ref,
        "component": view.component,
        "invoice": view.invoice,
        "currency": currency,
        "amount": decimal(view.amount, currency),
        "waived": decimal(view.waived, currency),
        "reason": view.reason,
        "waives": str(view.voids_id) if view.voids_id else None,
        "created_by": view.created_by,
        "created_at": iso_utc(view.created_at),
    }


def _cmd_list(ctx: Context) -> int:
    from collector_tui.services.casework import cases, charges

    args = ctx.args
    ctx.actor()
    case = ctx.run(cases.resolve_case, reference=args.case)
    views = ctx.run(charges.list_charges, case_id=case.case_id)
    if args.json:
        ctx.json([_view_json(view) for view in views])
        return 0
    if not views:
        ctx.print(_("no charges"))
    for view in views:
        kind = "waiver" if view.voids_id else "charge"
        ctx.print(
            "  ".join(
                (
                    str(view.id),
                    pad(word(CHARGE_KINDS, kind), 6),
                    pad(word(CHARGE_COMPONENTS, view.component), 8),
                    f"{money(view.amount, view.currency):>16}",
                    pad(view.invoice or "-", 12),
                    pad(view.created_by or "-", 10),
                    view.created_at.date().isoformat(),
                    show(view.reason),
                )
            )
        )
    return 0
