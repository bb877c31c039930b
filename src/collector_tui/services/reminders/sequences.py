"""Reminder sequences and the rules that attach them to cases: one TOML file.

A sequence is a named series of steps. Each step is due a number of days after the case was placed
(`from = "placement"`, the default) or after a promise was broken (`from = "broken_promise"`), on a
channel (sms, email, letter), with a template, and may carry conditions: `no_contact_since_days`
(no right-party contact for that many days) and `status` (the case's status is one of these).

A rule attaches one sequence to a case by the case's client, the debtor's country and kind
(person or company), the balance (in major units of the case's currency) and the status. The rules
are tried by `priority`, highest first (ties in file order); the first that matches wins and a
case matches at most one sequence.

The shipped file is `reminder_sequences.toml` beside this module; `Settings.reminder_rules` names
a team's own file, which replaces it whole (a partial override of a list of steps would be
guesswork). Every key is checked when the file is read: an unknown key, a wrong type, a channel
that is not a reminder channel, a sequence a rule names that does not exist, or (when the template
book is at hand) a template the book does not have for that channel is refused with the file and
the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from collector_tui.config import Settings
from collector_tui.i18n import gettext as _
from collector_tui.models import OPEN_STATUSES, REMINDER_CHANNELS, CaseStatus
from collector_tui.money import minor_digits

__all__ = [
    "SHIPPED_FILE",
    "AttachRule",
    "CaseTraits",
    "ReminderRules",
    "RulesError",
    "ReminderSequence",
    "Step",
    "clear_rules_cache",
    "load_rules",
    "parse_rules",
]

SHIPPED_FILE = "reminder_sequences.toml"
ANCHORS = ("placement", "broken_promise")
STATUSES = tuple(status.value for status in CaseStatus)
KINDS = ("person", "company")
MAX_DAYS = 3650

_STEP_KEYS = frozenset(
    {"day", "from", "channel", "template", "no_contact_since_days", "status", "priority"}
)
_SEQUENCE_KEYS = frozenset({"title", "steps"})
_RULE_KEYS = frozenset(
    {
        "sequence",
        "priority",
        "client",
        "country",
        "debtor_kind",
        "status",
        "balance_min",
        "balance_max",
    }
)
_TOP_KEYS = frozenset({"title", "sequences", "rules"})


class RulesError(ValueError):
    """A sequences file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Step:
    number: int  # 1-based place in its sequence: part of the reminder's idempotency key
    day: int
    anchor: str  # placement | broken_promise
    channel: str
    template: str
    no_contact_since_days: int | None = None
    statuses: frozenset[str] | None = None
    # When two reminders fall due for one debtor on one day, the higher priority goes out
    # (docs/decisions.md, reminders); the others wait for the next day.
    priority: int = 0


@dataclass(frozen=True)
class ReminderSequence:
    name: str
    title: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class CaseTraits:
    """What a rule looks at."""

    client: str
    country: str
    debtor_kind: str
    status: str
    balance: int  # minor units
    currency: str


@dataclass(frozen=True)
class AttachRule:
    sequence: str
    priority: int
    order: int  # place in the file: ties of priority go in file order
    clients: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    debtor_kinds: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    balance_min: Decimal | None = None  # major units of the case's currency
    balance_max: Decimal | None = None

    def matches(self, case: CaseTraits) -> bool:
        if self.clients is not None and case.client not in self.clients:
            return False
        if self.countries is not None and case.country.upper() not in self.countries:
            return False
        if self.debtor_kinds is not None and case.debtor_kind not in self.debtor_kinds:
            return False
        if self.statuses is not None and case.status not in self.statuses:
            return False
        if self.balance_min is None and self.balance_max is None:
            return True
        try:
            major = Decimal(case.balance).scaleb(-minor_digits(case.currency))
        except Exception:  # a currency babel does not know: no band can be judged
            return False
        if self.balance_min is not None and major < self.balance_min:
            return False
        return self.balance_max is None or major <= self.balance_max


@dataclass(frozen=True)
class ReminderRules:
    source: str  # the file, for messages
    sequences: Mapping[str, ReminderSequence]
    rules: tuple[AttachRule, ...]  # already in the order they are tried

    def sequence_for(self, case: CaseTraits) -> ReminderSequence | None:
        if case.status not in OPEN_STATUSES:
            return None
        for rule in self.rules:
            if rule.matches(case):
                return self.sequences[rule.sequence]
        return None


# --- reading ------------------------------------------------------------------------------------


def _fail(source: str, where: str, message: str) -> RulesError:
    return RulesError(
        _("{source}: {where}: {message}").format(source=source, where=where, message=message)
    )


def _int(value: Any, source: str, where: str, *, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _fail(
            source,
            where,
            _("must be a whole number from {low} to {high}").format(low=low, high=high),
        )
    return value


def _names(
    value: Any, source: str, where: str, allowed: Sequence[str] | None = None
) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(source, where, _("must be a non-empty list of names"))
    if allowed is not None:
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise _fail(
                source,
                where,
                _("unknown {unknown} (one of {allowed})").format(
                    unknown=repr(unknown[0]), allowed=", ".join(allowed)
                ),
            )
    return frozenset(value)


def _amount(value: Any, source: str, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(source, where, _('must be an amount in major units (e.g. 500 or "99.50")'))
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _fail(source, where, _("not an amount: {value}").format(value=repr(value))) from None
    if not amount.is_finite() or amount < 0:
        raise _fail(source, where, _("must be zero or more"))
    return amount


def _unknown_keys(
    table: Mapping[str, Any], allowed: frozenset[str], source: str, where: str
) -> None:
    for key in table:
        if key not in allowed:
            raise _fail(source, f"{where}.{key}" if where else key, _("unknown key"))


def _step(
    raw: Any,
    number: int,
    source: str,
    where: str,
    templates: Callable[[str], frozenset[str]] | None,
) -> Step:
    if not isinstance(raw, dict):
        raise _fail(source, where, _("a step must be a table"))
    _unknown_keys(raw, _STEP_KEYS, source, where)
    for required in ("day", "channel", "template"):
        if required not in raw:
            raise _fail(source, f"{where}.{required}", _("missing"))
    day = _int(raw["day"], source, f"{where}.day", low=0, high=MAX_DAYS)
    anchor = raw.get("from", "placement")
    if anchor not in ANCHORS:
        raise _fail(
            source,
            f"{where}.from",
            _("must be one of {choices}").format(choices=", ".join(ANCHORS)),
        )
    channel = raw["channel"]
    if channel not in REMINDER_CHANNELS:
        raise _fail(
            source,
            f"{where}.channel",
            _("{channel} is not one of {choices}").format(
                channel=repr(channel), choices=", ".join(REMINDER_CHANNELS)
            ),
        )
    template = raw["template"]
    if not isinstance(template, str) or not template.strip():
        raise _fail(source, f"{where}.template", _("must name a template"))
    if templates is not None and template not in templates(channel):
        raise _fail(
            source,
            f"{where}.template",
            _("no {channel} template named {template}").format(
                channel=channel, template=repr(template)
            ),
        )
    quiet = raw.get("no_contact_since_days")
    if quiet is not None:
        quiet = _int(quiet, source, f"{where}.no_contact_since_days", low=1, high=MAX_DAYS)
    statuses = raw.get("status")
    if statuses is not None:
        statuses = _names(statuses, source, f"{where}.status", STATUSES)
    priority = _int(raw.get("priority", 0), source, f"{where}.priority", low=-100, high=100)
    return Step(number, day, anchor, channel, template, quiet, statuses, priority)


def _rule(raw: Any, order: int, names: Mapping[str, ReminderSequence], source: str) -> AttachRule:
    where = f"rules[{order}]"
    if not isinstance(raw, dict):
        raise _fail(source, where, _("a rule must be a table"))
    _unknown_keys(raw, _RULE_KEYS, source, where)
    sequence = raw.get("sequence")
    if not isinstance(sequence, str):
        raise _fail(source, f"{where}.sequence", _("missing"))
    if sequence not in names:
        raise _fail(
            source,
            f"{where}.sequence",
            _("no sequence named {sequence}").format(sequence=repr(sequence)),
        )
    priority = _int(raw.get("priority", 0), source, f"{where}.priority", low=-1000, high=1000)

    def optional(key: str, allowed: Sequence[str] | None = None) -> frozenset[str] | None:
        if key not in raw:
            return None
        return _names(raw[key], source, f"{where}.{key}", allowed)

    countries = optional("country")
    low = (
        _amount(raw["balance_min"], source, f"{where}.balance_min")
        if "balance_min" in raw
        else None
    )
    high = (
        _amount(raw["balance_max"], source, f"{where}.balance_max")
        if "balance_max" in raw
        else None
    )
    if low is not None and high is not None and low > high:
        raise _fail(source, f"{where}.balance_max", _("is below balance_min"))
    return AttachRule(
        sequence=sequence,
        priority=priority,
        order=order,
        clients=optional("client"),
        countries=frozenset(c.upper() for c in countries) if countries is not None else None,
        debtor_kinds=optional("debtor_kind", KINDS),
        statuses=optional("status", STATUSES),
        balance_min=low,
        balance_max=high,
    )


def parse_rules(
    text: str,
    source: str,
    *,
    templates: Callable[[str], frozenset[str]] | None = None,
) -> ReminderRules:
    """Read a sequences file's text. `templates(channel)` gives the template names a channel has,
    when the template book is at hand; without it, templates are checked when a reminder is
    rendered."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(_("{source}: {error}").format(source=source, error=error)) from None
    _unknown_keys(data, _TOP_KEYS, source, "")
    raw_sequences = data.get("sequences", {})
    if not isinstance(raw_sequences, dict):
        raise _fail(source, "sequences", _("must be a table of sequences"))
    sequences: dict[str, ReminderSequence] = {}
    for name, raw in raw_sequences.items():
        where = f"sequences.{name}"
        if not isinstance(raw, dict):
            raise _fail(source, where, _("a sequence must be a table"))
        if len(name) > 64:
            raise _fail(source, where, _("a sequence name has at most 64 characters"))
        _unknown_keys(raw, _SEQUENCE_KEYS, source, where)
        steps = raw.get("steps")
        if not isinstance(steps, list) or not steps:
            raise _fail(source, f"{where}.steps", _("must list at least one step"))
        title = raw.get("title", name)
        if not isinstance(title, str):
            raise _fail(source, f"{where}.title", _("must be text"))
        sequences[name] = ReminderSequence(
            name,
            title,
            tuple(
                _step(step, number, source, f"{where}.steps[{number}]", templates)
                for number, step in enumerate(steps, start=1)
            ),
        )
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise _fail(source, "rules", _("must be a list of [[rules]] tables"))
    rules = [_rule(raw, order, sequences, source) for order, raw in enumerate(raw_rules, start=1)]
    rules.sort(key=lambda rule: (-rule.priority, rule.order))
    return ReminderRules(source, sequences, tuple(rules))


def _shipped_text() -> str:
    return (
        resources.files("collector_tui.services.reminders")
        .joinpath(SHIPPED_FILE)
        .read_text(encoding="utf-8")
    )


@lru_cache(maxsize=8)
def _load(path: str | None, templates_key: Any) -> ReminderRules:
    if path is None:
        text, source = _shipped_text(), SHIPPED_FILE
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise RulesError(
                _("{path}: cannot be read ({error})").format(path=path, error=error)
            ) from None
        source = path
    names = dict(templates_key) if templates_key is not None else None
    return parse_rules(
        text,
        source,
        templates=(lambda channel: names.get(channel, frozenset())) if names is not None else None,
    )


def load_rules(
    settings: Settings, *, templates: Mapping[str, frozenset[str]] | None = None
) -> ReminderRules:
    """The team's sequences (`Settings.reminder_rules`, else the shipped file); `templates` maps a
    channel to the template names the book has for it, when known."""
    key = tuple(sorted(templates.items())) if templates is not None else None
    return _load(settings.reminder_rules, key)


def clear_rules_cache() -> None:
    _load.cache_clear()
