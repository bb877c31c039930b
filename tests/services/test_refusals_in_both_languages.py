"""Real refusals of casework, contacts, assessment, strategies, the rule packs, phones and config,
raised in Chinese and in English (the static check that every refusal goes through the catalog is
test_messages_translated.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from collector_tui import db
from collector_tui.config import Settings, SmsSettings
from collector_tui.models import Case
from collector_tui.phones import parse_phone
from collector_tui.services.accounts import Actor
from collector_tui.services.assessment import assess as assessing
from collector_tui.services.assessment.assess import AssessmentInput
from collector_tui.services.casework import notes, payments
from collector_tui.services.contacts import book
from collector_tui.services.errors import InvalidInput, StaleEdit
from collector_tui.services.rules import compliance
from collector_tui.services.rules.compliance import PackError
from collector_tui.services.strategies.book import StrategyFileError, parse_book
from conftest import NOW

# --- the same refusals, raised for real, in Chinese and in English -------------------------------


def _refusal(language: str, action: Callable[[], object], error: type[Exception]) -> str:
    """The message of the refusal `action` raises with the process in `language`."""
    from collector_tui import i18n

    with i18n.language(language), pytest.raises(error) as raised:
        action()
    return str(raised.value)


def _write(
    store: db.Store, service: Callable[..., object], **arguments: object
) -> Callable[[], object]:
    def action() -> object:
        with store.write() as session:
            return service(session=session, **arguments)

    return action


BOTH = pytest.mark.parametrize("language", ["zh_CN", "en"])


@BOTH
def test_casework_refusals(
    language: str,
    store: db.Store,
    place: Callable[..., Case],
    users: dict[str, Actor],
    settings: Settings,
) -> None:
    case = place("M-1", principal=10_000)
    common = {"now": NOW, "actor": users["alice"], "case_id": case.id, "settings": settings}
    empty_note = _write(store, notes.add_note, text="   ", **common)
    zero = _write(store, payments.post_payment, amount=0, received_on=NOW.date(), **common)
    too_much = _write(store, payments.post_payment, amount=10_001, received_on=NOW.date(), **common)
    stale = _write(
        store, notes.add_note, text="a note", expected_version=case.version + 5, **common
    )
    expected = {
        "zh_CN": (
            "备注不能为空",
            "还款金额必须大于零",
            "超过余额",
            "您打开此案件后，其他人修改了它",
        ),
        "en": (
            "a note cannot be empty",
            "a payment needs an amount above zero",
            "exceeds the balance",
            "this case was changed by someone else since you opened it",
        ),
    }[language]
    assert _refusal(language, empty_note, InvalidInput) == expected[0]
    assert _refusal(language, zero, InvalidInput) == expected[1]
    assert expected[2] in _refusal(language, too_much, InvalidInput)
    assert _refusal(language, stale, StaleEdit).startswith(expected[3])


@BOTH
def test_contact_refusals(
    language: str,
    store: db.Store,
    place: Callable[..., Case],
    users: dict[str, Actor],
    settings: Settings,
) -> None:
    case = place("M-2")
    common = {"now": NOW, "actor": users["alice"], "case_id": case.id, "settings": settings}
    duplicate = _write(store, book.add_phone, number="+86 138 0013 8000", **common)
    no_number = _write(store, book.add_phone, number="12345", **common)
    expected = {
        "zh_CN": ("+8613800138000 已存在", "不是有效的"),
        "en": ("+8613800138000 is already on file", "not a valid"),
    }[language]
    assert _refusal(language, duplicate, InvalidInput) == expected[0]
    assert _refusal(language, no_number, InvalidInput).startswith(expected[1])


@BOTH
def test_assessment_refusals(
    language: str,
    store: db.Store,
    place: Callable[..., Case],
    users: dict[str, Actor],
    settings: Settings,
) -> None:
    case = place("M-3")
    negative = AssessmentInput(currency="CNY", income=-1, housing=0, family=0, other_debts=0)
    action = _write(
        store,
        assessing.assess,
        now=NOW,
        actor=users["alice"],
        settings=settings,
        case_id=case.id,
        assessment=negative,
    )
    expected = {"zh_CN": "月收入不能为负数", "en": "the monthly income cannot be negative"}
    assert _refusal(language, action, InvalidInput) == expected[language]


@BOTH
def test_strategy_rule_pack_phone_and_config_refusals(language: str, settings: Settings) -> None:
    strategy = _refusal(language, lambda: parse_book("", "s.toml"), StrategyFileError)
    pack = _refusal(language, lambda: compliance.load_pack("no pack!", settings), PackError)
    sms = _refusal(language, lambda: SmsSettings(kind="pigeon"), ValueError)
    from collector_tui import i18n

    with i18n.language(language):
        phone = parse_phone("abc", "CN").error
    if language == "zh_CN":
        assert strategy == "s.toml: strategies: 必须至少包含一个 [strategies.NAME] 表"
        assert pack == "'no pack!' 不是规则包名称（字母、数字、- 和 _）"
        assert sms.startswith("配置：delivery sms kind 必须是")
        assert phone == "不是电话号码"
    else:
        assert strategy == "s.toml: strategies: must name at least one [strategies.NAME] table"
        assert pack == "'no pack!' is not a rule pack name (letters, digits, - and _)"
        assert sms.startswith("config: delivery sms kind must be one of")
        assert phone == "not a phone number"


@pytest.mark.sqlite_only  # the command line runs on the SQLite file it is given
def test_a_refusal_on_the_command_line_in_chinese(
    cli_runner: Callable[[str], Callable[..., tuple[int, str, str]]],
    place: Callable[..., Case],
) -> None:
    """One stderr line, in the language `--lang` asks for; the same refusal in English without."""
    place("M-4")
    run = cli_runner("alice")
    code, out, err = run("--lang", "zh_CN", "contact", "add", "M-4", "--phone", "+8613800138000")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "+8613800138000 已存在" in err, err
    code, out, err = run("contact", "add", "M-4", "--phone", "+8613800138000")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "+8613800138000 is already on file" in err, err
