"""The sequences file: the shipped one reads, a team's bad file is refused with the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector_tui.config import Settings
from collector_tui.services.reminders.sequences import (
    CaseTraits,
    RulesError,
    clear_rules_cache,
    load_rules,
    parse_rules,
)

GOOD = """
[sequences.short]
steps = [{ day = 0, channel = "sms", template = "reminder" }]

[[rules]]
sequence = "short"
"""


def traits(**changes: object) -> CaseTraits:
    values: dict[str, object] = {
        "client": "ACME Bank",
        "country": "US",
        "debtor_kind": "person",
        "status": "new",
        "balance": 50_000,
        "currency": "USD",
    }
    values.update(changes)
    return CaseTraits(**values)  # type: ignore[arg-type]


def test_shipped_file_sends_the_validation_notice_first_to_new_us_consumers() -> None:
    clear_rules_cache()
    rules = load_rules(Settings())
    us = rules.sequence_for(traits())
    assert us is not None and us.name == "us_consumer"
    first = us.steps[0]
    assert (first.day, first.channel, first.template) == (0, "letter", "validation_notice")
    assert rules.sequence_for(traits(country="CN", currency="CNY")).name == "consumer"
    assert rules.sequence_for(traits(debtor_kind="company")).name == "business"
    assert rules.sequence_for(traits(status="paid")) is None


def test_shipped_templates_exist_when_the_book_is_given() -> None:
    names = {
        "sms": frozenset({"reminder", "broken_promise", "first_notice"}),
        "email": frozenset({"reminder", "broken_promise", "first_notice"}),
        "letter": frozenset({"reminder", "broken_promise", "first_notice", "validation_notice"}),
    }
    clear_rules_cache()
    assert load_rules(Settings(), templates=names).sequences


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("day = 0", 'day = 0, colour = "red"'),
            "sequences.short.steps[1].colour: unknown key",
        ),
        (
            GOOD.replace('"sms"', '"fax"'),
            "steps[1].channel: 'fax' is not one of sms, email, letter",
        ),
        (GOOD.replace("day = 0", "day = -1"), "steps[1].day: must be a whole number"),
        (
            GOOD.replace('sequence = "short"', 'sequence = "long"'),
            "rules[1].sequence: no sequence named 'long'",
        ),
        (GOOD + 'status = ["asleep"]\n', "rules[1].status: unknown 'asleep'"),
        (
            GOOD + "balance_min = 500\nbalance_max = 100\n",
            "rules[1].balance_max: is below balance_min",
        ),
        (GOOD + "banana = 1\n", "rules[1].banana: unknown key"),
        ("[sequences.x\n", "team.toml: "),
        ("colour = 1\n", "team.toml: colour: unknown key"),
    ],
)
def test_bad_files_are_refused_with_file_and_key(text: str, message: str) -> None:
    with pytest.raises(RulesError) as refused:
        parse_rules(text, "team.toml")
    assert message in str(refused.value)
    assert str(refused.value).startswith("team.toml: ")


def test_unknown_template_refused_against_the_book() -> None:
    with pytest.raises(RulesError, match="steps\\[1\\].template: no sms template named 'reminder'"):
        parse_rules(GOOD, "team.toml", templates=lambda channel: frozenset({"other"}))


def test_rules_by_priority_and_balance_band(tmp_path: Path) -> None:
    text = """
[sequences.small]
steps = [{ day = 0, channel = "sms", template = "reminder" }]
[sequences.big]
steps = [{ day = 0, channel = "letter", template = "reminder" }]

[[rules]]
sequence = "small"
priority = 1

[[rules]]
sequence = "big"
priority = 5
balance_min = "1000.00"
client = ["ACME Bank"]
"""
    path = tmp_path / "team.toml"
    path.write_text(text, encoding="utf-8")
    clear_rules_cache()
    rules = load_rules(Settings(reminder_rules=str(path)))
    assert rules.sequence_for(traits(balance=100_000)).name == "big"  # 1,000.00 USD
    assert rules.sequence_for(traits(balance=99_999)).name == "small"
    assert rules.sequence_for(traits(balance=100_000, client="Other")).name == "small"


def test_missing_file_named_in_the_message(tmp_path: Path) -> None:
    clear_rules_cache()
    with pytest.raises(RulesError, match="nothere.toml: cannot be read"):
        load_rules(Settings(reminder_rules=str(tmp_path / "nothere.toml")))
