"""Reminders by SMS, e-mail and letter: what is due, the send run, the outbox.

    collector-tui remind plan [--channel C ...] [--json]
    collector-tui remind send [--channel C ...] [--outbox DIR] [--json]
    collector-tui remind list [--status S ...] [--case CASE_REF] [--limit N] [--json]
    collector-tui remind queue CASE_REF --channel C --template NAME
    collector-tui remind settle ID --delivered|--not-delivered --reason TEXT
    collector-tui remind cancel ID --reason TEXT

`plan` is a dry run (services/reminders/outbox.py says what is checked); `send` queues what is
due and sends it through the channels `[delivery]` configures, letters and file-channel messages
under --outbox (default the config's outbox folder). The global --now fixes the instant.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands, limit_value
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, UsageError, iso_utc, pad, show
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.services.reminders.outbox import OutboxEntry, PlannedReminder

__all__ = ["register"]

CHANNELS = ("sms", "email", "letter")
STATUSES = ("queued", "sending", "sent", "failed", "uncertain", "skipped", "cancelled")


def register(commands: Commands) -> None:
    remind = commands.group(
        "remind",
        help=_("reminders by SMS, e-mail and letter: plan, send, list"),
        description=_("reminders by SMS, e-mail and letter from the sequences file"),
        dest="remind_command",
        without_action=_("remind: say what to do, e.g. `remind plan`"),
    )
    about = _("what is due now, per case, sent or skipped and why (writes nothing)")
    plan = remind.add("plan", _cmd_plan, help=about, description=about)
    plan.add_argument("--channel", action="append", choices=CHANNELS, help=_("only this channel"))
    plan.add_argument("--json", action="store_true", help=_("print JSON"))

    about = _("queue what is due and send the outbox (the master, supervisors)")
    send = remind.add("send", _cmd_send, help=about, description=about)
    send.add_argument("--channel", action="append", choices=CHANNELS, help=_("only this channel"))
    send.add_argument(
        "--outbox", type=Path, metavar="DIR", help=_("where letters and file messages go")
    )
    send.add_argument(
        "--take-over",
        action="store_true",
        help=_("take the outbox from an earlier run that was stopped (one run at a time)"),
    )
    send.add_argument("--json", action="store_true", help=_("print the run's counts as JSON"))

    about = _("the outbox, newest first")
    listed = remind.add("list", _cmd_list, help=about, description=about)
    listed.add_argument("--status", action="append", choices=STATUSES, help=_("only this status"))
    listed.add_argument("--case", metavar="CASE_REF", help=_("one case's reminders"))
    listed.add_argument("--limit", type=limit_value(10_000), default=500, metavar="N")
    listed.add_argument("--json", action="store_true", help=_("print JSON"))

    about = _("queue one reminder on a case (the next send run sends it)")
    queue = remind.add("queue", _cmd_queue, help=about, description=about)
    queue.add_argument("case", metavar="CASE_REF")
    queue.add_argument("--channel", required=True, choices=CHANNELS)
    queue.add_argument("--template", required=True, metavar="NAME")
    queue.add_argument("--json", action="store_true", help=_("print the reminder as JSON"))

    about = _("settle a reminder left uncertain by a crash: it arrived, or send it again")
    settle = remind.add("settle", _cmd_settle, help=about, description=about)
    settle.add_argument("reminder", metavar="ID")
    outcome = settle.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--delivered", action="store_true", help=_("it arrived: record it sent"))
    outcome.add_argument("--not-delivered", action="store_true", help=_("queue it again"))
    settle.add_argument("--reason", required=True, metavar="TEXT")

    about = _("cancel a queued, failed or uncertain reminder (supervisors)")
    cancel = remind.add("cancel", _cmd_cancel, help=about, description=about)
    cancel.add_argument("reminder", metavar="ID")
    cancel.add_argument("--reason", required=True, metavar="TEXT")


def _rules_refused(error: Exception) -> CliError:
    return CliError(" ".join(show(str(error)).split()))


def _planned_line(item: PlannedReminder) -> str:
    return "  ".join(
        (
            pad(item.client_ref, 16),
            pad(item.channel, 6),
            pad(item.template, 18),
            item.due.isoformat(),
            pad(item.action, 4),
            show(item.reason or item.destination or ""),
        )
    )


def _cmd_plan(ctx: Context) -> int:
    from collector_tui.services.reminders import outbox
    from collector_tui.services.reminders.sequences import RulesError

    args = ctx.args
    ctx.actor()
    try:
        planned = ctx.run(outbox.plan_reminders, channels=args.channel)
    except RulesError as refused:
        raise _rules_refused(refused) from None
    if args.json:
        ctx.json([item.as_json() for item in planned])
        return 0
    if not planned:
        ctx.print(_("nothing due"))
        return 0
    for item in planned:
        ctx.print(_planned_line(item))
    sending = sum(1 for item in planned if item.action == "send")
    ctx.print(
        _("{sending} to send, {skipped} skipped").format(
            sending=sending, skipped=len(planned) - sending
        )
    )
    return 0


def _cmd_send(ctx: Context) -> int:
    from collector_tui.delivery.errors import DeliveryFailed
    from collector_tui.services.reminders import outbox
    from collector_tui.services.reminders.couriers import couriers_from_settings
    from collector_tui.services.reminders.sequences import RulesError

    args = ctx.args
    actor = ctx.actor()
    settings = ctx.load_settings()
    now = ctx.now()
    try:
        couriers = couriers_from_settings(settings, now=now, outbox_dir=args.outbox)
        report = outbox.send_due(
            store=ctx.open(),
            now=now,
            settings=settings,
            actor=actor,
            couriers=couriers,
            channels=args.channel,
            take_over=args.take_over,
        )
    except (RulesError, DeliveryFailed) as refused:
        raise _rules_refused(refused) from None
    if args.json:
        ctx.json(
            {
                "queued": report.queued,
                "sent": report.sent,
                "waiting": report.waiting,
                "skipped": report.skipped,
                "retrying": report.retrying,
                "failed": report.failed,
                "uncertain": report.uncertain,
                "files": list(report.files),
            }
        )
        return 0
    ctx.print(
        f"queued {report.queued}, sent {report.sent}, waiting {report.waiting}, skipped "
        f"{report.skipped}, to retry {report.retrying}, failed {report.failed}, uncertain "
        f"{report.uncertain}"
    )
    for made in report.files:
        ctx.print(_("print batch: {file}").format(file=show(made)))
    if report.failed or report.uncertain:
        ctx.print(_("see `remind list --status failed --status uncertain`"))
    return 0


def _entry_json(entry: OutboxEntry) -> dict[str, Any]:
    return entry.as_json()


def _cmd_list(ctx: Context) -> int:
    from collector_tui.services.casework import cases
    from collector_tui.services.reminders import outbox

    args = ctx.args
    if args.case is not None and not args.case.strip():
        raise UsageError(_("--case needs a case reference"))
    ctx.actor()
    case_id = ctx.run(cases.resolve_case, reference=args.case).case_id if args.case else None
    entries = ctx.run(outbox.list_outbox, statuses=args.status, case_id=case_id, limit=args.limit)
    if args.json:
        ctx.json([_entry_json(entry) for entry in entries])
        return 0
    if not entries:
        ctx.print(_("the outbox is empty"))
    for entry in entries:
        when = iso_utc(entry.sent_at) or iso_utc(entry.next_try_at) or entry.due.isoformat()
        ctx.print(
            "  ".join(
                (
                    str(entry.id),
                    pad(entry.client_ref, 16),
                    pad(entry.channel, 6),
                    pad(entry.template, 18),
                    pad(entry.status, 9),
                    pad(str(when), 25),
                    show(entry.reason or entry.destination or ""),
                )
            )
        )
    return 0


def _cmd_queue(ctx: Context) -> int:
    from collector_tui.services.casework import cases
    from collector_tui.services.reminders import outbox

    args = ctx.args
    ctx.actor()
    case = ctx.run(cases.resolve_case, reference=args.case)
    entry = ctx.run(
        outbox.queue_reminder, case_id=case.case_id, channel=args.channel, template=args.template
    )
    if args.json:
        ctx.json(_entry_json(entry))
        return 0
    ctx.print(
        f"reminder {entry.id} queued: {entry.template} by {entry.channel} to "
        f"{show(entry.destination or '')}"
    )
    return 0


def _reminder_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise CliError(_("not a reminder id: {text}").format(text=show(text[:64]))) from None


def _cmd_settle(ctx: Context) -> int:
    from collector_tui.services.reminders import outbox

    args = ctx.args
    reminder_id = _reminder_id(args.reminder)
    ctx.actor()
    entry = ctx.run(
        outbox.settle_uncertain,
        reminder_id=reminder_id,
        delivered=bool(args.delivered),
        reason=args.reason,
    )
    ctx.print(_("reminder {id} {status}").format(id=entry.id, status=entry.status))
    return 0


def _cmd_cancel(ctx: Context) -> int:
    from collector_tui.services.reminders import outbox

    args = ctx.args
    reminder_id = _reminder_id(args.reminder)
    ctx.actor()
    entry = ctx.run(outbox.cancel_reminder, reminder_id=reminder_id, reason=args.reason)
    ctx.print(_("reminder {id} cancelled").format(id=entry.id))
    return 0
