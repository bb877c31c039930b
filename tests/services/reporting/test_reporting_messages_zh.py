"""Reporting's refusals and the statement's words in the user's language (issue 20)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from collector_tui import i18n
from collector_tui.services.errors import InvalidInput
from collector_tui.services.reporting import reports, statements


def test_a_backwards_period_is_refused_in_chinese_and_english(now: datetime) -> None:
    first, last = date(2026, 11, 1), date(2026, 10, 1)
    with i18n.language("zh_CN"), pytest.raises(InvalidInput) as caught:
        reports.period_bounds(now, first, last)
    assert str(caught.value) == "期间开始（2026-11-01）晚于结束（2026-10-01）"
    assert caught.value.field == "from"
    with pytest.raises(InvalidInput, match=r"^the period starts \(2026-11-01\) after it ends"):
        reports.period_bounds(now, first, last)
    with i18n.language("zh_CN"), pytest.raises(InvalidInput) as caught:
        reports.period_bounds(now, date(2020, 1, 1), date(2026, 1, 1))
    assert str(caught.value) == "报表期间最长五年"


def test_the_commission_rule_is_worded_in_chinese() -> None:
    from collector_tui.config import Settings

    settings = Settings(commission={"ACME": {"bands": [[90, 10], [365, 20]]}})
    with i18n.language("zh_CN"):
        _rate, words = statements._rate_function(settings, "ACME")
        _none, nothing = statements._rate_function(Settings(), "ACME")
    assert words == "按逾期天数：最多 90 天 10 %, 最多 365 天 20 %"
    assert nothing == "未配置佣金"
