"""Money as integer minor units plus an ISO 4217 currency; parsing and formatting with babel.

Amounts never pass through float: a balance of 0.1 + 0.2 must stay 30 fen, and SQLite would store a
`Numeric` as REAL anyway (docs/decisions.md, money). Human input is read the way the user's locale
writes numbers, and anything that could be read two ways is refused with a message fit to show next
to the field, because a silently misread amount is worse than a retyped one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
)

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _

__all__ = [
    "DECIMAL_MARKS",
    "MAX_MINOR",
    "AmbiguousAmount",
    "Money",
    "MoneyError",
    "NotAnAmount",
    "amount_field_mark",
    "amount_text",
    "format_money",
    "format_plain",
    "minor_digits",
    "normalize_currency",
    "parse_amount_field",
    "parse_decimal_string",
    "parse_money",
]

# Far above any real debt, far below where SQLite's 64-bit integers or sums of many rows overflow;
# anything bigger is a typo or a pasted reference number.
MAX_MINOR = 10**15

# Symbols people really type that babel's locale data does not give for the currency in every
# locale (CLDR "narrow" symbols, which babel does not expose, and Chinese/Japanese usage). "¥" is
# both yuan and yen, so it belongs to both.
_EXTRA_SYMBOLS: dict[str, tuple[str, ...]] = {
    "CNY": ("¥", "元", "RMB", "人民币"),
    "JPY": ("¥", "円"),
    "USD": ("$", "US$"),
    "CAD": ("$",),
    "AUD": ("$",),
    "NZD": ("$",),
    "HKD": ("$",),
    "SGD": ("$",),
    "TWD": ("$", "NT$"),
    "MXN": ("$",),
    "GBP": ("£",),
    "EUR": ("€",),
    "INR": ("₹",),
    "KRW": ("₩",),
}

_FOLD_TABLE = str.maketrans({"\u2019": "'", "\u200e": None, "\u200f": None, "\u061c": None})
_MINUS_SIGNS = frozenset("-\u2212")  # babel gives U+2212 for sv_SE, fi_FI, nb_NO
_SIGNS = _MINUS_SIGNS | {"+"}
_CORE_CHARS = frozenset("0123456789., '")
_MACHINE_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
# Longer than this cannot be a valid amount; stop before int() meets a megabyte of digits.
_MAX_DIGITS = 40


class MoneyError(ValueError):
    """Input that is not an amount of money we can take; the message is shown to the user as is."""


class NotAnAmount(MoneyError):
    """A file's field that is not an amount (parse_amount_field). `reason` is False when the
    message only says so, True when it says why (a file names the field and value itself)."""

    def __init__(self, message: str, *, reason: bool = False) -> None:
        super().__init__(message)
        self.reason = reason


class AmbiguousAmount(MoneyError):
    """A file's amount that reads as two different numbers ("1,500": 1500 or 1.5)."""

    def __init__(self, message: str, readings: tuple[str, str]) -> None:
        super().__init__(message)
        self.readings = readings


def normalize_currency(currency: str) -> str:
    """The ISO 4217 code in upper case ("usd" -> "USD"), or MoneyError for an unknown code."""
    if not isinstance(currency, str):
        raise MoneyError(
            _('"{code}" is not a known currency code').format(code=_show(str(currency)))
        )
    return _normalize_currency(currency)


@lru_cache(maxsize=512)
def _normalize_currency(currency: str) -> str:
    code = currency.strip().upper()
    if len(code) != 3 or code not in _known_currencies():
        raise MoneyError(_('"{code}" is not a known currency code').format(code=_show(currency)))
    return code


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def minor_digits(currency: str) -> int:
    """Decimal places of the currency's minor unit (JPY 0, USD 2, KWD 3)."""
    return _minor_digits(normalize_currency(currency))


@lru_cache(maxsize=512)
def _minor_digits(code: str) -> int:
    # babel answers 2 for codes it has never heard of, so the code is validated before this.
    return get_currency_precision(code)


def _precision_error(code: str, digits: int) -> MoneyError:
    if digits == 0:
        return MoneyError(_("{code} allows no decimal places").format(code=code))
    return MoneyError(
        _("{code} allows at most {digits} decimal places").format(code=code, digits=digits)
    )


def _show(text: str, limit: int = 32) -> str:
    # Messages go next to a field or on one stderr line: no newlines, no screenful of junk.
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class Money:
    """An exact amount: `minor` units (cents, fen, yen) of `currency`.

    Ordering compares `minor` first and is only meaningful within one currency; arithmetic refuses
    to mix currencies.
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int and a float would smuggle rounding back in; both are programming errors.
        if type(self.minor) is not int:
            raise TypeError(f"Money.minor must be int, not {type(self.minor).__name__}")
        code = normalize_currency(self.currency)
        if code != self.currency:
            object.__setattr__(self, "currency", code)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str) -> Money:
        """Exact conversion; refuses values with more precision than the currency has."""
        code = normalize_currency(currency)
        digits = _minor_digits(code)
        if not isinstance(value, Decimal) or not value.is_finite():
            raise MoneyError(_('"{text}" is not an amount').format(text=_show(str(value))))
        sign, value_digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite, checked above
        coefficient = int("".join(map(str, value_digits)) or "0")
        shift = exponent + digits
        if coefficient == 0:
            return cls(0, code)
        if shift >= 0:
            if len(value_digits) + shift > _MAX_DIGITS:
                raise MoneyError(_("amount is too large"))
            minor = coefficient * 10**shift
        else:
            # Trailing zeros beyond the currency's precision lose nothing ("1000.00" yen).
            minor, rest = divmod(coefficient, 10**-shift)
            if rest:
                raise _precision_error(code, digits)
        if minor > MAX_MINOR:
            raise MoneyError(_("amount is too large"))
        return cls(-minor if sign else minor, code)

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    def to_decimal(self) -> Decimal:
        # Built from a string so the exponent is exact whatever the decimal context's precision.
        return Decimal(f"{self.minor}e-{_minor_digits(self.currency)}")

    def decimal_string(self) -> str:
        """Machine form for CSV/JSON: dot decimal, no grouping, all the currency's decimals."""
        return _digits_string(self.minor, _minor_digits(self.currency), grouping=False)

    def __str__(self) -> str:
        return format_plain(self)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(
                _("cannot combine {first} and {second} amounts").format(
                    first=self.currency, second=other.currency
                )
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)


def _digits_string(minor: int, digits: int, *, grouping: bool) -> str:
    units, fraction = divmod(abs(minor), 10**digits)
    sign = "-" if minor < 0 else ""
    whole = f"{units:,}" if grouping else str(units)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


def _checked(minor: int, negative: bool, code: str, allow_negative: bool) -> Money:
    if minor > MAX_MINOR:
        raise MoneyError(_("amount is too large"))
    if negative and minor and not allow_negative:
        raise MoneyError(_("amount must not be negative"))
    return Money(-minor if negative else minor, code)


def _to_minor(units: str, fraction: str, code: str) -> int:
    digits = _minor_digits(code)
    if len(fraction) > digits:
        if fraction[digits:].strip("0"):
            raise _precision_error(code, digits)
        fraction = fraction[:digits]
    if len(units.lstrip("0")) + digits > _MAX_DIGITS:
        raise MoneyError(_("amount is too large"))
    scale: int = 10**digits  # typeshed types int ** int as Any (a negative power is a float)
    return int(units or "0") * scale + int(fraction.ljust(digits, "0") or "0")


def parse_decimal_string(text: str, currency: str, *, allow_negative: bool = True) -> Money:
    """Read the machine form ("1234.50", "-3", "1000"): ASCII digits, dot decimal, no grouping.

    For CSV and JSON fields, where the writer was a program and locale rules would only add doubt.
    Negative amounts are accepted by default because reversals are data there.
    """
    code = normalize_currency(currency)
    stripped = text.strip()
    if not stripped:
        raise MoneyError(_("enter an amount"))
    match = _MACHINE_DECIMAL.fullmatch(stripped)
    if match is None:
        raise MoneyError(
            _('"{text}" is not a decimal amount like 1234.50').format(text=_show(stripped))
        )
    sign, units, fraction = match.groups()
    return _checked(_to_minor(units, fraction or "", code), bool(sign), code, allow_negative)


# How a file writes the decimals of its amounts: "point" (1,234.50), "comma" (1.234,50), or "auto":
# whatever each amount shows unambiguously (see parse_amount_field).
DECIMAL_MARKS = ("auto", "point", "comma")
_MARK_OF = {"point": ".", "comma": ","}
_MARK_NAME = {".": N_("point"), ",": N_("comma")}
_FIELD_CHARS = frozenset("0123456789.,' ")
_GROUP_ONLY = frozenset(" '")  # spaces (no-break ones folded) and the Swiss apostrophe


def parse_amount_field(
    text: str, currency: str, *, decimal: str = "point", allow_negative: bool = False
) -> tuple[Money, str | None]:
    """Read an amount from a file's field: (the amount, the decimal mark the text shows or None).

    Files are written by spreadsheets in their author's locale, so both "1,234.50" (Excel in
    English) and "1.234,50" (in German) occur, with spaces or apostrophes grouping too. `decimal`
    says which mark the file uses: "point", "comma", or "auto", where an amount is read only when
    its text settles it:

    - a mark followed by other than three digits is the decimal mark ("1500,5", "12.50");
    - a mark that occurs twice, or before the other one, groups thousands ("1.234.567",
      "1.234,56", "1,234.56");
    - one mark followed by exactly three digits after one to three digits ("1,500", "12.500")
      reads two ways and raises AmbiguousAmount: the caller asks which mark the file uses.

    The mark returned ("." or ","; None when the text shows neither, as in "1500") is the decimal
    mark the text implies ("1.234.567" implies ","), so a caller can check that a whole file agrees
    with itself. Grouping must be regular (1-3 digits, then threes) whatever the mode. Raises
    NotAnAmount for text that is no amount, MoneyError for one refused (a digit of another script,
    more decimals than the currency has, negative unless allowed, too large).
    """
    code = normalize_currency(currency)
    negative, units, fraction, mark = _field_parts(_without_symbol(text, code), decimal)
    minor = _to_minor(units, fraction, code)
    return _checked(minor, negative, code, allow_negative), mark


def _without_symbol(text: str, code: str) -> str:
    """A file's amount without the one marker of its own currency written before or after it
    ("¥1,234.50", "1234.5元", "人民币1234.50", "1,234.50 CNY"), as people type them in
    spreadsheets; the sign stays in front. A marker of another currency stays, and the amount is
    refused for it. Plain figures come back unchanged."""
    if text.isascii() and (not text or text.strip()[-1:].isdigit()) and text.strip()[:1].isdigit():
        return text
    folded = amount_text(text).strip()
    sign = folded[:1] if folded[:1] in _SIGNS else ""
    rest = folded[len(sign) :].strip()
    upper = rest.upper()
    for symbol in sorted(_symbols_for(code, "en_US"), key=len, reverse=True):
        if upper.startswith(symbol):
            return sign + rest[len(symbol) :].strip()
        if upper.endswith(symbol):
            return sign + rest[: len(rest) - len(symbol)].strip()
    return text


def amount_field_mark(text: str, decimal: str = "auto") -> str | None:
    """The decimal mark `text` shows ("." or ","; None for "1500") under `decimal`, as
    parse_amount_field would read it, whatever the currency: for checking a file before its rows
    are matched to their cases. Raises AmbiguousAmount, NotAnAmount or MoneyError the same way."""
    return _field_parts(text, decimal)[3]


def _field_parts(text: str, decimal: str) -> tuple[bool, str, str, str | None]:
    """(negative, units digits, fraction digits, the decimal mark shown) of a file's amount."""
    if decimal not in DECIMAL_MARKS:
        raise ValueError(f"decimal must be one of {DECIMAL_MARKS}, not {decimal!r}")
    folded = amount_text(text).strip()
    negative = folded[:1] in _SIGNS
    if negative:
        negative = folded[0] in _MINUS_SIGNS
        folded = folded[1:].lstrip()
    if (
        not folded
        or len(folded) > _MAX_DIGITS
        or not set(folded) <= _FIELD_CHARS
        or not folded[0].isdigit()
        or not folded[-1].isdigit()
    ):
        raise NotAnAmount(_('"{text}" is not an amount').format(text=_show(text)))
    mark = _MARK_OF.get(decimal) or _auto_mark(folded)
    units, found, fraction = folded.rpartition(mark) if mark in folded else (folded, "", "")
    if mark in units:
        raise NotAnAmount(
            _("more than one decimal {mark}").format(mark=_(_MARK_NAME[mark])), reason=True
        )
    if found and not fraction.isdigit():
        raise NotAnAmount(_('"{text}" is not an amount').format(text=_show(text)))
    groups = _field_groups(units, "," if mark == "." else ".")
    if groups is None:
        other = "." if mark == "," else ","
        raise NotAnAmount(
            # "12,5" with a decimal point: the comma was meant as the decimal mark, most likely.
            _('"{other}" only groups thousands with a decimal {mark}').format(
                other=other, mark=_(_MARK_NAME[mark])
            )
            if units.count(other) == 1 and units.replace(other, "").isdigit()
            else _("irregular grouping of thousands"),
            reason=True,
        )
    # "1.234.567" has no decimals but shows a file with decimal commas all the same.
    shows_mark = bool(found) or "." in units or "," in units
    return negative, "".join(groups), fraction, (mark if shows_mark else None)


def _auto_mark(text: str) -> str:
    """The decimal mark of `text` when only one reading exists (see parse_amount_field)."""
    points, commas = text.count("."), text.count(",")
    if points and commas:
        return "." if text.rfind(".") > text.rfind(",") else ","
    if not points and not commas:
        return "."  # no decimals: either mark reads the same
    mark = "." if points else ","
    if points + commas > 1:
        return "," if mark == "." else "."  # repeated: it groups, the other mark is the decimal
    units, _mark, fraction = text.partition(mark)
    if len(fraction) == 3 and _field_groups(units + "," + fraction, ",") is not None:
        # Both readings are amounts ("1,500" is 1500 or 1.5); "1234,500" and "0,500" are not.
        readings = (f"{units}{fraction}", f"{units}.{fraction}")
        raise AmbiguousAmount(
            _('"{text}" reads two ways: {first} or {second}').format(
                text=_show(text), first=readings[0], second=readings[1]
            ),
            readings,
        )
    return mark


def _field_groups(units: str, group: str) -> list[str] | None:
    """The digit groups of `units` separated by `group`, spaces or apostrophes, or None when the
    grouping is irregular (mixed separators, a first group of 0 or over three, others not three)."""
    if units.isdigit():
        return [units]
    separators = {char for char in units if not char.isdigit()}
    if len(separators) != 1 or not separators <= _GROUP_ONLY | {group}:
        return None
    groups = units.split(separators.pop())
    first, rest = groups[0], groups[1:]
    if not 1 <= len(first) <= 3 or first[0] == "0" or any(len(g) != 3 for g in rest):
        return None
    return groups


@dataclass(frozen=True)
class _LocaleNumbers:
    decimal: str
    group: str
    primary: int  # digits in the group next to the decimal separator
    secondary: int  # digits in the groups further left (2 in en_IN: 12,34,567)
    locale: Locale


@lru_cache(maxsize=64)
def _locale_numbers(locale: str) -> _LocaleNumbers:
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as error:
        raise MoneyError(
            _('"{locale}" is not a known locale').format(locale=_show(str(locale)))
        ) from error
    decimal = _fold(get_decimal_symbol(parsed))
    group = _fold(get_group_symbol(parsed))
    if group.isspace():
        group = " "
    primary, secondary = parsed.decimal_formats[None].grouping
    return _LocaleNumbers(decimal, group, primary, secondary, parsed)


def amount_text(text: str) -> str:
    """`text` with full-width digits and signs read as ASCII, for every amount anyone enters.

    The one digit rule of the application, used by the forms, the command line and the imports:
    0-9 and full-width ０-９ (what a Chinese or Japanese input method types) are digits; a digit
    of any other script or style (Arabic-Indic ٣, Devanagari ३, mathematical 𝟑, superscript ³,
    circled ③) is refused with a message, never read as a number nor dropped.
    """
    if text.isascii():
        return text
    for char in text:
        if char.isascii() or "\uff10" <= char <= "\uff19":
            continue
        if char.isdigit() or any("0" <= c <= "9" for c in unicodedata.normalize("NFKC", char)):
            raise MoneyError(
                _('"{text}" has a digit other than 0-9 ({char}): use 0-9').format(
                    text=_show(text), char=char
                )
            )
    return _fold(text)


def _fold(text: str) -> str:
    # NFKC turns full-width digits and "￥" from Chinese/Japanese input methods, and the no-break
    # spaces babel uses as group separators, into the plain characters the parser knows.
    # Bidi marks (babel puts U+200F before amounts in Arabic locales) are invisible, not symbols.
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)


@lru_cache(maxsize=1024)
def _symbols_for(code: str, locale: str) -> frozenset[str]:
    """Every marker accepted next to an amount of `code` (compared in upper case)."""
    found = {code, *_EXTRA_SYMBOLS.get(code, ())}
    for where in (_locale_numbers(locale).locale, "en", "root"):
        found.add(get_currency_symbol(code, where))
    return frozenset(_fold(symbol).strip().upper() for symbol in found if symbol)


@lru_cache(maxsize=64)
def _all_symbols(locale: str) -> frozenset[str]:
    """Markers that name some currency: a marker here but not for our currency contradicts it."""
    found = set(_known_currencies())
    for extra in _EXTRA_SYMBOLS.values():
        found.update(extra)
    for where in (_locale_numbers(locale).locale, Locale.parse("en"), Locale.parse("root")):
        found.update(where.currency_symbols.values())
    return frozenset(_fold(symbol).strip().upper() for symbol in found if symbol)


def _split_sign(prefix: str) -> tuple[bool, str]:
    """(negative, marker) for a prefix such as "-$", "$-", "USD -", "+" or "-"."""
    if prefix[:1] in _SIGNS:
        return prefix[0] in _MINUS_SIGNS, prefix[1:].strip()
    if prefix[-1:] in _SIGNS:
        return prefix[-1] in _MINUS_SIGNS, prefix[:-1].strip()
    return False, prefix


def parse_money(
    text: str, currency: str, locale: str = "en_US", *, allow_negative: bool = False
) -> Money:
    """Read an amount as a person types it in `locale`: "1,234.50", "¥1,234.50", "CNY 1234.5".

    Separators follow the locale ("1.234,50" in de_DE, "1 234,50" in fr_FR); spaces group digits in
    any locale. Input that the locale could read two ways, more decimals than the currency has, a
    symbol of another currency, a negative amount (unless allowed) or an absurd size is refused.
    """
    code = normalize_currency(currency)
    numbers = _locale_numbers(locale)
    shown = _show(text)
    folded = amount_text(text).strip()
    if not folded:
        raise MoneyError(_("enter an amount"))
    first = next((i for i, char in enumerate(folded) if "0" <= char <= "9"), None)
    if first is None:
        raise MoneyError(_('"{text}" is not an amount').format(text=shown))
    last = max(i for i, char in enumerate(folded) if "0" <= char <= "9")
    start, end = first, last + 1
    # A decimal separator touching the digits belongs to the number: ".5", "$.50", "1234.".
    if start and folded[start - 1] == numbers.decimal:
        start -= 1
    if end < len(folded) and folded[end] == numbers.decimal and end + 1 == len(folded):
        end += 1
    core, prefix, suffix = folded[start:end], folded[:start].strip(), folded[end:].strip()

    negative, prefix = _split_sign(prefix)
    if prefix and suffix or any(char in _SIGNS for char in prefix + suffix):
        raise MoneyError(_('"{text}" is not an amount').format(text=shown))
    marker = (prefix or suffix).upper()
    if marker and marker not in _symbols_for(code, locale):
        if marker in _all_symbols(locale):
            raise MoneyError(
                _('"{marker}" does not match the currency {code}').format(
                    marker=_show(prefix or suffix), code=code
                )
            )
        raise MoneyError(_('"{text}" is not an amount').format(text=shown))

    units, fraction = _split_core(core, numbers, shown, locale)
    return _checked(_to_minor(units, fraction, code), negative, code, allow_negative)


def _split_core(core: str, numbers: _LocaleNumbers, shown: str, locale: str) -> tuple[str, str]:
    """Digits before and after the decimal separator, with grouping checked and removed."""
    if not set(core) <= _CORE_CHARS | {numbers.decimal, numbers.group}:
        raise MoneyError(_('"{text}" is not an amount').format(text=shown))
    if core.count(numbers.decimal) > 1:
        raise _ambiguous(shown, locale, numbers)
    units, _mark, fraction = core.partition(numbers.decimal)
    if fraction and not fraction.isdigit():
        raise _ambiguous(shown, locale, numbers)
    if units.isdigit() or not units:
        return units, fraction
    separators = {char for char in units if not char.isdigit()}
    if len(separators) != 1 or not separators <= {numbers.group, " "}:
        raise _ambiguous(shown, locale, numbers)
    groups = units.split(separators.pop())
    if not _grouping_ok(groups, numbers.primary, numbers.secondary) and not _grouping_ok(
        groups, numbers.primary, numbers.primary
    ):
        raise _ambiguous(shown, locale, numbers)
    return "".join(groups), fraction


def _ambiguous(shown: str, locale: str, numbers: _LocaleNumbers) -> MoneyError:
    return MoneyError(
        _(
            '"{text}" is ambiguous: in {locale} "{group}" separates thousands'
            ' and "{decimal}" decimals'
        ).format(text=shown, locale=locale, group=numbers.group, decimal=numbers.decimal)
    )


def _grouping_ok(groups: list[str], primary: int, secondary: int) -> bool:
    # "1,23" or "1,2345" under en_US is more likely a mistyped decimal than a grouped integer.
    *head, tail = groups
    if len(tail) != primary or not head:
        return False
    *middle, first = head[::-1]
    return 1 <= len(first) <= secondary and all(len(group) == secondary for group in middle)


def format_money(m: Money, locale: str = "en_US") -> str:
    """The amount as the locale writes money ("$1,234.50", "¥1,234.50" in zh_CN, "1.234,50 €")."""
    return _format_money(m, locale)


@lru_cache(maxsize=8192)
def _format_money(m: Money, locale: str) -> str:
    # babel is ~15 µs a call; tables redraw the same amounts on every scroll.
    return format_currency(m.to_decimal(), m.currency, locale=_locale_numbers(locale).locale)


def format_plain(m: Money) -> str:
    """Compact, locale-free form for tables and logs: "1,234.50 CNY", "-3 JPY"."""
    return f"{_digits_string(m.minor, _minor_digits(m.currency), grouping=True)} {m.currency}"
