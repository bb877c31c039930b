"""Supervisors' commands.

    collector-tui workload [--json]                       every agent's load (an agent: their own)
    collector-tui workload check [--fix] [--json]         the counters against a full recount
    collector-tui cases [--agent NAME|none] [--status S] [--aging BUCKET] [--country CC]
                        [--currency CUR --min AMOUNT --max AMOUNT] [--routed] [--limit N] [--json]
    collector-tui balance --to NAME,NAME [CASE_REF...] [--reason TEXT] [--json]
                                                          spread the cases (default: every open
                                                          unassigned case) over the agents
    collector-tui route CASE_REF --reason TEXT [--legal]  send a case to the supervisors
    collector-tui decide CASE_REF legal|write-off|close|unroute --reason TEXT [--json]
    collector-tui settle CASE_REF AMOUNT@DATE [--note TEXT] [--json]
    collector-tui approve CASE_REF [--reject] [--note TEXT] [--json]
    collector-tui routed [--json]                         routed cases, settlements waiting
    collector-tui history CASE_REF [--json]               the case's audit trail
    collector-tui erase CASE_REF --reason TEXT [--json]   a closed case's debtor's personal data

(`user limit`, an agent's settlement limit, is with the users in users.py.) Each handler parses,
does one unit of work and prints; refusals are ServiceErrors that the command line prints as one
line. JSON money is a decimal string ("1234.50"), instants ISO in UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands, limit_value, promise_value
from collector_tui.cli.context import Context, Handler
from collector_tui.cli.output import (
    UsageError,
    align_right,
    cell_len,
    day_text,
    decimal,
    iso_utc,
    local,
    money,
    pad,
    show,
)
from collector_tui.i18n import gettext as _
from collector_tui.i18n import pgettext
from collector_tui.labels import case_status_label, outcome_label

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from collector_tui.services.casework.settlements import SettlementView
    from collector_tui.services.supervision.decisions import CaseDecision

__all__ = ["register"]

DECISIONS = ("legal", "write-off", "close", "unroute")
# The figures of a workload counter, in CounterDifference's order (JSON keys).
FIGURES = ("open_cases", "open_balance", "pending_promises")
ATTEMPT_FIGURES = ("attempts", "contacts")
CASES_MAX = 500


def register(commands: Commands) -> None:
    def command(name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
        return commands.add(name, handler, help=help_text, description=help_text)

    workload = command("workload", _("every agent's workload (supervisors)"), _cmd_workload)
    workload.add_argument(
        "check",
        nargs="?",
        choices=("check",),
        metavar="check",
        help=_("compare the workload counters with a full recount of the cases (supervisors)"),
    )
    workload.add_argument(
        "--fix",
        action="store_true",
        help=_("with check: rewrite the counters from the recount"),
    )
    workload.add_argument("--json", action="store_true", help=_("print JSON"))

    cases = command("cases", _("browse cases with filters (agents: their own)"), _cmd_cases)
    cases.add_argument("--agent", metavar="NAME", help=_("one agent's cases; none: unassigned"))
    cases.add_argument("--status", default="open", help=_("a status, or open|closed|all"))
    cases.add_argument("--aging", metavar="BUCKET", help=_("current, 1-30, 31-60, 61-90, ..."))
    cases.add_argument("--country", metavar="CC", help=_("debtor's country, e.g. CN"))
    cases.add_argument("--currency", metavar="CUR", help=_("needed by --min/--max"))
    cases.add_argument("--min", dest="balance_min", metavar="AMOUNT", help=_("lowest balance"))
    cases.add_argument("--max", dest="balance_max", metavar="AMOUNT", help=_("highest balance"))
    cases.add_argument("--routed", action="store_true", help=_("only cases routed to supervisors"))
    cases.add_argument(
        "--limit", type=limit_value(CASES_MAX), default=100, metavar="N", help=_("1-500")
    )
    cases.add_argument("--json", action="store_true", help=_("print JSON"))

    balance = command(
        "balance",
        _(
            "spread cases over agents by count and balance (supervisors); without CASE_REF, every "
            "open unassigned case"
        ),
        _cmd_balance,
    )
    balance.add_argument("cases", metavar="CASE_REF", nargs="*")
    balance.add_argument("--to", required=True, metavar="NAME,NAME", help=_("the agents"))
    balance.add_argument("--reason", metavar="TEXT")
    balance.add_argument("--json", action="store_true", help=_("print JSON"))

    route = command("route", _("send a case to the supervisors"), _cmd_route)
    route.add_argument("case", metavar="CASE_REF")
    route.add_argument("--reason", required=True, metavar="TEXT")
    route.add_argument("--legal", action="store_true", help=_("ask for legal escalation"))
    route.add_argument("--json", action="store_true", help=_("print JSON"))

    decide = command("decide", _("a supervisor's decision on a case"), _cmd_decide)
    decide.add_argument("case", metavar="CASE_REF")
    decide.add_argument("decision", choices=DECISIONS, metavar="|".join(DECISIONS))
    decide.add_argument("--reason", metavar="TEXT", help=_("required except for unroute"))
    decide.add_argument("--json", action="store_true", help=_("print JSON"))

    settle = command(
        "settle", _("agree to close a case for less than its balance (full and final)"), _cmd_settle
    )
    settle.add_argument("case", metavar="CASE_REF")
    settle.add_argument("terms", type=promise_value, metavar="AMOUNT@DATE")
    settle.add_argument("--note", metavar="TEXT")
    settle.add_argument("--json", action="store_true", help=_("print JSON"))

    approve = command(
        "approve",
        _("approve (or --reject) a case's settlement waiting (supervisors)"),
        _cmd_approve,
    )
    approve.add_argument("case", metavar="CASE_REF")
    approve.add_argument("--reject", action="store_true")
    approve.add_argument("--note", metavar="TEXT")
    approve.add_argument("--json", action="store_true", help=_("print JSON"))

    routed = command(
        "routed", _("cases routed to the supervisors and settlements waiting"), _cmd_routed
    )
    routed.add_argument("--json", action="store_true", help=_("print JSON"))

    history = command("history", _("a case's audit trail, newest first"), _cmd_history)
    history.add_argument("case", metavar="CASE_REF")
    history.add_argument("--json", action="store_true", help=_("print JSON"))
    erase = command(
        "erase",
        _("remove a closed case's debtor's personal data on request (amounts and dates stay)"),
        _cmd_erase,
    )
    erase.add_argument("case", metavar="CASE_REF")
    erase.add_argument(
        "--reason", required=True, metavar="TEXT", help=_("the request, for the audit")
    )
    erase.add_argument("--json", action="store_true", help=_("print JSON"))


# --- helpers -------------------------------------------------------------------------------------


def _decision_json(decision: CaseDecision) -> dict[str, Any]:
    return {
        "case_id": str(decision.case_id),
        "client_ref": decision.client_ref,
        "status": decision.status,
        "routed_reason": decision.routed_reason,
        "version": decision.version,
    }


def _settlement_json(view: SettlementView) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "case_id": str(view.case_id),
        "client_ref": view.client_ref,
        "debtor": view.debtor,
        "currency": view.currency,
        "amount": decimal(view.amount, view.currency),
        "balance": decimal(view.balance, view.currency),
        "discount_pct": str(view.discount_pct),
        "due_date": day_text(view.due_date),
        "status": view.status,
        "requested_by": view.requested_by,
        "requested_at": iso_utc(view.requested_at),
        "decided_by": view.decided_by,
        "decided_at": iso_utc(view.decided_at),
        "note": view.note,
        "decision_note": view.decision_note,
    }


def _settlement_line(view: SettlementView) -> str:
    # The percent sign goes with the figure: "% o" in a message reads as a printf conversion.
    line = _("{case}: {amount} by {day} instead of {balance} ({discount} off), {status}").format(
        case=show(view.client_ref),
        amount=money(view.amount, view.currency),
        day=view.due_date.isoformat(),
        balance=money(view.balance, view.currency),
        discount=f"{view.discount_pct}%",
        status=outcome_label(view.status),
    )
    if view.requested_by:
        line += _(", asked by {user}").format(user=show(view.requested_by))
    return line


def _minor(text: str | None, currency: str | None, locale: str) -> int | None:
    if text is None:
        return None
    from collector_tui.money import parse_money
    from collector_tui.services.errors import InvalidInput

    if not currency:
        raise InvalidInput("--min and --max need --currency", field="currency")
    return parse_money(text, currency.upper(), locale).minor


# --- commands ------------------------------------------------------------------------------------


def _cmd_workload(ctx: Context) -> int:
    from collector_tui.services.supervision import workload

    if ctx.args.check:
        return _workload_check(ctx)
    if ctx.args.fix:
        raise UsageError(_("--fix goes with `workload check`"))
    ctx.actor()
    rows = ctx.run(workload.agent_workloads)
    if ctx.args.json:
        ctx.json(
            [
                {
                    "agent": row.username,
                    "open_cases": row.open_cases,
                    "balances": [
                        {"currency": b.currency, "balance": decimal(b.amount, b.currency)}
                        for b in row.balances
                    ],
                    "follow_ups_due": row.follow_ups_due,
                    "pending_promises": row.pending_promises,
                    "attempts_today": row.attempts_today,
                    "contacts_today": row.contacts_today,
                }
                for row in rows
            ]
        )
        return 0
    # The header in the reader's language, each column as wide as its English one or its
    # label, whichever takes more cells (a Chinese label is two cells a character).
    headers = [
        _("agent"),
        _("open"),
        pgettext("workload", "due"),
        pgettext("workload", "prom"),
        pgettext("workload", "tries"),
        pgettext("workload", "rpc"),
    ]
    widths = [max(w, cell_len(h)) for w, h in zip((16, 5, 4, 4, 5, 4), headers, strict=True)]
    name_width, *count_widths = widths
    ctx.print(
        " ".join(
            [pad(headers[0], name_width)]
            + [align_right(h, w) for h, w in zip(headers[1:], count_widths, strict=True)]
        )
        + "  "
        + _("balance")
    )
    for row in rows:
        name = row.username or _("(unassigned)")
        balances = ", ".join(money(b.amount, b.currency) for b in row.balances) or "-"
        counts = (
            row.open_cases,
            row.follow_ups_due,
            row.pending_promises,
            row.attempts_today,
            row.contacts_today,
        )
        ctx.print(
            " ".join(
                [pad(name, name_width)]
                + [align_right(str(n), w) for n, w in zip(counts, count_widths, strict=True)]
            )
            + f"  {balances}"
        )
    return 0


def _workload_check(ctx: Context) -> int:
    """Exit 0 when the counters equal the recount (or were just fixed), 1 when they differ."""
    from collector_tui.services.supervision import workload

    ctx.actor()
    service = workload.fix_counters if ctx.args.fix else workload.check_counters
    found = ctx.run(service)
    if ctx.args.json:
        ctx.json(
            {
                "equal": found.equal,
                "fixed": found.fixed,
                "open_cases": found.open_cases,
                "pending_promises": found.pending_promises,
                "differences": [
                    {
                        "agent_id": d.agent_id.hex if d.agent_id else None,
                        "currency": d.currency,
                        "stored": dict(zip(FIGURES, d.stored, strict=True)),
                        "counted": dict(zip(FIGURES, d.counted, strict=True)),
                    }
                    for d in found.differences
                ],
                "attempts": found.attempts,
                "attempt_differences": [
                    {
                        "user_id": d.user_id.hex,
                        "stored": dict(zip(ATTEMPT_FIGURES, d.stored, strict=True)),
                        "counted": dict(zip(ATTEMPT_FIGURES, d.counted, strict=True)),
                    }
                    for d in found.attempt_differences
                ],
            }
        )
    else:
        for d in found.differences:
            agent = d.agent_id.hex if d.agent_id else _("(unassigned)")
            ctx.print(
                _("{agent} {currency}: stored {stored}, counted {counted}").format(
                    agent=agent, currency=d.currency, stored=d.stored, counted=d.counted
                )
            )
        for a in found.attempt_differences:
            ctx.print(
                _(
                    "{user} attempts, right-party contacts: stored {stored}, counted {counted}"
                ).format(user=a.user_id.hex, stored=a.stored, counted=a.counted)
            )
        differing = len(found.differences) + len(found.attempt_differences)
        if found.equal:
            ctx.print(
                _("the counters equal a full recount: {cases} open cases, {promises} pending "
                  "promises").format(cases=found.open_cases, promises=found.pending_promises)
            )  # fmt: skip
        elif found.fixed:
            ctx.print(
                _("{count} counters differed; rewritten from the recount").format(count=differing)
            )
        else:
            ctx.print(
                _("{count} counters differ from a full recount: run `workload check --fix`").format(
                    count=differing
                )
            )
    return 0 if found.equal or found.fixed else 1


def _cmd_cases(ctx: Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.supervision import workload

    args = ctx.args
    ctx.actor()
    settings = ctx.load_settings()
    agent_id = None
    unassigned = False
    if args.agent:
        if args.agent.strip().lower() == "none":
            unassigned = True
        else:
            agent_id = ctx.run(accounts.get_actor, username=args.agent).user_id
    filters = workload.BrowserFilter(
        agent_id=agent_id,
        unassigned=unassigned,
        status=args.status,
        aging=args.aging,
        currency=args.currency,
        balance_min=_minor(args.balance_min, args.currency, settings.locale),
        balance_max=_minor(args.balance_max, args.currency, settings.locale),
        country=args.country,
        routed=args.routed,
    )
    page = ctx.run(workload.browse_cases, filters=filters, limit=args.limit)
    if args.json:
        ctx.json(
            [
                {
                    "case_id": str(row.case_id),
                    "client": row.client,
                    "client_ref": row.client_ref,
                    "debtor": row.debtor,
                    "country": row.debtor_country,
                    "currency": row.currency,
                    "balance": decimal(row.balance, row.currency),
                    "status": row.status,
                    "days_past_due": row.days_past_due,
                    "aging": row.aging,
                    "assigned_to": row.assigned_to,
                    "routed_reason": row.routed_reason,
                }
                for row in page.rows
            ]
        )
        return 0
    if page.total is not None:
        shown = _("{count} of {total}").format(count=len(page.rows), total=page.total)
    else:
        shown = str(len(page.rows))
    ctx.print(_("{shown} case(s)").format(shown=shown))
    for row in page.rows:
        ctx.print(
            f"{pad(row.client_ref, 14)} {pad(row.debtor, 20)} {row.debtor_country} "
            f"{money(row.balance, row.currency):>18} "
            f"{pad(case_status_label(row.status), 11, cut=False)} "
            f"{row.aging:>6} "
            f"{pad(row.assigned_to or '-', 10)} {show(row.routed_reason or '')}"
        )
    return 0


def _cmd_balance(ctx: Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.casework import cases
    from collector_tui.services.supervision import assignment

    args = ctx.args
    names = [name.strip() for name in args.to.split(",") if name.strip()]
    if not names:
        raise UsageError(_("--to needs at least one agent, e.g. --to alice,bob"))
    ctx.actor()
    agent_ids = [ctx.run(accounts.get_actor, username=n).user_id for n in names]
    case_ids = (
        [ctx.run(cases.resolve_case, reference=r).case_id for r in args.cases]
        if args.cases
        else None
    )
    result = ctx.run(
        assignment.auto_balance, agent_ids=agent_ids, case_ids=case_ids, reason=args.reason
    )
    if args.json:
        ctx.json(
            {
                "cases": result.considered,
                "moved": result.moved,
                "agents": [
                    {
                        "agent": share.username,
                        "cases": share.cases,
                        "balances": [
                            {"currency": cur, "balance": decimal(amount, cur)}
                            for cur, amount in share.balances
                        ],
                    }
                    for share in result.shares
                ],
            }
        )
        return 0
    if args.cases:
        spread = _("spread {considered} selected case(s), {moved} moved")
    else:
        spread = _("spread {considered} unassigned case(s), {moved} moved")
    ctx.print(spread.format(considered=result.considered, moved=result.moved))
    for share in result.shares:
        balances = ", ".join(money(amount, cur) for cur, amount in share.balances) or "-"
        ctx.print(
            _("  {name}: {cases} case(s), {balances}").format(
                name=show(share.username), cases=share.cases, balances=balances
            )
        )
    return 0


def _case_id(ctx: Context, reference: str) -> Any:
    from collector_tui.services.casework import cases

    return ctx.run(cases.resolve_case, reference=reference).case_id


def _cmd_route(ctx: Context) -> int:
    from collector_tui.services.supervision import decisions

    args = ctx.args
    ctx.actor()
    case_id = _case_id(ctx, args.case)
    act = decisions.request_legal_escalation if args.legal else decisions.route_case
    decision = ctx.run(act, case_id=case_id, reason=args.reason)
    if args.json:
        ctx.json(_decision_json(decision))
    else:
        ctx.print(
            f"routed {show(decision.client_ref)} to the supervisors: {show(decision.routed_reason)}"
        )
    return 0


def _cmd_decide(ctx: Context) -> int:
    from collector_tui.services.supervision import decisions

    args = ctx.args
    ctx.actor()
    acts: dict[str, Callable[..., CaseDecision]] = {
        "legal": decisions.escalate_to_legal,
        "write-off": decisions.write_off,
        "close": decisions.close_case,
        "unroute": decisions.unroute_case,
    }
    act = acts[args.decision]
    case_id = _case_id(ctx, args.case)
    decision = ctx.run(act, case_id=case_id, reason=args.reason)
    if args.json:
        ctx.json(_decision_json(decision))
    else:
        line = _("{client_ref}: status {status}").format(
            client_ref=show(decision.client_ref), status=decision.status
        )
        if decision.routed_reason:
            line += _(", routed: {reason}").format(reason=show(decision.routed_reason))
        ctx.print(line)
    return 0


def _cmd_settle(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import cases, settlements

    args = ctx.args
    ctx.actor()
    settings = ctx.load_settings()
    amount_text, due = args.terms
    case = ctx.run(cases.resolve_case, reference=args.case)
    amount = parse_money(amount_text, case.currency, settings.locale)
    view = ctx.run(
        settlements.request_settlement,
        case_id=case.case_id,
        amount=amount.minor,
        due_date=due,
        note=args.note,
    )
    if args.json:
        ctx.json(_settlement_json(view))
    elif view.status == "pending":
        ctx.print(
            _("waiting for a supervisor: {settlement}").format(settlement=_settlement_line(view))
        )
    else:
        ctx.print(
            _("agreed: {settlement}; promise recorded").format(settlement=_settlement_line(view))
        )
    return 0


def _cmd_approve(ctx: Context) -> int:
    from collector_tui.services.casework import settlements
    from collector_tui.services.errors import InvalidInput

    args = ctx.args
    ctx.actor()
    case_id = _case_id(ctx, args.case)
    waiting = [
        s for s in ctx.run(settlements.case_settlements, case_id=case_id) if s.status == "pending"
    ]
    if not waiting:
        raise InvalidInput(f"no settlement of {args.case} waits for approval")
    # decide_settlement refuses a settlement decided meanwhile (it reads the status again).
    view = ctx.run(
        settlements.decide_settlement,
        settlement_id=waiting[0].id,
        approve=not args.reject,
        note=args.note,
    )
    if args.json:
        ctx.json(_settlement_json(view))
    else:
        ctx.print(
            _("{outcome}: {line}").format(
                outcome=outcome_label(view.status), line=_settlement_line(view)
            )
        )
    return 0


def _cmd_routed(ctx: Context) -> int:
    from collector_tui.services.supervision import decisions

    ctx.actor()
    work = ctx.run(decisions.routed_work)
    page, waiting = work.cases, work.settlements
    if ctx.args.json:
        ctx.json(
            {
                "routed": [
                    {
                        "case_id": str(row.case_id),
                        "client": row.client,
                        "client_ref": row.client_ref,
                        "debtor": row.debtor,
                        "currency": row.currency,
                        "balance": decimal(row.balance, row.currency),
                        "status": row.status,
                        "assigned_to": row.assigned_to,
                        "routed_reason": row.routed_reason,
                    }
                    for row in page.rows
                ],
                "settlements": [_settlement_json(view) for view in waiting],
            }
        )
        return 0
    ctx.print(_("{count} case(s) routed to the supervisors").format(count=len(page.rows)))
    for row in page.rows:
        ctx.print(
            f"  {pad(row.client_ref, 14)} {pad(row.debtor, 20)} "
            f"{money(row.balance, row.currency):>18} {pad(row.assigned_to or '-', 10)} "
            f"{show(row.routed_reason)}"
        )
    ctx.print(_("{count} settlement(s) waiting for approval").format(count=len(waiting)))
    for view in waiting:
        ctx.print(f"  {_settlement_line(view)}")
    return 0


def _cmd_history(ctx: Context) -> int:
    import json

    from collector_tui.services.supervision import audit_trail

    args = ctx.args
    actor = ctx.actor()
    case_id = _case_id(ctx, args.case)
    trail = ctx.run(audit_trail.case_audit_trail, case_id=case_id)
    if args.json:
        ctx.json(
            [
                {
                    "at": iso_utc(entry.at),
                    "user": entry.user,
                    "entity": entry.entity,
                    "entity_id": entry.entity_id,
                    "action": entry.action,
                    "changes": [
                        {"field": c.name, "before": c.before, "after": c.after}
                        for c in entry.changes
                    ],
                }
                for entry in trail
            ]
        )
        return 0
    for entry in trail:
        changes = "; ".join(
            f"{c.name}: {json.dumps(c.before, ensure_ascii=False)} -> "
            f"{json.dumps(c.after, ensure_ascii=False)}"
            for c in entry.changes
        )
        ctx.print(
            f"{local(entry.at, actor.time_zone)} {show(entry.user or 'system'):<10} "
            f"{entry.entity} {entry.action}  {show(changes)}"
        )
    return 0


def _cmd_erase(ctx: Context) -> int:
    from collector_tui.services.supervision import erasure

    args = ctx.args
    ctx.actor()
    case_id = _case_id(ctx, args.case)
    done = ctx.run(erasure.erase_case, case_id=case_id, reason=args.reason)
    folded = ctx.open().checkpoint()
    from pathlib import Path

    from collector_tui.cipherfile import shred

    for letter in done.letter_files:
        shred(Path(letter))  # the sent letter's PDF: the debtor's name and address
    if args.json:
        ctx.json(
            {
                "debtor_id": str(done.debtor_id),
                "cases": done.cases,
                "rows": done.rows,
                "audit_events": done.audit_events,
                "letters_removed": len(done.letter_files),
                "wal_folded": folded,
            }
        )
    else:
        ctx.print(
            f"erased the debtor's personal data from {done.cases} case(s): {done.rows} row(s), "
            f"{done.audit_events} audit event(s) redacted"
        )
        if not folded:
            ctx.print(_("note: another program is reading the file; its old pages go at its close"))
    return 0
