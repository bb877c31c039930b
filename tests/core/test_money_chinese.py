"""Amounts as Chinese users write them, in a form (parse_money, the user's locale) and in a file's
field (parse_amount_field): ¥/￥, 元, 人民币, RMB, full-width digits; the same refusals of an
amount that reads two ways or carries another currency's sign."""

from __future__ import annotations

import pytest

from collector_tui.money import (
    AmbiguousAmount,
    MoneyError,
    NotAnAmount,
    parse_amount_field,
    parse_money,
)

WRITTEN = [
    "¥1,234.50",
    "￥1,234.50",
    "1234.5元",
    "1,234.5元",
    "1234.50 元",
    "人民币1234.50",
    "人民币 1,234.50",
    "RMB1234.5",
    "１２３４．５０",
    "￥１，２３４．５",
    "CNY 1,234.50",
]


@pytest.mark.parametrize("text", WRITTEN)
@pytest.mark.parametrize("locale", ["zh_CN", "en_US"])
def test_a_form_reads_them(text: str, locale: str) -> None:
    assert parse_money(text, "CNY", locale).minor == 123_450


@pytest.mark.parametrize("text", WRITTEN)
@pytest.mark.parametrize("decimal", ["point", "auto"])
def test_a_file_reads_them(text: str, decimal: str) -> None:
    money, mark = parse_amount_field(text, "CNY", decimal=decimal)
    assert money.minor == 123_450 and mark in (".", None)


@pytest.mark.parametrize("text", ["¥1.234,50", "1.234,50元", "¥1,23.45", "12,34元"])
def test_a_form_refuses_what_reads_otherwise_in_chinese(text: str) -> None:
    with pytest.raises(MoneyError, match="ambiguous|grouping|not an amount"):
        parse_money(text, "CNY", "zh_CN")


@pytest.mark.parametrize("text", ["¥1.234,50", "1.234,50元", "¥1,23.45", "12,34元"])
def test_a_file_with_decimal_points_refuses_them(text: str) -> None:
    with pytest.raises(NotAnAmount):
        parse_amount_field(text, "CNY", decimal="point")


def test_a_thousand_or_one_and_a_half_is_asked_in_either_form() -> None:
    with pytest.raises(AmbiguousAmount):
        parse_amount_field("1,500元", "CNY", decimal="auto")


@pytest.mark.parametrize(("text", "currency"), [("$5", "CNY"), ("¥5", "USD"), ("5元", "EUR")])
def test_another_currencys_sign_is_refused(text: str, currency: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount_field(text, currency, decimal="point")
    with pytest.raises(MoneyError):
        parse_money(text, currency, "zh_CN")


def test_a_digit_of_another_script_is_refused_with_a_sign_too() -> None:
    with pytest.raises(MoneyError, match="other than 0-9"):
        parse_amount_field("¥١٢٣", "CNY")
