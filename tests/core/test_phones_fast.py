"""phones.parse_phone finds a number's region and type in one pass (`_region_and_type`) instead of
phonenumbers' public calls: it must answer exactly what they answer, for every calling code."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_tui import phones

# Shared calling codes (+1 NANPA, +44 GB/GG/IM/JE, +7 RU/KZ, +262, +590...) are where the region
# is searched for; single-region and non-geographic codes take the direct path.
REGIONS = ["US", "CA", "JM", "GB", "GG", "JE", "IM", "RU", "KZ", "CN", "HK", "FR", "RE", "YT", None]


def _public(number: phonenumbers.PhoneNumber) -> tuple[str | None, int]:
    return phonenumbers.region_code_for_number(number), phonenumbers.number_type(number)


@settings(max_examples=400, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=4, max_size=15),
    region=st.sampled_from(REGIONS),
    plus=st.booleans(),
)
def test_agrees_with_phonenumbers(digits: str, region: str | None, plus: bool) -> None:
    text = f"+{digits}" if plus or region is None else digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return
    assert phones._region_and_type(number) == _public(number)
    parsed = phones.parse_phone(text, region)
    assert parsed.valid == phonenumbers.is_valid_number(number)


@pytest.mark.parametrize(
    "text",
    [
        "+1 212 555 0123",  # US
        "+1 416 555 0199",  # CA
        "+1 876 555 0100",  # JM
        "+1 800 555 0100",  # toll free: NANPA-wide
        "+44 20 7946 0958",  # GB landline
        "+44 7700 900123",  # GB mobile
        "+44 1481 256789",  # GG
        "+44 1624 612345",  # IM
        "+44 7781 123456",  # JE mobile
        "+7 701 123 4567",  # KZ
        "+7 912 345 6789",  # RU
        "+262 262 12 34 56",  # RE
        "+262 269 61 12 34",  # YT
        "+800 1234 5678",  # non-geographic
        "+86 138 0013 8000",
        "+86 400 123 4567",
        "+1 999 555 0100",  # no such area code
        "+44 99 1234",  # nothing
        "+979 123 456 789",
    ],
)
def test_known_numbers(text: str) -> None:
    number = phonenumbers.parse(text, None)
    assert phones._region_and_type(number) == _public(number)
