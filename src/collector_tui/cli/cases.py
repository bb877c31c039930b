"""The day's work on cases.

    collector-tui queue [--agent NAME] [--limit N] [--held] [--json]   an agent's call queue
    collector-tui log CASE_REF --disposition CODE [--promise AMOUNT@DATE] [--follow-up ISO
                      [--reason TEXT]] [--note TEXT] [--phone E164] [--at ISO] [--channel C]
                      [--inbound] [--duration SECONDS] [--json]        a contact attempt
    collector-tui payment CASE_REF AMOUNT [--on DATE] [--reference TEXT] [--method M] [--json]
    collector-tui payment reverse PAYMENT_ID --reason bounced|chargeback|error [--json]
                                                 (supervisors; a case whose reference is
                                                 "reverse" is CLIENT/reverse or its id)
    collector-tui assign CASE_REF... --to NAME|none [--reason TEXT] [--json]   (supervisors)
    collector-tui sweep [--json]                 judge due promises: kept, partial or broken

Each command that changes data does it in one transaction; an agent's command touches only that
agent's cases.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from collector_tui.cli.arguments import (
    Commands,
    day_value,
    instant_value,
    limit_value,
    promise_value,
)
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, UsageError, decimal, local, money, pad, show
from collector_tui.i18n import gettext as _
from collector_tui.labels import case_status_label
from collector_tui.services.errors import Forbidden

if TYPE_CHECKING:
    from collector_tui.services.casework.queue import QueueEntry

__all__ = ["QUEUE_MAX", "register"]

QUEUE_MAX = 500


def register(commands: Commands) -> None:
    about = _("print an agent's call queue")
    queue = commands.add("queue", _cmd_queue, help=about, description=about)
    queue.add_argument("--agent", metavar="NAME", help=_("whose queue (default: yours)"))
    queue.add_argument("--json", action="store_true", help=_("print JSON"))
    queue.add_argument(
        "--limit",
        type=limit_value(QUEUE_MAX),
        default=50,
        metavar="N",
        help=_("callable cases, 1-500"),
    )
    queue.add_argument("--held", action="store_true", help=_("add the held cases and why"))

    about = _("log a contact attempt (e.g. a dialer's result)")
    log = commands.add("log", _cmd_log, help=about, description=about)
    log.add_argument("case", metavar="CASE_REF", help=_("client reference, CLIENT/REF, or case id"))
    log.add_argument("--disposition", required=True, metavar="CODE")
    log.add_argument("--note", metavar="TEXT")
    log.add_argument("--phone", metavar="E164", help=_("the number dialled"))
    log.add_argument(
        "--at", type=instant_value("--at"), metavar="ISO", help=_("when (default: now)")
    )
    log.add_argument(
        "--promise", type=promise_value, metavar="AMOUNT@DATE", help=_("e.g. 500.00@2026-12-01")
    )
    log.add_argument(
        "--follow-up", type=instant_value("--follow-up"), metavar="ISO", help=_("when to call back")
    )
    log.add_argument("--reason", metavar="TEXT", help=_("why to call back (with --follow-up)"))
    log.add_argument("--channel", default="call", metavar="CHANNEL", help=_("call, sms, ..."))
    log.add_argument("--inbound", action="store_true", help=_("the debtor called us"))
    log.add_argument("--duration", type=int, metavar="SECONDS")
    log.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("post a payment received, or reverse one (`payment reverse PAYMENT_ID --reason R`)")
    payment = commands.add("payment", _cmd_payment, help=about, description=about)
    payment.add_argument("case", metavar="CASE_REF", help=_("the case, or `reverse`"))
    payment.add_argument(
        "amount",
        metavar="AMOUNT",
        help=_("in the case's currency, e.g. 1234.50 (after `reverse`: the payment's id)"),
    )
    payment.add_argument(
        "--reason", metavar="R", help=_("with `reverse`: bounced, chargeback or error")
    )
    payment.add_argument(
        "--on", type=day_value("--on"), metavar="DATE", help=_("received (default: today)")
    )
    payment.add_argument("--reference", metavar="TEXT", help=_("bank reference (no duplicates)"))
    payment.add_argument("--method", metavar="M", help=_("bank transfer, card, ..."))
    payment.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("give cases to a user (supervisors)")
    assign = commands.add("assign", _cmd_assign, help=about, description=about)
    assign.add_argument("cases", metavar="CASE_REF", nargs="+")
    assign.add_argument(
        "--to", required=True, metavar="NAME", help=_("a user, or none to unassign")
    )
    assign.add_argument("--reason", metavar="TEXT")
    assign.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("judge due promises: kept, partial or broken")
    sweep = commands.add("sweep", _cmd_sweep, help=about, description=about)
    sweep.add_argument("--json", action="store_true", help=_("print the result as JSON"))


# --- queue ---------------------------------------------------------------------------------------


def _queue_line(position: str, entry: QueueEntry, zone: str) -> str:
    waiting = (
        " " + _("(from {time})").format(time=local(entry.callable_at, zone))
        if entry.callable_at
        else ""
    )
    return "  ".join(
        (
            pad(position, 4),
            pad(entry.tier_name, 16),
            f"{entry.score:>5}",
            pad(f"{entry.client}/{entry.client_ref}", 26),
            pad(entry.debtor, 22),
            f"{money(entry.balance, entry.currency):>18}",
            pad(case_status_label(entry.status), 8),
            show(entry.reason) + waiting,
        )
    )


def _cmd_queue(ctx: Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.casework import queue

    args = ctx.args
    actor = ctx.actor()
    ctx.open()
    own = not args.agent or accounts.username_key(args.agent) == accounts.username_key(
        actor.username
    )
    if not actor.is_supervisor and not own:  # before the look-up: no oracle of user names
        raise Forbidden(_("agents see only their own queue"))
    agent = ctx.run(accounts.get_actor, username=args.agent) if args.agent else actor
    page = ctx.run(
        queue.build_queue, agent_id=agent.user_id, limit=args.limit, include_held=args.held
    )
    if args.json:
        entries = [queue.entry_json(entry) for entry in page.entries]
        if args.held:
            entries += [queue.entry_json(entry) for entry in page.held]
        ctx.json(entries)
        return 0
    counts = page.counts
    ctx.print(
        _(
            "queue of {agent} at {time} ({zone}): {to_call} to call, {follow_ups} follow-ups "
            "due, {broken} broken promises, {held} held"
        ).format(
            agent=show(agent.username),
            time=local(ctx.now(), actor.time_zone),
            zone=actor.time_zone,
            to_call=len(page.entries),
            follow_ups=counts.follow_ups_due,
            broken=counts.broken_promises,
            held=counts.held,
        )
    )
    for number, entry in enumerate(page.entries, start=1):
        ctx.print(_queue_line(str(number), entry, actor.time_zone))
    if args.held:
        ctx.print(_("held:"))
        for entry in page.held:
            ctx.print(_queue_line("-", entry, actor.time_zone))
    return 0


# --- log, payment --------------------------------------------------------------------------------


def _cmd_log(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import activities, cases
    from collector_tui.services.casework.followups import FollowUpInput
    from collector_tui.services.casework.promises import PromiseInput

    args = ctx.args
    if args.reason is not None and args.follow_up is None:
        raise UsageError(_("--reason goes with --follow-up"))
    actor = ctx.actor()
    settings = ctx.load_settings()
    case = ctx.run(cases.resolve_case, reference=args.case)
    promise = None
    if args.promise is not None:
        amount_text, due = args.promise
        amount = parse_money(amount_text, case.currency, settings.locale)
        promise = PromiseInput(amount=amount.minor, due_date=due)
    follow_up = (
        FollowUpInput(due_at=args.follow_up, reason=args.reason or "")
        if args.follow_up is not None
        else None
    )
    logged = ctx.run(
        activities.log_contact,
        case_id=case.case_id,
        contact=activities.ContactInput(
            disposition=args.disposition,
            channel=args.channel,
            direction="inbound" if args.inbound else "outbound",
            phone_e164=args.phone,
            note=args.note,
            duration_s=args.duration,
            occurred_at=args.at,
            promise=promise,
            follow_up=follow_up,
        ),
    )
    reference = f"{case.client}/{case.client_ref}"
    currency = case.currency
    if args.json:
        ctx.json(
            {
                "activity_id": str(logged.activity_id),
                "case_id": str(case.case_id),
                "client": case.client,
                "client_ref": case.client_ref,
                "case_status": logged.case_status,
                "promise_ids": [str(i) for i in logged.promise_ids],
                "plan_id": str(logged.plan_id) if logged.plan_id else None,
                "follow_up_id": str(logged.follow_up_id) if logged.follow_up_id else None,
                "hold_ids": [str(i) for i in logged.hold_ids],
            }
        )
        return 0
    parts = [
        _("logged {disposition} on {reference}; status {status}").format(
            disposition=args.disposition, reference=show(reference), status=logged.case_status
        )
    ]
    if promise is not None:
        parts.append(
            _("promise of {amount} due {day}").format(
                amount=money(promise.amount, currency), day=promise.due_date.isoformat()
            )
        )
    if logged.follow_up_id is not None and follow_up is not None:
        parts.append(
            _("follow-up at {time} {zone}").format(
                time=local(follow_up.due_at, actor.time_zone), zone=actor.time_zone
            )
        )
    if logged.hold_ids:
        parts.append(_("hold placed"))
    ctx.print("; ".join(parts))
    return 0


def _cmd_payment(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import cases, payments

    args = ctx.args
    # `payment reverse ID` shares the command with `payment CASE_REF AMOUNT` (the older form):
    # the word `reverse` in the case's place says which.
    if args.case == "reverse":
        return _reverse_payment(ctx)
    if args.reason is not None:
        raise UsageError(_("--reason goes with `payment reverse PAYMENT_ID`"))
    ctx.actor()
    settings = ctx.load_settings()
    now = ctx.now()
    received_on = args.on or now.astimezone(UTC).date()
    case = ctx.run(cases.resolve_case, reference=args.case)
    amount = parse_money(args.amount, case.currency, settings.locale)
    posted = ctx.run(
        payments.post_payment,
        now=now,
        case_id=case.case_id,
        amount=amount.minor,
        received_on=received_on,
        method=args.method,
        reference=args.reference,
    )
    reference = f"{case.client}/{case.client_ref}"
    currency = case.currency
    if args.json:
        ctx.json(
            {
                "payment_id": str(posted.payment_id),
                "case_id": str(case.case_id),
                "client": case.client,
                "client_ref": case.client_ref,
                "currency": currency,
                "amount": decimal(amount.minor, currency),
                "received_on": received_on.isoformat(),
                "balance_after": decimal(posted.balance_after, currency),
                "case_status": posted.case_status,
                "allocations": [
                    {"promise_id": str(promise_id), "amount": decimal(part, currency)}
                    for promise_id, part in posted.allocations
                ],
            }
        )
        return 0
    ctx.print(
        f"posted {money(amount.minor, currency)} to {show(reference)} on "
        f"{received_on.isoformat()}: balance {money(posted.balance_after, currency)}, "
        f"status {posted.case_status}, {len(posted.allocations)} promise(s) paid into"
    )
    return 0


def _reverse_payment(ctx: Context) -> int:
    import uuid

    from collector_tui.services.casework import reversals

    args = ctx.args
    extra = [name for name in ("on", "reference", "method") if getattr(args, name) is not None]
    if extra:
        raise UsageError(_("--{option} does not go with `payment reverse`").format(option=extra[0]))
    if args.reason is None:
        raise UsageError(_("payment reverse needs --reason bounced|chargeback|error"))
    try:
        payment_id = uuid.UUID(args.amount)
    except ValueError:
        raise CliError(_("not a payment id: {text}").format(text=show(args.amount[:64]))) from None
    ctx.actor()
    done = ctx.run(reversals.reverse_payment, payment_id=payment_id, reason=args.reason)
    currency = done.currency
    if args.json:
        ctx.json(
            {
                "reversal_id": str(done.reversal_id),
                "payment_id": str(done.payment_id),
                "amount": decimal(done.amount, currency),
                "currency": currency,
                "reason": done.reason,
                "balance_after": decimal(done.balance_after, currency),
                "case_status": done.case_status,
                "promises": [
                    {"promise_id": str(promise_id), "status": status}
                    for promise_id, status in done.promises
                ],
                "follow_up_id": str(done.follow_up_id) if done.follow_up_id else None,
            }
        )
        return 0
    ctx.print(
        f"reversed payment {done.payment_id} of {money(done.amount, currency)} ({done.reason}): "
        f"balance {money(done.balance_after, currency)}, status {done.case_status}, "
        f"{len(done.promises)} promise(s) judged again"
    )
    return 0


# --- assign, sweep -------------------------------------------------------------------------------


def _cmd_assign(ctx: Context) -> int:
    from collector_tui.services import accounts
    from collector_tui.services.casework import cases
    from collector_tui.services.supervision import assignment

    args = ctx.args
    ctx.actor()
    case_ids = [ctx.run(cases.resolve_case, reference=ref).case_id for ref in args.cases]
    unassign = args.to.strip().lower() == "none"
    target = None if unassign else ctx.run(accounts.get_actor, username=args.to)
    moved = ctx.run(
        assignment.assign_cases,
        case_ids=case_ids,
        to_user_id=target.user_id if target else None,
        reason=args.reason,
    )
    to_name = target.username if target else None
    if args.json:
        ctx.json({"moved": moved, "cases": len(set(case_ids)), "to": to_name})
    else:
        total = len(set(case_ids))
        if to_name:
            line = _("moved {moved} of {total} case(s) to {name}").format(
                moved=moved, total=total, name=show(to_name)
            )
        else:
            line = _("moved {moved} of {total} case(s) to nobody (unassigned)").format(
                moved=moved, total=total
            )
        ctx.print(line)
    return 0


def _cmd_sweep(ctx: Context) -> int:
    from collector_tui.services.casework import sweep

    actor = ctx.actor()
    now = ctx.now()
    # An agent's command touches only that agent's cases.
    agent_id = None if actor.is_supervisor else actor.user_id
    result = ctx.run(sweep.sweep, now=now, agent_id=agent_id)
    if ctx.args.json:
        ctx.json(
            {
                "at": now.astimezone(UTC).isoformat(),
                "kept": result.kept,
                "partial": result.partial,
                "broken": result.broken,
            }
        )
    else:
        ctx.print(
            f"sweep at {local(now, actor.time_zone)} ({actor.time_zone}): kept {result.kept}, "
            f"partial {result.partial}, broken {result.broken}"
        )
    return 0
