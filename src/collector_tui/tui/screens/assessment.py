"""Assessing the debtor from the case screen (`a`): services/assessment/assess.py.

A person: the monthly income and the essential expenses (housing, family, other debts) in the
case's currency, the disposable income shown as they are typed. A company: its revenue trend,
trading status, other overdue creditors, insolvency signals and the agent's judgement. Either: the
risk grade (A best .. E worst), which needs a reason when it changes. A field that cannot be read,
or that the service refuses, gets its message under it and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static

from collector_tui.i18n import N_, _
from collector_tui.money import MoneyError, parse_money
from collector_tui.tui.formatting import day_text, plain_amount, word
from collector_tui.tui.parsing import FieldError, parse_count
from collector_tui.tui.screens.corrections import reason_field
from collector_tui.tui.screens.forms import FormScreen, Reader, read_line
from collector_tui.tui.widgets.field import FormField

if TYPE_CHECKING:
    from collector_tui.services.assessment.assess import AssessmentInput, AssessmentView
    from collector_tui.services.assessment.model import Prediction
    from collector_tui.services.casework.casefile import CaseFile
    from collector_tui.tui.screens.case import CaseScreen

GRADE_WORDS = {
    "A": N_("A · very likely to pay"),
    "B": N_("B · likely"),
    "C": N_("C · uncertain"),
    "D": N_("D · unlikely"),
    "E": N_("E · very unlikely"),
}
TREND_WORDS = {
    "growing": N_("growing"),
    "stable": N_("stable"),
    "falling": N_("falling"),
    "unknown": N_("unknown"),
}
TRADING_WORDS = {
    "trading": N_("trading"),
    "reduced": N_("trading, reduced"),
    "dormant": N_("dormant"),
    "ceased": N_("ceased trading"),
    "unknown": N_("unknown"),
}
AMOUNT_FIELDS = (
    ("income", N_("Monthly income")),
    ("housing", N_("Housing")),
    ("family", N_("Family")),
    ("other_debts", N_("Other debts")),
)


def read_monthly(text: str, currency: str, locale: str, *, field: str, required: bool) -> int:
    """A monthly amount: empty is zero (an expense) or missing (the income); never negative."""
    if not text.strip():
        if required:
            raise FieldError(field, _("enter the monthly income"))
        return 0
    try:
        money = parse_money(text, currency, locale)
    except MoneyError as error:
        raise FieldError(field, str(error)) from None
    return money.minor


class AssessmentForm(FormScreen["AssessmentInput"]):
    """The debtor's capacity to pay and the risk grade."""

    TITLE_TEXT = N_("Assess the debtor")
    FIELD_MAP: ClassVar[dict[str, str]] = {
        "currency": "income",
        "other_creditors": "creditors",
        "trading_status": "trading",
        "insolvency_signals": "insolvency",
    }

    def __init__(
        self,
        *,
        kind: str,
        currency: str,
        locale: str,
        grade: str | None,
        minimum: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.currency = currency
        self.locale = locale
        self.grade = grade
        self.minimum = minimum

    def fields(self) -> ComposeResult:
        if self.kind == "company":
            yield from self._company_fields()
        else:
            yield from self._person_fields()
        caption = (
            _("Risk grade (now {grade})").format(grade=self.grade)
            if self.grade
            else _("Risk grade (none yet)")
        )
        yield FormField(
            caption,
            Select(
                [(_(words), code) for code, words in GRADE_WORDS.items()],
                value=self.grade if self.grade in GRADE_WORDS else Select.NULL,
                prompt=_("no grade"),
                id="grade",
            ),
            name="grade",
        )
        yield reason_field(
            self,
            label=N_("Reason for the grade"),
            placeholder=N_("e.g. payslip seen, steady job; rent shared"),
            hint=_("Needed when the grade changes (at least {count} characters).").format(
                count=self.minimum
            ),
        )

    def _person_fields(self) -> ComposeResult:
        for start in (0, 2):
            with Horizontal(classes="form-row"):
                for name, label in AMOUNT_FIELDS[start : start + 2]:
                    yield FormField(
                        _("{label} ({currency}/month)").format(
                            label=_(label), currency=self.currency
                        ),
                        Input(
                            value=self.initial.get(name, ""),
                            placeholder=_("required") if name == "income" else "0",
                            id=name,
                        ),
                        name=name,
                    )
        yield Static("", id="disposable", classes="plan-preview")

    def _company_fields(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Revenue"),
                Select(
                    [(_(words), code) for code, words in TREND_WORDS.items()],
                    prompt=_("trend?"),
                    id="revenue_trend",
                ),
                name="revenue_trend",
            )
            yield FormField(
                _("Trading"),
                Select(
                    [(_(words), code) for code, words in TRADING_WORDS.items()],
                    prompt=_("status?"),
                    id="trading",
                ),
                name="trading",
            )
        yield FormField(
            _("Other overdue creditors"),
            Input(
                value=self.initial.get("creditors", ""), placeholder=_("how many"), id="creditors"
            ),
            name="creditors",
        )
        yield FormField(
            _("Insolvency signals"),
            Input(
                value=self.initial.get("insolvency", ""),
                placeholder=_("e.g. late accounts, court claims"),
                id="insolvency",
            ),
            name="insolvency",
        )
        yield FormField(
            _("Judgement"),
            Input(
                value=self.initial.get("judgement", ""),
                placeholder=_("will it pay, and how?"),
                id="judgement",
            ),
            name="judgement",
        )

    def on_mount(self) -> None:
        super().on_mount()
        if self.kind != "company":
            self._disposable()

    def _select(self, name: str) -> str | None:
        value = self.query_one(f"#{name}", Select).value
        return None if value is Select.NULL else str(value)

    def _amounts(self, reader: Reader) -> dict[str, int | None]:
        def reading(name: str) -> Callable[[], int]:
            return lambda: read_monthly(
                self.text_of(name),
                self.currency,
                self.locale,
                field=name,
                required=name == "income",
            )

        return {name: reader.take(reading(name)) for name, _label in AMOUNT_FIELDS}

    def read_form(self) -> AssessmentInput:
        from collector_tui.services.assessment.assess import AssessmentInput
        from collector_tui.services.reasons import reason_problem, tidy

        reader = Reader()
        values: dict[str, Any] = {}
        if self.kind == "company":
            values["revenue_trend"] = self._select("revenue_trend")
            values["trading_status"] = self._select("trading")
            creditors = self.text_of("creditors").strip()
            if creditors:
                values["other_creditors"] = reader.take(
                    lambda: parse_count(creditors, field="creditors", low=0, high=10_000)
                )
            values["insolvency_signals"] = read_line(self, reader, "insolvency", missing=None)
            values["judgement"] = read_line(self, reader, "judgement", missing=None, most=2000)
        else:
            values.update(self._amounts(reader), currency=self.currency)
        grade = self._select("grade")
        reason = tidy(self.text_of("reason")) or None
        if grade is not None and grade != self.grade:
            values["grade"] = grade
            if reason is None:
                reader.fail("reason", _("say why the grade changes"))
        if reason is not None:
            problem = reason_problem(
                reason, minimum=self.minimum if "grade" in values else 0, what=_("the reason")
            )
            if problem:
                reader.fail("reason", problem)
        values["reason"] = reason if "grade" in values else None
        reader.done()
        return AssessmentInput(**values)

    @on(Input.Changed)
    def _disposable(self) -> None:
        if self.kind == "company":
            return
        shown = self.query_one("#disposable", Static)
        amounts = self._amounts(Reader())
        if any(value is None for value in amounts.values()):
            shown.update(
                Text(_("Disposable income appears once the figures are read."), style="dim")
            )
            return
        left = (amounts["income"] or 0) - sum(
            amounts[name] or 0 for name in ("housing", "family", "other_debts")
        )
        text = Text(_("Disposable: "))
        text.append(
            _("{amount} a month").format(amount=plain_amount(left, self.currency)),
            style="bold" if left > 0 else "bold red",
        )
        if left <= 0:
            text.append(_(" — nothing left for an arrangement"), style="dim")
        shown.update(text)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


def assessment_lines(view: AssessmentView | None, *, compact: bool) -> Text | None:
    """The debtor panel's lines for the latest assessment (None: never assessed)."""
    if view is None:
        return None
    text = Text(_("assessed") + " ", style="dim")
    text.append(day_text(view.assessed_at.date()))
    if view.stale:
        text.append(" " + _("stale"), style="bold yellow")
    if view.kind == "person" and view.currency is not None and view.disposable is not None:
        text.append(" · " + _("disposable") + " ", style="dim")
        style = "bold" if view.disposable > 0 else "bold red"
        text.append(
            _("{amount}/month").format(amount=plain_amount(view.disposable, view.currency)),
            style=style,
        )
    else:
        creditors = view.other_creditors
        bits = [
            _("revenue {trend}").format(trend=word(TREND_WORDS, view.revenue_trend))
            if view.revenue_trend
            else "",
            word(TRADING_WORDS, view.trading_status),
            (
                _("{count} other creditor") if creditors == 1 else _("{count} other creditors")
            ).format(count=creditors)
            if creditors is not None
            else "",
        ]
        shown = " · ".join(bit for bit in bits if bit)
        if shown:
            text.append(" · " + shown)
    if view.grade and not compact:
        text.append(" · " + _("grade {grade}").format(grade=view.grade), style="bold")
    return text


def chance_line(prediction: Prediction | None, currency: str) -> Text | None:
    """p, the expected loss and the three largest effects (+ raises p, − lowers it)."""
    if prediction is None:
        return None
    text = Text(_("p(pay) {p:.2f}").format(p=prediction.p), style="bold")
    text.append(" · " + _("expected loss") + " ", style="dim")
    text.append(plain_amount(prediction.expected_loss, currency))
    effects = [f for f in prediction.factors if abs(f.contribution) >= 0.05][:3]
    if effects:
        text.append(" · ", style="dim")
        text.append(
            ", ".join(f"{f.words} {'+' if f.contribution > 0 else '−'}" for f in effects),
            style="dim",
        )
    return text


def open_assessment(screen: CaseScreen) -> None:
    from collector_tui.services.assessment import assess

    case: CaseFile | None = screen.case_file
    if case is None:
        return
    context = screen.context
    app = screen.collector

    def version() -> int | None:
        current = screen.case_file
        return current.version if current else None

    def save(value: AssessmentInput) -> Any:
        return context.run(
            assess.assess, case_id=case.case_id, assessment=value, expected_version=version()
        )

    def done(view: Any) -> str:
        if view is None or view.disposable is None:
            return _("Assessment saved.")
        return _("Assessment saved: disposable {amount} a month.").format(
            amount=plain_amount(view.disposable, case.currency)
        )

    form = AssessmentForm(
        kind=case.debtor.kind,
        currency=case.currency,
        locale=app.settings.locale,
        grade=case.debtor.risk_grade,
        minimum=app.settings.min_reason_length,
        **screen._form_kwargs(case, save),
    )
    screen._open(form, done)
