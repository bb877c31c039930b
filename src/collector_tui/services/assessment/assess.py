"""An assessment of the debtor's capacity to pay, made on a case, and the grade it sets.

Each assessment is a new row (its instant, its author, the figures, the grade and why); the case
screen and `assess show` read the latest. A person's figures are monthly amounts in the case's
currency: income, then the essential expenses (housing, family, other debts), leaving the
disposable income an arrangement can draw on. A company's are the agent's reading of what the
collection literature asks about: the revenue trend, other creditors overdue, whether it still
trades, any signal of insolvency, and the agent's judgement. Either may set the debtor's risk grade
(A best .. E worst) with a reason; the debtor's grade then follows it (audited with the assessment).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.dates import DateOutOfRange, check_day
from collector_tui.i18n import N_, _
from collector_tui.models import Assessment, Case, Debtor, User
from collector_tui.money import minor_digits
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.casework import change
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import InvalidInput, NotFound

GRADES = ("A", "B", "C", "D", "E")
REVENUE_TRENDS = ("growing", "stable", "falling", "unknown")
TRADING_STATUSES = ("trading", "reduced", "dormant", "ceased", "unknown")
PERSON_FIELDS = ("income", "housing", "family", "other_debts")
# A monthly figure above this many whole units of the currency is a typing slip, not an income
# (a billion a month: absurd in dollars, still generous in rupiah).
MAX_MONTHLY_UNITS = 1_000_000_000
MAX_CREDITORS = 10_000
MAX_JUDGEMENT = 2000
MAX_SIGNALS = 500
MAX_REVIEW_DAYS = 3 * 366
LABELS = {
    "income": N_("the monthly income"),
    "housing": N_("housing"),
    "family": N_("family"),
    "other_debts": N_("other debts"),
}


@dataclass(frozen=True)
class AssessmentInput:
    """What the form or the command gives. A person's amounts are minor units of `currency`
    (which must be the case's); a company's fields are words from the lists above."""

    currency: str | None = None
    income: int | None = None
    housing: int | None = None
    family: int | None = None
    other_debts: int | None = None
    revenue_trend: str | None = None
    other_creditors: int | None = None
    trading_status: str | None = None
    insolvency_signals: str | None = None
    judgement: str | None = None
    grade: str | None = None
    reason: str | None = None
    review_by: date | None = None


@dataclass(frozen=True)
class AssessmentView:
    id: uuid.UUID
    case_id: uuid.UUID
    debtor_id: uuid.UUID
    assessed_at: datetime
    assessed_by: str | None
    kind: str
    currency: str | None
    income: int | None
    housing: int | None
    family: int | None
    other_debts: int | None
    disposable: int | None
    revenue_trend: str | None
    other_creditors: int | None
    trading_status: str | None
    insolvency_signals: str | None
    judgement: str | None
    grade: str | None
    grade_before: str | None
    reason: str | None
    review_by: date | None
    stale: bool
    stale_after: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "case_id": str(self.case_id),
            "assessed_at": self.assessed_at.isoformat(),
            "assessed_by": self.assessed_by,
            "kind": self.kind,
            "currency": self.currency,
            "income": self.income,
            "housing": self.housing,
            "family": self.family,
            "other_debts": self.other_debts,
            "disposable": self.disposable,
            "revenue_trend": self.revenue_trend,
            "other_creditors": self.other_creditors,
            "trading_status": self.trading_status,
            "insolvency_signals": self.insolvency_signals,
            "judgement": self.judgement,
            "grade": self.grade,
            "grade_before": self.grade_before,
            "reason": self.reason,
            "review_by": self.review_by.isoformat() if self.review_by else None,
            "stale": self.stale,
            "stale_after": self.stale_after.isoformat(),
        }


@dataclass(frozen=True)
class CheckedFigures:
    """The input as it will be stored (tidied, the disposable income computed)."""

    kind: str
    values: dict[str, Any]


def _amount(value: Any, field: str, currency: str) -> int:
    if type(value) is not int:
        raise InvalidInput(
            _("{what} must be a whole number of minor units").format(what=_(LABELS[field])),
            field=field,
        )
    if value < 0:
        raise InvalidInput(
            _("{what} cannot be negative").format(what=_(LABELS[field])), field=field
        )
    if value > MAX_MONTHLY_UNITS * 10 ** minor_digits(currency):
        raise InvalidInput(
            _("{what} is more than {limit:,} {currency} a month: check it").format(
                what=_(LABELS[field]), limit=MAX_MONTHLY_UNITS, currency=currency
            ),
            field=field,
        )
    return value


def _text(value: Any, field: str, limit: int, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(_("{what} must be text").format(what=_(what)), field=field)
    tidy = " ".join(value.split())
    if len(tidy) > limit:
        raise InvalidInput(
            _("{what} can be at most {limit} characters ({count} now)").format(
                what=_(what), limit=limit, count=len(tidy)
            ),
            field=field,
        )
    return tidy or None


def _choice(value: Any, field: str, allowed: tuple[str, ...], what: str) -> str | None:
    if value is None or value == "":
        return None
    word = str(value).strip().lower()
    if word not in allowed:
        raise InvalidInput(
            _("{what} is one of {allowed}").format(what=_(what), allowed=", ".join(allowed)),
            field=field,
        )
    return word


def check_figures(
    *,
    kind: str,
    currency: str,
    given: AssessmentInput,
    current_grade: str | None,
    today: date,
    min_reason: int = reasons.DEFAULT_MIN_REASON,
) -> CheckedFigures:
    """Every check of an assessment, before anything is written (the app's service and the sync's
    admission of one made on a laptop both use it). Raises InvalidInput naming the field."""
    values: dict[str, Any] = {"kind": kind}
    if kind == "person":
        if given.currency is not None and given.currency.strip().upper() != currency:
            raise InvalidInput(
                _("the figures must be in the case's currency {currency} (not {given})").format(
                    currency=currency, given=str(given.currency)[:8]
                ),
                field="currency",
            )
        if any(
            getattr(given, name) is not None
            for name in ("revenue_trend", "other_creditors", "trading_status")
        ):
            raise InvalidInput(
                _("revenue, creditors and trading status are for a company"), field="revenue_trend"
            )
        if given.income is None:
            raise InvalidInput(_("a person's assessment needs the monthly income"), field="income")
        amounts = {
            name: _amount(getattr(given, name) or 0, name, currency) for name in PERSON_FIELDS
        }
        amounts["income"] = _amount(given.income, "income", currency)
        values.update(amounts, currency=currency)
        values["disposable"] = amounts["income"] - sum(
            amounts[name] for name in PERSON_FIELDS if name != "income"
        )
    elif kind == "company":
        if any(getattr(given, name) is not None for name in PERSON_FIELDS):
            raise InvalidInput(
                _("income and expenses are for a person; a company has its revenue trend"),
                field="income",
            )
        values["revenue_trend"] = _choice(
            given.revenue_trend, "revenue_trend", REVENUE_TRENDS, N_("the revenue trend")
        )
        values["trading_status"] = _choice(
            given.trading_status, "trading_status", TRADING_STATUSES, N_("the trading status")
        )
        creditors = given.other_creditors
        if creditors is not None and (
            type(creditors) is not int or not 0 <= creditors <= MAX_CREDITORS
        ):
            raise InvalidInput(
                _("other overdue creditors is a count from 0 to {max}").format(max=MAX_CREDITORS),
                field="other_creditors",
            )
        values["other_creditors"] = creditors
        values["insolvency_signals"] = _text(
            given.insolvency_signals,
            "insolvency_signals",
            MAX_SIGNALS,
            N_("the insolvency signals"),
        )
        if (
            not any(
                values[name] is not None
                for name in (
                    "revenue_trend",
                    "trading_status",
                    "other_creditors",
                    "insolvency_signals",
                )
            )
            and not (given.judgement or "").strip()
        ):
            raise InvalidInput(
                _("a company's assessment needs at least one figure or the judgement"),
                field="revenue_trend",
            )
    else:
        raise InvalidInput(_("cannot assess a debtor of kind {kind!r}").format(kind=kind[:16]))
    values["judgement"] = _text(given.judgement, "judgement", MAX_JUDGEMENT, N_("the judgement"))
    grade = _choice(given.grade, "grade", tuple(g.lower() for g in GRADES), N_("the grade"))
    grade = grade.upper() if grade else None
    changes_grade = grade is not None and grade != current_grade
    reason = reasons.check_reason(
        given.reason,
        minimum=min_reason if changes_grade else 0,
        required=changes_grade,
        what=N_("the reason for the grade"),
    )
    values.update(grade=grade, grade_before=current_grade if grade else None, reason=reason)
    review = given.review_by
    if review is not None:
        try:
            check_day(review, what=N_("the review date"))
        except DateOutOfRange as error:
            raise InvalidInput(str(error), field="review_by") from None
        if review <= today:
            raise InvalidInput(_("the review date must be after today"), field="review_by")
        if review > today + timedelta(days=MAX_REVIEW_DAYS):
            raise InvalidInput(_("the review date is at most three years ahead"), field="review_by")
    values["review_by"] = review
    return CheckedFigures(kind=kind, values=values)


def stale_after(row: Assessment, settings: Settings) -> datetime:
    """When an assessment stops being current: its own review date, else N days (config)."""
    if row.review_by is not None:
        return datetime.combine(row.review_by, datetime.min.time(), tzinfo=row.assessed_at.tzinfo)
    return row.assessed_at + timedelta(days=settings.assessment_stale_days)


def view_of(
    session: Session, row: Assessment, *, now: datetime, settings: Settings
) -> AssessmentView:
    author = session.get(User, row.assessed_by_id) if row.assessed_by_id else None
    until = stale_after(row, settings)
    return AssessmentView(
        id=row.id,
        case_id=row.case_id,
        debtor_id=row.debtor_id,
        assessed_at=row.assessed_at,
        assessed_by=author.username if author else None,
        kind=row.kind,
        currency=row.currency,
        income=row.income,
        housing=row.housing,
        family=row.family,
        other_debts=row.other_debts,
        disposable=row.disposable,
        revenue_trend=row.revenue_trend,
        other_creditors=row.other_creditors,
        trading_status=row.trading_status,
        insolvency_signals=row.insolvency_signals,
        judgement=row.judgement,
        grade=row.grade,
        grade_before=row.grade_before,
        reason=row.reason,
        review_by=row.review_by,
        stale=now >= until,
        stale_after=until,
    )


def latest_row(session: Session, *, case: Case) -> Assessment | None:
    """The newest assessment of the case's debtor: made on this case, or on another case of the
    same debtor (a person's means do not depend on which debt is being worked)."""
    return session.exec(
        select(Assessment)
        .where(Assessment.debtor_id == case.debtor_id)
        .order_by(col(Assessment.assessed_at).desc(), col(Assessment.created_at).desc())
        .limit(1)
    ).first()


def latest_grade(session: Session, *, debtor_id: uuid.UUID) -> str | None:
    """The grade of the newest assessment that set one (sync recomputes the debtor's from it)."""
    return session.exec(
        select(Assessment.grade)
        .where(Assessment.debtor_id == debtor_id, col(Assessment.grade).is_not(None))
        .order_by(col(Assessment.assessed_at).desc(), col(Assessment.created_at).desc())
        .limit(1)
    ).first()


AUDITED = (
    "case_id",
    "kind",
    "currency",
    "income",
    "housing",
    "family",
    "other_debts",
    "disposable",
    "revenue_trend",
    "other_creditors",
    "trading_status",
    "grade",
    "grade_before",
    "reason",
    "review_by",
)


@writes
def assess(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    assessment: AssessmentInput,
    expected_version: int | None = None,
) -> AssessmentView:
    """Record an assessment on the case; a grade given (with its reason) becomes the debtor's."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    change.check_not_closed(case, N_("assess it"))
    debtor = session.get(Debtor, case.debtor_id)
    if debtor is None:
        raise NotFound(_("the case has no debtor"))
    checked = check_figures(
        kind=debtor.kind,
        currency=case.currency,
        given=assessment,
        current_grade=debtor.risk_grade,
        today=change.utc_today(now),
        min_reason=settings.min_reason_length,
    )
    before = change.case_state(case)
    with change.changing(session):
        row = Assessment(
            case_id=case.id,
            debtor_id=debtor.id,
            assessed_at=now,
            assessed_by_id=actor.user_id,
            created_at=now,
            **{k: v for k, v in checked.values.items() if k != "kind"},
            kind=checked.kind,
        )
        session.add(row)
        if row.grade is not None and row.grade != debtor.risk_grade:
            debtor.risk_grade = row.grade
            debtor.updated_at = now
            session.add(debtor)
        session.flush()
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="assessment",
            entity_id=row.id,
            action="create",
            after=audit.snapshot(row, AUDITED),
        )
        change.finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return view_of(session, row, now=now, settings=settings)


@reads
def latest_assessment(
    *, session: Session, now: datetime, actor: Actor, settings: Settings, case_id: uuid.UUID
) -> AssessmentView | None:
    """The newest assessment of the case's debtor, stale or not; None when never assessed."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    row = latest_row(session, case=case)
    return view_of(session, row, now=now, settings=settings) if row is not None else None


@reads
def assessment_history(
    *, session: Session, now: datetime, actor: Actor, settings: Settings, case_id: uuid.UUID
) -> tuple[AssessmentView, ...]:
    """Every assessment of the case's debtor, newest first."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    rows = session.exec(
        select(Assessment)
        .where(Assessment.debtor_id == case.debtor_id)
        .order_by(col(Assessment.assessed_at).desc(), col(Assessment.created_at).desc())
    ).all()
    return tuple(view_of(session, row, now=now, settings=settings) for row in rows)
