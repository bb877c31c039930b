"""Affordability at its boundaries: exactly the disposable income fits, a minor unit more warns."""

from __future__ import annotations

from datetime import date

from collector_tui.services.assessment import affordability as a


def test_a_monthly_plan_at_the_boundary() -> None:
    assert a.plan_warning(50_000, "monthly", 50_000) is None
    assert a.plan_warning(50_001, "monthly", 50_000) == "above the disposable income"
    assert a.plan_warning(10**9, "monthly", None) is None  # never assessed: no opinion


def test_weekly_and_fortnightly_installments_count_as_a_months_worth() -> None:
    # 12 weeks' worth of 1,200 a week is 5,200 a month (52/12 of it).
    assert a.monthly_load(1_200, "weekly") == 5_200
    assert a.plan_warning(1_200, "weekly", 5_200) is None
    assert a.plan_warning(1_200, "weekly", 5_199) is not None
    assert a.monthly_load(1_200, "biweekly") == 2_600


def test_nothing_left_warns_for_any_plan() -> None:
    assert "nothing" in (a.plan_warning(1, "monthly", 0) or "")
    assert "nothing" in (a.plan_warning(1, "monthly", -5_000) or "")


def test_the_proposal_is_the_fewest_installments_within_it() -> None:
    assert a.proposed_installments(100_000, 25_000, low=2, high=36) == 4
    assert a.proposed_installments(100_001, 25_000, low=2, high=36) == 5
    assert a.proposed_installments(10_000, 25_000, low=2, high=36) == 2  # at least `low`
    assert a.proposed_installments(10**9, 100, low=2, high=36) == 36
    assert a.proposed_installments(100_000, 0, low=2, high=36) is None
    assert a.proposed_installments(100_000, None, low=2, high=36) is None


def test_a_settlement_against_the_months_until_it_is_due() -> None:
    today = date(2026, 11, 20)
    assert a.months_until(today, date(2026, 11, 30)) == 1
    assert a.months_until(today, date(2026, 12, 19)) == 1
    assert a.months_until(today, date(2026, 12, 20)) == 1
    assert a.months_until(today, date(2027, 1, 20)) == 2
    assert a.settlement_warning(60_000, 30_000, today=today, due=date(2027, 1, 20)) is None
    assert a.settlement_warning(60_001, 30_000, today=today, due=date(2027, 1, 20)) is not None
    assert a.settlement_warning(1, None, today=today, due=date(2027, 1, 20)) is None
