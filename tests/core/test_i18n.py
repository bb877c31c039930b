"""The catalogs and the language machinery (collector_tui/i18n.py, tools/i18n.py).

The catalog tests read the code the way `tools/i18n.py extract` does, so a message added in the
code without its Chinese translation, or a .po changed without compiling its .mo, fails here.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from collector_tui import i18n
from collector_tui.dates import parse_day
from collector_tui.i18n import N_, LazyText
from collector_tui.money import MoneyError, parse_money

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "collector_tui"
LOCALE = PACKAGE / "locale"
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def extracted_messages() -> set[str]:
    """Every message id in the code, as `tools/i18n.py extract` finds them (babel.cfg)."""
    method_map = [("migrations/**", "ignore"), ("**.py", "python")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=method_map, keywords=keywords
    ):
        found.update(message if isinstance(message, tuple) else (message,))
    return found


def catalog(language: str) -> dict[str, str]:
    with (LOCALE / language / "LC_MESSAGES" / "collector_tui.po").open("rb") as po:
        read = read_po(po)
    return {m.id: m.string for m in read if m.id and isinstance(m.id, str) and not m.fuzzy}


def test_every_message_in_the_code_has_a_chinese_translation() -> None:
    zh = catalog("zh_CN")
    messages = extracted_messages()
    assert len(messages) > 300
    missing = sorted(m for m in messages if not zh.get(m))
    assert missing == [], "run `python tools/i18n.py all` and translate these in zh_CN:\n" + (
        "\n".join(missing)
    )


def test_translations_keep_every_placeholder() -> None:
    for message, translated in catalog("zh_CN").items():
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(translated)), message


def test_the_committed_mo_is_compiled_from_the_po() -> None:
    for po_path in LOCALE.glob("*/LC_MESSAGES/collector_tui.po"):
        with po_path.open("rb") as po:
            source = {m.id: m.string for m in read_po(po) if m.id and not m.fuzzy}
        with po_path.with_suffix(".mo").open("rb") as mo:
            compiled = {m.id: m.string for m in read_mo(mo) if m.id}
        assert compiled == source, f"{po_path}: run `python tools/i18n.py compile`"


def test_the_wheel_carries_the_catalogs() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        data = tomllib.load(file)["tool"]["setuptools"]["package-data"]["collector_tui"]
    for path in LOCALE.rglob("*"):
        if path.suffix in (".po", ".mo", ".pot"):
            relative = path.relative_to(PACKAGE)
            assert any(relative.match(pattern) for pattern in data), relative


def test_lazy_text_is_translated_when_shown_and_stays_english_as_data() -> None:
    label = N_("Promise to pay")
    assert isinstance(label, LazyText) and label == "Promise to pay"
    with i18n.language("zh_CN"):
        assert str(label) == "承诺还款"
        assert f"{label}" == "承诺还款"
        assert i18n.gettext(label) == "承诺还款"
        # Data written from it (JSON, CSV) and comparisons keep the English id.
        assert json.dumps(label) == '"Promise to pay"'
        out = io.StringIO()
        csv.writer(out).writerow([label])
        assert out.getvalue().strip() == "Promise to pay"
        assert label == "Promise to pay" and hash(label) == hash("Promise to pay")
    assert str(label) == "Promise to pay"


def test_switching_the_language_at_run_time() -> None:
    assert i18n.current_language() == "en"
    assert i18n.set_language("zh_CN.UTF-8") == "zh_CN"
    assert i18n.gettext("Log in") == "登录"
    assert i18n.set_language("fr_FR") == "en"  # not spoken: English
    assert i18n.gettext("Log in") == "Log in"
    with i18n.language("zh"):
        assert i18n.gettext("wrong user name or password") == "用户名或密码错误"
    assert i18n.current_language() == "en"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.GB18030"}, "zh_CN"),
        ({"LC_ALL": "fr_FR.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANGUAGE": "zh_CN:en"}, "zh_CN"),
        ({"LANG": "zh_TW.UTF-8"}, "en"),  # traditional Chinese is not spoken yet
    ],
)
def test_the_environment_language(environ: dict[str, str], expected: str) -> None:
    assert i18n.environment_language(environ) == expected


def test_one_day_style_per_language() -> None:
    day = date(2026, 3, 5)
    assert i18n.format_day(day) == "2026-03-05"
    assert i18n.format_day(day, short=True) == "03-05"
    assert i18n.format_day_time(datetime(2026, 3, 5, 9, 7, tzinfo=UTC)) == "2026-03-05 09:07"
    with i18n.language("zh_CN"):
        assert i18n.format_day(day) == "2026/03/05"
        assert i18n.format_day(day, short=True) == "03/05"
        # A day shown can be typed back.
        assert parse_day(i18n.format_day(day)) == day


@pytest.mark.parametrize("text", ["2026/12/01", "2026/12/1", "2026年12月1日", "2026年12月01"])
def test_days_as_chinese_users_write_them(text: str) -> None:
    assert parse_day(text) == date(2026, 12, 1)


@pytest.mark.parametrize("text", ["2026/12月1日", "01/12/2026", "12/01/2026", "2026/13/01"])
def test_other_day_orders_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date like 2026-12-01"):
        parse_day(text)


@pytest.mark.parametrize(
    "text", ["¥1,234.50", "1234.5元", "1,234.50 元", "人民币1234.50", "￥1,234.50", "RMB 1234.50"]
)
@pytest.mark.parametrize("locale", ["zh_CN", "en_US"])
def test_amounts_as_chinese_users_write_them(text: str, locale: str) -> None:
    assert parse_money(text, "CNY", locale).minor == 123450


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1,23元", "ambiguous"),  # a mistyped decimal or a grouped integer: asked, never guessed
        ("¥1.234,50", "ambiguous"),
        ("US$12", "does not match the currency CNY"),
        ("人民币12元", "is not an amount"),  # two markers
        ("12.345元", "at most 2 decimal places"),
    ],
)
def test_chinese_amounts_keep_the_refusal_of_ambiguity(text: str, why: str) -> None:
    with pytest.raises(MoneyError, match=why):
        parse_money(text, "CNY", "zh_CN")


def test_money_and_date_messages_in_chinese() -> None:
    with i18n.language("zh_CN"):
        with pytest.raises(MoneyError, match="有歧义"):
            parse_money("1,23", "CNY", "zh_CN")
        with pytest.raises(ValueError, match="不是像 2026-12-01 这样的日期"):
            parse_day("tomorrow")
        with pytest.raises(ValueError, match="超出范围"):
            parse_day("2999-01-01")


def test_codes_read_through_one_label_module_without_the_database() -> None:
    """Hold kinds, statuses and the other codes shown in sentences have one table each
    (collector_tui.labels), shared by the TUI and the services, and importing it (as the app's
    start does through tui/formatting) loads neither sqlmodel nor sqlalchemy."""
    import subprocess
    import sys

    from collector_tui import labels, models
    from collector_tui.i18n import language
    from collector_tui.services.casework import casefile
    from collector_tui.tui import formatting

    assert formatting.HOLD_KINDS is labels.HOLD_KINDS
    assert not hasattr(casefile, "_HOLD_KINDS") and casefile.HOLD_KINDS is labels.HOLD_KINDS
    assert models.CASE_STATUS_LABELS is labels.CASE_STATUS_LABELS
    with language("zh_CN"):
        shown = [
            labels.word(table, code)
            for table in (
                labels.HOLD_KINDS,
                labels.CHARGE_COMPONENTS,
                labels.CHARGE_KINDS,
                labels.REVERSAL_REASONS,
                labels.EXPORT_KINDS,
                labels.PACKET_KINDS,
                labels.STRATEGY_GROUPS,
                labels.CHANNELS,
            )
            for code in table
        ]
    assert all(not any("a" <= c.lower() <= "z" for c in text) for text in shown if text != "SMS")
    code = (
        "import sys, collector_tui.labels; "
        "print('sqlmodel' in sys.modules, 'sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
