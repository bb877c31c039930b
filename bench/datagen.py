"""Realistic benchmark databases and placement files, built fast and cached
(docs/decisions.md, performance).

`ensure_database(cases)` returns the path of a database with `cases` cases, 20 agents and a
supervisor, created by the project's own migrations (`db.open_store` + `db.upgrade`) and filled
with Core bulk inserts in chunks: debtors in China, the US and the UK (persons and companies, names
in their own script), one to three phones each (parsed and validated by `phones.parse_phone`, a
few invalid or do-not-call), and a history per case: attempts with dispositions, promises
(pending, kept with their payment, broken), payments in full, follow-ups (due and future), holds
(dispute, cease), closed cases.

The cached queue place of every case (tier, priority, score, factors, next action time) is what
`rules.scoring.compute_place` gives at `NOW`: `scoring.score_factors` is called per case with
the case's own inputs and the tier rules are applied to the case's generated promises and
follow-ups. `verify_places` checks a random sample against `compute_place` itself, reading the
database, and the generator refuses to cache a database that fails it. Pending promises are never
past their grace at `NOW`, so the promise sweep that opens every queue finds nothing to judge.

Everything is seeded: the same `cases` gives the same database (row ids included). The file is
named after the schema's head revision and `GENERATOR_VERSION`, so a new migration or a change
here builds a new one instead of reusing a stale file.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 2
NOW = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)  # Friday: CN 21:30, New York 08:30, London 13:30
TODAY = NOW.date()
AGENTS = 20
PASSWORD = "bench-password"
CHUNK = 5000  # cases per transaction of inserts
SEED = 20261120
# COLLECTOR_BENCH_CACHE puts the (multi-GB) databases elsewhere, e.g. /tmp, not in the checkout.
CACHE = Path(os.environ.get("COLLECTOR_BENCH_CACHE") or Path(__file__).resolve().parent / ".cache")

CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
CN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国文斌鹏飞"
CN_CITIES = ("上海", "北京", "深圳", "广州", "杭州", "成都", "武汉", "南京")
CN_TRADES = ("贸易", "科技", "电子", "建材", "餐饮", "物流", "服装", "医药")
EN_FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Oliver Amelia George Isla Harry "
    "Ava Jack Emily Noah Olivia"
).split()
EN_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Wilson Taylor Evans Thomas Roberts "
    "Walker Wright Robinson Thompson White Hughes Edwards O'Brien Murphy Clarke Patel Khan"
).split()
EN_TRADES = ("Holdings", "Trading", "Logistics", "Foods", "Builders", "Media", "Motors")
CLIENTS = ("ACME Bank", "Globex Finance", "Initech Credit", "招商消费金融", "Umbrella Telecom")
CN_MOBILE = "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 180 181 182 183 185 186 187 188 189".split()  # noqa: E501
US_AREAS = (212, 312, 415, 713, 305, 206, 617, 404, 214, 602, 303, 702, 718, 646, 503, 919)
COUNTRIES = (("CN", "CNY", 0.5), ("US", "USD", 0.3), ("GB", "GBP", 0.2))
NO_CONTACT = ("no_answer", "no_answer", "no_answer", "busy", "voicemail", "voicemail")
RIGHT_PARTY = frozenset(
    "right_party promise plan refused dispute callback paid hardship cease".split()
)


def uuid_from(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def at_second(instant: datetime) -> datetime:
    return instant.replace(microsecond=0)


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- one case and its history ---------------------------------------------------------------------


@dataclass
class Generated:
    """The rows of one chunk of cases, as dicts for Core `insert(table)`."""

    debtors: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)


def phone_text(rng: random.Random, country: str) -> str:
    """A number as a client's file or an agent would write it; about 3% are not valid."""
    roll = rng.random()
    if roll < 0.03:
        return f"{rng.randrange(10**5):05d}"  # too short anywhere
    if country == "CN":
        if roll < 0.8:
            return f"{rng.choice(CN_MOBILE)} {rng.randrange(10**4):04d} {rng.randrange(10**4):04d}"
        return f"0{rng.choice(('10', '21'))}-{rng.randint(5, 8)}{rng.randrange(10**7):07d}"
    if country == "US":
        exchange = rng.randint(2, 9) * 100 + rng.randrange(100)
        if exchange % 100 == 11:
            exchange += 1  # N11 codes are services, not exchanges
        return f"({rng.choice(US_AREAS)}) {exchange}-{rng.randrange(10**4):04d}"
    if roll < 0.7:
        return f"07{rng.choice('45789')}{rng.randrange(10**2):02d} {rng.randrange(10**6):06d}"
    return f"020 7{rng.randrange(10**3):03d} {rng.randrange(10**4):04d}"


def debtor_name(rng: random.Random, country: str, company: bool) -> str:
    if country == "CN":
        if company:
            return f"{rng.choice(CN_CITIES)}{rng.choice(CN_GIVEN)}{rng.choice(CN_TRADES)}有限公司"
        given = "".join(rng.choice(CN_GIVEN) for _ in range(rng.randint(1, 2)))
        return rng.choice(CN_SURNAMES) + given
    if company:
        suffix = "LLC" if country == "US" else "Ltd"
        return f"{rng.choice(EN_LAST)} {rng.choice(EN_TRADES)} {suffix}"
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


class CaseMaker:
    """Builds one case at a time with its debtor, phones and history, and its queue place."""

    def __init__(self, seed: int, agents: list[uuid.UUID], settings: Any) -> None:
        from collector_tui.money import minor_digits
        from collector_tui.phones import parse_phone
        from collector_tui.services.rules import scoring

        self.rng = random.Random(seed)
        self.agents = agents
        self.settings = settings
        self.parse_phone = parse_phone
        self.scoring = scoring
        self.scale = {code: 10 ** minor_digits(code) for _, code, _ in COUNTRIES}
        self.grace = settings.promise_grace_days

    # -- history helpers -------------------------------------------------------------------------

    def _times(self, start: datetime, end: datetime, count: int) -> list[datetime]:
        rng = self.rng
        span = max(1, int((end - start).total_seconds()))
        return sorted(
            at_second(start + timedelta(seconds=rng.randrange(span))) for _ in range(count)
        )

    def _attempt_dispositions(self, count: int) -> list[str]:
        rng = self.rng
        result = []
        for _ in range(count):
            roll = rng.random()
            if roll < 0.72:
                result.append(rng.choice(NO_CONTACT))
            elif roll < 0.92:
                result.append("right_party")
            else:
                result.append("refused")
        return result

    def make(self, number: int, out: Generated) -> None:
        rng = self.rng
        settings = self.settings
        scoring = self.scoring
        roll = rng.random()
        country, currency = "GB", "GBP"
        for code, money, share in COUNTRIES:
            if roll < share:
                country, currency = code, money
                break
            roll -= share
        company = rng.random() < 0.1
        debtor_id = uuid_from(rng)
        case_id = uuid_from(rng)
        grade = rng.choice(("A", "B", "B", "C", "C", "C", "D", "D", "E", None))
        scale = self.scale[currency]
        principal = int(rng.lognormvariate(8.0, 1.1)) * scale + rng.randrange(scale)
        principal = max(principal, 50 * scale)
        fees = rng.choice((0, 0, 0, 25 * scale, 50 * scale))
        interest = rng.randrange(principal // 20 + 1)
        balance = principal + fees + interest
        scenario = rng.random()
        if scenario < 0.25:  # new placements arrive every day
            placed_date = TODAY - timedelta(days=rng.randint(0, 30))
            due_date = placed_date - timedelta(days=rng.randint(20, 400))
        else:  # placed at least 20 days ago: room for a history
            due_date = TODAY - timedelta(days=rng.randint(60, 720))
            placed_date = min(
                TODAY - timedelta(days=20), due_date + timedelta(days=rng.randint(10, 40))
            )
        placed_at = start_of(placed_date) + timedelta(hours=1)
        agent = rng.choice(self.agents) if rng.random() >= 0.01 else None
        agent_for_history = agent or self.agents[number % len(self.agents)]

        out.debtors.append(
            {
                "id": debtor_id,
                "kind": "company" if company else "person",
                "name": debtor_name(rng, country, company),
                "country": country,
                "address": None if rng.random() < 0.3 else f"{rng.randint(1, 999)} Bench Road",
                "language": {"CN": "zh", "US": "en", "GB": "en"}[country],
                "risk_grade": grade,
                "capacity_notes": None,
                "deceased": False,
                "bankrupt": False,
                "created_at": placed_at,
                "updated_at": placed_at,
                "version": 1,
            }
        )

        # Phones: parsed and validated exactly as the importer and the forms do.
        dial: list[tuple[uuid.UUID, str]] = []  # valid, callable numbers: (phone id, e164)
        seen: set[str] = set()
        primary_taken = False
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            text = phone_text(rng, country)
            parsed = self.parse_phone(text, country)
            if parsed.valid:
                if parsed.e164 in seen:
                    continue
                seen.add(parsed.e164)  # type: ignore[arg-type]
            phone_id = uuid_from(rng)
            primary = parsed.valid and not primary_taken
            primary_taken = primary_taken or primary
            do_not_call = rng.random() < 0.01
            out.phones.append(
                {
                    "id": phone_id,
                    "debtor_id": debtor_id,
                    "e164": parsed.e164,
                    "raw": text,
                    "extension": parsed.extension,
                    "kind": parsed.kind,
                    "is_primary": primary,
                    "valid": parsed.valid,
                    "time_zones": ",".join(parsed.time_zones),
                    "do_not_call": do_not_call,
                    "sms_consent": rng.random() < 0.2,
                    "consent_until": None,
                    "created_at": placed_at,
                    "updated_at": placed_at,
                    "version": 1,
                }
            )
            if parsed.valid and not do_not_call:
                dial.append((phone_id, parsed.e164))  # type: ignore[arg-type]

        status = "new"
        attempts: list[tuple[datetime, str]] = []  # (instant, disposition)
        promises: list[dict[str, Any]] = []
        follow_ups: list[dict[str, Any]] = []
        hold: tuple[str, datetime] | None = None
        paid_total = 0
        payments: list[dict[str, Any]] = []
        allocations: list[dict[str, Any]] = []
        recent = NOW - timedelta(days=rng.choice((1, 3, 7, 30, 60, 90)))
        recent = max(recent, placed_at + timedelta(hours=1))
        latest = NOW - timedelta(minutes=5)

        def attempts_between(start: datetime, end: datetime, count: int) -> None:
            if end <= start or count <= 0:
                return
            times = self._times(start, end, count)
            attempts.extend(zip(times, self._attempt_dispositions(count), strict=True))

        def promise(made_at: datetime, due: date, status_: str, amount: int) -> dict[str, Any]:
            activity_at = made_at
            attempts.append((activity_at, "promise"))
            row = {
                "id": uuid_from(rng),
                "case_id": case_id,
                "plan_id": None,
                "activity_id": None,  # filled when the activity row is made
                "amount": amount,
                "paid_amount": 0,
                "due_date": due,
                "grace_days": self.grace,
                "status": status_,
                "created_by_id": agent_for_history,
                "created_at": made_at,
                "updated_at": made_at,
                "resolved_at": None,
                "version": 1,
                "_made_at": made_at,
            }
            promises.append(row)
            return row

        if scenario < 0.25:
            pass  # never contacted
        elif scenario < 0.70:
            status = "active"
            attempts_between(placed_at, recent, rng.randint(0, 5))
            last_window = rng.random()
            if last_window < 0.15:  # some were tried today: their retry time is still ahead
                attempts_between(max(placed_at, NOW - timedelta(hours=6)), latest, 1)
            else:
                attempts_between(recent, latest, rng.randint(1, 3))
        elif scenario < 0.78:  # a pending promise, not yet past its grace
            status = "promised"
            made = at_second(NOW - timedelta(days=rng.randint(1, 20), minutes=rng.randrange(600)))
            made = max(made, placed_at + timedelta(hours=2))
            attempts_between(placed_at, made, rng.randint(0, 4))
            # Due within 25 days of the promise; some are past due but still within their grace.
            earliest = max(TODAY - timedelta(days=self.grace), made.date() + timedelta(days=1))
            latest_due = made.date() + timedelta(days=25)
            due = earliest + timedelta(days=rng.randint(0, (latest_due - earliest).days))
            promise(made, due, "pending", max(scale, balance // rng.choice((1, 2, 4, 10))))
            if rng.random() < 0.3:  # reminded already
                reminder_from = start_of(due - timedelta(days=1))
                if reminder_from < latest:
                    attempts_between(max(made, reminder_from), latest, 1)
        elif scenario < 0.84:  # a broken promise, followed up or not
            status = "active"
            made = at_second(NOW - timedelta(days=rng.randint(20, 120), minutes=rng.randrange(600)))
            made = max(made, placed_at + timedelta(hours=2))
            attempts_between(placed_at, made, rng.randint(0, 4))
            due = made.date() + timedelta(days=rng.randint(3, 14))
            row = promise(made, due, "broken", max(scale, balance // rng.choice((2, 4, 10))))
            resolved = start_of(due + timedelta(days=self.grace + 1)) + timedelta(hours=2)
            row["resolved_at"] = resolved
            row["updated_at"] = resolved
            if rng.random() < 0.5:
                attempts_between(resolved, latest, rng.randint(1, 3))
        elif scenario < 0.88:  # a callback asked for
            status = "active"
            made = at_second(NOW - timedelta(hours=rng.randint(1, 120)))
            made = max(made, placed_at + timedelta(hours=2))
            attempts_between(placed_at, made, rng.randint(0, 4))
            attempts.append((made, "callback"))
            due_at = at_second(made + timedelta(minutes=rng.randint(30, 5 * 24 * 60)))
            follow_ups.append(
                {
                    "id": uuid_from(rng),
                    "case_id": case_id,
                    "owner_id": agent_for_history,
                    "due_at": due_at,
                    "reason": "asked to be called back",
                    "done_at": None,
                    "created_by_id": agent_for_history,
                    "created_at": made,
                    "updated_at": made,
                    "version": 1,
                }
            )
            if agent is None:
                follow_ups.clear()
        elif scenario < 0.91:  # a kept promise, paid in full
            status = "active"
            made = at_second(NOW - timedelta(days=rng.randint(15, 150), minutes=rng.randrange(600)))
            made = max(made, placed_at + timedelta(hours=2))
            attempts_between(placed_at, made, rng.randint(0, 3))
            due = min(made.date() + timedelta(days=rng.randint(3, 14)), TODAY - timedelta(days=3))
            amount = max(scale, balance // rng.choice((2, 4, 10)))
            row = promise(made, due, "kept", amount)
            received = max(made.date(), due - timedelta(days=rng.randint(0, 2)))
            posted = start_of(received) + timedelta(hours=10)
            row.update(paid_amount=amount, resolved_at=posted, updated_at=posted)
            payment_id = uuid_from(rng)
            payments.append(
                {
                    "id": payment_id,
                    "case_id": case_id,
                    "amount": amount,
                    "received_on": received,
                    "method": "bank_transfer",
                    "reference": f"P{number:08d}",
                    "recorded_by_id": agent_for_history,
                    "voids_id": None,
                    "created_at": posted,
                }
            )
            allocations.append(
                {
                    "id": uuid_from(rng),
                    "payment_id": payment_id,
                    "promise_id": row["id"],
                    "amount": amount,
                }
            )
            paid_total += amount
            if rng.random() < 0.5:
                attempts_between(posted + timedelta(days=1), latest, rng.randint(1, 2))
        elif scenario < 0.93:  # disputed: held until resolved
            status = "dispute"
            made = at_second(NOW - timedelta(days=rng.randint(1, 60)))
            made = max(made, placed_at + timedelta(hours=2))
            attempts_between(placed_at, made, rng.randint(0, 3))
            attempts.append((made, "dispute"))
            hold = ("dispute", made)
        elif scenario < 0.94:  # asked us to stop calling
            status = "active"
            made = at_second(NOW - timedelta(days=rng.randint(1, 90)))
            made = max(made, placed_at + timedelta(hours=2))
            attempts_between(placed_at, made, rng.randint(0, 3))
            attempts.append((made, "cease"))
            hold = ("cease", made)
        else:  # closed: paid in full or written off
            made = at_second(NOW - timedelta(days=rng.randint(5, 200)))
            made = max(made, placed_at + timedelta(hours=2))
            attempts_between(placed_at, made, rng.randint(1, 4))
            if rng.random() < 0.6:
                status = "paid"
                posted = made + timedelta(days=1)
                payments.append(
                    {
                        "id": uuid_from(rng),
                        "case_id": case_id,
                        "amount": balance,
                        "received_on": posted.date(),
                        "method": "bank_transfer",
                        "reference": f"F{number:08d}",
                        "recorded_by_id": agent_for_history,
                        "voids_id": None,
                        "created_at": posted,
                    }
                )
                paid_total = balance
            else:
                status = "written_off"

        attempts.sort()
        last_attempt = attempts[-1][0] if attempts else None
        contacts = [when for when, code in attempts if code in RIGHT_PARTY]
        last_contact = contacts[-1] if contacts else None
        balance -= paid_total

        # Activities (the promise's own activity is linked to its promise).
        promise_by_time = {row["_made_at"]: row for row in promises}
        for when, code in attempts:
            activity_id = uuid_from(rng)
            phone_id, e164 = rng.choice(dial) if dial else (None, None)
            connected = code not in NO_CONTACT
            out.activities.append(
                {
                    "id": activity_id,
                    "case_id": case_id,
                    "user_id": agent_for_history,
                    "occurred_at": when,
                    "channel": "call",
                    "direction": "outbound",
                    "phone_id": phone_id,
                    "phone_e164": e164,
                    "disposition": code,
                    "note": "spoke about the balance" if connected and rng.random() < 0.5 else None,
                    "duration_s": rng.randint(30, 600) if connected else None,
                    "with_consent": False,
                    "voids_id": None,
                    "created_at": when,
                }
            )
            row = promise_by_time.get(when) if code == "promise" else None
            if row is not None:
                row["activity_id"] = activity_id
        for row in promises:
            del row["_made_at"]
            out.promises.append(row)
        out.payments.extend(payments)
        out.allocations.extend(allocations)
        out.follow_ups.extend(follow_ups)
        if hold is not None:
            kind, placed = hold
            out.holds.append(
                {
                    "id": uuid_from(rng),
                    "case_id": case_id,
                    "kind": kind,
                    "reason": f"{kind} (logged with the call)",
                    "placed_at": placed,
                    "placed_by_id": agent_for_history,
                    "released_at": None,
                    "released_by_id": None,
                }
            )

        # The queue place, as scoring.compute_place gives it at NOW.
        factors = scoring.score_factors(
            balance_minor=balance,
            currency=currency,
            risk_grade=grade,
            dpd=scoring.days_past_due(due_date, TODAY),
            broken_promises=sum(1 for row in promises if row["status"] == "broken"),
            last_contact_at=last_contact,
            last_attempt_at=last_attempt,
            now=NOW,
            weights=settings.weights,
        )
        tier, next_action_at, rank = place_of(
            status=status,
            promises=promises,
            follow_ups=follow_ups,
            last_attempt=last_attempt,
            last_contact=last_contact,
            settings=settings,
        )
        score = sum(factor.points for factor in factors)
        closed = status in ("paid", "written_off", "settled", "closed")
        if closed:
            score, factor_dicts = 0, []
        else:
            factor_dicts = [factor.as_dict() for factor in factors]
        within = rank if rank is not None else scoring.SCORE_CEILING - score
        updated = max([placed_at, *(when for when, _ in attempts)])
        out.cases.append(
            {
                "id": case_id,
                "client": CLIENTS[number % len(CLIENTS)],
                "client_ref": f"B-{number:08d}",
                "debtor_id": debtor_id,
                "currency": currency,
                "principal": principal,
                "fees": fees,
                "interest": interest,
                "balance": balance,
                "due_date": due_date,
                "placed_date": placed_date,
                "status": status,
                "assigned_to_id": agent,
                "queue_tier": tier,
                "priority": tier * scoring.TIER_SPAN + within,
                "score": score,
                "score_factors": factor_dicts,
                "next_action_at": next_action_at,
                "last_attempt_at": last_attempt,
                "last_contact_at": last_contact,
                "routed_reason": None,
                "created_at": placed_at,
                "updated_at": updated,
                "version": 1 + len(attempts),
            }
        )


def place_of(
    *,
    status: str,
    promises: list[dict[str, Any]],
    follow_ups: list[dict[str, Any]],
    last_attempt: datetime | None,
    last_contact: datetime | None,
    settings: Any,
) -> tuple[int, datetime | None, int | None]:
    """(tier, next_action_at, rank within the tier or None for "by score"): the rules of
    `scoring.compute_place`, on the case's generated rows instead of queries."""
    from collector_tui.models import (
        CLOSED_STATUSES,
        TIER_BROKEN_PROMISE,
        TIER_FOLLOW_UP,
        TIER_NEW,
        TIER_NONE,
        TIER_PROMISE_REMINDER,
        TIER_WORKABLE,
    )

    if status in CLOSED_STATUSES:
        return TIER_NONE, None, 0  # priority TIER_NONE * TIER_SPAN exactly
    open_follow_ups = sorted(
        (row for row in follow_ups if row["done_at"] is None), key=lambda row: row["due_at"]
    )
    if open_follow_ups:
        due_at = open_follow_ups[0]["due_at"]
        return TIER_FOLLOW_UP, due_at, int(due_at.timestamp())
    broken = [row for row in promises if row["status"] == "broken" and row["resolved_at"]]
    if broken:
        resolved = max(row["resolved_at"] for row in broken)
        if last_attempt is None or last_attempt < resolved:
            return TIER_BROKEN_PROMISE, None, None
    pending = sorted(
        (row for row in promises if row["status"] == "pending"), key=lambda row: row["due_date"]
    )
    if pending:
        first = pending[0]
        reminder_from = start_of(first["due_date"] - timedelta(days=1))
        if last_attempt is None or last_attempt < reminder_from:
            return TIER_PROMISE_REMINDER, reminder_from, None
        wait_until = start_of(first["due_date"] + timedelta(days=first["grace_days"] + 1))
        return TIER_PROMISE_REMINDER, wait_until, None
    if last_attempt is None:
        return TIER_NEW, None, None
    retry = (
        settings.retry_after_contact_min
        if last_contact is not None and last_contact >= last_attempt
        else settings.retry_after_no_contact_min
    )
    return TIER_WORKABLE, last_attempt + timedelta(minutes=retry), None


# --- the database ---------------------------------------------------------------------------------


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import collector_tui.db as db

    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    return str(ScriptDirectory.from_config(config).get_current_head())


def database_path(cases: int, cache: Path = CACHE) -> Path:
    return cache / f"cases-{cases}-g{GENERATOR_VERSION}-r{head_revision()}.db"


def template_path(cache: Path = CACHE) -> Path:
    """An empty database at the head revision (import targets are copies of it)."""
    path = cache / f"empty-r{head_revision()}.db"
    if not path.exists():
        from collector_tui.bootstrap import open_store
        from collector_tui.db import upgrade

        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        store = open_store(partial)
        upgrade(store)
        with store.engine.connect() as connection:
            connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.dispose()
        partial.replace(path)
    return path


def fresh_copy(source: Path, target: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _chunks(total: int) -> Iterator[range]:
    for start in range(0, total, CHUNK):
        yield range(start, min(total, start + CHUNK))


def build_database(cases: int, path: Path) -> dict[str, Any]:
    """Create `path` from the migrations and fill it; returns row counts."""
    from sqlalchemy import insert

    from collector_tui.bootstrap import open_store
    from collector_tui.config import Settings
    from collector_tui.db import upgrade
    from collector_tui.models import (
        Activity,
        Case,
        Debtor,
        FollowUp,
        Hold,
        Payment,
        PaymentAllocation,
        Phone,
        Promise,
    )
    from collector_tui.services import accounts
    from collector_tui.services.supervision import workload

    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_store(path)
    upgrade(store)
    # The workload counters' triggers (migration 0017) would fire on every row of the bulk load:
    # ~48% more CPU for the whole build (20,000 cases: 16.0 and 15.3 s against 11.4 and 9.8 s). They
    # are off during the load and the counters are recounted once at the end.
    with store.engine.begin() as connection:
        triggers = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'workload_%'"
        ).all()
        for name, _ in triggers:
            connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    settings = Settings()
    zones = ["Asia/Shanghai"] * 10 + ["America/New_York"] * 5 + ["Europe/London"] * 5
    agents: list[uuid.UUID] = []
    with store.write() as session:
        for index in range(AGENTS):
            actor = accounts.create_user(
                session=session,
                now=NOW,
                username=f"agent{index + 1:02d}",
                password=PASSWORD,
                role="agent",
                display_name=f"Agent {index + 1:02d}",
                time_zone=zones[index % len(zones)],
            )
            agents.append(actor.user_id)
        supervisor = accounts.create_user(
            session=session,
            now=NOW,
            username="supervisor",
            password=PASSWORD,
            role="supervisor",
            display_name="Supervisor",
            time_zone="Asia/Shanghai",
        )
    maker = CaseMaker(SEED + cases, agents, settings)
    order = (
        (Debtor, "debtors"),
        (Phone, "phones"),
        (Case, "cases"),
        (Activity, "activities"),
        (Promise, "promises"),
        (Payment, "payments"),
        (PaymentAllocation, "allocations"),
        (FollowUp, "follow_ups"),
        (Hold, "holds"),
    )
    counts = dict.fromkeys((name for _, name in order), 0)
    with store.engine.connect() as connection:
        # A bulk load into a file nobody else uses: no fsync per chunk, a big page cache so the
        # random-UUID indexes stay in memory. The app's own pragmas apply when it opens the file.
        raw = connection.connection.driver_connection  # pragmas outside any transaction
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-1000000")
        for chunk in _chunks(cases):
            generated = Generated()
            for number in chunk:
                maker.make(number, generated)
            with connection.begin():
                for model, name in order:
                    rows = getattr(generated, name)
                    if rows:
                        connection.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
                        counts[name] += len(rows)
            done = chunk.stop
            if done % (CHUNK * 20) == 0 or done == cases:
                rate = done / (time.perf_counter() - started)
                _log(f"  generated {done:,}/{cases:,} cases ({rate:,.0f} cases/s)")
    with store.engine.begin() as connection:
        for _, sql in triggers:
            connection.exec_driver_sql(sql)
    with store.write() as session:
        workload.fix_counters(session=session, now=NOW, actor=supervisor)
    with store.engine.connect() as connection:
        raw = connection.connection.driver_connection
        raw.execute("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def verify_places(path: Path, sample: int = 400) -> int:
    """Compare the cached queue place of `sample` random cases with `scoring.compute_place` at NOW;
    also check that the promise sweep has nothing to judge. Returns the number of cases checked."""
    from sqlmodel import col, func, select

    from collector_tui.bootstrap import open_store
    from collector_tui.config import Settings
    from collector_tui.models import Case, Promise
    from collector_tui.services.rules import scoring

    settings = Settings()
    store = open_store(path)
    rng = random.Random(SEED)
    try:
        with store.read() as session:
            total = session.exec(select(func.count()).select_from(Case)).one()
            rowids = rng.sample(range(1, total + 1), min(sample, total))
            connection = session.connection()
            ids = [
                connection.exec_driver_sql(
                    "SELECT id FROM collection_case WHERE rowid = ?", (rowid,)
                ).scalar_one()
                for rowid in rowids
            ]
            checked = 0
            for hex_id in ids:
                case = session.get(Case, uuid.UUID(hex_id))
                assert case is not None
                place = scoring.compute_place(
                    session=session, case=case, now=NOW, settings=settings
                )
                cached = (
                    case.queue_tier,
                    case.priority,
                    case.score,
                    case.score_factors,
                    case.next_action_at,
                )
                fresh = (
                    place.tier,
                    place.priority,
                    place.score,
                    place.factors,
                    place.next_action_at,
                )
                if cached != fresh:
                    raise AssertionError(
                        f"case {case.client_ref}: cached {cached!r} but compute_place {fresh!r}"
                    )
                checked += 1
            overdue = [
                promise
                for promise in session.exec(
                    select(Promise).where(
                        Promise.status == "pending", col(Promise.due_date) < TODAY
                    )
                )
                if promise.due_date + timedelta(days=promise.grace_days) < TODAY
            ]
            if overdue:
                raise AssertionError(f"{len(overdue)} pending promises are past their grace")
    finally:
        store.dispose()
    return checked


def verify_counters(path: Path) -> int:
    """The workload counters (kept by migration 0017's triggers, which fire on every insert of
    the build) must equal a full recount of the cases and promises; returns the open cases."""
    from collector_tui.bootstrap import open_store
    from collector_tui.services.supervision import workload

    store = open_store(path)
    try:
        with store.read() as session:
            found = workload.recount(session=session)
    finally:
        store.dispose()
    if not found.equal:
        raise AssertionError(
            f"{len(found.differences)} workload counters differ from a recount, e.g. "
            f"{found.differences[0]}"
        )
    return found.open_cases


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import collector_tui.db as db

    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def _upgrade(path: Path) -> None:
    from collector_tui.bootstrap import open_store
    from collector_tui.db import upgrade

    store = open_store(path)
    upgrade(store)
    with store.engine.connect() as connection:
        raw = connection.connection.driver_connection
        raw.execute("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _schema(connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
    return {
        (kind, name): sql
        for kind, name, sql in connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        )
    }


def _match_schema(path: Path, template: Path) -> None:
    """A cached database must have exactly the schema the migrations give today. Indexes that a
    migration gained or changed after the file was built (same revision name) are made again
    from the template's own SQL; a table that differs needs `--rebuild`."""
    with closing(sqlite3.connect(template)) as connection:
        wanted = _schema(connection)
    with closing(sqlite3.connect(path)) as connection:
        found = _schema(connection)
        stale = [key for key, sql in wanted.items() if found.get(key) != sql]
        tables = [name for kind, name in stale if kind != "index"]
        if tables:
            names = ", ".join(tables)
            raise SystemExit(f"{path.name} differs from the migrations ({names}): use --rebuild")
        for kind, name in stale:
            _log(f"{path.name}: making index {name} as the migrations define it")
            if (kind, name) in found:
                connection.execute(f'DROP INDEX "{name}"')
            connection.execute(wanted[(kind, name)])
        connection.commit()


def ensure_database(cases: int, cache: Path = CACHE, *, rebuild: bool = False) -> Path:
    """The cached database with `cases` cases, built (and verified) when missing."""
    path = database_path(cases, cache)
    if path.exists() and not rebuild:
        _match_schema(path, template_path(cache))
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    known = _known_revisions()
    older = [
        candidate
        for candidate in sorted(cache.glob(f"cases-{cases}-g{GENERATOR_VERSION}-r*.db"))
        if candidate.stem.rsplit("-r", 1)[-1] in known
    ]
    if older and not rebuild:
        # Same data, an older schema of this code's migrations: they bring it up to date
        # (minutes faster than generating it again at a million cases).
        source = older[-1]
        _log(f"upgrading {source.name} to {path.name}")
        for suffix in ("-wal", "-shm"):
            Path(f"{source}{suffix}").unlink(missing_ok=True)
        source.replace(partial)
        try:
            _upgrade(partial)
            verify_counters(partial)
        except BaseException:
            partial.replace(source)
            raise
        partial.replace(path)
        return path
    _log(f"building {path.name} ({cases:,} cases): done once, then reused")
    counts = build_database(cases, partial)
    checked = verify_places(partial)
    started = time.perf_counter()
    opened = verify_counters(partial)
    _log(f"  rows {counts}; queue place checked against compute_place on {checked} cases")
    _log(
        f"  workload counters equal a recount ({opened:,} open cases, "
        f"{time.perf_counter() - started:.1f} s)"
    )
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.replace(path)
    return path


# --- placement files ------------------------------------------------------------------------------

CSV_HEADER = (
    "client,client_ref,debtor_name,debtor_type,country,phone,address,currency,principal,fees,"
    "interest,due_date,placed_date,risk_grade"
).split(",")


def ensure_placements(rows: int, cache: Path = CACHE) -> Path:
    """A placement file (docs/decisions.md, placement files) of `rows` one-row cases: CN/US/UK
    debtors, one or two phones."""
    path = cache / f"placements-{rows}-g{GENERATOR_VERSION}.csv"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED + rows)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for number in range(rows):
            country, currency = rng.choices(
                [(code, money) for code, money, _ in COUNTRIES],
                weights=[share for *_, share in COUNTRIES],
            )[0]
            company = rng.random() < 0.1
            phones = [phone_text(rng, country) for _ in range(rng.choice((1, 1, 2)))]
            due = TODAY - timedelta(days=rng.randint(20, 400))
            writer.writerow(
                [
                    "Bench Bank",
                    f"I-{number:08d}",
                    debtor_name(rng, country, company),
                    "company" if company else "person",
                    country,
                    ";".join(phones),
                    "" if rng.random() < 0.3 else f"{rng.randint(1, 999)} Import Street",
                    currency,
                    f"{rng.randint(100, 90000)}.{rng.randrange(100):02d}",
                    rng.choice(("", "", "25.00")),
                    "",
                    due.isoformat(),
                    (due + timedelta(days=rng.randint(10, 60))).isoformat(),
                    rng.choice(("A", "B", "C", "D", "E", "")),
                ]
            )
    partial.replace(path)
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="build (or rebuild) a cached bench database")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--verify", type=int, default=0, help="check N more cases' places")
    arguments = parser.parse_args()
    built = ensure_database(arguments.cases, rebuild=arguments.rebuild)
    if arguments.verify:
        print(f"checked {verify_places(built, arguments.verify)} cases", file=sys.stderr)
    print(built)
