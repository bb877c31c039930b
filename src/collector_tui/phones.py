"""Phone numbers: parsing, validation, kind and time zones, with phonenumbers.

The importer calls `parse_phone` for every number of every row (tens of thousands a second), so it
parses once and works out the number's region and type together (`_region_and_type`): a number is
valid exactly when its type is known, which is what `is_valid_number` computes too. phonenumbers'
public calls would find the region up to three times for a number of a shared calling code (+1,
+44, +7: `number_type` finds it, then `region_code_for_number` again), each time matching the
number against every type pattern; done once it is about a quarter of the whole parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
)
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    _number_type_helper,
    national_significant_number,
)
from phonenumbers.timezone import (
    UNKNOWN_TIMEZONE,
    time_zones_for_geographical_number,
    time_zones_for_number,
)

from collector_tui.i18n import N_, _

__all__ = [
    "PHONE_KINDS",
    "ParsedPhone",
    "format_phone",
    "mask_phone",
    "parse_phone",
    "search_key",
    "zones_for",
]

# Keep phonenumbers' compiled metadata patterns instead of going through `re`'s bounded cache for
# each of the dozens of patterns one number is matched against: a sixth off every parse. (Absent
# from older phonenumbers releases, which then simply go without.)
_enable_pattern_cache = getattr(phonenumbers, "enable_pattern_cache", None)
if _enable_pattern_cache is not None:
    _enable_pattern_cache()

_KINDS: dict[int, str] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "shared_cost",  # CN 400 numbers: common for company debtors
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
PHONE_KINDS: tuple[str, ...] = (*_KINDS.values(), "unknown")

# Messages are made in the language current when a number is judged (an import's status reason
# keeps the language of the process that imported it: docs/decisions.md, Languages).
_PARSE_ERRORS: dict[int, str] = {
    NumberParseException.NOT_A_NUMBER: N_("not a phone number"),
    NumberParseException.TOO_SHORT_NSN: N_("not a phone number: too short"),
    NumberParseException.TOO_SHORT_AFTER_IDD: N_("not a phone number: too short"),
    NumberParseException.TOO_LONG: N_("not a phone number: too long"),
}
_INVALID_NUMBER = N_("not a valid {where} number")
_LENGTH_PROBLEMS: dict[int, str] = {
    ValidationResult.TOO_SHORT: N_("not a valid {where} number (too short)"),
    ValidationResult.TOO_LONG: N_("not a valid {where} number (too long)"),
    ValidationResult.INVALID_LENGTH: N_("not a valid {where} number (wrong length)"),
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: N_("not a valid {where} number (area code missing)"),
}
_NON_GEO_REGION = "001"  # phonenumbers' region for global services such as +800, not a country


@dataclass(frozen=True, slots=True)
class ParsedPhone:
    """What a typed or imported phone number turned out to be.

    `e164` is set exactly when `valid` is: a normalised form of a number that cannot exist (a CN
    landline without its area code becomes "+8612345678") would only mislead a dialler or a search.
    """

    raw: str
    e164: str | None  # "+8613800138000"
    extension: str | None
    valid: bool
    kind: str  # one of PHONE_KINDS
    region: str | None  # ISO 3166 region of a valid number ("CN", "US", "GG")
    time_zones: tuple[str, ...]  # IANA names; empty when unknown, never "Etc/Unknown"
    error: str | None  # why it is not valid, fit to show next to the field


def _region_hint(default_region: str | None) -> str | None:
    # phonenumbers wants upper case ("cn" fails as if no region were given).
    if not default_region:
        return None
    return default_region.strip().upper() or None


def parse_phone(text: str, default_region: str | None) -> ParsedPhone:
    """Parse and validate a number as typed or imported; never raises for bad input."""
    region_hint = _region_hint(default_region)
    if not isinstance(text, str):
        return _failed(str(text), _("not a phone number"))
    try:
        number = phonenumbers.parse(text, region_hint)
    except NumberParseException as error:
        return _failed(text, _parse_error_message(error, text, region_hint))
    extension = number.extension or None
    region, number_type = _region_and_type(number)
    if number_type == PhoneNumberType.UNKNOWN:
        return ParsedPhone(
            raw=text,
            e164=None,
            extension=extension,
            valid=False,
            kind="unknown",
            region=None,
            time_zones=(),
            error=_invalid_message(number, region_hint),
        )
    return ParsedPhone(
        raw=text,
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        extension=extension,
        valid=True,
        kind=_KINDS.get(number_type, "unknown"),
        region=None if region == _NON_GEO_REGION else region,
        time_zones=_zones(number, number_type),
        error=None,
    )


def _region_and_type(number: PhoneNumber) -> tuple[str | None, int]:
    """`(region_code_for_number(number), number_type(number))` matching each pattern once.

    The same steps as phonenumbers' own: a calling code of one region takes that region's (or the
    non-geographic entity's) metadata; for a shared one the first region whose leading digits
    match, else whose patterns give a type, is the region, and the type found there is the
    number's. tests/core/test_phones_fast.py holds it to the public calls."""
    country_code = number.country_code
    if country_code is None:  # never after a parse, but the field is optional on PhoneNumber
        return None, PhoneNumberType.UNKNOWN
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if regions is None:
        return None, PhoneNumberType.UNKNOWN
    national = national_significant_number(number)
    if len(regions) == 1:
        region = regions[0]
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        if metadata is None:
            return region, PhoneNumberType.UNKNOWN
        return region, _number_type_helper(national, metadata)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if _leading_digits(metadata.leading_digits).match(national):
                return region, _number_type_helper(national, metadata)
            continue
        number_type = _number_type_helper(national, metadata)
        if number_type != PhoneNumberType.UNKNOWN:
            return region, number_type
    return None, PhoneNumberType.UNKNOWN


@lru_cache(maxsize=256)
def _leading_digits(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _failed(text: str, error: str) -> ParsedPhone:
    return ParsedPhone(
        raw=text,
        e164=None,
        extension=None,
        valid=False,
        kind="unknown",
        region=None,
        time_zones=(),
        error=error,
    )


def _parse_error_message(error: NumberParseException, text: str, region_hint: str | None) -> str:
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        written_with_plus = text.lstrip()[:1] in ("+", "\uff0b")  # full-width plus from CJK IMEs
        if not written_with_plus and region_hint not in phonenumbers.SUPPORTED_REGIONS:
            return _("not a phone number: no country code (write it as +<country code> <number>)")
        return _("not a phone number: unknown country code")
    return _(_PARSE_ERRORS.get(error.error_type, N_("not a phone number")))


def _invalid_message(number: PhoneNumber, region_hint: str | None) -> str:
    # Only reached for invalid numbers, so the extra length check costs the importer nothing.
    possible = phonenumbers.is_possible_number_with_reason(number)
    country_code = number.country_code or 0
    if region_hint and phonenumbers.country_code_for_region(region_hint) == country_code:
        where = region_hint
    else:
        where = phonenumbers.region_code_for_country_code(country_code)
        if where in (_NON_GEO_REGION, phonenumbers.UNKNOWN_REGION):
            where = f"+{country_code}"
    return _(_LENGTH_PROBLEMS.get(possible, _INVALID_NUMBER)).format(where=where)


# Zones of non-geographic numbers (mobiles in most countries, toll-free, shared cost) depend only on
# the country calling code; remembering them spares phonenumbers a second type lookup per number.
_COUNTRY_ZONES: dict[int, tuple[str, ...]] = {}


def _zones(number: PhoneNumber, number_type: int) -> tuple[str, ...]:
    country_code = number.country_code or 0
    if phonenumbers.is_number_type_geographical(number_type, country_code):
        return _known_zones(time_zones_for_geographical_number(number))
    zones = _COUNTRY_ZONES.get(country_code)
    if zones is None:
        zones = _COUNTRY_ZONES[country_code] = _known_zones(time_zones_for_number(number))
    return zones


def _known_zones(zones: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    # "Etc/Unknown" is phonenumbers' way of saying "no idea"; ZoneInfo would raise on it.
    if UNKNOWN_TIMEZONE in zones:
        return tuple(zone for zone in zones if zone != UNKNOWN_TIMEZONE)
    return tuple(zones)


def _parse_e164(e164: str) -> PhoneNumber | None:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    number.extension = None  # the caller passes the extension separately
    return number


@lru_cache(maxsize=8192)
def zones_for(e164: str) -> tuple[str, ...]:
    """IANA time zones of a stored number; empty when phonenumbers cannot place it."""
    number = _parse_e164(e164)
    if number is None:
        return ()
    number_type = phonenumbers.number_type(number)
    if number_type == PhoneNumberType.UNKNOWN:
        return ()
    return _zones(number, number_type)


@lru_cache(maxsize=8192)
def format_phone(e164: str, extension: str | None = None, national: bool = False) -> str:
    """International ("+86 138 0013 8000") or national ("(212) 555-0123") form, plus " ext. N"."""
    number = _parse_e164(e164)
    if number is None:
        shown = e164  # a display helper must not fail on a bad stored value
    else:
        style = PhoneNumberFormat.NATIONAL if national else PhoneNumberFormat.INTERNATIONAL
        shown = phonenumbers.format_number(number, style)
    return f"{shown} ext. {extension}" if extension else shown


@lru_cache(maxsize=8192)
def mask_phone(e164: str) -> str:
    """The national number with its middle hidden, for lists: "+8613800138000" -> "138****8000"."""
    number = _parse_e164(e164)
    if number is None:
        digits = "".join(char for char in e164 if "0" <= char <= "9")
    else:
        digits = phonenumbers.national_significant_number(number)
    return _mask_digits(digits)


def _mask_digits(digits: str) -> str:
    # Always hide at least three digits (or all of a tiny number): a mask that shows nearly
    # everything protects nothing, so short numbers give up their head before their tail.
    length = len(digits)
    if length <= 3:
        return "*" * length
    head = 3 if length >= 10 else 0
    tail = 4 if length >= 8 else 3 if length >= 6 else 2 if length >= 5 else 1
    return digits[:head] + "*" * (length - head - tail) + digits[length - tail :]


def search_key(text: str, default_region: str | None) -> str | None:
    """The E.164 form of whatever an agent typed ("138 0013 8000"), to look numbers up; or None.

    Uses the same rule as `parse_phone`, so a key always matches the stored `e164`.
    """
    return parse_phone(text, default_region).e164
