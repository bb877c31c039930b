"""A strategy file is checked whole: every bad key, value, overlap or missing default is one
message naming the file and the rule; a good file reads into treatments and ordered rules."""

from __future__ import annotations

import pytest

from collector_tui.services.strategies.book import (
    StrategyFileError,
    Traits,
    could_overlap,
    parse_book,
)

SEQUENCES = ("consumer", "business", "us_consumer")

GOOD = """
title = "Test"
[strategies.standard]
queue_weight = 100
sequence = "consumer"
settlement_limit_pct = 10
escalations = [{ after_days = 120, p_below = 0.2 }]
[strategies.standard.challenger]
share = 20
queue_weight = 150
[strategies.firm]
queue_weight = 130
[[rules]]
name = "big"
strategy = "firm"
priority = 10
currency = "EUR"
balance_min = "5000.00"
[[rules]]
name = "late"
strategy = "firm"
priority = 5
dpd_min = 180
[[rules]]
name = "default"
strategy = "standard"
"""


def traits(**overrides: object) -> Traits:
    values: dict[str, object] = {
        "client": "ACME",
        "country": "DE",
        "currency": "EUR",
        "balance": 100_00,
        "dpd": 30,
        "grade": "B",
        "p": 0.5,
    }
    values.update(overrides)
    return Traits(**values)  # type: ignore[arg-type]


def test_a_good_file_reads_into_treatments_and_rules_by_priority() -> None:
    book = parse_book(GOOD, "s.toml", sequences=SEQUENCES)
    assert [rule.name for rule in book.rules] == ["big", "late", "default"]
    standard = book.strategies["standard"]
    assert standard.share == 20
    assert standard.champion.queue_weight == 100
    # The challenger inherits what it leaves out from the champion.
    assert standard.challenger is not None
    assert standard.challenger.queue_weight == 150
    assert standard.challenger.sequence == "consumer"
    assert standard.challenger.settlement_limit_pct == 10
    assert standard.challenger.escalations == standard.champion.escalations
    # The band is read as minor units of its currency, bounds included.
    assert book.rules[0].balance_min == 500_000
    assert book.rule_for(traits(balance=500_000)).name == "big"
    assert book.rule_for(traits(balance=499_999)).name == "default"
    assert book.rule_for(traits(balance=900_000, currency="USD")).name == "default"
    assert book.rule_for(traits(dpd=180)).name == "late"
    assert book.rule_for(traits(dpd=179)).name == "default"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("queue_weight = 100", "queue_weight = 100\nspeed = 3"),
            "strategy 'standard': unknown field 'speed'",
        ),
        (
            ('name = "late"', 'name = "late"\ncolour = "red"'),
            "rule 'late' (rules[2]): unknown field 'colour'",
        ),
        (
            ("queue_weight = 130", "queue_weight = 0"),
            "strategy 'firm'.queue_weight: must be a whole number from 1 to 1000",
        ),
        (('sequence = "consumer"', 'sequence = "gentle"'), "no reminder sequence named 'gentle'"),
        (
            ("settlement_limit_pct = 10", "settlement_limit_pct = 101"),
            "settlement_limit_pct: must be a whole number from 0 to 100",
        ),
        (("p_below = 0.2", "p_below = 2"), "p_below: must be a probability from 0 to 1"),
        (("share = 20", "share = 100"), "challenger.share: must be a whole number from 1 to 99"),
        (
            ('strategy = "firm"\npriority = 5', 'strategy = "soft"\npriority = 5'),
            "no strategy named 'soft'",
        ),
        (('currency = "EUR"\n', ""), "balance_min: a balance band needs its currency"),
        (('balance_min = "5000.00"', 'balance_min = "50x"'), "rules[1]).balance_min"),
        (("dpd_min = 180", "dpd_min = -1"), "dpd_min: must be a whole number"),
        (('[[rules]]\nname = "default"\nstrategy = "standard"\n', ""), "no default rule"),
        (
            ("priority = 5", "priority = 10"),
            "rule 'late' (rules[2]): overlaps rule 'big' (rules[1]) at the same priority 10",
        ),
        (("[[rules]]", "[[rule]]"), "the file: unknown field 'rule'"),
        (('title = "Test"', "title = "), "s.toml: "),
    ],
)
def test_a_bad_file_is_one_message_naming_the_file_and_where(
    change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(StrategyFileError) as raised:
        parse_book(GOOD.replace(old, new, 1), "s.toml", sequences=SEQUENCES)
    assert str(raised.value).startswith("s.toml: ")
    assert message in str(raised.value)


def test_two_defaults_at_one_priority_overlap() -> None:
    text = GOOD + '[[rules]]\nname = "other"\nstrategy = "firm"\n'
    with pytest.raises(StrategyFileError, match="overlaps rule 'default'"):
        parse_book(text, "s.toml", sequences=SEQUENCES)


def test_rules_that_cannot_meet_may_share_a_priority() -> None:
    text = GOOD.replace("priority = 5", "priority = 10").replace(
        "dpd_min = 180", 'dpd_min = 180\ncurrency = "USD"'
    )
    book = parse_book(text, "s.toml", sequences=SEQUENCES)
    big, late = book.rules[0], book.rules[1]
    assert not could_overlap(big, late)
    # p bands touching at a bound do not overlap (p_max is excluded).
    low = GOOD.replace(
        '[[rules]]\nname = "default"',
        '[[rules]]\nname = "low"\nstrategy = "firm"\np_max = 0.3\n'
        '[[rules]]\nname = "high"\nstrategy = "firm"\np_min = 0.3\n'
        '[[rules]]\nname = "default"\npriority = -1',
    )
    book = parse_book(low, "s.toml", sequences=SEQUENCES)
    assert book.rule_for(traits(p=0.29)).name == "low"
    assert book.rule_for(traits(p=0.3)).name == "high"


def test_the_stored_form_reads_back_the_same_book() -> None:
    from collector_tui.services.strategies.book import book_from_json

    book = parse_book(GOOD, "s.toml", sequences=SEQUENCES)
    again = book_from_json(book.as_json(), "s.toml")
    assert again.rules == book.rules
    assert again.strategies == book.strategies


def test_the_documented_sample_and_the_demo_file_are_good() -> None:
    from pathlib import Path

    from collector_tui.config import Settings
    from collector_tui.demo import DEMO_STRATEGIES
    from collector_tui.services.reminders.sequences import load_rules

    shipped = tuple(load_rules(Settings()).sequences)
    sample = Path(__file__).resolve().parents[3] / "docs" / "strategies.sample.toml"
    book = parse_book(sample.read_text(encoding="utf-8"), sample.name, sequences=shipped)
    assert book.rules[-1].is_default and book.strategies["standard"].share == 20
    demo = parse_book(DEMO_STRATEGIES, "demo", sequences=shipped)
    assert demo.strategies["consumer"].share == 30
