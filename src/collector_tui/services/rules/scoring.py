"""The cached queue position of a case: tier, score and its factors, next action time.

Recomputed in the same transaction as any change to its inputs (an attempt, a promise, a payment, a
follow-up, a reassignment), and by the sweep for the inputs that move with time (days past due, time
since the last attempt). The queue then reads it straight from an index (docs/decisions.md: queue,
stack facts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, literal, true
from sqlmodel import Session, col, func, select

from collector_tui.config import ScoreWeights, Settings
from collector_tui.db import select_columns
from collector_tui.models import (
    CLOSED_STATUSES,
    TIER_BROKEN_PROMISE,
    TIER_FOLLOW_UP,
    TIER_NEW,
    TIER_NONE,
    TIER_PROMISE_REMINDER,
    TIER_WORKABLE,
    Activity,
    Case,
    Debtor,
    FollowUp,
    InvoiceDispute,
    Promise,
    PromiseStatus,
)
from collector_tui.money import minor_digits

# priority = tier * TIER_SPAN + rank within the tier; lower comes first.
TIER_SPAN = 10**12
SCORE_CEILING = 10**9

TIER_NAMES = {
    TIER_FOLLOW_UP: "follow-up due",
    TIER_BROKEN_PROMISE: "broken promise",
    TIER_PROMISE_REMINDER: "promise reminder",
    TIER_NEW: "new placement",
    TIER_WORKABLE: "workable",
    TIER_NONE: "closed",
}


@dataclass(frozen=True)
class Factor:
    name: str
    points: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "detail": self.detail}


def days_past_due(due: date, today: date) -> int:
    return max(0, (today - due).days)


def likelihood_pct(
    *,
    risk_grade: str | None,
    dpd: int,
    broken_promises: int,
    recent_contact: bool,
    weights: ScoreWeights,
) -> float:
    """The rule score's likelihood of payment in percent: the probability a strategy rule reads
    while no model is fitted (services/strategies)."""
    grade = (risk_grade or "").upper()
    likelihood = float(weights.grade_likelihood.get(grade, weights.ungraded_likelihood))
    decay = max(weights.dpd_floor_pct, 100 - weights.dpd_decay_pct_per_30d * (dpd // 30))
    likelihood *= decay / 100
    likelihood *= (weights.broken_promise_factor_pct / 100) ** broken_promises
    if recent_contact:
        likelihood *= weights.recent_contact_factor_pct / 100
    return min(likelihood, 95.0)


def queue_weight_of(case: Case) -> int:
    """The case's strategy queue weight in percent (100: none; services/strategies sets it)."""
    treatment = case.strategy_treatment
    if not treatment:
        return 100
    weight = treatment.get("queue_weight", 100)
    return weight if type(weight) is int and weight > 0 else 100


def weighted(score: int, weight_pct: int) -> int:
    return score * weight_pct // 100


def score_factors(
    *,
    balance_minor: int,
    currency: str,
    risk_grade: str | None,
    dpd: int,
    broken_promises: int,
    last_contact_at: datetime | None,
    last_attempt_at: datetime | None,
    now: datetime,
    weights: ScoreWeights,
) -> list[Factor]:
    """Expected recovery (balance x likelihood) in points, plus urgency. Pure: easy to explain."""
    grade = (risk_grade or "").upper()
    decay = max(
        weights.dpd_floor_pct, 100 - weights.dpd_decay_pct_per_30d * (dpd // 30)
    )  # percent of the base likelihood that survives the passing of time
    recent = last_contact_at is not None and now - last_contact_at <= timedelta(
        days=weights.recent_contact_days
    )
    likelihood = likelihood_pct(
        risk_grade=risk_grade,
        dpd=dpd,
        broken_promises=broken_promises,
        recent_contact=recent,
        weights=weights,
    )
    major = max(balance_minor, 0) / 10 ** minor_digits(currency)
    expected = major * likelihood / 100
    recovery_points = round(weights.points_per_decade * math.log10(1 + expected))
    factors = [
        Factor(
            "expected recovery",
            recovery_points,
            f"balance {major:,.2f} {currency} x {likelihood:.0f}% likely",
        ),
    ]
    # Show how each input moved the likelihood, so "why is this case here" reads as a story.
    factors.append(Factor("risk grade", 0, f"grade {grade or 'none'}"))
    if dpd:
        factors.append(Factor("days past due", 0, f"{dpd} days past due, {decay}% kept"))
    if broken_promises:
        factors.append(Factor("broken promises", 0, f"{broken_promises} broken"))
    if recent:
        factors.append(Factor("recent contact", 0, "right-party contact lately"))
    if last_attempt_at is None:
        factors.append(Factor("never contacted", weights.never_contacted_points, "no attempt yet"))
    else:
        idle_days = max(0, (now - last_attempt_at).days)
        urgency = min(weights.urgency_cap_points, idle_days * weights.urgency_points_per_day)
        if urgency:
            factors.append(Factor("urgency", urgency, f"{idle_days} days since last attempt"))
    return factors


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@dataclass(frozen=True)
class QueuePlace:
    tier: int
    priority: int
    score: int
    factors: list[dict[str, Any]]
    next_action_at: datetime | None


@lru_cache(maxsize=1)
def _reads() -> Any:
    """compute_place's reads in one statement, built once with the case as a bound parameter
    (`case`): every save re-places its case, and each statement's round trip through SQLAlchemy
    cost more than SQLite's work on it. One row: the count of broken promises, the amount under
    open invoice dispute, the due time of the earliest open follow-up, the resolution time of the
    latest broken promise, and the due date and grace of the earliest pending promise (NULLs when
    there is none: an outer join on a one-row select)."""
    case: Any = bindparam("case")
    broken = (col(Promise.case_id) == case, col(Promise.status) == PromiseStatus.broken)
    pending = (
        select(col(Promise.due_date), col(Promise.grace_days))
        .where(col(Promise.case_id) == case, col(Promise.status) == PromiseStatus.pending)
        .order_by(col(Promise.due_date))
        .limit(1)
        .subquery()
    )
    one = select(literal(1).label("one")).subquery()
    return select_columns(
        select(func.count()).select_from(Promise).where(*broken).scalar_subquery(),
        select(func.coalesce(func.sum(InvoiceDispute.amount), 0))
        .where(col(InvoiceDispute.case_id) == case, col(InvoiceDispute.status) == "open")
        .scalar_subquery(),
        select(FollowUp.due_at)
        .where(col(FollowUp.case_id) == case, col(FollowUp.done_at).is_(None))
        .order_by(col(FollowUp.due_at))
        .limit(1)
        .scalar_subquery(),
        select(Promise.resolved_at)
        .where(*broken)
        .order_by(col(Promise.resolved_at).desc())
        .limit(1)
        .scalar_subquery(),
        pending.c.due_date,
        pending.c.grace_days,
    ).select_from(one.outerjoin(pending, true()))


def compute_place(*, session: Session, case: Case, now: datetime, settings: Settings) -> QueuePlace:
    if case.status in CLOSED_STATUSES:
        return QueuePlace(TIER_NONE, TIER_NONE * TIER_SPAN, 0, [], None)
    today = now.date()
    debtor = session.get(Debtor, case.debtor_id)
    broken, disputed, follow_up_due, latest_broken, pending_due, pending_grace = session.execute(
        _reads(), {"case": case.id}
    ).one()
    # An amount under open invoice dispute is not chased (casework.disputes).
    factors = score_factors(
        balance_minor=case.balance - min(int(disputed or 0), case.balance),
        currency=case.currency,
        risk_grade=debtor.risk_grade if debtor else None,
        dpd=days_past_due(case.due_date, today),
        broken_promises=int(broken),
        last_contact_at=case.last_contact_at,
        last_attempt_at=case.last_attempt_at,
        now=now,
        weights=settings.weights,
    )
    score = sum(f.points for f in factors)
    # The strategy's queue weight scales the whole score, shown as a factor of its own so "why
    # this case is here" accounts for every point.
    weight = queue_weight_of(case)
    if weight != 100:
        moved = weighted(score, weight) - score
        factors.append(
            Factor("strategy", moved, f"{case.strategy or 'strategy'} queue weight {weight}%")
        )
        score += moved
    factor_dicts = [f.as_dict() for f in factors]

    def place(tier: int, next_action_at: datetime | None, rank: int | None = None) -> QueuePlace:
        within = rank if rank is not None else SCORE_CEILING - score
        return QueuePlace(tier, tier * TIER_SPAN + within, score, factor_dicts, next_action_at)

    if follow_up_due is not None:
        # Callbacks come earliest-due first, whatever the score.
        return place(TIER_FOLLOW_UP, follow_up_due, int(follow_up_due.timestamp()))

    last_attempt = case.last_attempt_at
    if latest_broken is not None:
        if last_attempt is None or last_attempt < latest_broken:
            return place(TIER_BROKEN_PROMISE, None)

    if pending_due is not None:
        due_date, grace_days = pending_due, pending_grace
        reminder_from = _start_of(due_date - timedelta(days=1))
        if last_attempt is None or last_attempt < reminder_from:
            return place(TIER_PROMISE_REMINDER, reminder_from)
        # Reminded already: it waits in the promise tier (held as "pending promise not yet
        # due") until the sweep can call it kept or broken; it is not a broken promise yet.
        return place(
            TIER_PROMISE_REMINDER,
            _start_of(due_date + timedelta(days=grace_days + 1)),
        )

    if last_attempt is None:
        return place(TIER_NEW, None)
    retry = (
        settings.retry_after_contact_min
        if case.last_contact_at is not None and case.last_contact_at >= last_attempt
        else settings.retry_after_no_contact_min
    )
    return place(TIER_WORKABLE, last_attempt + timedelta(minutes=retry))


def refresh_case(*, session: Session, case: Case, now: datetime, settings: Settings) -> QueuePlace:
    """Recompute and store the case's queue place (inside the caller's transaction)."""
    placement = compute_place(session=session, case=case, now=now, settings=settings)
    case.queue_tier = placement.tier
    case.priority = placement.priority
    case.score = placement.score
    case.score_factors = placement.factors
    case.next_action_at = placement.next_action_at
    session.add(case)
    return placement


def last_attempt_time(*, session: Session, case: Case) -> datetime | None:
    return session.exec(
        select(func.max(Activity.occurred_at)).where(
            Activity.case_id == case.id, Activity.channel != "note"
        )
    ).one()
