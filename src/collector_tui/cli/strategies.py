"""Strategies (supervisors apply; anyone may look).

    collector-tui strategy check FILE [--json]     check a strategy file; what applying it would do
    collector-tui strategy apply FILE [--json]     store it as the set in force and place the cases
    collector-tui strategy show [--json] [--file]  the set in force (`--file`: the file as applied)
    collector-tui strategy escalations [--escalate] [--json]
                                                   cases whose escalation point is due; with
                                                   `--escalate`, send them to legal

A bad file is one stderr line naming the file and the rule, exit status 1, and nothing applied:
the set in force stays (services/strategies).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import align_right, local, pad, show
from collector_tui.i18n import gettext as _
from collector_tui.labels import case_status_label, group_label

__all__ = ["register"]


def register(commands: Commands) -> None:
    strategies = commands.group(
        "strategy",
        help=_("strategies: check, apply, show a strategy file; escalations due"),
        description=_("rules sending each case to a treatment; champion and challenger groups"),
        dest="strategy_command",
        without_action=_("strategy: say what to do, e.g. `strategy show`"),
    )
    about = _("check a strategy file and say what applying it would do (nothing is written)")
    check = strategies.add("check", _cmd_check, help=about, description=about)
    check.add_argument("file", type=Path, metavar="FILE")
    check.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    about = _("apply a strategy file: the set in force, every open case placed (supervisors)")
    apply = strategies.add("apply", _cmd_apply, help=about, description=about)
    apply.add_argument("file", type=Path, metavar="FILE")
    apply.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    about = _("the strategy set in force and its cases per strategy and group")
    shown = strategies.add("show", _cmd_show, help=about, description=about)
    shown.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    shown.add_argument("--file", action="store_true", help=_("print the file as applied"))
    about = _("cases whose strategy's escalation point is due (supervisors)")
    due = strategies.add("escalations", _cmd_escalations, help=about, description=about)
    due.add_argument("--escalate", action="store_true", help=_("send every case listed to legal"))
    due.add_argument("--json", action="store_true", help=_("print the result as JSON"))


def _counts_json(counts: Any) -> list[dict[str, Any]]:
    return [{"strategy": c.strategy, "group": c.group, "cases": c.cases} for c in counts]


def _count_lines(ctx: Context, counts: Any) -> None:
    for c in counts:
        # Aligned by terminal cells: a Chinese strategy name or group takes two a character.
        ctx.print(
            f"  {pad(c.strategy, 24, cut=False)} {pad(group_label(c.group), 11, cut=False)} "
            f"{align_right(str(c.cases), 8)}"
        )


def _cmd_check(ctx: Context) -> int:
    from collector_tui.services.strategies import assign

    result = ctx.run(assign.check_strategy_file, path=ctx.args.file)
    if ctx.args.json:
        ctx.json(
            {
                "file": result.source,
                "title": result.title,
                "strategies": list(result.strategies),
                "rules": result.rules,
                "cases": _counts_json(result.counts),
                "would_change": result.would_change,
                "would_switch_group": result.would_switch_group,
            }
        )
        return 0
    ctx.print(
        _("{file}: good. {strategies} strategies, {rules} rules.").format(
            file=show(result.source), strategies=len(result.strategies), rules=result.rules
        )
    )
    ctx.print(
        _(
            "Applied now: {change} open cases would change, {switch} of them to another group."
        ).format(change=result.would_change, switch=result.would_switch_group)
    )
    _count_lines(ctx, result.counts)
    return 0


def _cmd_apply(ctx: Context) -> int:
    from collector_tui.services.strategies import assign

    ctx.actor()
    result = ctx.run(assign.apply_strategy_file, path=ctx.args.file)
    if ctx.args.json:
        ctx.json(
            {
                "version": result.version,
                "file": result.source,
                "assigned": result.assigned,
                "switched": result.switched,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "cases": _counts_json(result.counts),
            }
        )
        return 0
    ctx.print(
        _(
            "Strategy set v{version} from {file} in force: {assigned} cases placed, {switched} "
            "moved (their rule changed), {updated} with a new treatment, {unchanged} unchanged."
        ).format(
            version=result.version,
            file=show(result.source),
            assigned=result.assigned,
            switched=result.switched,
            updated=result.updated,
            unchanged=result.unchanged,
        )
    )
    _count_lines(ctx, result.counts)
    return 0


def _cmd_show(ctx: Context) -> int:
    from collector_tui.services.strategies import assign

    view = ctx.run(assign.strategy_in_force)
    if ctx.args.json:
        ctx.json(
            None
            if view is None
            else {
                "version": view.version,
                "file": view.source,
                "title": view.title,
                "applied_at": view.applied_at.isoformat(),
                "applied_by": view.applied_by,
                "strategies": list(view.strategies),
                "rules": list(view.rules),
                "cases": _counts_json(view.counts),
            }
        )
        return 0
    if view is None:
        ctx.print(_("no strategy set applied yet: `strategy apply FILE`"))
        return 0
    if ctx.args.file:
        for line in view.text.splitlines():
            ctx.print(show(line))
        return 0
    zone = ctx.actor().time_zone
    ctx.print(
        _("Strategy set v{version} ({file}), applied {at} by {who}: {title}").format(
            version=view.version,
            file=show(view.source),
            at=local(view.applied_at, zone),
            who=show(view.applied_by or "?"),
            title=show(view.title),
        )
    )
    for strategy in view.strategies:
        ctx.print(f"{show(strategy['name'])}: {show(strategy['title'])}")
        groups = [(group_label("champion"), strategy["champion"])]
        if strategy.get("challenger"):
            groups.append(
                (
                    _("challenger {share}%").format(share=strategy["share"]),
                    strategy["challenger"],
                )
            )
        for label, treatment in groups:
            ctx.print(f"  {label}: {_treatment_text(treatment)}")
    ctx.print(_("Rules, in the order they are tried:"))
    for rule in view.rules:
        ctx.print(
            f"  {rule['priority']:>5} {show(rule['name'])} → {show(rule['strategy'])}: "
            f"{show(rule['words'] or _('default rule'))}"
        )
    ctx.print(_("Open cases:"))
    _count_lines(ctx, view.counts)
    return 0


def _treatment_text(treatment: dict[str, Any]) -> str:
    parts = [_("queue weight {weight}%").format(weight=treatment["queue_weight"])]
    if treatment.get("sequence"):
        parts.append(_("reminders {sequence}").format(sequence=show(treatment["sequence"])))
    if treatment.get("settlement_limit_pct") is not None:
        parts.append(_("settlement limit {pct}%").format(pct=treatment["settlement_limit_pct"]))
    for escalation in treatment.get("escalations") or []:
        parts.append(
            _("to {to} after {days} days if p < {p}").format(
                to=case_status_label(escalation["to"]),
                days=escalation["after_days"],
                p=escalation["p_below"],
            )
        )
    return " · ".join(parts)


def _cmd_escalations(ctx: Context) -> int:
    from collector_tui.services.strategies import assign

    ctx.actor()
    service = assign.escalate_due if ctx.args.escalate else assign.due_escalations
    due = ctx.run(service)
    if ctx.args.json:
        ctx.json(
            [
                {
                    "client_ref": d.client_ref,
                    "strategy": d.strategy,
                    "group": d.group,
                    "status": d.status,
                    "days_placed": d.days_placed,
                    "p": f"{d.p:.4f}",
                    "p_below": f"{d.p_below:.4f}",
                    "after_days": d.after_days,
                    "to": d.to,
                    "escalated": bool(ctx.args.escalate),
                }
                for d in due
            ]
        )
        return 0
    if not due:
        ctx.print(_("no escalation due"))
        return 0
    for d in due:
        ctx.print(
            f"{pad(d.client_ref, 20, cut=False)} {pad(d.strategy, 16, cut=False)} "
            f"{pad(group_label(d.group), 11, cut=False)} "
            + _("{days} days placed, p {p:.2f} < {below:.2f} → {to}").format(
                days=d.days_placed, p=d.p, below=d.p_below, to=case_status_label(d.to)
            )
        )
    if ctx.args.escalate:
        ctx.print(_("{count} cases sent to legal.").format(count=len(due)))
    return 0
