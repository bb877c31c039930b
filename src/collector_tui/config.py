"""Settings: database URL, rule pack default and score weights (TOML file, then environment).

Order of precedence: command-line options > environment (COLLECTOR_DB, COLLECTOR_PACK,
COLLECTOR_WRAP_UP) > the TOML
file (COLLECTOR_CONFIG, else `config.toml` in the platform's user config folder) > defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from string import Template
from typing import Any

from collector_tui.i18n import _


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


SMS_KINDS = ("file", "http")
# The placeholders an SMS gateway's body template may name (delivery/sms.py fills them).
_SMS_PLACEHOLDERS = frozenset({"to", "sender", "text", "idempotency_key"})
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str | None, name: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise ValueError(
            _(
                "config: delivery {name} must name an environment variable (the secret is never "
                "written in the config file)"
            ).format(name=name)
        )


def _placeholders(template: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(template, str):
        for match in Template.pattern.finditer(template):
            found.add(match.group("named") or match.group("braced") or "$")
    elif isinstance(template, dict):
        for value in template.values():
            found |= _placeholders(value)
    elif isinstance(template, list):
        for value in template:
            found |= _placeholders(value)
    return found


@dataclass(frozen=True)
class SmsSettings:
    """`[delivery.sms]`: "file" writes each message as a JSON file under the outbox folder;
    "http" posts it to a gateway (`url`, the bearer token in the environment variable
    `token_env`, the JSON `body_template` with `${to}`, `${sender}`, `${text}`,
    `${idempotency_key}`)."""

    kind: str = "file"
    url: str | None = None
    token_env: str = "COLLECTOR_SMS_TOKEN"
    sender: str = ""
    body_template: dict[str, Any] = field(
        default_factory=lambda: {"to": "${to}", "from": "${sender}", "text": "${text}"}
    )
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in SMS_KINDS:
            raise ValueError(
                _("config: delivery sms kind must be one of {kinds} (not {kind!r})").format(
                    kinds=", ".join(SMS_KINDS), kind=self.kind
                )
            )
        if self.kind == "http" and not (
            isinstance(self.url, str) and self.url.startswith(("http://", "https://"))
        ):
            raise ValueError(_("config: delivery sms url must start with http:// or https://"))
        _env_name(self.token_env, "sms token_env")
        if not isinstance(self.body_template, dict) or not self.body_template:
            raise ValueError(_("config: delivery sms body_template must be a table"))
        unknown = _placeholders(self.body_template) - _SMS_PLACEHOLDERS
        if unknown:
            raise ValueError(
                _(
                    "config: delivery sms body_template may name only {allowed} (not {unknown})"
                ).format(
                    allowed=", ".join(f"${{{name}}}" for name in sorted(_SMS_PLACEHOLDERS)),
                    unknown=", ".join(sorted(unknown)),
                )
            )
        _timeout(self.timeout_s, "sms timeout_s")


@dataclass(frozen=True)
class SmtpSettings:
    """`[delivery.smtp]`: with no `host`, e-mails are written as .eml files under the outbox
    folder instead of sent. The login, when `user_env` is set, comes from the environment."""

    host: str | None = None
    port: int = 587
    starttls: bool = True
    user_env: str | None = None
    password_env: str | None = None
    sender: str = ""
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if type(self.port) is not int or not 1 <= self.port <= 65535:
            raise ValueError(_("config: delivery smtp port must be a whole number from 1 to 65535"))
        if type(self.starttls) is not bool:
            raise ValueError(_("config: delivery smtp starttls must be true or false"))
        _env_name(self.user_env, "smtp user_env", optional=True)
        _env_name(self.password_env, "smtp password_env", optional=True)
        if (self.user_env is None) != (self.password_env is None):
            raise ValueError(
                _("config: delivery smtp needs both user_env and password_env, or neither")
            )
        if self.host is not None and "@" not in self.sender:
            raise ValueError(_("config: delivery smtp sender must be an e-mail address"))
        _timeout(self.timeout_s, "smtp timeout_s")


def _timeout(value: object, name: str) -> None:
    if type(value) not in (int, float) or not 0 < value <= 600:  # type: ignore[operator]
        raise ValueError(
            _("config: delivery {name} must be a number of seconds from 0 to 600").format(name=name)
        )


@dataclass(frozen=True)
class DeliverySettings:
    """`[delivery]`: where reminders' templates and written messages live, the SMS and e-mail
    channels, and what the templates say about the agency and how to pay."""

    # A team's own templates (services/reminders/templates.py), beside and over the shipped ones.
    templates_dir: str | None = None
    # Letters, and the file channels' messages; default `outbox` in the user data folder.
    outbox_dir: str | None = None
    sms: SmsSettings = field(default_factory=SmsSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    agency_name: str = "Collection Agency"
    agency_address: str = ""
    agency_phone: str = ""
    agency_email: str = ""
    # How to pay, as the templates print it (multi-line: bank, account, reference to quote).
    payment_details: str = ""
    payment_url: str = ""
    # A TrueType font (.ttf or .ttc) embedded in letters and statements for Chinese and other
    # non-Latin text; without one, ReportLab's CID font is used and not embedded (delivery/pdf.py).
    letter_font: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "agency_name",
            "agency_address",
            "agency_phone",
            "agency_email",
            "payment_details",
            "payment_url",
        ):
            if not isinstance(getattr(self, name), str):
                raise ValueError(_("config: delivery {name} must be text").format(name=name))
        if not self.agency_name.strip():
            raise ValueError(_("config: delivery agency_name must not be empty"))
        if self.letter_font is not None and (
            not isinstance(self.letter_font, str)
            or not self.letter_font.lower().endswith((".ttf", ".ttc"))
        ):
            raise ValueError(
                _("config: delivery letter_font must be a TrueType font file (.ttf or .ttc)")
            )
        for name in ("templates_dir", "outbox_dir"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(
                    _("config: delivery {name} must be a folder path").format(name=name)
                )

    def outbox_path(self) -> Path:
        if self.outbox_dir:
            return Path(self.outbox_dir).expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir("collector-tui", appauthor=False)) / "outbox"


@dataclass(frozen=True)
class ImportSettings:
    """`[imports]`: how placement files are read."""

    # Processes parsing a large placement file's rows and phones while this one waits to write
    # (services/imports/placement_file.py); 1 parses in-process. None: min(2, CPU count).
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and (
            type(self.workers) is not int or not 1 <= self.workers <= 32
        ):
            raise ValueError(_("config: imports workers must be a whole number from 1 to 32"))

    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        return max(1, min(2, os.cpu_count() or 1))


WRAP_UP_MODES = ("require", "warn", "allow")
# The promise-kept rate by amount (reporting.kpis): the upper ends of the amount bands, in major
# units, per currency; "*" for the currencies not listed. Yuan and yen amounts run larger.
DEFAULT_PROMISE_BANDS: dict[str, tuple[int, ...]] = {
    "*": (100, 500, 2000),
    "CNY": (500, 2000, 10000),
    "JPY": (10000, 50000, 200000),
}
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
    # The app covers itself and asks for the password again after this many minutes without a
    # key (laptops carry debtors' data); 0 turns the lock off.
    idle_lock_minutes: int = 10
    # Roles that see a debtor's phone numbers in full in `contact list`; the others see them
    # masked (`138****8000`) and reveal them with `--reveal`, an audited action. `export
    # activities` always masks the number dialled (the skip-trace file does not: finding numbers
    # is what it is for).
    unmasked_roles: tuple[str, ...] = ("agent",)
    # Reminders by SMS, e-mail and letter (delivery/, services/reminders): `[delivery]`.
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    # Placement imports (services/imports): `[imports]`.
    imports: ImportSettings = field(default_factory=ImportSettings)
    # Reminders (services/reminders): a TOML file of sequences and the rules attaching them to
    # cases, instead of the shipped `reminder_sequences.toml`; a message that cannot be delivered is
    # tried again after `reminder_retry_min` minutes, doubled each time, and after
    # `reminder_max_tries` tries it is failed and listed for a supervisor.
    reminder_rules: str | None = None
    reminder_max_tries: int = 5
    reminder_retry_min: int = 15
    # A send run holds the outbox (one run at a time); one killed outright frees it after this
    # many minutes without renewing it, or at once with `remind send --take-over`.
    reminder_run_lease_min: int = 10
    # An assessment of the debtor (services/assessment) older than this many days is shown stale
    # and asks to be made again (unless it names its own review date).
    assessment_stale_days: int = 180
    # The probability-of-payment model (services/assessment/model.py) is fitted only on at least
    # this many cases with an outcome; until then the rule score alone orders the queue.
    model_min_cases: int = 200
    # `report promises --by amount`: the upper ends of the amount bands in major units, per
    # currency ("*" for the others), ascending: `{ "*" = [100, 500, 2000], CNY = [500, 5000] }`.
    promise_amount_bands: dict[str, Sequence[int | float | str]] = field(
        default_factory=lambda: dict(DEFAULT_PROMISE_BANDS)
    )

    def __post_init__(self) -> None:
        if self.wrap_up not in WRAP_UP_MODES:
            raise ValueError(
                _("config: wrap_up must be one of {modes} (not {wrap_up!r})").format(
                    modes=", ".join(WRAP_UP_MODES), wrap_up=self.wrap_up
                )
            )
        unknown_roles = set(self.unmasked_roles) - {"agent", "supervisor", "admin"}
        if unknown_roles:
            raise ValueError(
                _("config: unmasked_roles names unknown roles: {unknown_roles}").format(
                    unknown_roles=", ".join(sorted(unknown_roles))
                )
            )
        if type(self.idle_lock_minutes) is not int or not 0 <= self.idle_lock_minutes <= 480:
            raise ValueError(_("config: idle_lock_minutes must be a whole number from 0 to 480"))
        if type(self.dispute_resolve_days) is not int or not 1 <= self.dispute_resolve_days <= 365:
            raise ValueError(_("config: dispute_resolve_days must be a whole number from 1 to 365"))
        if type(self.reminder_max_tries) is not int or not 1 <= self.reminder_max_tries <= 50:
            raise ValueError(_("config: reminder_max_tries must be a whole number from 1 to 50"))
        if type(self.reminder_retry_min) is not int or not 1 <= self.reminder_retry_min <= 1440:
            raise ValueError(_("config: reminder_retry_min must be a whole number from 1 to 1440"))
        lease = self.reminder_run_lease_min
        if type(lease) is not int or not 1 <= lease <= 1440:
            raise ValueError(
                _("config: reminder_run_lease_min must be a whole number from 1 to 1440")
            )
        stale = self.assessment_stale_days
        if type(stale) is not int or not 1 <= stale <= 3660:
            raise ValueError(
                _("config: assessment_stale_days must be a whole number from 1 to 3660")
            )
        if type(self.model_min_cases) is not int or not 20 <= self.model_min_cases <= 10**7:
            raise ValueError(_("config: model_min_cases must be a whole number of at least 20"))
        _check_bands(self.promise_amount_bands)
        orders: dict[str, Sequence[str]] = {
            "default_allocation_order": self.default_allocation_order
        }
        orders.update({f"allocation_order of {k!r}": v for k, v in self.allocation_order.items()})
        for name, order in orders.items():
            if sorted(order) != sorted(COMPONENTS):
                raise ValueError(
                    _("config: {name} must list each of {components} once").format(
                        name=name, components=", ".join(COMPONENTS)
                    )
                )

    def allocation_order_for(self, client: str) -> tuple[str, ...]:
        return tuple(self.allocation_order.get(client, self.default_allocation_order))


def _check_bands(bands: Any) -> None:
    if not isinstance(bands, dict):
        raise ValueError(_("config: promise_amount_bands must be a table of currency = [limits]"))
    from collector_tui.money import MoneyError, normalize_currency

    for currency, limits in bands.items():
        try:
            if currency != "*" and normalize_currency(currency) != currency:
                raise MoneyError(currency)
        except MoneyError:
            raise ValueError(
                _(
                    "config: promise_amount_bands: {currency!r} is not a currency code in "
                    "capitals (or '*')"
                ).format(currency=currency)
            ) from None
        try:
            values = [Decimal(str(limit)) for limit in limits]
        except (TypeError, ArithmeticError):
            values = []
        if (
            not isinstance(limits, (list, tuple))
            or not 1 <= len(values) <= 12
            or any(not value.is_finite() or value <= 0 for value in values)
            or values != sorted(set(values))
        ):
            raise ValueError(
                _(
                    "config: promise_amount_bands of {currency!r} must list 1 to 12 amounts above "
                    "0, ascending"
                ).format(currency=currency)
            )


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
            raise ValueError(_("config: unknown setting {key!r}").format(key=key))
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
