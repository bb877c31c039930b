"""Assessing the debtor.

    collector-tui assess CASE_REF --income A [--housing A] [--family A] [--other-debts A]
                  [--grade X --reason TEXT] [--review-by DATE] [--judgement TEXT] [--json]
    collector-tui assess CASE_REF --revenue-trend T [--creditors N] [--trading S]
                  [--insolvency TEXT] [--judgement TEXT] [--grade X --reason TEXT]   (a company)
    collector-tui assess show CASE_REF [--history] [--json]
    collector-tui model fit [--json]          (supervisors: fit the probability of payment)
    collector-tui model show [--json]

Amounts are monthly, in the case's currency, typed as in the app (`--income "4 500.00"`); an amount
naming another currency is refused. A grade (A best .. E worst) needs its reason and becomes the
debtor's (services/assessment/assess.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collector_tui.cli.arguments import Commands, day_value
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, UsageError, local, money, show
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.services.assessment.assess import AssessmentView

__all__ = ["register"]

AMOUNTS = (
    ("income", "--income"),
    ("housing", "--housing"),
    ("family", "--family"),
    ("other_debts", "--other-debts"),
)


def register(commands: Commands) -> None:
    about = _("assess the debtor's capacity to pay on a case (or `assess show CASE_REF`)")
    parser = commands.add(
        "assess",
        _cmd_assess,
        help=about,
        description=_(
            "assess the debtor's capacity to pay on a case (or `assess show CASE_REF`); amounts "
            "are monthly, in the case's currency"
        ),
    )
    parser.add_argument(
        "target", nargs="+", metavar="CASE_REF", help=_("CASE_REF, or show CASE_REF")
    )
    parser.add_argument("--income", metavar="A", help=_("a person's monthly income"))
    parser.add_argument("--housing", metavar="A", help=_("rent or mortgage, a month"))
    parser.add_argument("--family", metavar="A", help=_("family and living costs, a month"))
    parser.add_argument("--other-debts", metavar="A", help=_("other debts' payments, a month"))
    parser.add_argument(
        "--revenue-trend", metavar="T", help=_("a company's: growing, stable, falling")
    )
    parser.add_argument("--creditors", type=_count, metavar="N", help=_("other overdue creditors"))
    parser.add_argument("--trading", metavar="S", help=_("trading, reduced, dormant, ceased"))
    parser.add_argument("--insolvency", metavar="TEXT", help=_("signals of insolvency seen"))
    parser.add_argument("--judgement", metavar="TEXT", help=_("the agent's judgement"))
    parser.add_argument("--grade", metavar="X", help=_("risk grade A (best) .. E (worst)"))
    parser.add_argument("--reason", metavar="TEXT", help=_("why this grade"))
    parser.add_argument("--review-by", type=day_value("--review-by"), metavar="DATE")
    parser.add_argument("--history", action="store_true", help=_("show: every assessment"))
    parser.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    models = commands.group(
        "model",
        help=_("the probability-of-payment model: fit, show"),
        description=_("a logistic regression fitted on this database's paid and written-off cases"),
        dest="model_command",
        without_action=_("model: say what to do, e.g. `model show`"),
    )
    about = _("fit a new version on the history and print its validation (supervisors)")
    fit = models.add("fit", _cmd_fit, help=about, description=about)
    fit.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    about = _("the model in force, its coefficients and validation")
    shown = models.add("show", _cmd_model_show, help=about, description=about)
    shown.add_argument("--json", action="store_true", help=_("print the result as JSON"))


def _model_lines(view: Any) -> list[str]:
    auc = f"{view.auc:.3f}" if view.auc is not None else "n/a"
    lines = [
        f"model v{view.version} fitted {view.fitted_at:%Y-%m-%d %H:%M} UTC on {view.n_train} "
        f"cases; held out {view.n_test}: AUC {auc}",
        "  coefficients (log-odds per standard deviation):",
    ]
    for name, value in view.coefficients.items():
        lines.append(f"    {name:<22} {value:+.3f}")
    lines.append("  calibration on the held-out cases (predicted vs observed paid):")
    for band in view.calibration:
        lines.append(
            f"    band {band['band']}: n {band['n']:>4}  predicted {band['predicted']:.2f}  "
            f"observed {band['observed']:.2f}"
        )
    return lines


def _cmd_fit(ctx: Context) -> int:
    from collector_tui.services.assessment import model

    ctx.actor()
    view = ctx.run(model.fit_model)
    if ctx.args.json:
        ctx.json(view.as_json())
        return 0
    for line in _model_lines(view):
        ctx.print(line)
    return 0


def _cmd_model_show(ctx: Context) -> int:
    from collector_tui.services.assessment import model

    view = ctx.run(model.model_in_force)
    if ctx.args.json:
        ctx.json(view.as_json() if view is not None else None)
        return 0
    if view is None:
        ctx.print(_("no model fitted yet: the queue is ordered by the rule score alone"))
        return 0
    for line in _model_lines(view):
        ctx.print(line)
    return 0


def _count(text: str) -> int:
    from collector_tui.cli.output import BadValue

    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit():
        raise BadValue(_("--creditors: {text} is not a whole number").format(text=repr(text[:20])))
    return int(stripped)


def _view_json(view: AssessmentView) -> dict[str, Any]:
    from collector_tui.cli.output import decimal

    shown = view.as_json()
    if view.currency:
        for name in ("income", "housing", "family", "other_debts", "disposable"):
            value = getattr(view, name)
            shown[name] = decimal(value, view.currency) if value is not None else None
    return shown


def _lines(view: AssessmentView, zone: str) -> list[str]:
    stale = " (stale: assess again)" if view.stale else ""
    head = f"assessed {local(view.assessed_at, zone)} by {show(view.assessed_by or '?')}{stale}"
    lines = [head]
    if view.kind == "person" and view.currency:
        currency = view.currency
        lines.append(
            f"  income {money(view.income or 0, currency)} − housing "
            f"{money(view.housing or 0, currency)} − family {money(view.family or 0, currency)} − "
            f"other debts {money(view.other_debts or 0, currency)} = disposable "
            f"{money(view.disposable or 0, currency)} a month"
        )
    else:
        lines.append(
            f"  revenue {view.revenue_trend or '?'} · trading {view.trading_status or '?'} · "
            f"other creditors {view.other_creditors if view.other_creditors is not None else '?'}"
        )
        if view.insolvency_signals:
            lines.append(f"  insolvency signals: {show(view.insolvency_signals)}")
    if view.judgement:
        lines.append(f"  judgement: {show(view.judgement)}")
    if view.grade:
        lines.append(
            f"  grade {view.grade} (was {view.grade_before or 'none'}): {show(view.reason or '')}"
        )
    return lines


def _cmd_assess(ctx: Context) -> int:
    from collector_tui.services.casework import cases

    args = ctx.args
    target = list(args.target)
    showing = target[0] == "show" and len(target) == 2
    if len(target) != 1 and not showing:
        raise UsageError(_("assess: give one CASE_REF (or `assess show CASE_REF`)"))
    actor = ctx.actor()
    case = ctx.run(cases.resolve_case, reference=target[-1])
    if showing:
        return _show(ctx, case.case_id, actor.time_zone)
    return _assess(ctx, case, actor.time_zone)


def _show(ctx: Context, case_id: Any, zone: str) -> int:
    from collector_tui.services.assessment import assess

    args = ctx.args
    if args.history:
        views = list(ctx.run(assess.assessment_history, case_id=case_id))
    else:
        latest = ctx.run(assess.latest_assessment, case_id=case_id)
        views = [latest] if latest is not None else []
    if args.json:
        if args.history:
            ctx.json([_view_json(view) for view in views])
        else:
            ctx.json(_view_json(views[0]) if views else None)
        return 0
    if not views:
        ctx.print(_("never assessed"))
    for view in views:
        for line in _lines(view, zone):
            ctx.print(line)
    return 0


def _assess(ctx: Context, case: Any, zone: str) -> int:
    from collector_tui.money import MoneyError, parse_money
    from collector_tui.services.assessment import assess
    from collector_tui.services.errors import InvalidInput

    args = ctx.args
    settings = ctx.load_settings()
    amounts: dict[str, int | None] = {}
    for name, option in AMOUNTS:
        text = getattr(args, name)
        if text is None:
            amounts[name] = None
            continue
        try:
            amounts[name] = parse_money(
                text, case.currency, settings.locale, allow_negative=True
            ).minor
        except MoneyError as bad:
            raise CliError(f"{option}: {bad}") from None
    given = assess.AssessmentInput(
        currency=case.currency if any(v is not None for v in amounts.values()) else None,
        revenue_trend=args.revenue_trend,
        other_creditors=args.creditors,
        trading_status=args.trading,
        insolvency_signals=args.insolvency,
        judgement=args.judgement,
        grade=args.grade,
        reason=args.reason,
        review_by=args.review_by,
        **amounts,
    )
    try:
        view = ctx.run(assess.assess, case_id=case.case_id, assessment=given)
    except InvalidInput as refused:
        flag = dict(AMOUNTS).get(refused.field or "")
        if flag:
            raise CliError(f"{flag}: {refused.message}") from None
        raise
    if args.json:
        ctx.json(_view_json(view))
        return 0
    ctx.print(f"{show(case.client)}/{show(case.client_ref)}: " + _lines(view, zone)[0])
    for line in _lines(view, zone)[1:]:
        ctx.print(line)
    return 0
