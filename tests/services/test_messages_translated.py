"""Every refusal a person reads goes through the message catalog: the services, the delivery
channels and the core modules that word input errors (phones, config, db, dates, money).

An AST check: each construction of a service error (or of a package's own refusal class) has as
its message a `_()` / `ngettext()` call, `.format()` on one, a choice between two of them, or a
name bound only to such in the same function. The few that pass on another error's text (already
worded where it was made) are allow-listed below, each with its reason. The refusals raised for
real, in Chinese and in English, are tested next to their services and in
test_refusals_in_both_languages.py.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "collector_tui"
PACKAGES = (
    "services/casework",
    "services/contacts",
    "services/assessment",
    "services/strategies",
    "services/rules",
    "services/imports",
    "services/supervision",
    "services/reminders",
    "services/reporting",
    "services/sync",
    "delivery",
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
# In these core modules a plain ValueError is the message channel (a bad setting, a day typed
# wrong); elsewhere a ValueError is a programming error nobody is meant to read.
VALUE_ERROR_MODULES = frozenset({"config.py", "dates.py", "delivery/pdf.py"})
# Refusal classes whose first argument is read by a person.
ERRORS = frozenset(
    {
        "ServiceError",
        "InvalidInput",
        "Forbidden",
        "NotFound",
        "StaleEdit",
        # the packages' own
        "BadValue",
        "FileReadingError",
        "RunBusy",
        "RulesError",
        "TemplateError",
        "DeliveryFailed",
        "_Refused",
        "SyncRefused",
        "OutsideContactHours",
        "StrategyFileError",
        "PackError",
        "DateOutOfRange",
        "DatabaseError",
        "DatabaseLocked",
        "MoneyError",
        "NotAnAmount",
        "AmbiguousAmount",
        "fail",  # reminders.templates._Checker.fail(node, message) makes a TemplateError
        "_fail",  # reminders.sequences._fail and strategies.book._fail(source, where, message)
    }
)
# Where the person-read text is among a class's positional arguments (default: the first).
MESSAGE_ARGUMENTS = {
    "_Refused": (1, 2),
    "FileReadingError": (0, 2),
    "TemplateError": (2, 3),
    "fail": (1, 2),
    "_fail": (2, 3),
}
TRANSLATORS = frozenset({"_", "gettext", "ngettext", "pgettext"})

# (file, source of the message argument): messages worded elsewhere, passed on as they are.
ALLOWED: dict[tuple[str, str], str] = {
    ("services/imports/placement_file.py", "str(error)"): "money.normalize_currency's own message",
    ("services/imports/payment_file.py", "str(error)"): "money's own message (never reached)",
    ("services/imports/payment_file.py", "str(problem)"): "csv_reading.bad_value's, worded there",
    ("services/reminders/templates.py", "message"): "Jinja's own message about the template",
    ("services/reminders/outbox.py", "check.refusal"): "worded by reminder_check (_manual)",
    ("services/reporting/kpis.py", "str(error)"): "money.normalize_currency's own message",
    ("services/sync/admission.py", "parsed.error or _('not a valid phone number')"): (
        "phones' own message, else ours"
    ),
    ("services/sync/devices.py", "str(error)"): "vault's own message about the key",
    ("services/casework/disputes.py", "str(bad)"): "dates.check_day's message, translated there",
    ("services/assessment/assess.py", "str(error)"): "dates.check_day's message, translated there",
    ("services/strategies/book.py", "f'{source}: {where}: {message}'"): (
        "a file name, a key path and a message its callers translate (_fail's third argument)"
    ),
    ("services/strategies/book.py", "str(error)"): "a MoneyError's message, translated in money",
    ("services/contacts/book.py", "parsed.error or _('not a valid phone number')"): (
        "phones.parse_phone's message, translated where the number is judged"
    ),
    ("config.py", "currency"): "re-raised at once as a ValueError with a translated message",
    ("services/reasons.py", "problem"): "reason_problem's text, built with _() there",
}


def _translated(node: ast.expr, bound: set[str]) -> bool:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in TRANSLATORS:
            return True
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return _translated(func.value, bound)
    if isinstance(node, ast.Name):
        return node.id in bound
    if isinstance(node, ast.IfExp):
        return _translated(node.body, bound) and _translated(node.orelse, bound)
    return False


def _bound_names(function: ast.AST) -> set[str]:
    """Names every assignment of which, in `function`, is a translated message."""
    good: dict[str, bool] = {}
    assignments = [n for n in ast.walk(function) if isinstance(n, ast.Assign)]
    # Two passes: `message = _(...)` then `text = message.format(...)`.
    for _pass in range(2):
        names = {name for name, ok in good.items() if ok}
        for assign in assignments:
            for target in assign.targets:
                if isinstance(target, ast.Name):
                    ok = _translated(assign.value, names)
                    good[target.id] = good.get(target.id, True) and ok if _pass else ok
    return {name for name, ok in good.items() if ok}


def _error_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _functions(tree: ast.Module) -> Iterator[ast.AST]:
    yield tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _files() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            yield path.relative_to(SRC).as_posix(), path
    for module in MODULES:
        yield module, SRC / module


def _messages() -> Iterator[tuple[str, int, ast.expr, set[str]]]:
    for relative, path in _files():
        errors = ERRORS | ({"ValueError"} if relative in VALUE_ERROR_MODULES else set())
        tree = ast.parse(path.read_text(encoding="utf-8"))
        seen: set[int] = set()
        # Innermost function first, so a name is judged where it is bound.
        functions = sorted(_functions(tree), key=lambda f: -getattr(f, "lineno", 0))
        for function in functions:
            bound = _bound_names(function)
            for node in ast.walk(function):
                if not isinstance(node, ast.Call) or id(node) in seen:
                    continue
                if _error_name(node) not in errors:
                    continue
                seen.add(id(node))
                arguments = list(node.args) or [
                    k.value for k in node.keywords if k.arg in ("message", "problem")
                ]
                first, last = MESSAGE_ARGUMENTS.get(_error_name(node) or "", (0, 1))
                for argument in arguments[first:last]:
                    yield relative, node.lineno, argument, bound


@functools.cache
def _all_messages() -> tuple[tuple[str, int, ast.expr, set[str]], ...]:
    """The walk of the whole package, once per test process (each test below reads it)."""
    return tuple(_messages())


def test_every_refusal_goes_through_the_catalog() -> None:
    bad = []
    for relative, line, argument, bound in _all_messages():
        if _translated(argument, bound):
            continue
        if (relative, ast.unparse(argument)) in ALLOWED:
            continue
        bad.append(f"{relative}:{line}: {ast.unparse(argument)}")
    assert not bad, "messages that bypass the catalog:\n" + "\n".join(bad)


def test_the_check_finds_something() -> None:
    # A check that walks no file would pass for the wrong reason.
    assert sum(1 for _ in _all_messages()) > 400


def test_the_check_finds_a_message_that_bypasses_the_catalog() -> None:
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
    verdicts = []
    for function in ast.parse(sample).body:
        bound = _bound_names(function)
        calls = [n for n in ast.walk(function) if isinstance(n, ast.Call) and _error_name(n)]
        refusals = [c for c in calls if _error_name(c) in ERRORS]
        verdicts.append(all(_translated(c.args[0], bound) for c in refusals))
    assert verdicts == [False, False, False, True]


@pytest.mark.parametrize("relative", sorted(file for file, _source in ALLOWED))
def test_allowed_entries_still_exist(relative: str) -> None:
    sources = {
        ast.unparse(argument) for file, _line, argument, _b in _all_messages() if file == relative
    }
    assert {s for f, s in ALLOWED if f == relative} <= sources
