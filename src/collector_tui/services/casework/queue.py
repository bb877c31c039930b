"""The agent's queue: who to call next and why (docs/decisions.md: queue, compliance).

The order comes from the cached queue place of each case (`rules.scoring`: tier, then score,
folded into `priority`) read straight from the index `ix_case_queue` (agent, priority,
next_action_at, status), a page of candidates at a time. Each page gets its compliance verdicts
from the process's cache (`rules.verdicts`, exact at `now`) or, for the cases it lacks, in a fixed
number of batched queries (`compliance.evaluate_cases`), and the walk stops once `limit` callable
cases are found or after a bounded number of candidates: the queue never loads every case.

Every open case assigned to the agent is either offered or held with its reason (and, where time
will lift it, the instant it becomes callable); unassigned open cases are in `unassigned_cases`.
No case is nowhere.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    CompoundSelect,
    String,
    Text,
    TypeDecorator,
    bindparam,
    or_,
    type_coerce,
    union_all,
)
from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.db import select_columns
from collector_tui.i18n import format_day, format_day_time
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    OPEN_STATUSES,
    TIER_BROKEN_PROMISE,
    TIER_FOLLOW_UP,
    TIER_NEW,
    TIER_NONE,
    TIER_PROMISE_REMINDER,
    TIER_WORKABLE,
    Case,
    Debtor,
    FollowUp,
    Promise,
    PromiseStatus,
    User,
)
from collector_tui.money import Money, MoneyError, format_plain
from collector_tui.services.context import reads, writes
from collector_tui.services.rules import compliance
from collector_tui.services.rules.compliance import CaseFacts, Verdict
from collector_tui.services.rules.scoring import TIER_NAMES, TIER_SPAN, days_past_due
from collector_tui.services.rules.verdicts import cached_verdicts

__all__ = [
    "QueueCounts",
    "QueueEntry",
    "QueuePage",
    "build_queue",
    "entry_json",
    "next_case",
    "prepare_queue",
    "unassigned_cases",
]

OPEN_PRIORITY_LIMIT = TIER_NONE * TIER_SPAN  # closed cases sit at TIER_NONE
# Candidates examined per callable entry asked for, at most: a bound on the walk down the queue
# when most cases are held (night time in the debtors' zones, caps reached).
SCAN_FACTOR = 20
# However small the page, walk at least this far: an agent whose first due cases are all held
# (asleep abroad, in a quiet period) must still be offered the callable one further down.
MIN_SCAN = 1000
MAX_PAGE = 500
_ID_BATCH = 500  # ids per IN (...): under every backend's bound-parameter limit


@dataclass(frozen=True)
class QueueEntry:
    case_id: uuid.UUID
    client: str
    client_ref: str
    debtor: str
    debtor_country: str
    currency: str
    balance: int  # minor units
    days_past_due: int
    status: str
    tier: int
    tier_name: str
    score: int
    factors: tuple[dict[str, Any], ...]
    callable: bool
    reason: str  # callable: why it is here; held: why it is held
    callable_at: datetime | None
    last_attempt_at: datetime | None
    next_action_at: datetime | None


@dataclass(frozen=True)
class QueueCounts:
    follow_ups_due: int  # the agent's cases whose follow-up time has come (callable or not)
    broken_promises: int  # the agent's cases with a broken promise not yet followed up
    callable: int  # callable entries found (at most the limit asked for)
    held: int  # held cases seen: every one waiting for a future time, plus those examined


@dataclass(frozen=True)
class QueuePage:
    entries: tuple[QueueEntry, ...]
    held: tuple[QueueEntry, ...]
    counts: QueueCounts


@dataclass(frozen=True, slots=True)
class _Row:
    id: uuid.UUID
    client: str
    client_ref: str
    debtor_id: uuid.UUID
    currency: str
    balance: int
    due_date: date
    status: str
    tier: int
    priority: int
    score: int
    factors: Any  # the stored JSON text, decoded only for the rows that become entries
    next_action_at: datetime | None
    last_attempt_at: datetime | None
    routed_reason: str | None
    debtor: str
    country: str
    deceased: bool
    bankrupt: bool

    def facts(self) -> CaseFacts:
        return CaseFacts(
            case_id=self.id,
            debtor_id=self.debtor_id,
            country=self.country,
            status=self.status,
            routed_reason=self.routed_reason,
            deceased=self.deceased,
            bankrupt=self.bankrupt,
        )


class _Id(TypeDecorator[uuid.UUID]):
    """A case's or debtor's id read from a queue row: SQLite's 32 hex digits made into a UUID
    without `uuid.UUID.__init__`'s parsing of the forms it accepts (urn:, braces, dashes), which
    took a tenth of a queue's build over its 100 rows. A driver that hands over UUIDs (psycopg)
    keeps them."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> uuid.UUID | None:
        if value is None or isinstance(value, uuid.UUID):
            return value
        made = object.__new__(uuid.UUID)
        object.__setattr__(made, "int", int(value, 16))
        object.__setattr__(made, "is_safe", uuid.SafeUUID.unknown)
        return made


_COLUMNS = (
    type_coerce(Case.id, _Id()),
    Case.client,
    Case.client_ref,
    type_coerce(Case.debtor_id, _Id()),
    Case.currency,
    Case.balance,
    Case.due_date,
    Case.status,
    Case.queue_tier,
    Case.priority,
    Case.score,
    # As text: most candidates a walk reads are never shown, and decoding every row's factors
    # was a tenth of building a queue.
    type_coerce(Case.score_factors, Text),
    Case.next_action_at,
    Case.last_attempt_at,
    Case.routed_reason,
    Debtor.name,
    Debtor.country,
    Debtor.deceased,
    Debtor.bankrupt,
)


def _select_rows() -> Any:
    return select_columns(*_COLUMNS).join(Debtor, col(Debtor.id) == col(Case.debtor_id))


def _rows(session: Session, statement: Any, parameters: dict[str, Any] | None = None) -> list[_Row]:
    # Plain column rows: Core execution on the session's connection, all rows fetched at once.
    # The ORM would have flushed pending changes first; so does this.
    if session.new or session.dirty or session.deleted:
        session.flush()
    return [_Row(*row) for row in session.connection().execute(statement, parameters).all()]


@dataclass(frozen=True)
class _Statements:
    """The statements every queue and "next case" runs, built once with bound parameters
    (`agent`, `now`; `priority` and `after` for the next page): building them for each call took
    longer than SQLAlchemy's cached compilation of them."""

    due: Any  # the agent's due candidates in queue order (the walk's first page)
    due_after: Any  # the same after a (priority, id)
    waiting: Any  # the agent's cases waiting for a later time, in queue order (the Held tab)
    counts: Any  # cases waiting, follow-ups due, broken promises: one statement, three seeks
    zone: Any  # the agent's time zone
    follow_ups: Any  # the open follow-ups of the cases `ids`, earliest due first (the reasons)
    promises: Any  # the broken and pending promises of the cases `ids`, by due date (the reasons)


@lru_cache(maxsize=1)
def _statements() -> _Statements:
    agent: Any = bindparam("agent")
    now: Any = bindparam("now")
    mine = (col(Case.assigned_to_id) == agent, col(Case.priority) < OPEN_PRIORITY_LIMIT)
    due = or_(col(Case.next_action_at).is_(None), col(Case.next_action_at) <= now)
    order = (col(Case.priority), col(Case.id))
    first = _select_rows().where(*mine, due).order_by(*order)
    priority: Any = bindparam("priority")
    after: Any = bindparam("after")
    ids: Any = bindparam("ids", expanding=True)
    # (priority, id) > (:priority, :after), written so that the index on priority bounds it.
    later = (
        col(Case.priority) >= priority,
        or_(col(Case.priority) > priority, col(Case.id) > after),
    )

    def count(low: int, high: int) -> Any:
        # Uncorrelated: the outer statement's FROM is the same table.
        return (
            select(func.count())
            .select_from(Case)
            .where(
                col(Case.assigned_to_id) == agent,
                col(Case.priority) >= low * TIER_SPAN,
                col(Case.priority) < high * TIER_SPAN,
                due,
            )
            .correlate(None)
            .scalar_subquery()
        )

    counts = (
        select_columns(
            func.count(),
            count(TIER_FOLLOW_UP, TIER_BROKEN_PROMISE),
            count(TIER_BROKEN_PROMISE, TIER_PROMISE_REMINDER),
        )
        .select_from(Case)
        .where(*mine, col(Case.next_action_at) > now)
        # The cases waiting for a later time: a range of ix_case_waiting (SQLite's plan), where
        # ix_case_queue would have the database read every open case of the agent (most are
        # due); the two tiers' counts are ranges of ix_case_queue.
    )
    return _Statements(
        due=first,
        due_after=first.where(*later),
        waiting=_select_rows().where(*mine, col(Case.next_action_at) > now).order_by(*order),
        counts=counts,
        zone=select(User.time_zone).where(col(User.id) == agent),
        follow_ups=select(FollowUp.case_id, FollowUp.due_at, FollowUp.reason)
        .where(col(FollowUp.case_id).in_(ids), col(FollowUp.done_at).is_(None))
        .order_by(col(FollowUp.due_at)),
        promises=select_columns(
            Promise.case_id,
            Promise.amount,
            Promise.due_date,
            Promise.status,
            Promise.resolved_at,
        )
        .where(
            col(Promise.case_id).in_(ids),
            col(Promise.status).in_([PromiseStatus.broken.value, PromiseStatus.pending.value]),
        )
        .order_by(col(Promise.due_date)),
    )


def _factors(stored: Any) -> tuple[dict[str, Any], ...]:
    # Text on SQLite; a driver that decodes JSON itself (psycopg) hands over the list already.
    if isinstance(stored, str | bytes):
        return tuple(json.loads(stored) or ())  # fresh dicts already: no copies needed
    return tuple(dict(factor) for factor in stored or ())


# --- Reasons --------------------------------------------------------------------------------------


class _Clock:
    """Formats instants in the agent's own time zone, with the date only when it is not today."""

    def __init__(self, zone_name: str | None, now: datetime) -> None:
        try:
            self.zone: ZoneInfo | Any = ZoneInfo(zone_name or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = UTC
        self.today = now.astimezone(self.zone).date()

    def show(self, instant: datetime) -> str:
        local = instant.astimezone(self.zone)
        return f"{local:%H:%M}" if local.date() == self.today else format_day_time(local)


def _agent_clock(session: Session, agent_id: uuid.UUID | None, now: datetime) -> _Clock:
    zone = None
    if agent_id is not None:
        zone = session.connection().execute(_statements().zone, {"agent": agent_id}).scalar()
    return _Clock(zone, now)


def _money(amount: int, currency: str) -> str:
    try:
        return format_plain(Money(amount, currency))
    except (MoneyError, TypeError):
        return f"{amount} {currency}"


@dataclass(frozen=True, slots=True)
class _Details:
    follow_up: tuple[datetime, str] | None = None
    broken: tuple[int, date] | None = None  # amount, due date of the latest broken promise
    pending: tuple[int, date] | None = None  # amount, due date of the earliest pending promise


def _details(session: Session, rows: Sequence[_Row]) -> dict[uuid.UUID, _Details]:
    """What the tier reasons quote: the due follow-up, the broken or pending promise."""
    follow_ids = [r.id for r in rows if r.tier == TIER_FOLLOW_UP]
    promise_ids = [r.id for r in rows if r.tier in (TIER_BROKEN_PROMISE, TIER_PROMISE_REMINDER)]
    # Core on the session's connection (flushed by _rows before): the ORM's execution path cost
    # more than these two small queries.
    connection = session.connection()
    statements = _statements()  # built once: building them cost more than running them
    follow_ups: dict[uuid.UUID, tuple[datetime, str]] = {}
    if follow_ids:
        for case_id, due_at, reason in connection.execute(
            statements.follow_ups, {"ids": follow_ids}
        ):
            follow_ups.setdefault(case_id, (due_at, reason))
    broken: dict[uuid.UUID, tuple[datetime, int, date]] = {}
    pending: dict[uuid.UUID, tuple[int, date]] = {}
    if promise_ids:
        for case_id, amount, due, status, resolved_at in connection.execute(
            statements.promises, {"ids": promise_ids}
        ):
            if status == PromiseStatus.pending:
                pending.setdefault(case_id, (amount, due))
            else:
                stamp = resolved_at or datetime.combine(due, datetime.min.time(), tzinfo=UTC)
                if case_id not in broken or stamp >= broken[case_id][0]:
                    broken[case_id] = (stamp, amount, due)
    return {
        r.id: _Details(
            follow_up=follow_ups.get(r.id),
            broken=broken[r.id][1:] if r.id in broken else None,
            pending=pending.get(r.id),
        )
        for r in rows
    }


def _why_here(row: _Row, details: _Details, clock: _Clock) -> str:
    if row.tier == TIER_FOLLOW_UP:
        if details.follow_up is not None:
            due_at, reason = details.follow_up
            return _("follow-up due {time}: {reason}").format(
                time=clock.show(due_at), reason=reason
            )
        return _("follow-up due")
    if row.tier == TIER_BROKEN_PROMISE:
        if details.broken is not None:
            amount, due = details.broken
            return _("broken promise of {amount} due {day}").format(
                amount=_money(amount, row.currency), day=format_day(due)
            )
        if details.pending is not None:
            amount, due = details.pending
            return _("promise of {amount} due {day}: check payment").format(
                amount=_money(amount, row.currency), day=format_day(due)
            )
        return _("broken promise")
    if row.tier == TIER_PROMISE_REMINDER:
        if details.pending is not None:
            amount, due = details.pending
            return _("promise reminder: {amount} due {day}").format(
                amount=_money(amount, row.currency), day=format_day(due)
            )
        return _("promise reminder")
    if row.tier == TIER_NEW:
        return _("new placement")
    return _("score {score}").format(score=row.score)


def _why_waiting(row: _Row, clock: _Clock) -> str:
    when = clock.show(row.next_action_at) if row.next_action_at else _("later")
    if row.tier == TIER_FOLLOW_UP:
        return _("follow-up at {time}").format(time=when)
    if row.tier in (TIER_BROKEN_PROMISE, TIER_PROMISE_REMINDER):
        return _("pending promise not yet due")
    if row.tier == TIER_WORKABLE:
        return _("retry after {time}").format(time=when)
    return _("next action at {time}").format(time=when)


def _entry(
    row: _Row,
    *,
    callable_now: bool,
    reason: str,
    callable_at: datetime | None,
    today: date | None,
) -> QueueEntry:
    return QueueEntry(
        case_id=row.id,
        client=row.client,
        client_ref=row.client_ref,
        debtor=row.debtor,
        debtor_country=row.country,
        currency=row.currency,
        balance=row.balance,
        days_past_due=days_past_due(row.due_date, today) if today is not None else 0,
        status=row.status,
        tier=row.tier,
        tier_name=TIER_NAMES.get(row.tier, str(row.tier)),
        score=row.score,
        factors=_factors(row.factors),
        callable=callable_now,
        reason=reason,
        callable_at=callable_at,
        last_attempt_at=row.last_attempt_at,
        next_action_at=row.next_action_at,
    )


def _held_order(entry: QueueEntry) -> tuple[bool, datetime]:
    # Soonest callable first; held until someone acts (holds, do-not-call) last.
    return entry.callable_at is None, entry.callable_at or datetime.max.replace(tzinfo=UTC)


# --- Building -------------------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    return or_(col(Case.next_action_at).is_(None), col(Case.next_action_at) <= now)


def _build(
    *,
    session: Session,
    now: datetime,
    agent_id: uuid.UUID,
    settings: Settings,
    limit: int,
    include_held: bool,
    held_limit: int,
    exclude: Collection[uuid.UUID],
    with_counts: bool,
) -> QueuePage:
    now = now.astimezone(UTC)
    today = now.date()
    limit = max(0, limit)
    held_limit = max(0, held_limit) if include_held else 0
    clock = _agent_clock(session, agent_id, now)
    skip = set(exclude)
    # "Next case": one callable case, no held ones, no counts; the candidates after the first
    # callable one need no verdict.
    first_only = limit == 1 and not held_limit and not with_counts

    entries: list[QueueEntry] = []
    offered: list[tuple[_Row, Verdict]] = []
    held: list[QueueEntry] = []
    held_due = 0
    budget = max(SCAN_FACTOR * (limit + held_limit), MIN_SCAN)
    page_size = min(MAX_PAGE, max(32, 2 * limit, held_limit))
    # "Next case" wants one: a short first page spares the compliance rules most candidates, and
    # the pages grow when the top of the queue is held.
    size = min(page_size, max(8, 2 * limit, held_limit))
    statements = _statements()
    parameters: dict[str, Any] = {"agent": agent_id, "now": now}
    offset = 0
    last: _Row | None = None
    while offset < budget and (len(offered) < limit or held_due < held_limit):
        # Each page starts after the last row of the one before (priority, id): the rows an
        # OFFSET would give, without making the database walk past every earlier page again.
        if last is None:
            page = statements.due
        else:
            page = statements.due_after
            parameters.update(priority=last.priority, after=last.id)
        wanted = min(size, budget - offset)
        rows = _rows(session, page.limit(wanted), parameters)
        offset += len(rows)
        if rows:
            last = rows[-1]
        candidates = [row for row in rows if row.id not in skip]
        verdicts = cached_verdicts(
            session=session,
            cases=[row.facts() for row in candidates],
            now=now,
            settings=settings,
            first_callable=first_only,
        )
        for row in candidates:
            verdict = verdicts.get(row.id)
            if verdict is None:  # after the first callable case, which is all `first_only` wants
                break
            if verdict.callable:
                if len(offered) < limit:
                    offered.append((row, verdict))
                continue
            held_due += 1
            if len(held) < held_limit:
                held.append(
                    _entry(
                        row,
                        callable_now=False,
                        reason=verdict.reason or _("not callable now"),
                        callable_at=verdict.callable_at,
                        today=today,
                    )
                )
        if len(rows) < wanted:
            break
        size = min(page_size, size * 4)

    details = _details(session, [row for row, _ in offered])
    for row, verdict in offered:
        reason = _why_here(row, details[row.id], clock)
        if verdict.reason:
            reason = _("{reason}; {more}").format(reason=reason, more=verdict.reason)
        entries.append(_entry(row, callable_now=True, reason=reason, callable_at=None, today=today))

    if held_limit:
        waiting = [
            row
            for row in _rows(
                session, statements.waiting.limit(held_limit), {"agent": agent_id, "now": now}
            )
            if row.id not in skip
        ]
        later = cached_verdicts(
            session=session,
            cases=[row.facts() for row in waiting],
            now=now,
            settings=settings,
            not_before={row.id: row.next_action_at for row in waiting if row.next_action_at},
        )
        for row in waiting:
            verdict = later[row.id]
            if verdict.callable_at is None:
                reason = verdict.reason or _why_waiting(row, clock)  # held until someone acts
            else:
                reason = _why_waiting(row, clock)
                if verdict.reason:
                    reason = _("{reason}; {more}").format(reason=reason, more=verdict.reason)
            held.append(
                _entry(
                    row,
                    callable_now=False,
                    reason=reason,
                    callable_at=verdict.callable_at,
                    today=today,
                )
            )
        held.sort(key=_held_order)
        del held[held_limit:]

    counts = QueueCounts(0, 0, len(entries), held_due)
    if with_counts:
        waiting_count, follow_ups, broken = (
            session.connection().execute(statements.counts, {"agent": agent_id, "now": now}).one()
        )
        counts = QueueCounts(
            int(follow_ups), int(broken), len(entries), held_due + int(waiting_count)
        )
    return QueuePage(entries=tuple(entries), held=tuple(held), counts=counts)


def _past_grace(session: Session, today: date) -> set[uuid.UUID]:
    """Cases with a pending promise past its grace (due + grace < today): the promises the sweep
    judges. One index seek per grace value (ix_promise_sweep), so only those promises are read,
    never the many still inside their grace."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # Core below: the ORM's autoflush would not run
    return {
        case_id
        for case_id, due_date, grace_days in session.connection()
        .execute(_past_grace_statement(today))
        .all()
        if due_date + timedelta(days=grace_days) < today
    }


@lru_cache(maxsize=4)
def _past_grace_statement(today: date) -> CompoundSelect[*tuple[Any, ...]]:
    # Kept for the day: building this union of ~30 selects took longer than running it, and
    # every queue and every "next case" asks for it.
    from collector_tui.services.casework.promises import MAX_GRACE_DAYS

    pending = col(Promise.status) == PromiseStatus.pending.value
    columns = (Promise.case_id, Promise.due_date, Promise.grace_days)
    conditions = [
        (col(Promise.grace_days) == grace, col(Promise.due_date) < today - timedelta(days=grace))
        for grace in range(MAX_GRACE_DAYS + 1)
    ]
    # Grace outside what a form accepts (a configured default, an older row): checked by the caller.
    conditions.append((col(Promise.grace_days) > MAX_GRACE_DAYS, col(Promise.due_date) < today))
    conditions.append((col(Promise.grace_days) < 0, col(Promise.due_date) < today))
    # SQLite's planner, seeing one grace value in its statistics, would take the range on
    # (status, due_date) for the open-ended parts and read every pending promise due before today.
    parts = [
        select_columns(*columns)
        .where(pending, *condition)
        .with_hint(Promise, "INDEXED BY ix_promise_sweep", dialect_name="sqlite")
        for condition in conditions
    ]
    return union_all(*parts)


def _sweep(session: Session, now: datetime, settings: Settings, agent_id: uuid.UUID) -> None:
    # Broken promises are a matter of time: judge them before ordering the queue (docs/decisions.md,
    # queue).
    from collector_tui.services.casework import sweep

    # sweep.sweep(agent_id=...) would read every pending promise past its due date with its
    # case (tens of thousands in a big book, nearly all still in their grace). The same promises
    # are found here from the index, and the sweep runs on exactly this agent's cases among them,
    # usually none.
    past_grace = _past_grace(session, now.astimezone(UTC).date())
    if not past_grace:
        return
    ids = list(past_grace)
    mine: list[uuid.UUID] = []
    for start in range(0, len(ids), _ID_BATCH):
        mine.extend(
            session.exec(
                select(Case.id).where(
                    col(Case.id).in_(ids[start : start + _ID_BATCH]),
                    col(Case.assigned_to_id) == agent_id,
                )
            )
        )
    if mine:
        sweep.sweep(session=session, now=now, settings=settings, case_ids=mine)


@writes
def build_queue(
    *,
    session: Session,
    now: datetime,
    agent_id: uuid.UUID,
    settings: Settings,
    limit: int = 50,
    include_held: bool = False,
    held_limit: int = 200,
) -> QueuePage:
    """The agent's callable cases in order, each with its reason; with `include_held`, the held
    ones too (soonest callable first). Runs the promise sweep first: needs a write session."""
    _sweep(session, now, settings, agent_id)
    return _build(
        session=session,
        now=now,
        agent_id=agent_id,
        settings=settings,
        limit=limit,
        include_held=include_held,
        held_limit=held_limit,
        exclude=(),
        with_counts=True,
    )


@reads
def prepare_queue(
    *, session: Session, now: datetime, settings: Settings, username: str, limit: int = 40
) -> int:
    """Judge the top `limit` cases of `username`'s queue at `now` into the process's verdict
    cache (rules/verdicts), with the queue's statements compiled and the rules' data loaded on
    the way: what makes a fresh process's first `build_queue` a warm one. The login screen runs it
    in a thread while the password is typed (docs/decisions.md, performance). Shows and returns
    nothing of the queue (the number of callable cases found, 0 for a name that is no active
    agent: a supervisor lands on the workloads); no sweep, no write: `build_queue` still sweeps
    and counts after the login."""
    from collector_tui.services.accounts import _user_by_name, actor_of

    user = _user_by_name(session, username)
    if user is None or not user.active or user.id is None or actor_of(user).is_supervisor:
        return 0
    page = _build(
        session=session,
        now=now,
        agent_id=user.id,
        settings=settings,
        limit=max(1, limit),
        include_held=False,
        held_limit=0,
        exclude=(),
        with_counts=False,
    )
    return len(page.entries)


@writes
def next_case(
    *,
    session: Session,
    now: datetime,
    agent_id: uuid.UUID,
    settings: Settings,
    exclude: Collection[uuid.UUID] = (),
) -> QueueEntry | None:
    """The first callable case of the agent's queue not in `exclude`; needs a write session."""
    _sweep(session, now, settings, agent_id)
    page = _build(
        session=session,
        now=now,
        agent_id=agent_id,
        settings=settings,
        limit=1,
        include_held=False,
        held_limit=0,
        exclude=exclude,
        with_counts=False,
    )
    return page.entries[0] if page.entries else None


def unassigned_cases(
    *, session: Session, settings: Settings, limit: int = 200, now: datetime | None = None
) -> list[QueueEntry]:
    """Open cases no agent holds, and open cases routed to the supervisors (deceased, bankrupt),
    in queue order. With `now`, each carries its compliance verdict and its days past due (0
    without it: only the caller knows what time it is)."""
    limit = max(0, limit)
    unassigned = _rows(
        session,
        _select_rows()
        .where(col(Case.assigned_to_id).is_(None), col(Case.priority) < OPEN_PRIORITY_LIMIT)
        .order_by(col(Case.priority), col(Case.id))
        .limit(limit),
    )
    routed = _rows(
        session,
        _select_rows()
        .where(
            # `> ''` rather than IS NOT NULL: SQLite then seeks ix_case_routed instead of scanning.
            col(Case.routed_reason) > "",
            col(Case.assigned_to_id).is_not(None),
            col(Case.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Case.priority), col(Case.id))
        .limit(limit),
    )
    rows = sorted(unassigned + routed, key=lambda row: (row.priority, str(row.id)))[:limit]
    verdicts: dict[uuid.UUID, Verdict] = {}
    if now is not None:
        verdicts = compliance.evaluate_cases(
            session=session, cases=[row.facts() for row in rows], now=now, settings=settings
        )
    today = now.astimezone(UTC).date() if now is not None else None
    result: list[QueueEntry] = []
    for row in rows:
        routed_text = (
            compliance.routed_reason_text(row.routed_reason) if row.routed_reason else None
        )
        base = routed_text or _("unassigned")
        verdict = verdicts.get(row.id)
        reason = base
        if verdict is not None and not verdict.callable and verdict.reason:
            if verdict.reason != routed_text:
                reason = _("{reason}; {more}").format(reason=base, more=verdict.reason)
        result.append(
            _entry(
                row,
                callable_now=bool(verdict and verdict.callable),
                reason=reason,
                callable_at=verdict.callable_at if verdict is not None else None,
                today=today,
            )
        )
    return result


def _iso(instant: datetime | None) -> str | None:
    return instant.astimezone(UTC).isoformat() if instant is not None else None


def entry_json(entry: QueueEntry) -> dict[str, Any]:
    """The `queue --json` object (docs/decisions.md, command line): ids and instants as strings,
    money as a decimal string in the case's currency."""
    try:
        balance = Money(entry.balance, entry.currency).decimal_string()
    except (MoneyError, TypeError):
        balance = str(entry.balance)
    return {
        "case_id": str(entry.case_id),
        "client": entry.client,
        "client_ref": entry.client_ref,
        "debtor": entry.debtor,
        "debtor_country": entry.debtor_country,
        "currency": entry.currency,
        "balance": balance,
        "days_past_due": entry.days_past_due,
        "status": entry.status,
        "tier": entry.tier,
        "tier_name": entry.tier_name,
        "score": entry.score,
        "factors": [dict(factor) for factor in entry.factors],
        "callable": entry.callable,
        "reason": entry.reason,
        "callable_at": _iso(entry.callable_at),
        "last_attempt_at": _iso(entry.last_attempt_at),
        "next_action_at": _iso(entry.next_action_at),
    }
