"""Assessments: a person's disposable income, a company's standing, the grade with its reason;
append-only history, the latest shown, stale after N days; bad input refused, nothing written."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Assessment, AuditEvent, Case, Debtor
from collector_tui.services.assessment import assess as assessing
from collector_tui.services.assessment.assess import AssessmentInput
from collector_tui.services.errors import Forbidden, InvalidInput, StaleEdit


@pytest.fixture
def work(store: db.Store, settings: Settings, now: datetime):
    def _work(function: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("now", now)
        kwargs.setdefault("settings", settings)
        with store.write() as session:
            return function(session=session, **kwargs)

    return _work


def person(**overrides: Any) -> AssessmentInput:
    values: dict[str, Any] = {
        "currency": "CNY",
        "income": 800_000,
        "housing": 300_000,
        "family": 150_000,
        "other_debts": 100_000,
    }
    values.update(overrides)
    return AssessmentInput(**values)


def count(store: db.Store) -> int:
    with store.read() as session:
        return len(session.exec(select(Assessment)).all())


def test_a_persons_assessment_leaves_the_disposable_income_and_sets_the_grade(
    store: db.Store, place, users, work, now: datetime
) -> None:
    case = place("A-1", risk_grade="C")
    with store.read() as session:
        version = session.get(Case, case.id).version
    view = work(
        assessing.assess,
        actor=users["alice"],
        case_id=case.id,
        assessment=person(grade="B", reason="steady salary, rent shared with a partner"),
        expected_version=version,
    )
    assert view.disposable == 250_000
    assert (view.grade, view.grade_before, view.assessed_by) == ("B", "C", "alice")
    assert not view.stale
    with store.read() as session:
        debtor = session.get(Debtor, session.get(Case, case.id).debtor_id)
        assert debtor.risk_grade == "B"
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "assessment")).all()
        assert [(e.action, e.after["grade"], e.after["grade_before"]) for e in events] == [
            ("create", "B", "C")
        ]
        assert session.get(Case, case.id).version > version


def test_history_is_kept_and_the_latest_is_shown_stale_after_n_days(
    store: db.Store, place, users, work, now: datetime, settings: Settings
) -> None:
    case = place("A-2")
    work(assessing.assess, actor=users["alice"], case_id=case.id, assessment=person())
    later = now + timedelta(days=3)
    work(
        assessing.assess,
        actor=users["alice"],
        case_id=case.id,
        assessment=person(income=500_000),
        now=later,
    )
    assert count(store) == 2
    latest = work(assessing.latest_assessment, actor=users["alice"], case_id=case.id, now=later)
    assert latest.income == 500_000 and latest.disposable == -50_000
    history = work(assessing.assessment_history, actor=users["alice"], case_id=case.id)
    assert [h.income for h in history] == [500_000, 800_000]
    old = work(
        assessing.latest_assessment,
        actor=users["alice"],
        case_id=case.id,
        now=later + timedelta(days=settings.assessment_stale_days),
    )
    assert old.stale and old.stale_after == later + timedelta(days=settings.assessment_stale_days)


def test_a_review_date_sets_when_it_goes_stale(store, place, users, work, now) -> None:
    case = place("A-3")
    view = work(
        assessing.assess,
        actor=users["alice"],
        case_id=case.id,
        assessment=person(review_by=date(2026, 12, 20)),
    )
    assert view.review_by == date(2026, 12, 20)
    assert view.stale_after.date() == date(2026, 12, 20)


def test_a_company_is_assessed_by_its_standing(store, place, users, work) -> None:
    case = place("A-4", debtor_kind="company", debtor_name="Widgets Ltd")
    view = work(
        assessing.assess,
        actor=users["alice"],
        case_id=case.id,
        assessment=AssessmentInput(
            revenue_trend="Falling",
            other_creditors=3,
            trading_status="trading",
            insolvency_signals="late filing of accounts",
            judgement="pays slowly but pays",
            grade="D",
            reason="three other creditors chasing it",
        ),
    )
    assert (view.kind, view.revenue_trend, view.other_creditors, view.grade) == (
        "company",
        "falling",
        3,
        "D",
    )
    assert view.income is None and view.disposable is None


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        (person(income=-1), "income", "cannot be negative"),
        (person(housing=-5), "housing", "cannot be negative"),
        (person(income=10**12 * 100), "income", "check it"),
        (person(income=None), "income", "needs the monthly income"),
        (person(currency="EUR"), "currency", "case's currency CNY"),
        (person(review_by=date(9999, 1, 1)), "review_by", "outside"),
        (person(review_by=date(2026, 11, 1)), "review_by", "after today"),
        (person(grade="F", reason="x" * 20), "grade", "one of"),
        (person(grade="B"), "reason", "required"),
        (person(grade="B", reason="short"), "reason", "at least"),
        (person(revenue_trend="growing"), "revenue_trend", "for a company"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    store: db.Store, place, users, work, given: AssessmentInput, field: str, words: str
) -> None:
    case = place("A-5", risk_grade="C")
    with pytest.raises(InvalidInput) as refused:
        work(assessing.assess, actor=users["alice"], case_id=case.id, assessment=given)
    assert refused.value.field == field and words in refused.value.message
    assert count(store) == 0
    with store.read() as session:
        assert session.get(Debtor, session.get(Case, case.id).debtor_id).risk_grade == "C"


def test_company_bad_input(store, place, users, work) -> None:
    case = place("A-6", debtor_kind="company")
    for given, field in (
        (AssessmentInput(income=100), "income"),
        (AssessmentInput(revenue_trend="sideways"), "revenue_trend"),
        (AssessmentInput(other_creditors=-1), "other_creditors"),
        (AssessmentInput(), "revenue_trend"),
    ):
        with pytest.raises(InvalidInput) as refused:
            work(assessing.assess, actor=users["alice"], case_id=case.id, assessment=given)
        assert refused.value.field == field
    assert count(store) == 0


def test_only_the_cases_agent_or_a_supervisor_and_not_a_stale_form(
    store, place, users, work
) -> None:
    case = place("A-7")
    with pytest.raises(Forbidden):
        work(assessing.assess, actor=users["bob"], case_id=case.id, assessment=person())
    with pytest.raises(StaleEdit):
        work(
            assessing.assess,
            actor=users["alice"],
            case_id=case.id,
            assessment=person(),
            expected_version=999,
        )
    work(assessing.assess, actor=users["sam"], case_id=case.id, assessment=person())
    assert count(store) == 1
    assert work(assessing.latest_assessment, actor=users["alice"], case_id=case.id) is not None


def test_never_assessed_is_none(store, place, users, work) -> None:
    case = place("A-8")
    assert work(assessing.latest_assessment, actor=users["alice"], case_id=case.id) is None
