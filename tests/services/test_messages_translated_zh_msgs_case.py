"""Every refusal a person reads goes through the catalog (issue 20, part 1: casework, contacts,
assessment, strategies, rules, accounts, reasons, context and the core modules that word input
errors: phones, config, db, dates, money).

The static check walks the source: each construction of a refusal (`InvalidInput(...)`,
`Forbidden(...)`, ... and the packages' own error classes) must take as its message a `_()` /
`ngettext()` call, a `.format()` on one, a choice between two of them, or a name bound only to
such text in the same function. The few that pass on another error's message (already
translated where it was made) are allow-listed with the reason. The behaviour tests raise real
refusals in Chinese and in English.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

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

SOURCE = Path(__file__).resolve().parents[2] / "src" / "collector_tui"
PACKAGES = (
    "services/casework",
    "services/contacts",
    "services/assessment",
    "services/strategies",
    "services/rules",
)
MODULES = (
    "services/accounts.py",
    "services/reasons.py",
    "services/context.py",
    "phones.py",
    "config.py",
    "db.py",
    "dates.py",
    "money.py",
)
# The refusals whose text reaches a person (one stderr line, a message under a field, a toast).
REFUSALS = frozenset(
    {
        "InvalidInput",
        "Forbidden",
        "NotFound",
        "StaleEdit",
        "OutsideContactHours",
        "StrategyFileError",
        "PackError",
        "DateOutOfRange",
        "DatabaseError",
        "DatabaseLocked",
        "MoneyError",
        "NotAnAmount",
        "AmbiguousAmount",
    }
)
# In these core modules a plain ValueError is the message channel (a bad setting, a day typed
# wrong); elsewhere a ValueError is a programming error nobody is meant to read.
VALUE_ERROR_MODULES = frozenset({"config.py", "dates.py"})
# Helpers that build a refusal from a message argument: name -> the message's position.
BUILDERS = {"_fail": 2}
TRANSLATORS = frozenset({"_", "gettext", "ngettext", "pgettext"})

# (module, the message's source text) -> why it needs no _() of its own.
ALLOWED = {
    ("services/casework/disputes.py", "str(bad)"): "dates.check_day's message, translated there",
    ("services/assessment/assess.py", "str(error)"): "dates.check_day's message, translated there",
    (
        "services/strategies/book.py",
        'f"{source}: {where}: {message}"',
    ): "a file name, a key path and a message its callers translate (_fail's third argument)",
    ("services/strategies/book.py", "str(error)"): "a MoneyError's message, translated in money",
    ("services/contacts/book.py", 'parsed.error or _("not a valid phone number")'): (
        "phones.parse_phone's message, translated where the number is judged"
    ),
    ("config.py", "currency"): "re-raised at once as a ValueError with a translated message",
    ("services/reasons.py", "problem"): "reason_problem's text, built with _() there",
}


def _files() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((SOURCE / package).glob("*.py")):
            yield f"{package}/{path.name}", path
    for module in MODULES:
        yield module, SOURCE / module


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _translated(node: ast.expr, bound: dict[str, list[ast.expr]], depth: int = 0) -> bool:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in TRANSLATORS:
            return True
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return _translated(node.func.value, bound, depth)
        return False
    if isinstance(node, ast.IfExp):
        return _translated(node.body, bound, depth) and _translated(node.orelse, bound, depth)
    if isinstance(node, ast.Name) and depth < 3:
        values = bound.get(node.id)
        return bool(values) and all(_translated(v, bound, depth + 1) for v in values)
    return False


def _assignments(function: ast.AST) -> dict[str, list[ast.expr]]:
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            bound.setdefault(node.target.id, []).append(node.value)
    return bound


def _untranslated() -> list[str]:
    found = []
    for module, path in _files():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        classes = REFUSALS | ({"ValueError"} if module in VALUE_ERROR_MODULES else set())
        scopes: list[ast.AST] = [tree]
        scopes += [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        seen: set[int] = set()
        for scope in reversed(scopes):  # innermost functions first: their own names count
            bound = _assignments(scope)
            for node in ast.walk(scope):
                if not isinstance(node, ast.Call) or id(node) in seen:
                    continue
                name = _name(node)
                if name in classes:
                    position = 0
                elif name in BUILDERS:
                    position = BUILDERS[name]
                else:
                    continue
                seen.add(id(node))
                message = node.args[position] if len(node.args) > position else None
                if message is None:
                    message = next((k.value for k in node.keywords if k.arg == "message"), None)
                if message is None:
                    continue  # an error class mentioned without a message (except clauses...)
                if _translated(message, bound):
                    continue
                source = ast.get_source_segment(text, message) or ast.unparse(message)
                if (module, source) in ALLOWED:
                    continue
                found.append(f"{module}:{node.lineno}: {name}({source[:70]})")
    return found


def test_every_refusal_message_goes_through_the_catalog() -> None:
    assert _untranslated() == []


def test_the_check_finds_a_message_that_bypasses_the_catalog(tmp_path: Path) -> None:
    """The check itself: an f-string, a plain literal and a name bound to one are caught."""
    sample = (
        "def f(x):\n"
        "    raise InvalidInput(f'{x} is bad')\n"
        "def g():\n"
        "    raise NotFound('no such thing')\n"
        "def h():\n"
        "    message = 'nope'\n"
        "    raise Forbidden(message)\n"
        "def ok(x):\n"
        "    message = _('nope {x}').format(x=x)\n"
        "    raise Forbidden(message)\n"
    )
    tree = ast.parse(sample)
    verdicts = []
    for function in tree.body:
        assert isinstance(function, ast.FunctionDef)
        bound = _assignments(function)
        calls = [n for n in ast.walk(function) if isinstance(n, ast.Call) and _name(n) in REFUSALS]
        verdicts.append(all(_translated(c.args[0], bound) for c in calls))
    assert verdicts == [False, False, False, True]


def test_every_allowed_exception_still_exists() -> None:
    """An allow-list entry whose code is gone would hide the next bypass of the same text."""
    sources = {module: path.read_text(encoding="utf-8") for module, path in _files()}
    stale = [key for key in ALLOWED if key[1] not in sources[key[0]]]
    assert stale == []


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
