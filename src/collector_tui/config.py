"""Settings: database URL, rule pack default and score weights (TOML file, then environment).

Order of precedence: command-line options > environment (COLLECTOR_DB, COLLECTOR_PACK,
COLLECTOR_WRAP_UP) > the TOML
file (COLLECTOR_CONFIG, else `config.toml` in the platform's user config folder) > defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ScoreWeights:
    """How a case earns its place in the queue (docs/decisions.md, queue). Points, not money."""

    # Likelihood of recovery by risk grade (A best .. E worst), in percent.
    grade_likelihood: dict[str, int] = field(
        default_factory=lambda: {"A": 60, "B": 45, "C": 30, "D": 20, "E": 10}
    )
    ungraded_likelihood: int = 30
    # Likelihood lost per 30 days past due, in percent of itself, floored at `dpd_floor_pct`.
    dpd_decay_pct_per_30d: int = 6
    dpd_floor_pct: int = 20
    broken_promise_factor_pct: int = 75  # each broken promise multiplies likelihood by this
    recent_contact_days: int = 30
    recent_contact_factor_pct: int = 125
    # Expected recovery (major units) to points: 100 points per factor of ten.
    points_per_decade: int = 100
    urgency_points_per_day: int = 3
    urgency_cap_points: int = 90
    never_contacted_points: int = 50


WRAP_UP_MODES = ("require", "warn", "allow")
# What a balance is made of (casework.balances); a payment pays them in a client's order.
COMPONENTS = ("principal", "fees", "interest", "costs")


@dataclass(frozen=True)
class Settings:
    database: str | None = None
    # The master database a laptop syncs with (path or URL; services/sync, the sync screen).
    master: str | None = None
    default_pack: str = "default"
    locale: str = "en_US"
    # After an attempt without a result, the case comes back to the queue after this many minutes.
    retry_after_no_contact_min: int = 120
    retry_after_contact_min: int = 24 * 60
    promise_grace_days: int = 2
    max_note_length: int = 4000
    # The shortest reason accepted for a hold, a dispute, an escalation, lifting a hold or voiding
    # a contact (services/reasons.py): "n/a" is no audit trail.
    min_reason_length: int = 10
    weights: ScoreWeights = field(default_factory=ScoreWeights)
    # Compliance rule packs (rules.compliance.py): a folder of `<name>.toml` files that override
    # or add to the shipped packs, and the pack chosen by the debtor's country (ISO 3166 alpha-2);
    # countries not listed use `default_pack`.
    packs_dir: str | None = None
    country_packs: dict[str, str] = field(
        default_factory=lambda: {"US": "us", "CN": "cn", "GB": "uk"}
    )
    # Leaving a case opened from the queue with nothing logged on it during the visit: "warn"
    # asks first, "require" refuses until something is logged (supervisors are only asked),
    # "allow" lets the agent go. A team sets it in its config file.
    wrap_up: str = "warn"
    # An invoice dispute must be resolved within this many days unless a date is given; past it,
    # it comes to its owner's queue (casework.disputes).
    dispute_resolve_days: int = 30
    # The order a payment pays a balance's components in: by client, else the default
    # (e.g. `allocation_order = { "ACME Bank" = ["principal", "fees", "interest", "costs"] }`).
    default_allocation_order: tuple[str, ...] = ("costs", "interest", "fees", "principal")
    allocation_order: dict[str, list[str]] = field(default_factory=dict)
    # A client's commission on what was collected (reporting.statements): a flat percentage,
    # `{ flat = 15 }`, or by the debt's age in days past due at payment, `{ bands = [[90, 10],
    # [180, 15], [100000, 25]] }` (up to 90 days 10 %, ...); clients not listed pay none.
    commission: dict[str, dict[str, Any]] = field(default_factory=dict)
    # An assessment of the debtor (services/assessment) older than this many days is shown stale
    # and asks to be made again (unless it names its own review date).
    assessment_stale_days: int = 180
    # The probability-of-payment model (services/assessment/model.py) is fitted only on at least
    # this many cases with an outcome; until then the rule score alone orders the queue.
    model_min_cases: int = 200

    def __post_init__(self) -> None:
        if self.wrap_up not in WRAP_UP_MODES:
            raise ValueError(
                f"config: wrap_up must be one of {', '.join(WRAP_UP_MODES)} (not {self.wrap_up!r})"
            )
        if type(self.dispute_resolve_days) is not int or not 1 <= self.dispute_resolve_days <= 365:
            raise ValueError("config: dispute_resolve_days must be a whole number from 1 to 365")
        stale = self.assessment_stale_days
        if type(stale) is not int or not 1 <= stale <= 3660:
            raise ValueError("config: assessment_stale_days must be a whole number from 1 to 3660")
        if type(self.model_min_cases) is not int or not 20 <= self.model_min_cases <= 10**7:
            raise ValueError("config: model_min_cases must be a whole number of at least 20")
        orders: dict[str, Sequence[str]] = {
            "default_allocation_order": self.default_allocation_order
        }
        orders.update({f"allocation_order of {k!r}": v for k, v in self.allocation_order.items()})
        for name, order in orders.items():
            if sorted(order) != sorted(COMPONENTS):
                raise ValueError(f"config: {name} must list each of {', '.join(COMPONENTS)} once")

    def allocation_order_for(self, client: str) -> tuple[str, ...]:
        return tuple(self.allocation_order.get(client, self.default_allocation_order))


def _config_path() -> Path | None:
    explicit = os.environ.get("COLLECTOR_CONFIG")
    if explicit:
        return Path(explicit)
    import platformdirs

    candidate = Path(platformdirs.user_config_dir("collector-tui", appauthor=False)) / "config.toml"
    return candidate if candidate.exists() else None


def _apply(base: Any, values: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(base)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"config: unknown setting {key!r}")
        current = getattr(base, key)
        if hasattr(current, "__dataclass_fields__"):
            changes[key] = _apply(current, value)
        else:
            changes[key] = value
    return replace(base, **changes)


def load_settings(path: Path | None = None, *, use_environment: bool = True) -> Settings:
    settings = Settings()
    source = path or (_config_path() if use_environment else None)
    if source is not None:
        with source.open("rb") as handle:
            settings = _apply(settings, tomllib.load(handle))
    if use_environment:
        if os.environ.get("COLLECTOR_DB"):
            settings = replace(settings, database=os.environ["COLLECTOR_DB"])
        if os.environ.get("COLLECTOR_PACK"):
            settings = replace(settings, default_pack=os.environ["COLLECTOR_PACK"])
        if os.environ.get("COLLECTOR_WRAP_UP"):
            settings = replace(settings, wrap_up=os.environ["COLLECTOR_WRAP_UP"])
    return settings
