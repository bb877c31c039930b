"""Phones: parsing, validity, kinds, extensions, time zones, masking and search keys."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector_tui.phones import (
    PHONE_KINDS,
    ParsedPhone,
    format_phone,
    mask_phone,
    parse_phone,
    search_key,
    zones_for,
)

UNKNOWN_ZONE = "Etc/Unknown"


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("13800138000", "CN"),
        ("138 0013 8000", "CN"),
        ("+86 138 0013 8000", "CN"),
        ("+86 138 0013 8000", None),
        ("+86-138-0013-8000", "US"),  # the explicit country code wins over the default
        ("0086 138 0013 8000", "GB"),  # international prefix dialled from the UK
        ("13800138000", "cn"),  # phonenumbers itself refuses a lower-case region
        ("１３８００１３８０００", "CN"),  # full-width digits from a Chinese IME
    ],
)
def test_cn_mobile(text: str, region: str | None) -> None:
    parsed = parse_phone(text, region)
    assert parsed == ParsedPhone(
        raw=text,
        e164="+8613800138000",
        extension=None,
        valid=True,
        kind="mobile",
        region="CN",
        time_zones=("Asia/Shanghai",),
        error=None,
    )


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("010-12345678", "+861012345678"),
        ("(021) 6234 5678", "+862162345678"),
        ("+86 10 1234 5678", "+861012345678"),
    ],
)
def test_cn_landline(text: str, e164: str) -> None:
    parsed = parse_phone(text, "CN")
    assert (parsed.valid, parsed.e164, parsed.kind, parsed.region) == (True, e164, "landline", "CN")
    assert parsed.time_zones == ("Asia/Shanghai",)


def test_cn_400_number_is_shared_cost() -> None:
    parsed = parse_phone("400-123-4567", "CN")
    assert (parsed.valid, parsed.e164, parsed.kind) == (True, "+864001234567", "shared_cost")


@pytest.mark.parametrize(
    ("text", "extension"),
    [
        ("(212) 555-0123", None),
        ("+1 212-555-0123 ext. 45", "45"),
        ("212-555-0123 x45", "45"),
        ("(212) 555-0123 #45", "45"),
        ("+1 212 555 0123;ext=45", "45"),
    ],
)
def test_us_number_keeps_extension(text: str, extension: str | None) -> None:
    parsed = parse_phone(text, "US")
    assert parsed.valid
    assert parsed.e164 == "+12125550123"
    assert parsed.extension == extension
    # NANP metadata cannot tell mobiles from landlines.
    assert parsed.kind == "fixed_or_mobile"
    assert parsed.region == "US"
    assert parsed.time_zones == ("America/New_York",)


@pytest.mark.parametrize(
    ("text", "e164", "kind"),
    [
        ("020 7946 0018", "+442079460018", "landline"),
        ("07400 123456", "+447400123456", "mobile"),
        ("+44 7400 123456", "+447400123456", "mobile"),
    ],
)
def test_uk_numbers(text: str, e164: str, kind: str) -> None:
    parsed = parse_phone(text, "GB")
    assert (parsed.valid, parsed.e164, parsed.kind, parsed.error) == (True, e164, kind, None)
    assert "Europe/London" in parsed.time_zones


def test_uk_drama_range_is_invalid() -> None:
    # Ofcom reserves 07700 900xxx for fiction; phonenumbers knows no real mobile is there.
    parsed = parse_phone("07700 900123", "GB")
    assert not parsed.valid
    assert parsed.e164 is None
    assert parsed.error == "not a valid GB number"


@pytest.mark.parametrize(
    ("text", "region", "error"),
    [
        ("abc", "CN", "not a phone number"),
        ("", "CN", "not a phone number"),
        ("   ", "US", "not a phone number"),
        ("1", "US", "not a phone number"),
        ("12", "CN", "not a valid CN number (too short)"),
        ("+8613800138000123", None, "not a valid CN number (too long)"),
        ("+86 12345678901", None, "not a valid CN number"),
        ("12345678", "CN", "not a valid CN number"),  # a landline without its area code
        ("800 123 4567", "US", "not a valid US number"),  # exchanges never start with 1
        ("+882 3421 1234", None, "not a valid +882 number"),
        ("+999 123", None, "not a phone number: unknown country code"),
        ("13800138000", None, "not a phone number: no country code"),
        ("13800138000", "XX", "not a phone number: no country code"),
        ("1" * 300, "US", "not a phone number: too long"),
    ],
)
def test_invalid_numbers_give_an_error_not_an_exception(
    text: str, region: str | None, error: str
) -> None:
    parsed = parse_phone(text, region)
    assert parsed.valid is False
    assert parsed.e164 is None
    assert parsed.kind == "unknown"
    assert parsed.time_zones == ()
    assert parsed.error is not None and parsed.error.startswith(error)
    assert parsed.raw == text


def test_south_dakota_605_has_two_zones() -> None:
    parsed = parse_phone("+1 605 555 1234", None)
    # phonenumbers names Central time by America/North_Dakota/Center, not America/Chicago.
    assert parsed.time_zones == ("America/Denver", "America/North_Dakota/Center")
    instant = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    offsets = {instant.astimezone(ZoneInfo(zone)).utcoffset() for zone in parsed.time_zones}
    assert len(offsets) == 2  # Mountain and Central really differ


def test_alaska_907_zones_depend_on_the_exchange() -> None:
    assert parse_phone("+1 907 555 1234", None).time_zones == ("America/Adak", "America/Anchorage")
    assert parse_phone("+1 907 277 1234", None).time_zones == ("America/Juneau",)


def test_toll_free_maps_to_every_zone_of_the_country_code() -> None:
    parsed = parse_phone("800 555 0199", "US")
    assert (parsed.valid, parsed.kind) == (True, "toll_free")
    assert len(parsed.time_zones) > 30  # "too many": the compliance fallback's job
    assert UNKNOWN_ZONE not in parsed.time_zones


def test_global_number_has_no_region_and_no_unknown_zone() -> None:
    # +800 is a valid international freephone: phonenumbers' only answer is Etc/Unknown.
    parsed = parse_phone("+800 1234 5678", None)
    assert (parsed.valid, parsed.kind, parsed.region) == (True, "toll_free", None)
    assert parsed.time_zones == ()
    assert zones_for("+80012345678") == ()


@given(
    st.text(alphabet="0123456789", min_size=5, max_size=13),
    st.sampled_from(["CN", "US", "GB", None]),
    st.booleans(),
)
def test_zones_are_real_and_never_etc_unknown(digits: str, region: str | None, plus: bool) -> None:
    parsed = parse_phone(("+" if plus else "") + digits, region)
    assert UNKNOWN_ZONE not in parsed.time_zones
    for zone in parsed.time_zones:
        ZoneInfo(zone)  # raises for a name that is not an IANA zone
    if parsed.e164 is not None:
        assert zones_for(parsed.e164) == parsed.time_zones


@given(st.text(max_size=40), st.sampled_from(["CN", "US", "GB", "cn", "", "XX", None]))
def test_parse_phone_never_raises(text: str, region: str | None) -> None:
    parsed = parse_phone(text, region)
    assert parsed.valid == (parsed.e164 is not None)
    assert parsed.valid == (parsed.error is None)
    assert parsed.kind in PHONE_KINDS


def test_zones_for_stored_numbers() -> None:
    assert zones_for("+8613800138000") == ("Asia/Shanghai",)
    assert zones_for("+16055551234") == ("America/Denver", "America/North_Dakota/Center")
    assert zones_for("+447700900123") == ()  # invalid
    assert zones_for("not a number") == ()


@pytest.mark.parametrize(
    ("e164", "extension", "national", "expected"),
    [
        ("+8613800138000", None, False, "+86 138 0013 8000"),
        ("+8613800138000", None, True, "138 0013 8000"),
        ("+12125550123", None, False, "+1 212-555-0123"),
        ("+12125550123", "45", False, "+1 212-555-0123 ext. 45"),
        ("+12125550123", "45", True, "(212) 555-0123 ext. 45"),
        ("+442079460018", None, True, "020 7946 0018"),
        ("garbage", None, False, "garbage"),  # display never fails on a bad stored value
    ],
)
def test_format_phone(e164: str, extension: str | None, national: bool, expected: str) -> None:
    assert format_phone(e164, extension, national=national) == expected


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613800138000", "138****8000"),
        ("+861012345678", "101***5678"),
        ("+12125550123", "212***0123"),
        ("+447400123456", "740***3456"),
        ("+33612345678", "*****5678"),  # 9 digits: hide the head rather than show 7 of 9
        ("+3281234567", "****4567"),
        ("+3721234567", "****567"),
        ("+37212345", "***45"),
        ("garbage", ""),
    ],
)
def test_mask_phone(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked


@pytest.mark.parametrize(
    ("text", "region", "key"),
    [
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86-138-0013-8000", None, "+8613800138000"),
        ("(212) 555 0123", "US", "+12125550123"),
        ("212.555.0123 x45", "US", "+12125550123"),  # the extension is not part of the key
        ("0086 138 0013 8000", "CN", "+8613800138000"),  # 00 is also CN's international prefix
        ("00 86 138 0013 8000", "GB", "+8613800138000"),
        ("138 0013", "CN", None),
        ("hello", "US", None),
        ("", "US", None),
    ],
)
def test_search_key(text: str, region: str | None, key: str | None) -> None:
    assert search_key(text, region) == key


def test_search_key_matches_what_the_importer_stored() -> None:
    stored = parse_phone("+86 138 0013 8000", "CN").e164
    assert stored is not None
    assert all(
        search_key(typed, "CN") == stored
        for typed in ("13800138000", "138-0013-8000", "+86 13800138000", "(+86) 138 0013 8000")
    )


def test_phone_kinds_cover_the_brief() -> None:
    for kind in ("mobile", "landline", "fixed_or_mobile", "toll_free", "voip", "premium"):
        assert kind in PHONE_KINDS
    assert PHONE_KINDS[-1] == "unknown"
    assert all(len(kind) <= 20 for kind in PHONE_KINDS)  # Phone.kind column width
