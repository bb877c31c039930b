"""Corrections from the command line.

    collector-tui hold release CASE_REF --kind KIND --reason TEXT [--json]
    collector-tui contact void ACTIVITY_ID --reason TEXT [--json]
    collector-tui promise withdraw PROMISE_ID --reason TEXT [--json]
    collector-tui plan cancel PLAN_ID --reason TEXT [--json]
    collector-tui plan reschedule PLAN_ID --installments N --first DATE
                  [--every monthly|biweekly|weekly] [--total AMOUNT] --reason TEXT [--json]
    collector-tui followup move FOLLOW_UP_ID --to ISO [--reason TEXT] [--json]

Ids are the UUIDs that `log --json`, `export` and `history` print. A rescheduled plan's total
defaults to what the old plan's pending installments still owe. Each handler parses, does one unit
of work and prints; refusals are ServiceErrors that the command line prints as one line.
"""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands, day_value, instant_value
from collector_tui.cli.context import Context, Handler
from collector_tui.cli.output import decimal, local, show
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.services.casework.corrections import Correction

__all__ = ["register"]

# casework.promises.INSTALLMENT_INTERVALS, written out so that building the parser imports no
# service (start-up time); tests/cli/test_corrections_cli.py holds the two equal.
INTERVALS = ("monthly", "biweekly", "weekly")

HOLD_KINDS = ("cease", "dispute", "complaint", "hardship", "legal", "bankruptcy", "deceased")


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not an id (a UUID): {text}").format(text=repr(text))
        ) from None


def _installments(text: str) -> int:
    from collector_tui.services.casework.promises import MAX_INSTALLMENTS, MIN_INSTALLMENTS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a whole number: {text}").format(text=repr(text))
        ) from None
    if not MIN_INSTALLMENTS <= value <= MAX_INSTALLMENTS:
        raise argparse.ArgumentTypeError(
            _("choose {min} to {max}").format(min=MIN_INSTALLMENTS, max=MAX_INSTALLMENTS)
        )
    return value


def register(commands: Commands) -> None:
    """`hold`, `contact`, `promise`, `plan` and `followup`, each with its actions."""

    def group(name: str, help_text: str, example: str) -> Commands:
        return commands.group(
            name,
            help=help_text,
            description=help_text,
            dest=f"{name}_command",
            without_action=_("{name}: say what to do, e.g. `{example}`").format(
                name=name, example=example
            ),
        )

    def action(
        actions: Commands, name: str, help_text: str, handler: Handler
    ) -> argparse.ArgumentParser:
        parser = actions.add(name, handler, help=help_text, description=help_text)
        parser.add_argument("--json", action="store_true", help=_("print JSON"))
        return parser

    holds = group(
        "hold", _("holds on a case"), "hold release CASE_REF --kind dispute --reason TEXT"
    )
    release = action(
        holds,
        "release",
        _("lift a case's holds of one kind (agents: hardship; supervisors: any), or end a dispute"),
        _cmd_hold_release,
    )
    release.add_argument("case", metavar="CASE_REF")
    release.add_argument("--kind", required=True, choices=HOLD_KINDS, metavar="KIND")
    release.add_argument("--reason", required=True, metavar="TEXT")

    contacts = group("contact", _("logged contacts"), "contact void ACTIVITY_ID --reason TEXT")
    void = action(
        contacts,
        "void",
        _("void a wrongly logged contact (it stays, marked void; its own effects are undone)"),
        _cmd_contact_void,
    )
    void.add_argument("activity", metavar="ACTIVITY_ID", type=_uuid)
    void.add_argument("--reason", required=True, metavar="TEXT")

    promise = group("promise", _("promises to pay"), "promise withdraw PROMISE_ID --reason TEXT")
    withdraw = action(promise, "withdraw", _("withdraw a pending promise"), _cmd_promise_withdraw)
    withdraw.add_argument("promise", metavar="PROMISE_ID", type=_uuid)
    withdraw.add_argument("--reason", required=True, metavar="TEXT")

    plans = group("plan", _("payment plans"), "plan cancel PLAN_ID --reason TEXT")
    cancel = action(plans, "cancel", _("cancel an active payment plan"), _cmd_plan_cancel)
    cancel.add_argument("plan", metavar="PLAN_ID", type=_uuid)
    cancel.add_argument("--reason", required=True, metavar="TEXT")
    reschedule = action(
        plans,
        "reschedule",
        _("replace an active plan by a new schedule (the old one is cancelled)"),
        _cmd_plan_reschedule,
    )
    reschedule.add_argument("plan", metavar="PLAN_ID", type=_uuid)
    reschedule.add_argument("--installments", required=True, type=_installments, metavar="N")
    reschedule.add_argument("--first", required=True, type=day_value("--first"), metavar="DATE")
    reschedule.add_argument("--every", choices=INTERVALS, default="monthly")
    reschedule.add_argument(
        "--total", metavar="AMOUNT", help=_("default: what the old plan still owes")
    )
    reschedule.add_argument("--reason", required=True, metavar="TEXT")

    followups = group("followup", _("follow-ups (callbacks)"), "followup move ID --to ISO")
    move = action(followups, "move", _("give an open follow-up a new due time"), _cmd_followup_move)
    move.add_argument("follow_up", metavar="FOLLOW_UP_ID", type=_uuid)
    move.add_argument("--to", required=True, type=instant_value("--to"), metavar="ISO")
    move.add_argument("--reason", metavar="TEXT")


def _answer(ctx: Context, done: Correction, text: str, **extra: Any) -> int:
    if ctx.args.json:
        ctx.json(
            {
                "id": str(done.row_id),
                "case_id": str(done.case_id),
                "client_ref": done.client_ref,
                "case_status": done.case_status,
                **extra,
            }
        )
    else:
        ctx.print(
            _("{what} on {client_ref}; status {status}").format(
                what=text, client_ref=show(done.client_ref), status=done.case_status
            )
        )
    return 0


def _cmd_hold_release(ctx: Context) -> int:
    from collector_tui.services.casework import cases, holds

    args = ctx.args
    ctx.actor()
    case = ctx.run(cases.resolve_case, reference=args.case)
    done = ctx.run(holds.release_holds, case_id=case.case_id, kind=args.kind, reason=args.reason)
    if args.json:
        ctx.json(
            {
                "case_id": str(done.case_id),
                "client_ref": done.client_ref,
                "kind": done.kind,
                "hold_ids": [str(i) for i in done.hold_ids],
                "case_status": done.case_status,
            }
        )
    else:
        if done.kind == "dispute":
            what = _("dispute ended")
        else:
            what = _("{kind} hold lifted").format(kind=done.kind)
        ctx.print(
            _("{what} on {client_ref}; status {status}").format(
                what=what, client_ref=show(done.client_ref), status=done.case_status
            )
        )
    return 0


def _cmd_contact_void(ctx: Context) -> int:
    from collector_tui.services.casework import corrections

    ctx.actor()
    done = ctx.run(
        corrections.void_contact,
        activity_id=ctx.args.activity,
        reason=ctx.args.reason,
    )
    return _answer(ctx, done, "contact voided", voids_id=str(ctx.args.activity))


def _cmd_promise_withdraw(ctx: Context) -> int:
    from collector_tui.services.casework import corrections

    ctx.actor()
    done = ctx.run(
        corrections.withdraw_promise,
        promise_id=ctx.args.promise,
        reason=ctx.args.reason,
    )
    return _answer(ctx, done, "promise withdrawn", promise_status="cancelled")


def _cmd_plan_cancel(ctx: Context) -> int:
    from collector_tui.services.casework import corrections

    ctx.actor()
    done = ctx.run(
        corrections.cancel_plan,
        plan_id=ctx.args.plan,
        reason=ctx.args.reason,
    )
    return _answer(ctx, done, "payment plan cancelled", plan_status="cancelled")


def _cmd_plan_reschedule(ctx: Context) -> int:
    from collector_tui.money import parse_money
    from collector_tui.services.casework import corrections
    from collector_tui.services.casework.promises import PlanInput, PromiseInput, even_installments

    args = ctx.args
    ctx.actor()
    old = ctx.run(corrections.plan_to_reschedule, plan_id=args.plan)
    total = (
        old.remainder
        if args.total is None
        else parse_money(args.total, old.currency, ctx.load_settings().locale).minor
    )
    rows = even_installments(total, args.installments, args.first, args.every)
    done = ctx.run(
        corrections.reschedule_plan,
        plan_id=args.plan,
        plan=PlanInput(tuple(PromiseInput(amount, due) for due, amount in rows)),
        reason=args.reason,
        expected_version=old.version,
    )
    return _answer(
        ctx,
        done,
        f"plan rescheduled: {len(rows)} installments from {args.first.isoformat()} "
        f"(new plan {done.row_id})",
        replaces=str(args.plan),
        installments=[
            {"due_date": due.isoformat(), "amount": decimal(amount, old.currency)}
            for due, amount in rows
        ],
    )


def _cmd_followup_move(ctx: Context) -> int:
    from collector_tui.services.casework import corrections

    actor = ctx.actor()
    done = ctx.run(
        corrections.move_follow_up,
        follow_up_id=ctx.args.follow_up,
        due_at=ctx.args.to,
        reason=ctx.args.reason,
    )
    due = ctx.args.to
    return _answer(
        ctx,
        done,
        f"follow-up moved to {local(due, actor.time_zone)} {actor.time_zone}",
        due_at=due.isoformat(),
    )
