"""Money: exact minor units, parsing as people type it, formatting with babel."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector_tui.money import (
    MAX_MINOR,
    AmbiguousAmount,
    Money,
    MoneyError,
    NotAnAmount,
    amount_field_mark,
    amount_text,
    format_money,
    format_plain,
    minor_digits,
    normalize_currency,
    parse_amount_field,
    parse_decimal_string,
    parse_money,
)

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("CNY", 2), ("USD", 2), ("GBP", 2), ("EUR", 2), ("KWD", 3), ("usd", 2)],
)
def test_minor_digits_follow_iso_4217(currency: str, digits: int) -> None:
    assert minor_digits(currency) == digits


@pytest.mark.parametrize("code", ["ZZZ", "US", "USDD", "", "1234", "元"])
def test_unknown_currency_is_refused(code: str) -> None:
    # babel alone would answer 2 for "ZZZ"; an unknown code must not pass as a 2-decimal currency.
    with pytest.raises(MoneyError, match="is not a known currency code"):
        minor_digits(code)
    with pytest.raises(MoneyError, match="is not a known currency code"):
        Money(100, code)


def test_currency_code_is_normalised() -> None:
    assert normalize_currency(" cny ") == "CNY"
    assert Money(5, "usd") == Money(5, "USD")
    assert Money(5, "usd").currency == "USD"


@pytest.mark.parametrize("minor", [1.5, 2.0, Decimal(3), True, "5"])
def test_money_refuses_non_integer_minor_units(minor: object) -> None:
    with pytest.raises(TypeError):
        Money(minor, "USD")  # type: ignore[arg-type]


def test_arithmetic_is_exact_and_same_currency_only() -> None:
    a, b = Money(10, "CNY"), Money(20, "CNY")
    assert a + b == Money(30, "CNY")
    assert a - b == Money(-10, "CNY")
    assert -a == Money(-10, "CNY")
    assert sum([a, b, b], Money.zero("CNY")) == Money(50, "CNY")
    with pytest.raises(MoneyError, match="cannot combine CNY and USD"):
        _ = a + Money(10, "USD")
    with pytest.raises(MoneyError, match="cannot combine CNY and JPY"):
        _ = a - Money(10, "JPY")
    with pytest.raises(TypeError):
        _ = a + 1  # type: ignore[operator]


def test_zero_and_ordering() -> None:
    assert Money.zero("JPY") == Money(0, "JPY")
    assert Money.zero("JPY").is_zero
    assert not Money(1, "JPY").is_zero
    assert Money(1, "USD") < Money(2, "USD")
    assert sorted([Money(3, "USD"), Money(-1, "USD"), Money(2, "USD")]) == [
        Money(-1, "USD"),
        Money(2, "USD"),
        Money(3, "USD"),
    ]


@pytest.mark.parametrize(
    ("money", "text", "decimal"),
    [
        (Money(123450, "USD"), "1234.50", Decimal("1234.50")),
        (Money(-300, "USD"), "-3.00", Decimal("-3.00")),
        (Money(-5, "USD"), "-0.05", Decimal("-0.05")),
        (Money(1000, "JPY"), "1000", Decimal("1000")),
        (Money(1250, "KWD"), "1.250", Decimal("1.250")),
        (Money(0, "CNY"), "0.00", Decimal("0.00")),
        (Money(MAX_MINOR * 1000 + 1, "CNY"), "10000000000000000.01", None),
    ],
)
def test_decimal_string_and_to_decimal(money: Money, text: str, decimal: Decimal | None) -> None:
    assert money.decimal_string() == text
    # The exponent matters: "1234.50" must keep its trailing zero for JSON and CSV exports.
    assert str(money.to_decimal()) == text
    if decimal is not None:
        assert money.to_decimal() == decimal


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (Decimal("1234.5"), "USD", Money(123450, "USD")),
        (Decimal("-0.01"), "USD", Money(-1, "USD")),
        (Decimal("1000"), "JPY", Money(1000, "JPY")),
        (Decimal("1000.00"), "JPY", Money(1000, "JPY")),  # trailing zeros lose nothing
        (Decimal("1.25"), "KWD", Money(1250, "KWD")),
        (Decimal("1E+3"), "USD", Money(100000, "USD")),
        (Decimal("-0"), "USD", Money(0, "USD")),
    ],
)
def test_from_decimal_is_exact(value: Decimal, currency: str, expected: Money) -> None:
    assert Money.from_decimal(value, currency) == expected


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        (Decimal("1.234"), "USD", "USD allows at most 2 decimal places"),
        (Decimal("0.5"), "JPY", "JPY allows no decimal places"),
        (Decimal("1.2345"), "KWD", "KWD allows at most 3 decimal places"),
        (Decimal("NaN"), "USD", "is not an amount"),
        (Decimal("Infinity"), "USD", "is not an amount"),
        (Decimal("1E+14"), "USD", "amount is too large"),
        (Decimal("1E+400"), "USD", "amount is too large"),
    ],
)
def test_from_decimal_refuses(value: Decimal, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        Money.from_decimal(value, currency)


@pytest.mark.parametrize(
    ("text", "currency", "locale", "expected"),
    [
        ("1234.5", "USD", "en_US", 123450),
        ("1,234.50", "USD", "en_US", 123450),
        ("¥1,234.50", "CNY", "en_US", 123450),
        ("¥1,234.50", "CNY", "zh_CN", 123450),
        ("￥1,234.50", "CNY", "zh_CN", 123450),  # full-width yen sign from a Chinese IME
        ("１２３４．５０", "CNY", "zh_CN", 123450),  # full-width digits
        ("¥1,234", "JPY", "en_US", 1234),  # "¥" is yen as well as yuan
        ("$1,234.50", "USD", "en_US", 123450),
        ("US$1,234.50", "USD", "en_US", 123450),
        ("CNY 1,234.50", "CNY", "en_US", 123450),
        ("cny 1,234.50", "CNY", "en_US", 123450),
        ("1,234.50 CNY", "CNY", "en_US", 123450),
        ("CN¥1,234.50", "CNY", "en_US", 123450),
        ("RMB 1234.50", "CNY", "en_US", 123450),
        ("1234元", "CNY", "zh_CN", 123400),
        (" 1234 ", "USD", "en_US", 123400),
        ("1,234", "USD", "en_US", 123400),  # "," groups thousands in en_US
        ("1,234,567.89", "USD", "en_US", 123456789),
        ("1 234.50", "USD", "en_US", 123450),  # a space never means decimals
        ("1.234", "KWD", "en_US", 1234),
        (".5", "USD", "en_US", 50),
        ("1234.", "USD", "en_US", 123400),
        ("+5", "USD", "en_US", 500),
        ("-0", "USD", "en_US", 0),
        ("1000.00", "JPY", "en_US", 1000),
        ("9,999,999,999,999.99", "USD", "en_US", 999999999999999),
        ("10,000,000,000,000.00", "USD", "en_US", MAX_MINOR),
        ("1 234,50", "EUR", "fr_FR", 123450),
        (f"1{NNBSP}234,50", "EUR", "fr_FR", 123450),  # what babel itself writes in fr_FR
        (f"1{NBSP}234,50 €", "EUR", "fr_FR", 123450),
        ("1234,50", "EUR", "fr_FR", 123450),
        ("1234,50", "EUR", "de_DE", 123450),
        ("1 234,50", "EUR", "de_DE", 123450),
        ("1.234,50 €", "EUR", "de_DE", 123450),
        ("1.234", "EUR", "de_DE", 123400),  # "." groups thousands in de_DE
        ("1'234.50", "CHF", "de_CH", 123450),
        ("12,34,567.50", "INR", "en_IN", 123456750),  # lakh grouping
        ("1,234,567.50", "INR", "en_IN", 123456750),
    ],
)
def test_parse_money_accepts(text: str, currency: str, locale: str, expected: int) -> None:
    assert parse_money(text, currency, locale) == Money(expected, currency)


@pytest.mark.parametrize(
    ("text", "currency", "locale", "message"),
    [
        ("", "USD", "en_US", "enter an amount"),
        ("   ", "USD", "en_US", "enter an amount"),
        ("abc", "USD", "en_US", '"abc" is not an amount'),
        ("5 apples", "USD", "en_US", "is not an amount"),
        ("1e5", "USD", "en_US", "is not an amount"),
        ("(5)", "USD", "en_US", "is not an amount"),
        ("--5", "USD", "en_US", "is not an amount"),
        ("5-", "USD", "en_US", "is not an amount"),
        ("$5 USD", "USD", "en_US", "is not an amount"),
        ("-5", "USD", "en_US", "amount must not be negative"),
        ("-$5", "USD", "en_US", "amount must not be negative"),
        ("$-5", "USD", "en_US", "amount must not be negative"),
        ("\u22125", "USD", "en_US", "amount must not be negative"),  # U+2212 minus sign
        ("1.234", "USD", "en_US", "USD allows at most 2 decimal places"),
        ("1.5", "JPY", "en_US", "JPY allows no decimal places"),
        ("1.2345", "KWD", "en_US", "KWD allows at most 3 decimal places"),
        ("1,234", "EUR", "de_DE", "EUR allows at most 2 decimal places"),
        ("1,23", "USD", "en_US", "ambiguous"),
        ("1,2345", "USD", "en_US", "ambiguous"),
        ("1234,50", "USD", "en_US", "ambiguous"),
        ("1 234,50", "USD", "en_US", "ambiguous"),
        ("1.234,5", "USD", "en_US", "ambiguous"),
        ("1.234.567", "USD", "en_US", "ambiguous"),
        ("1 234,567.50", "USD", "en_US", "ambiguous"),
        ("1234.5", "EUR", "de_DE", "ambiguous"),
        ("1234.50", "EUR", "fr_FR", "ambiguous"),
        ("$5", "CNY", "en_US", '"\\$" does not match the currency CNY'),
        ("¥5", "USD", "en_US", '"¥" does not match the currency USD'),
        ("EUR 5", "CNY", "en_US", '"EUR" does not match the currency CNY'),
        ("10,000,000,000,000.01", "USD", "en_US", "amount is too large"),
        ("1" * 60, "USD", "en_US", "amount is too large"),
        ("5", "ZZZ", "en_US", "is not a known currency code"),
        ("5", "USD", "xx_YY", "is not a known locale"),
    ],
)
def test_parse_money_refuses(text: str, currency: str, locale: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_money(text, currency, locale)


def test_ambiguous_message_says_how_the_locale_writes_numbers() -> None:
    with pytest.raises(MoneyError) as caught:
        parse_money("1,23", "USD", "en_US")
    assert str(caught.value) == (
        '"1,23" is ambiguous: in en_US "," separates thousands and "." decimals'
    )


def test_negative_amounts_only_when_allowed() -> None:
    assert parse_money("-5", "USD", allow_negative=True) == Money(-500, "USD")
    assert parse_money("-$1,234.50", "USD", allow_negative=True) == Money(-123450, "USD")
    assert parse_money("USD -3", "USD", allow_negative=True) == Money(-300, "USD")
    assert parse_money(f"€{NBSP}-1.234,50", "EUR", "nl_NL", allow_negative=True) == Money(
        -123450, "EUR"
    )


def test_error_message_is_one_short_line() -> None:
    with pytest.raises(MoneyError) as caught:
        parse_money("a\nb" + "x" * 500, "USD")
    message = str(caught.value)
    assert "\n" not in message
    assert len(message) < 80


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("1234.50", "USD", 123450),
        (" 1234.5 ", "USD", 123450),
        ("-3.00", "USD", -300),
        ("1000", "JPY", 1000),
        ("1000.00", "JPY", 1000),
        ("1.250", "KWD", 1250),
        ("0", "CNY", 0),
    ],
)
def test_parse_decimal_string_accepts(text: str, currency: str, expected: int) -> None:
    assert parse_decimal_string(text, currency) == Money(expected, currency)


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("", "USD", "enter an amount"),
        ("1,234.50", "USD", "is not a decimal amount"),  # machine formats never group
        ("1234,50", "USD", "is not a decimal amount"),
        ("$5", "USD", "is not a decimal amount"),
        ("1e3", "USD", "is not a decimal amount"),
        (".5", "USD", "is not a decimal amount"),
        ("+5", "USD", "is not a decimal amount"),
        ("１２３", "USD", "is not a decimal amount"),
        ("1.234", "USD", "USD allows at most 2 decimal places"),
        ("1.5", "JPY", "JPY allows no decimal places"),
        ("10000000000000.01", "USD", "amount is too large"),
    ],
)
def test_parse_decimal_string_refuses(text: str, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_decimal_string(text, currency)


def test_parse_decimal_string_can_refuse_negatives() -> None:
    with pytest.raises(MoneyError, match="must not be negative"):
        parse_decimal_string("-1.00", "USD", allow_negative=False)


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money(123450, "USD"), "en_US", "$1,234.50"),
        (Money(-123450, "USD"), "en_US", "-$1,234.50"),
        (Money(123450, "CNY"), "zh_CN", "¥1,234.50"),
        (Money(123450, "CNY"), "en_US", "CN¥1,234.50"),
        (Money(1234, "JPY"), "en_US", "¥1,234"),
        (Money(1250, "KWD"), "en_US", "KWD1.250"),
        (Money(123450, "EUR"), "de_DE", f"1.234,50{NBSP}€"),
        (Money(123450, "GBP"), "en_GB", "£1,234.50"),
    ],
)
def test_format_money(money: Money, locale: str, expected: str) -> None:
    assert format_money(money, locale) == expected


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money(123450, "CNY"), "1,234.50 CNY"),
        (Money(-300, "USD"), "-3.00 USD"),
        (Money(1000000, "JPY"), "1,000,000 JPY"),
        (Money(1250, "KWD"), "1.250 KWD"),
        (Money(5, "USD"), "0.05 USD"),
    ],
)
def test_format_plain(money: Money, expected: str) -> None:
    assert format_plain(money) == expected
    assert str(money) == expected


CURRENCIES = st.sampled_from(["USD", "JPY", "KWD", "CNY"])
MINOR = st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR)
MONEY = st.builds(Money, MINOR, CURRENCIES)


@given(MONEY)
def test_decimal_string_round_trips(m: Money) -> None:
    assert parse_decimal_string(m.decimal_string(), m.currency) == m
    assert Money.from_decimal(m.to_decimal(), m.currency) == m


@given(MONEY)
def test_plain_format_round_trips(m: Money) -> None:
    assert parse_money(format_plain(m), m.currency, allow_negative=True) == m
    if m.minor >= 0:
        assert parse_money(format_plain(m), m.currency) == m


@given(MONEY, st.sampled_from(["en_US", "zh_CN", "ja_JP", "de_DE", "fr_FR", "en_IN", "sv_SE"]))
def test_babel_format_round_trips_in_its_locale(m: Money, locale: str) -> None:
    # What the app shows must be accepted back when an agent copies it into a field.
    assert parse_money(format_money(m, locale), m.currency, locale, allow_negative=True) == m


@given(CURRENCIES, MINOR, MINOR)
def test_add_and_sub_are_exact(currency: str, a: int, b: int) -> None:
    x, y = Money(a, currency), Money(b, currency)
    assert (x + y).minor == a + b
    assert (x + y) - y == x
    assert x - y == x + (-y)
    with localcontext() as context:
        context.prec = 60  # so the Decimal side cannot round either
        assert (x + y).to_decimal() == x.to_decimal() + y.to_decimal()
        assert (x - y).to_decimal() == x.to_decimal() - y.to_decimal()


# --- one digit rule for every amount --------------------------------------------------------------

FOREIGN_DIGITS = [
    ("𝟏𝟐𝟑𝟒", "𝟏"),  # mathematical bold: NFKC would quietly make it 1234
    ("١٢٣٤", "١"),  # Arabic-Indic
    ("۱۲۳۴", "۱"),  # Extended Arabic-Indic (Persian)
    ("१२३४", "१"),  # Devanagari
    ("12³", "³"),  # superscript
    ("①②", "①"),  # circled
]


@pytest.mark.parametrize(("text", "digit"), FOREIGN_DIGITS)
def test_digits_of_other_scripts_are_refused_everywhere(text: str, digit: str) -> None:
    message = f'"{text}" has a digit other than 0-9 ({digit}): use 0-9'
    with pytest.raises(MoneyError) as typed:
        parse_money(text, "CNY", "zh_CN")
    with pytest.raises(MoneyError) as filed:
        parse_amount_field(text, "CNY", decimal="auto")
    with pytest.raises(MoneyError) as text_only:
        amount_text(text)
    assert str(typed.value) == str(filed.value) == str(text_only.value) == message


@pytest.mark.parametrize("locale", ["zh_CN", "ja_JP", "en_US"])
def test_full_width_digits_are_read_as_typed_with_a_chinese_input_method(locale: str) -> None:
    assert parse_money("１２３４.５０", "CNY", locale).minor == 123_450
    assert parse_money("￥１，２３４．５", "CNY", locale).minor == 123_450
    assert parse_amount_field("１２３４.５０", "CNY", decimal="point")[0].minor == 123_450
    assert amount_text("１２３") == "123"


@pytest.mark.parametrize(
    ("text", "decimal", "minor", "mark"),
    [
        ("12,500.00", "point", 1_250_000, "."),
        ("1,234,567.89", "point", 123_456_789, "."),
        ("1,500", "point", 150_000, "."),
        ("1,500", "comma", 150, ","),
        ("1.234,56", "comma", 123_456, ","),
        ("1.234,56", "auto", 123_456, ","),
        ("1500,5", "auto", 150_050, ","),
        ("1500.50", "auto", 150_050, "."),
        ("1500", "auto", 150_000, None),
        ("1 234 567", "auto", 123_456_700, None),
        ("1'234.50", "auto", 123_450, "."),
        ("1.234.567", "auto", 123_456_700, ","),  # dots that group: a file with decimal commas
        ("+7", "auto", 700, None),
    ],
)
def test_parse_amount_field(text: str, decimal: str, minor: int, mark: str | None) -> None:
    money, shown = parse_amount_field(text, "CNY", decimal=decimal)
    assert (money.minor, shown) == (minor, mark)
    assert amount_field_mark(text, decimal) == mark


@pytest.mark.parametrize("text", ["1,500", "12.500", "999,999", "1.000"])
def test_parse_amount_field_refuses_to_guess(text: str) -> None:
    with pytest.raises(AmbiguousAmount) as caught:
        parse_amount_field(text, "KWD", decimal="auto")
    units, fraction = text.replace(".", ",").split(",")
    assert caught.value.readings == (units + fraction, f"{units}.{fraction}")


@pytest.mark.parametrize(
    ("text", "decimal", "error", "message"),
    [
        ("12,5", "point", NotAnAmount, '"," only groups thousands with a decimal point'),
        ("1500.50", "comma", NotAnAmount, '"." only groups thousands with a decimal comma'),
        ("1.234.567", "point", NotAnAmount, "more than one decimal point"),
        ("12,34,567.00", "point", NotAnAmount, "irregular grouping of thousands"),
        ("1e3", "auto", NotAnAmount, '"1e3" is not an amount'),
        ("$12", "auto", NotAnAmount, '"$12" is not an amount'),
        ("-12", "auto", MoneyError, "amount must not be negative"),
        ("1.234", "point", MoneyError, "CNY allows at most 2 decimal places"),
        ("9" * 20, "auto", MoneyError, "amount is too large"),
    ],
)
def test_parse_amount_field_refuses(
    text: str, decimal: str, error: type[MoneyError], message: str
) -> None:
    with pytest.raises(error) as caught:
        parse_amount_field(text, "CNY", decimal=decimal)
    assert str(caught.value) == message


def _spreadsheet_forms(m: Money) -> dict[str, list[str]]:
    """How spreadsheets write `m` in a file, by the decimal mark they use."""
    point = format_plain(m).rsplit(" ", 1)[0]  # "1,234.50"
    comma = point.translate(str.maketrans(",.", ".,"))  # "1.234,50"
    bare = m.decimal_string()  # "1234.50"
    return {
        "point": [point, bare, point.replace(",", " ")],
        "comma": [comma, bare.replace(".", ","), comma.replace(".", "\u00a0")],
    }


@given(MONEY)
def test_file_amounts_round_trip_and_auto_never_misreads(m: Money) -> None:
    if m.minor < 0:
        return
    for mark, texts in _spreadsheet_forms(m).items():
        for text in texts:
            assert parse_amount_field(text, m.currency, decimal=mark)[0] == m, text
            # "auto" reads the same amount, or refuses to guess; never another amount.
            try:
                read, shown = parse_amount_field(text, m.currency, decimal="auto")
            except AmbiguousAmount:
                continue
            assert read == m, text
            assert shown in (None, "." if mark == "point" else ",")
