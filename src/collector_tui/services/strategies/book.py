"""A strategy file (TOML): the strategies, their treatments, and the rules sending cases to them.

A strategy is a named treatment: a queue weight (percent of the case's queue score: 150 puts its
cases ahead, 50 behind), the reminder sequence its cases follow (a name from the reminder
sequences), the settlement limit (the largest discount, in percent of the balance, an agent may
agree without a supervisor on its cases) and escalation points (after N days since placement with
p below x: due for legal). A strategy may name a challenger: another treatment (each key it leaves
out is the champion's) given to `share` percent of its cases by a stable draw.

A rule sends a case to a strategy by the case's client, the debtor's country, the currency and the
balance band (in that currency's major units, read exactly as minor units), the days past due, the
risk grade and p (the fitted probability of payment, or the rule score's likelihood while no model
is fitted). Rules are tried by priority, highest first. Two rules of the same priority that could
both match one case are refused (which should win would be file order, i.e. chance), and so is a
file without a default rule (one with no condition): every case must get a treatment.

Every key is checked: an unknown key, a wrong type or value, a sequence that does not exist, an
overlap, a missing default: one message naming the file and the rule or strategy, nothing applied.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from collector_tui.i18n import _
from collector_tui.money import MoneyError, normalize_currency, parse_decimal_string
from collector_tui.services.errors import InvalidInput

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "GRADES",
    "Escalation",
    "Rule",
    "Strategy",
    "StrategyBook",
    "StrategyFileError",
    "Traits",
    "Treatment",
    "book_from_json",
    "parse_book",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
GRADES = ("A", "B", "C", "D", "E")
ESCALATION_TARGETS = ("legal",)
MAX_DAYS = 3650
NAME_LENGTH = 64

_TOP_KEYS = frozenset({"title", "strategies", "rules"})
_TREATMENT_KEYS = frozenset({"queue_weight", "sequence", "settlement_limit_pct", "escalations"})
_STRATEGY_KEYS = _TREATMENT_KEYS | {"title", "challenger"}
_CHALLENGER_KEYS = _TREATMENT_KEYS | {"share"}
_ESCALATION_KEYS = frozenset({"after_days", "p_below", "to"})
_CONDITION_KEYS = frozenset(
    {
        "client",
        "country",
        "currency",
        "balance_min",
        "balance_max",
        "dpd_min",
        "dpd_max",
        "grade",
        "p_min",
        "p_max",
    }
)
_RULE_KEYS = _CONDITION_KEYS | {"name", "strategy", "priority"}


class StrategyFileError(InvalidInput):
    """A strategy file that cannot be applied; the message names the file and where."""


@dataclass(frozen=True)
class Escalation:
    after_days: int  # days since placement
    p_below: float
    to: str  # legal

    def as_dict(self) -> dict[str, Any]:
        return {"after_days": self.after_days, "p_below": self.p_below, "to": self.to}


@dataclass(frozen=True)
class Treatment:
    queue_weight: int = 100  # percent of the queue score
    sequence: str | None = None
    settlement_limit_pct: int | None = None
    escalations: tuple[Escalation, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The treatment as stored (on each case too: what is not set is left out)."""
        found: dict[str, Any] = {"queue_weight": self.queue_weight}
        if self.sequence is not None:
            found["sequence"] = self.sequence
        if self.settlement_limit_pct is not None:
            found["settlement_limit_pct"] = self.settlement_limit_pct
        if self.escalations:
            found["escalations"] = [e.as_dict() for e in self.escalations]
        return found


@dataclass(frozen=True)
class Strategy:
    name: str
    title: str
    champion: Treatment
    challenger: Treatment | None = None
    share: int = 0  # percent of the strategy's cases drawn to the challenger

    def treatment(self, group: str) -> Treatment:
        if group == CHALLENGER and self.challenger is not None:
            return self.challenger
        return self.champion


@dataclass(frozen=True)
class Traits:
    """What a rule looks at of one case."""

    client: str
    country: str | None
    currency: str
    balance: int  # minor units
    dpd: int
    grade: str | None
    p: float


@dataclass(frozen=True)
class Rule:
    name: str
    strategy: str
    priority: int
    order: int  # place in the file
    clients: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    currency: str | None = None
    balance_min: int | None = None  # minor units of `currency`
    balance_max: int | None = None
    dpd_min: int | None = None
    dpd_max: int | None = None
    grades: frozenset[str] | None = None
    p_min: float | None = None
    p_max: float | None = None
    words: str = field(default="", compare=False)  # the conditions, as the file said them

    @property
    def is_default(self) -> bool:
        return not self.words

    @property
    def uses_p(self) -> bool:
        return self.p_min is not None or self.p_max is not None

    def matches(self, case: Traits) -> bool:
        if self.clients is not None and case.client not in self.clients:
            return False
        if self.countries is not None and (case.country or "").upper() not in self.countries:
            return False
        if self.currency is not None and case.currency != self.currency:
            return False
        if self.balance_min is not None and case.balance < self.balance_min:
            return False
        if self.balance_max is not None and case.balance > self.balance_max:
            return False
        if self.dpd_min is not None and case.dpd < self.dpd_min:
            return False
        if self.dpd_max is not None and case.dpd > self.dpd_max:
            return False
        if self.grades is not None and (case.grade or "").upper() not in self.grades:
            return False
        if self.p_min is not None and case.p < self.p_min:
            return False
        return self.p_max is None or case.p < self.p_max

    def as_dict(self) -> dict[str, Any]:
        def names(value: frozenset[str] | None) -> list[str] | None:
            return sorted(value) if value is not None else None

        return {
            "name": self.name,
            "strategy": self.strategy,
            "priority": self.priority,
            "order": self.order,
            "client": names(self.clients),
            "country": names(self.countries),
            "currency": self.currency,
            "balance_min": self.balance_min,
            "balance_max": self.balance_max,
            "dpd_min": self.dpd_min,
            "dpd_max": self.dpd_max,
            "grade": names(self.grades),
            "p_min": self.p_min,
            "p_max": self.p_max,
            "words": self.words,
        }


@dataclass(frozen=True)
class StrategyBook:
    source: str
    title: str
    strategies: Mapping[str, Strategy]
    rules: tuple[Rule, ...]  # in the order they are tried

    @property
    def uses_p(self) -> bool:
        return any(rule.uses_p for rule in self.rules)

    def rule_for(self, case: Traits) -> Rule:
        for rule in self.rules:
            if rule.matches(case):
                return rule
        # Unreachable for a checked book: its default rule matches every case.
        raise LookupError("no rule matches")

    def as_json(self) -> dict[str, Any]:
        """The parsed book, as the strategy set stores it."""
        return {
            "title": self.title,
            "strategies": {
                name: {
                    "title": s.title,
                    "champion": s.champion.as_dict(),
                    "challenger": s.challenger.as_dict() if s.challenger is not None else None,
                    "share": s.share,
                }
                for name, s in self.strategies.items()
            },
            "rules": [rule.as_dict() for rule in self.rules],
        }


# --- reading --------------------------------------------------------------------------------------


def _fail(source: str, where: str, message: str) -> StrategyFileError:
    return StrategyFileError(f"{source}: {where}: {message}")


def _unknown(table: Mapping[str, Any], allowed: frozenset[str], source: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise _fail(source, where, _("unknown field {key!r}").format(key=key))


def _int(value: Any, source: str, where: str, *, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _fail(
            source,
            where,
            _("must be a whole number from {low} to {high}").format(low=low, high=high),
        )
    return value


def _probability(value: Any, source: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(source, where, _("must be a probability from 0 to 1 (e.g. 0.25)"))
    if not 0 <= value <= 1:
        raise _fail(source, where, _("must be a probability from 0 to 1 (e.g. 0.25)"))
    return float(value)


def _names(
    value: Any, source: str, where: str, allowed: Sequence[str] | None = None
) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, where, _("must be a non-empty list of names"))
    if allowed is not None:
        for v in value:
            if v.upper() not in allowed:
                raise _fail(
                    source,
                    where,
                    _("unknown {v!r} (one of {allowed})").format(v=v, allowed=", ".join(allowed)),
                )
    return frozenset(value)


def _name(value: Any, source: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > NAME_LENGTH:
        raise _fail(
            source,
            where,
            _("must be a name of 1 to {max} characters").format(max=NAME_LENGTH),
        )
    return value


def _treatment(
    raw: Mapping[str, Any],
    source: str,
    where: str,
    sequences: frozenset[str] | None,
    base: Treatment | None = None,
) -> Treatment:
    given = base or Treatment()
    weight = (
        _int(raw["queue_weight"], source, f"{where}.queue_weight", low=1, high=1000)
        if "queue_weight" in raw
        else given.queue_weight
    )
    sequence = given.sequence
    if "sequence" in raw:
        sequence = _name(raw["sequence"], source, f"{where}.sequence")
        if sequences is not None and sequence not in sequences:
            known = ", ".join(sorted(sequences)) or "none"
            raise _fail(
                source,
                f"{where}.sequence",
                _("no reminder sequence named {sequence!r} ({known})").format(
                    sequence=sequence, known=known
                ),
            )
    limit = (
        _int(raw["settlement_limit_pct"], source, f"{where}.settlement_limit_pct", low=0, high=100)
        if "settlement_limit_pct" in raw
        else given.settlement_limit_pct
    )
    escalations = given.escalations
    if "escalations" in raw:
        items = raw["escalations"]
        if not isinstance(items, list):
            raise _fail(source, f"{where}.escalations", _("must be a list of tables"))
        found = []
        for number, item in enumerate(items, start=1):
            at = f"{where}.escalations[{number}]"
            if not isinstance(item, dict):
                raise _fail(source, at, _("an escalation must be a table"))
            _unknown(item, _ESCALATION_KEYS, source, at)
            for required in ("after_days", "p_below"):
                if required not in item:
                    raise _fail(source, f"{at}.{required}", _("missing"))
            to = item.get("to", "legal")
            if to not in ESCALATION_TARGETS:
                raise _fail(
                    source,
                    f"{at}.to",
                    _("must be one of {targets}").format(targets=", ".join(ESCALATION_TARGETS)),
                )
            found.append(
                Escalation(
                    _int(item["after_days"], source, f"{at}.after_days", low=0, high=MAX_DAYS),
                    _probability(item["p_below"], source, f"{at}.p_below"),
                    to,
                )
            )
        escalations = tuple(found)
    return Treatment(weight, sequence, limit, escalations)


def _strategy(name: str, raw: Any, source: str, sequences: frozenset[str] | None) -> Strategy:
    where = f"strategy {name!r}"
    _name(name, source, where)
    if not isinstance(raw, dict):
        raise _fail(source, where, _("a strategy must be a table"))
    _unknown(raw, _STRATEGY_KEYS, source, where)
    title = raw.get("title", name)
    if not isinstance(title, str):
        raise _fail(source, f"{where}.title", _("must be text"))
    champion = _treatment(raw, source, where, sequences)
    if "challenger" not in raw:
        return Strategy(name, title, champion)
    challenger = raw["challenger"]
    at = f"{where}.challenger"
    if not isinstance(challenger, dict):
        raise _fail(source, at, _("must be a table"))
    _unknown(challenger, _CHALLENGER_KEYS, source, at)
    if "share" not in challenger:
        raise _fail(source, f"{at}.share", _("missing (the percent of cases drawn to it)"))
    share = _int(challenger["share"], source, f"{at}.share", low=1, high=99)
    return Strategy(
        name, title, champion, _treatment(challenger, source, at, sequences, champion), share
    )


def _money(value: Any, currency: str, source: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(source, where, _('must be an amount in major units as text (e.g. "99.50")'))
    try:
        return parse_decimal_string(str(value), currency, allow_negative=False).minor
    except MoneyError as error:
        raise _fail(source, where, str(error)) from None


def _range(raw: Mapping[str, Any], low: str, high: str, source: str, where: str) -> None:
    if low in raw and high in raw and raw[low] > raw[high]:
        raise _fail(source, f"{where}.{high}", _("is below {low}").format(low=low))


def _rule(raw: Any, order: int, strategies: Mapping[str, Strategy], source: str) -> Rule:
    where = f"rules[{order}]"
    if not isinstance(raw, dict):
        raise _fail(source, where, _("a rule must be a table"))
    name = _name(raw.get("name", f"rule {order}"), source, f"{where}.name")
    where = f"rule {name!r} (rules[{order}])"
    _unknown(raw, _RULE_KEYS, source, where)
    strategy = raw.get("strategy")
    if not isinstance(strategy, str):
        raise _fail(source, f"{where}.strategy", _("missing"))
    if strategy not in strategies:
        raise _fail(
            source,
            f"{where}.strategy",
            _("no strategy named {strategy!r}").format(strategy=strategy),
        )
    priority = _int(raw.get("priority", 0), source, f"{where}.priority", low=-1000, high=1000)
    currency = None
    if "currency" in raw:
        try:
            currency = normalize_currency(str(raw["currency"]))
        except MoneyError as error:
            raise _fail(source, f"{where}.currency", str(error)) from None
    band = [key for key in ("balance_min", "balance_max") if key in raw]
    if band and currency is None:
        raise _fail(source, f"{where}.{band[0]}", _("a balance band needs its currency"))
    low = (
        _money(raw["balance_min"], currency, source, f"{where}.balance_min")
        if currency and "balance_min" in raw
        else None
    )
    high = (
        _money(raw["balance_max"], currency, source, f"{where}.balance_max")
        if currency and "balance_max" in raw
        else None
    )
    if low is not None and high is not None and low > high:
        raise _fail(source, f"{where}.balance_max", _("is below balance_min"))
    dpd_min = (
        _int(raw["dpd_min"], source, f"{where}.dpd_min", low=0, high=100_000)
        if "dpd_min" in raw
        else None
    )
    dpd_max = (
        _int(raw["dpd_max"], source, f"{where}.dpd_max", low=0, high=100_000)
        if "dpd_max" in raw
        else None
    )
    _range(raw, "dpd_min", "dpd_max", source, where)
    p_min = _probability(raw["p_min"], source, f"{where}.p_min") if "p_min" in raw else None
    p_max = _probability(raw["p_max"], source, f"{where}.p_max") if "p_max" in raw else None
    if p_min is not None and p_max is not None and p_min >= p_max:
        raise _fail(source, f"{where}.p_max", _("must be above p_min"))
    countries = _names(raw["country"], source, f"{where}.country") if "country" in raw else None
    grades = _names(raw["grade"], source, f"{where}.grade", GRADES) if "grade" in raw else None
    return Rule(
        name=name,
        strategy=strategy,
        priority=priority,
        order=order,
        clients=_names(raw["client"], source, f"{where}.client") if "client" in raw else None,
        countries=frozenset(c.upper() for c in countries) if countries is not None else None,
        currency=currency,
        balance_min=low,
        balance_max=high,
        dpd_min=dpd_min,
        dpd_max=dpd_max,
        grades=frozenset(g.upper() for g in grades) if grades is not None else None,
        p_min=p_min,
        p_max=p_max,
        words=_words(raw),
    )


def _words(raw: Mapping[str, Any]) -> str:
    """The rule's conditions as the file gave them: the case screen's "why"."""
    parts = []
    for key in sorted(_CONDITION_KEYS & raw.keys()):
        value = raw[key]
        shown = "|".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


def _disjoint_sets(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return a is not None and b is not None and not a & b


def _disjoint_ranges(
    a: tuple[float | None, float | None], b: tuple[float | None, float | None], *, open_top: bool
) -> bool:
    """Whether no value lies in both ranges (bounds inclusive; p's top bound is exclusive)."""
    (a_low, a_high), (b_low, b_high) = a, b

    def below(high: float | None, low: float | None) -> bool:
        if high is None or low is None:
            return False
        return high <= low if open_top else high < low

    return below(a_high, b_low) or below(b_high, a_low)


def could_overlap(a: Rule, b: Rule) -> bool:
    """Whether some case could match both rules (conservative: a dimension must rule it out)."""
    if _disjoint_sets(a.clients, b.clients) or _disjoint_sets(a.countries, b.countries):
        return False
    if _disjoint_sets(a.grades, b.grades):
        return False
    if a.currency is not None and b.currency is not None and a.currency != b.currency:
        return False
    if _disjoint_ranges(
        (a.balance_min, a.balance_max), (b.balance_min, b.balance_max), open_top=False
    ):
        return False
    if _disjoint_ranges((a.dpd_min, a.dpd_max), (b.dpd_min, b.dpd_max), open_top=False):
        return False
    return not _disjoint_ranges((a.p_min, a.p_max), (b.p_min, b.p_max), open_top=True)


def _check_rules(rules: Iterable[Rule], source: str) -> None:
    ordered = list(rules)
    names: dict[str, Rule] = {}
    for rule in ordered:
        if rule.name in names:
            raise _fail(
                source, f"rule {rule.name!r} (rules[{rule.order}])", _("the name is used twice")
            )
        names[rule.name] = rule
    for index, rule in enumerate(ordered):
        for other in ordered[index + 1 :]:
            if other.priority == rule.priority and could_overlap(rule, other):
                raise _fail(
                    source,
                    f"rule {other.name!r} (rules[{other.order}])",
                    _(
                        "overlaps rule {name!r} (rules[{order}]) at the same priority {priority}: "
                        "give one a higher priority or make them exclusive"
                    ).format(name=rule.name, order=rule.order, priority=rule.priority),
                )
    if not any(rule.is_default for rule in ordered):
        raise _fail(
            source,
            "rules",
            _("no default rule (one with no condition): some cases would get no strategy"),
        )


def parse_book(text: str, source: str, *, sequences: Iterable[str] | None = None) -> StrategyBook:
    """Read a strategy file's text; `sequences` are the reminder sequence names a treatment may
    name (None: not checked)."""
    known = frozenset(sequences) if sequences is not None else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StrategyFileError(_("{source}: {error}").format(source=source, error=error)) from None
    _unknown(data, _TOP_KEYS, source, "the file")
    title = data.get("title", source)
    if not isinstance(title, str):
        raise _fail(source, "title", _("must be text"))
    raw_strategies = data.get("strategies")
    if not isinstance(raw_strategies, dict) or not raw_strategies:
        raise _fail(source, "strategies", _("must name at least one [strategies.NAME] table"))
    strategies = {name: _strategy(name, raw, source, known) for name, raw in raw_strategies.items()}
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail(source, "rules", _("must list at least one [[rules]] table"))
    rules = [_rule(raw, order, strategies, source) for order, raw in enumerate(raw_rules, start=1)]
    rules.sort(key=lambda rule: (-rule.priority, rule.order))
    _check_rules(rules, source)
    return StrategyBook(source, title, strategies, tuple(rules))


# --- the stored form ------------------------------------------------------------------------------


def _treatment_from(raw: Mapping[str, Any]) -> Treatment:
    return Treatment(
        int(raw["queue_weight"]),
        raw.get("sequence"),
        raw.get("settlement_limit_pct"),
        tuple(
            Escalation(int(e["after_days"]), float(e["p_below"]), str(e["to"]))
            for e in raw.get("escalations", [])
        ),
    )


def _set(value: list[str] | None) -> frozenset[str] | None:
    return frozenset(value) if value is not None else None


def book_from_json(data: Mapping[str, Any], source: str) -> StrategyBook:
    """The book a stored set holds (written by `StrategyBook.as_json`, checked when applied)."""
    strategies = {
        name: Strategy(
            name,
            raw["title"],
            _treatment_from(raw["champion"]),
            _treatment_from(raw["challenger"]) if raw.get("challenger") else None,
            int(raw.get("share", 0)),
        )
        for name, raw in data["strategies"].items()
    }
    rules = tuple(
        Rule(
            name=raw["name"],
            strategy=raw["strategy"],
            priority=raw["priority"],
            order=raw["order"],
            clients=_set(raw["client"]),
            countries=_set(raw["country"]),
            currency=raw["currency"],
            balance_min=raw["balance_min"],
            balance_max=raw["balance_max"],
            dpd_min=raw["dpd_min"],
            dpd_max=raw["dpd_max"],
            grades=_set(raw["grade"]),
            p_min=raw["p_min"],
            p_max=raw["p_max"],
            words=raw["words"],
        )
        for raw in data["rules"]
    )
    return StrategyBook(source, data["title"], strategies, rules)


def decimal_text(value: Decimal | float) -> str:
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:  # pragma: no cover - a float always reads
        return str(value)
