"""What supervisors look at: each agent's workload, and a browser over every case.

Both are read-only queries that the database aggregates or pages; Python never receives the whole
book. Money is never summed across currencies: a workload carries one balance per currency.

- `agent_workloads`: one row per active agent (and any other user holding open cases), plus an
  "unassigned" row: open cases, balance per currency, follow-ups due by the end of the agent's own
  day (overdue ones included: they are still to do today), pending promises on the agent's cases,
  and the attempts and right-party contacts the agent logged since midnight in the agent's zone.
  Open cases, balances and pending promises come from `workload_counter`, which database triggers
  keep in the same statement as every change (migration 0017); the figures of the day depend on
  "now" and are counted per agent from an index range (ix_followup_owner_open,
  ix_activity_user_time): a few hundred rows per agent, never the whole book.
- `recount` counts those figures again from every case and promise and compares them with the
  counters; `check_counters` / `fix_counters` are the supervisors' `workload check [--fix]`.
- `browse_cases`: filtered pages of ~100 cases in a stable order (client, client reference: the
  unique index), read with a keyset cursor, so "load more" costs the same on page 1 and page 1000.
  The total of an unfiltered (open, by agent, by currency) view comes from the counters.

Agents see only their own: their own workload row, their own cases in the browser.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import SQLColumnExpression, and_, case, func, or_, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from collector_tui.db import select_columns
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    UNASSIGNED_KEY,
    Activity,
    AttemptCounter,
    Case,
    CaseStatus,
    Debtor,
    FollowUp,
    Promise,
    PromiseStatus,
    Role,
    User,
    WorkloadCounter,
    case_status_label,
)
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, require_supervisor
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.rules.scoring import days_past_due

__all__ = [
    "AGING_BUCKETS",
    "PAGE_SIZE",
    "AgentWorkload",
    "BrowserCursor",
    "BrowserFilter",
    "BrowserPage",
    "BrowserRow",
    "CounterCheck",
    "CounterDifference",
    "CurrencyAmount",
    "agent_workloads",
    "aging_bucket",
    "browse_cases",
    "cases_inserted_in_bulk",
    "check_counters",
    "fix_counters",
    "local_day",
    "recount",
]

PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
# Days past due of the case's own due date: (name, fewest days, most days or None).
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", 0, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("180+", 181, None),
)
# What the browser's status filter accepts besides one status: every open or every closed one.
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "open": OPEN_STATUSES,
    "closed": CLOSED_STATUSES,
    "all": OPEN_STATUSES + CLOSED_STATUSES,
}
_STATUS_GROUP_LABELS: dict[str, str] = {
    "open": N_("open"),
    "closed": N_("closed"),
    "all": N_("every status"),
}


def status_filter_label(status: str) -> str:
    """What the browser's status filter reads as, in the interface's language."""
    group = _STATUS_GROUP_LABELS.get(status)
    return str(group) if group is not None else case_status_label(status)


@dataclass(frozen=True)
class CurrencyAmount:
    currency: str
    amount: int  # minor units


@dataclass(frozen=True)
class AgentWorkload:
    """One agent's load; `agent_id` None is the row of the unassigned cases."""

    agent_id: uuid.UUID | None
    username: str | None
    display_name: str
    role: str | None
    time_zone: str | None
    open_cases: int
    balances: tuple[CurrencyAmount, ...]  # per currency, by currency code
    follow_ups_due: int  # open follow-ups due by the end of the agent's day
    pending_promises: int  # pending promises on the cases the agent holds
    attempts_today: int  # contact attempts logged since the agent's midnight
    contacts_today: int  # of which right-party contacts

    @property
    def is_unassigned(self) -> bool:
        return self.agent_id is None


def local_day(now: datetime, zone_name: str | None) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `now`'s date in the zone, as UTC instants (DST-safe)."""
    try:
        zone: Any = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _right_party_codes() -> tuple[str, ...]:
    from collector_tui.services.rules.dispositions import DISPOSITIONS

    return tuple(sorted(code for code, d in DISPOSITIONS.items() if d.right_party))


@reads
def agent_workloads(*, session: Session, now: datetime, actor: Actor) -> list[AgentWorkload]:
    """Every agent's workload by username, then the unassigned row (supervisors); an agent gets
    only their own row."""
    own_only = not actor.is_supervisor

    # Open cases, balances and pending promises: the counters (a row per agent and currency).
    loads: dict[uuid.UUID | None, dict[str, tuple[int, int]]] = defaultdict(dict)
    pending: dict[uuid.UUID | None, int] = defaultdict(int)
    counters = select_columns(
        col(WorkloadCounter.agent_id),
        col(WorkloadCounter.currency),
        col(WorkloadCounter.open_cases),
        col(WorkloadCounter.open_balance),
        col(WorkloadCounter.pending_promises),
    )
    if own_only:
        counters = counters.where(col(WorkloadCounter.agent_id) == actor.user_id)
    for key, currency, count, balance, promised in session.execute(counters).all():
        agent_id = None if key == UNASSIGNED_KEY else key
        if count:
            loads[agent_id][currency] = (int(count), int(balance))
        pending[agent_id] += int(promised)

    users = select(User).where(col(User.active))
    if own_only:
        users = users.where(col(User.id) == actor.user_id)
    else:
        holders = [agent_id for agent_id in loads if agent_id is not None]
        agent = col(User.role) == Role.agent.value
        users = users.where(or_(agent, col(User.id).in_(holders)) if holders else agent)
    right_party = _right_party_codes()
    agents = list(session.exec(users.order_by(col(User.username))).all())
    days = {user.id: local_day(now, user.time_zone) for user in agents}
    voided = _voided_today(session, days, right_party) if days else {}

    rows: list[AgentWorkload] = []
    for user in agents:
        start, end = days[user.id]
        # One agent at a time: each query is a range of an index on (user or owner, instant).
        due = session.exec(
            select(func.count())
            .select_from(FollowUp)
            .where(
                col(FollowUp.owner_id) == user.id,
                col(FollowUp.done_at).is_(None),
                col(FollowUp.due_at) < end,
            )
        ).one()
        attempts, contacts = _day_attempts(session, user.id, start, end, right_party)
        void_attempts, void_contacts = voided.get(user.id, (0, 0))
        rows.append(_row(user.id, user, loads.get(user.id, {}), pending.get(user.id, 0), int(due),
                         attempts - void_attempts, contacts - void_contacts))  # fmt: skip
    if not own_only:
        rows.append(_row(None, None, loads.get(None, {}), pending.get(None, 0), 0, 0, 0))
    return rows


QUARTER = timedelta(minutes=15)


def _on_quarter(instant: datetime) -> bool:
    return instant.astimezone(UTC).timestamp() % QUARTER.total_seconds() == 0


def _day_attempts(
    session: Session,
    user_id: uuid.UUID,
    start: datetime,
    end: datetime,
    right_party: tuple[str, ...],
) -> tuple[int, int]:
    """Attempts (every activity but notes) and right-party contacts the user logged in
    [start, end), corrected and voided ones included. A day that starts and ends on a quarter
    hour (local midnight in every zone today) is a sum of `attempt_counter` buckets; any other
    window counts the rows, a range of the covering index ix_activity_user_time."""
    if _on_quarter(start) and _on_quarter(end):
        attempts, contacts = session.execute(
            select(
                func.coalesce(func.sum(AttemptCounter.attempts), 0),
                func.coalesce(func.sum(AttemptCounter.contacts), 0),
            ).where(
                col(AttemptCounter.user_id) == user_id,
                col(AttemptCounter.bucket) >= start,
                col(AttemptCounter.bucket) < end,
            )
        ).one()
        return int(attempts), int(contacts)
    attempts, contacts = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((col(Activity.disposition).in_(right_party), 1), else_=0)), 0
            ),
        ).where(
            col(Activity.user_id) == user_id,
            col(Activity.occurred_at) >= start,
            col(Activity.occurred_at) < end,
            col(Activity.channel) != "note",
        )
    ).one()
    return int(attempts), int(contacts)


def _voided_today(
    session: Session,
    days: dict[uuid.UUID, tuple[datetime, datetime]],
    right_party: tuple[str, ...],
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per user, the attempts and right-party contacts of their day that no longer count (as in
    services.reporting.reports): the row a correction replaced (the correction, an attempt of the
    same user's day, counts instead) and the attempts a void note names (casework.corrections: a
    note on the attempt's case, at or after it, by anyone). Every such correction or note is one
    of the few rows with `voids_id` since the earliest midnight (ix_activity_voids); the rows
    they name are read by id. Two look-ups for every agent, where a look-up per attempt of the
    day took seconds at a million cases."""
    earliest = min(start for start, _ in days.values())

    def in_day(user_id: uuid.UUID | None, at: datetime) -> bool:
        day = days.get(user_id) if user_id is not None else None
        return day is not None and day[0] <= at < day[1]

    corrected: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)  # user -> rows replaced
    notes: dict[uuid.UUID, list[tuple[uuid.UUID, datetime]]] = defaultdict(list)  # by voided id
    for user_id, at, channel, voids_id, case_id in session.execute(
        select_columns(
            col(Activity.user_id),
            col(Activity.occurred_at),
            col(Activity.channel),
            col(Activity.voids_id),
            col(Activity.case_id),
        ).where(col(Activity.voids_id).is_not(None), col(Activity.occurred_at) >= earliest)
    ).all():
        if channel == "note":
            notes[voids_id].append((case_id, at))
        elif in_day(user_id, at):
            corrected[user_id].add(voids_id)
    wanted = sorted(set(notes).union(*corrected.values()))
    voided: dict[uuid.UUID, tuple[int, int]] = {}
    for first in range(0, len(wanted), 500):
        for row_id, user_id, at, code, voids_id, case_id in session.execute(
            select_columns(
                col(Activity.id),
                col(Activity.user_id),
                col(Activity.occurred_at),
                col(Activity.disposition),
                col(Activity.voids_id),
                col(Activity.case_id),
            ).where(
                col(Activity.id).in_(wanted[first : first + 500]),
                col(Activity.channel) != "note",
            )
        ).all():
            if not in_day(user_id, at):
                continue
            noted = voids_id is None and any(  # a correction voided in turn counts (as before)
                note_case == case_id and note_at >= at
                for note_case, note_at in notes.get(row_id, ())
            )
            if noted or row_id in corrected.get(user_id, ()):
                attempts, contacts = voided.get(user_id, (0, 0))
                voided[user_id] = (attempts + 1, contacts + (1 if code in right_party else 0))
    return voided


def _row(
    agent_id: uuid.UUID | None,
    user: User | None,
    by_currency: dict[str, tuple[int, int]],
    pending: int,
    due: int,
    attempts: int,
    contacts: int,
) -> AgentWorkload:
    return AgentWorkload(
        agent_id=agent_id,
        username=user.username if user else None,
        display_name=user.display_name if user else "unassigned",
        role=user.role if user else None,
        time_zone=user.time_zone if user else None,
        open_cases=sum(count for count, _ in by_currency.values()),
        balances=tuple(
            CurrencyAmount(currency, balance)
            for currency, (_, balance) in sorted(by_currency.items())
        ),
        follow_ups_due=due,
        pending_promises=pending,
        attempts_today=attempts,
        contacts_today=contacts,
    )


# --- the counters against a full recount ---------------------------------------------------------

# (open cases, their balance, pending promises) of one (agent or None, currency).
Figures = tuple[int, int, int]


@dataclass(frozen=True)
class CounterDifference:
    agent_id: uuid.UUID | None  # None: the unassigned cases
    currency: str
    stored: Figures  # what workload_counter holds (zeros when it has no row)
    counted: Figures  # what a full recount finds


@dataclass(frozen=True)
class AttemptDifference:
    user_id: uuid.UUID
    stored: tuple[int, int]  # attempts and right-party contacts, every quarter hour summed
    counted: tuple[int, int]  # the same from every activity


@dataclass(frozen=True)
class CounterCheck:
    keys: int  # (agent, currency) pairs with open cases or pending promises, by the recount
    open_cases: int  # every open case, by the recount
    pending_promises: int  # every pending promise on a case, by the recount
    differences: tuple[CounterDifference, ...]  # by currency, then agent
    fixed: bool = False  # the counters were rewritten from the recount
    attempts: int = 0  # every attempt (activities but notes), by the recount
    attempt_differences: tuple[AttemptDifference, ...] = ()  # by user id

    @property
    def equal(self) -> bool:
        return not self.differences and not self.attempt_differences


def _stored(session: Session) -> dict[tuple[uuid.UUID | None, str], Figures]:
    found: dict[tuple[uuid.UUID | None, str], Figures] = {}
    for key, currency, count, balance, promised in session.execute(
        select_columns(
            col(WorkloadCounter.agent_id),
            col(WorkloadCounter.currency),
            col(WorkloadCounter.open_cases),
            col(WorkloadCounter.open_balance),
            col(WorkloadCounter.pending_promises),
        )
    ).all():
        if count or balance or promised:  # a row moved back to zero is no figure
            found[(None if key == UNASSIGNED_KEY else key, currency)] = (
                int(count),
                int(balance),
                int(promised),
            )
    return found


def _counted(session: Session) -> dict[tuple[uuid.UUID | None, str], Figures]:
    """The figures from every open case and every pending promise: what the workload view read
    before the counters (0.5-0.7 s at a million cases)."""
    counted: dict[tuple[uuid.UUID | None, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for agent_id, currency, count, balance in session.execute(
        select(col(Case.assigned_to_id), col(Case.currency), func.count(), func.sum(Case.balance))
        .where(col(Case.status).in_(OPEN_STATUSES))
        .group_by(col(Case.assigned_to_id), col(Case.currency))
    ).all():
        figures = counted[(agent_id, currency)]
        figures[0], figures[1] = int(count), int(balance or 0)
    for agent_id, currency, count in session.execute(
        select(col(Case.assigned_to_id), col(Case.currency), func.count())
        .select_from(Promise)
        .join(Case, col(Case.id) == col(Promise.case_id))
        .where(col(Promise.status) == PromiseStatus.pending.value)
        .group_by(col(Case.assigned_to_id), col(Case.currency))
    ).all():
        counted[(agent_id, currency)][2] = int(count)
    return {key: (o, b, p) for key, (o, b, p) in counted.items() if o or b or p}


def _compare(
    stored: dict[tuple[uuid.UUID | None, str], Figures],
    counted: dict[tuple[uuid.UUID | None, str], Figures],
) -> CounterCheck:
    zero: Figures = (0, 0, 0)
    differences = [
        CounterDifference(key[0], key[1], stored.get(key, zero), counted.get(key, zero))
        for key in stored.keys() | counted.keys()
        if stored.get(key, zero) != counted.get(key, zero)
    ]
    differences.sort(key=lambda d: (d.currency, d.agent_id.hex if d.agent_id else ""))
    return CounterCheck(
        keys=len(counted),
        open_cases=sum(figures[0] for figures in counted.values()),
        pending_promises=sum(figures[2] for figures in counted.values()),
        differences=tuple(differences),
    )


def _attempt_totals(session: Session) -> tuple[dict[uuid.UUID, tuple[int, int]], ...]:
    """Each user's attempts and right-party contacts: summed over the quarter hours of
    attempt_counter, and counted from every activity (the covering ix_activity_user_time)."""
    stored = {
        user_id: (int(attempts), int(contacts))
        for user_id, attempts, contacts in session.execute(
            select(
                col(AttemptCounter.user_id),
                func.sum(AttemptCounter.attempts),
                func.sum(AttemptCounter.contacts),
            ).group_by(col(AttemptCounter.user_id))
        ).all()
        if attempts or contacts
    }
    right_party = _right_party_codes()
    counted = {
        user_id: (int(attempts), int(contacts or 0))
        for user_id, attempts, contacts in session.execute(
            select(
                col(Activity.user_id),
                func.count(),
                func.sum(case((col(Activity.disposition).in_(right_party), 1), else_=0)),
            )
            .where(col(Activity.user_id).is_not(None), col(Activity.channel) != "note")
            .group_by(col(Activity.user_id))
        ).all()
    }
    return stored, counted


def _compare_attempts(
    stored: dict[uuid.UUID, tuple[int, int]], counted: dict[uuid.UUID, tuple[int, int]]
) -> tuple[AttemptDifference, ...]:
    return tuple(
        AttemptDifference(user_id, stored.get(user_id, (0, 0)), counted.get(user_id, (0, 0)))
        for user_id in sorted(stored.keys() | counted.keys(), key=lambda found: found.hex)
        if stored.get(user_id, (0, 0)) != counted.get(user_id, (0, 0))
    )


# The trigger that counts each inserted case (migration 0017) and what it adds, set-based: the
# open cases and their balance per (agent, currency). A case just inserted has no promise yet
# (promise.case_id is a foreign key, checked at once), so it adds no pending promise.
_CASE_INSERT_TRIGGER = "workload_case_insert"
_BULK_CONTRIBUTION = (
    "INSERT INTO workload_counter "
    "(agent_id, currency, open_cases, open_balance, pending_promises) "
    "SELECT coalesce(assigned_to_id, '00000000000000000000000000000000'), currency, "
    "count(*), sum(balance), 0 FROM collection_case "
    "WHERE rowid > ? AND status IN ({open}) GROUP BY 1, 2 "
    "ON CONFLICT (agent_id, currency) DO UPDATE SET "
    "open_cases = workload_counter.open_cases + excluded.open_cases, "
    "open_balance = workload_counter.open_balance + excluded.open_balance"
).format(open=", ".join(f"'{status}'" for status in OPEN_STATUSES))


@contextmanager
def cases_inserted_in_bulk(session: Session) -> Iterator[None]:
    """Count the cases inserted inside this block once, at its end, instead of row by row.

    For a bulk insert (the placement import) in one write transaction on SQLite: the per-row
    trigger cost as much as the inserts themselves (2.4 s of 5.7 s for 50k cases). The trigger
    is dropped inside the transaction and made again from its own stored text before the block
    ends, after one statement has added the new cases (rowid above the table's highest when the
    block began: SQLite numbers new rows upwards) to the counters. SQLite's DDL is transactional
    and the transaction holds the write lock, so no other connection ever sees the trigger
    missing (readers see the last commit, which has it) and no other writer runs meanwhile; a
    rollback or a crash puts back trigger and counters together.

    Inside the block the caller may only insert cases (no update or delete of them, no promise
    on them): those would go through the remaining triggers and be counted twice. Elsewhere than
    SQLite (PostgreSQL: disabling a trigger takes the table's ownership and locks it) and when the
    trigger is not there, the block changes nothing: the rows are counted as they are inserted.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    trigger = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
        (_CASE_INSERT_TRIGGER,),
    ).scalar_one_or_none()
    if trigger is None:
        yield
        return
    before = connection.exec_driver_sql(
        "SELECT coalesce(max(rowid), 0) FROM collection_case"
    ).scalar_one()
    connection.exec_driver_sql(f'DROP TRIGGER "{_CASE_INSERT_TRIGGER}"')
    try:
        yield
    except BaseException:
        # The transaction is rolled back by its owner, which puts the trigger back anyway; made
        # again here too, so that nothing committed by mistake could ever lack it.
        with suppress(SQLAlchemyError):
            connection.exec_driver_sql(trigger)
        raise
    connection.exec_driver_sql(_BULK_CONTRIBUTION, (before,))
    connection.exec_driver_sql(trigger)


@reads
def recount(*, session: Session) -> CounterCheck:
    """Count the workload figures again from every case, promise and activity and compare them
    with the counters (tests, the bench; `check_counters` for a face). The attempts are compared
    per user over all time (a bucket's place is the triggers' one expression)."""
    found = _compare(_stored(session), _counted(session))
    stored, counted = _attempt_totals(session)
    return replace(
        found,
        attempts=sum(attempts for attempts, _ in counted.values()),
        attempt_differences=_compare_attempts(stored, counted),
    )


@reads
def check_counters(*, session: Session, actor: Actor) -> CounterCheck:
    """`recount`, for a supervisor (`workload check`)."""
    require_supervisor(actor, N_("check the workload counters"))
    return recount(session=session)


@writes
def fix_counters(*, session: Session, now: datetime, actor: Actor) -> CounterCheck:
    """Rewrite the counters from a full recount (`workload check --fix`), in one transaction
    (the write lock keeps every change out meanwhile); audited when anything differed."""
    require_supervisor(actor, N_("fix the workload counters"))
    counted = _counted(session)
    found = recount(session=session)
    if found.equal:
        return found
    if found.attempt_differences:
        _rebucket_attempts(session)
    if found.differences:
        session.execute(WorkloadCounter.__table__.delete())  # type: ignore[attr-defined]
    if found.differences and counted:
        session.execute(
            WorkloadCounter.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "agent_id": agent_id or UNASSIGNED_KEY,
                    "currency": currency,
                    "open_cases": count,
                    "open_balance": balance,
                    "pending_promises": promised,
                }
                for (agent_id, currency), (count, balance, promised) in counted.items()
            ],
        )
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="workload_counter",
        entity_id="*",
        action="recount",
        before={"differences": len(found.differences) + len(found.attempt_differences)},
        after={"keys": found.keys, "open_cases": found.open_cases, "attempts": found.attempts},
    )
    return replace(found, fixed=True)


# The quarter hour of an activity's instant, as migration 0017's triggers compute it.
_BUCKETS = {
    "sqlite": "substr(occurred_at, 1, 14) || printf('%02d', CAST(substr(occurred_at, 15, 2) AS "
    "INTEGER) / 15 * 15) || ':' || '00.000000'",
    "postgresql": "date_bin('15 minutes', occurred_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
}


def _rebucket_attempts(session: Session) -> None:
    """attempt_counter again from every activity (the right-party codes of today)."""
    bucket = _BUCKETS[session.get_bind().dialect.name]
    codes = ", ".join(f"'{code}'" for code in _right_party_codes())  # codes of [a-z_] only
    session.execute(AttemptCounter.__table__.delete())  # type: ignore[attr-defined]
    session.execute(
        text(
            "INSERT INTO attempt_counter (user_id, bucket, attempts, contacts) "
            f"SELECT user_id, {bucket} AS quarter, count(*), "
            f"sum(CASE WHEN disposition IN ({codes}) THEN 1 ELSE 0 END) FROM activity "
            "WHERE user_id IS NOT NULL AND channel <> 'note' GROUP BY user_id, quarter"
        )
    )


# --- the case browser ----------------------------------------------------------------------------


def aging_bucket(dpd: int) -> str:
    for name, low, high in AGING_BUCKETS:
        if dpd >= low and (high is None or dpd <= high):
            return name
    return AGING_BUCKETS[-1][0]


@dataclass(frozen=True)
class BrowserFilter:
    """What the supervisor narrows the book to; every part optional.

    `status` is one status or a group: "open" (the default), "closed", "all". A balance range is
    in minor units of `currency` and needs it (balances of different currencies do not compare).
    """

    agent_id: uuid.UUID | None = None
    unassigned: bool = False
    status: str = "open"
    aging: str | None = None
    currency: str | None = None
    balance_min: int | None = None
    balance_max: int | None = None
    country: str | None = None
    routed: bool = False


@dataclass(frozen=True)
class BrowserCursor:
    """Where the next page starts: after this (client, client reference)."""

    client: str
    client_ref: str


@dataclass(frozen=True)
class BrowserRow:
    case_id: uuid.UUID
    client: str
    client_ref: str
    debtor: str
    debtor_country: str
    currency: str
    balance: int
    status: str
    days_past_due: int
    aging: str
    assigned_to_id: uuid.UUID | None
    assigned_to: str | None  # username
    routed_reason: str | None
    last_attempt_at: datetime | None
    next_action_at: datetime | None
    version: int

    @property
    def status_label(self) -> str:
        """The status as a person reads it, in the interface's language."""
        return case_status_label(self.status)


@dataclass(frozen=True)
class BrowserPage:
    rows: tuple[BrowserRow, ...]
    next_cursor: BrowserCursor | None  # None: this was the last page
    total: int | None  # cases matching the filter (counted with the first page only)


def _statuses(status: str) -> tuple[str, ...]:
    if status in STATUS_GROUPS:
        return STATUS_GROUPS[status]
    if status in CaseStatus.__members__:
        return (status,)
    names = ", ".join([*STATUS_GROUPS, *CaseStatus.__members__])
    raise InvalidInput(
        _("unknown status {status}: use one of {names}").format(
            status=repr(status[:20]), names=names
        ),
        field="status",
    )


def _aging_bounds(bucket: str, today: date) -> tuple[date | None, date | None]:
    """Due dates (earliest, latest) of the cases in `bucket` on `today` (dpd = today - due)."""
    for name, low, high in AGING_BUCKETS:
        if name == bucket:
            latest = today - timedelta(days=low) if low > 0 else None
            earliest = today - timedelta(days=high) if high is not None else None
            return earliest, latest
    names = ", ".join(name for name, _, _ in AGING_BUCKETS)
    raise InvalidInput(
        _("unknown aging bucket {bucket}: use one of {names}").format(
            bucket=repr(bucket[:20]), names=names
        ),
        field="aging",
    )


def _conditions(flt: BrowserFilter, actor: Actor, today: date) -> list[Any]:
    if not actor.is_supervisor:
        if flt.unassigned or (flt.agent_id is not None and flt.agent_id != actor.user_id):
            raise Forbidden(_("agents see only their own cases"))
    conditions: list[Any] = [col(Case.status).in_(_statuses(flt.status))]
    if not actor.is_supervisor:
        conditions.append(col(Case.assigned_to_id) == actor.user_id)
    if flt.unassigned and flt.agent_id is not None:
        raise InvalidInput(_("choose an agent or the unassigned cases, not both"), field="agent")
    if flt.unassigned:
        conditions.append(col(Case.assigned_to_id).is_(None))
    elif flt.agent_id is not None:
        conditions.append(col(Case.assigned_to_id) == flt.agent_id)
    if flt.aging:
        earliest, latest = _aging_bounds(flt.aging, today)
        if earliest is not None:
            conditions.append(col(Case.due_date) >= earliest)
        if latest is not None:
            conditions.append(col(Case.due_date) <= latest)
    currency = (flt.currency or "").strip().upper() or None
    if currency:
        if len(currency) != 3 or not currency.isalpha():
            raise InvalidInput(_("a currency is a three-letter code like CNY"), field="currency")
        conditions.append(col(Case.currency) == currency)
    for bound in (flt.balance_min, flt.balance_max):
        if bound is not None and (type(bound) is not int or bound < 0):
            raise InvalidInput(
                _("a balance bound is a whole number of minor units"), field="balance"
            )
    if flt.balance_min is not None or flt.balance_max is not None:
        if currency is None:
            raise InvalidInput(_("a balance range needs a currency"), field="currency")
        if flt.balance_min is not None:
            conditions.append(col(Case.balance) >= flt.balance_min)
        if flt.balance_max is not None:
            conditions.append(col(Case.balance) <= flt.balance_max)
        if (
            flt.balance_min is not None
            and flt.balance_max is not None
            and flt.balance_min > flt.balance_max
        ):
            raise InvalidInput(_("the lowest balance is above the highest"), field="balance")
    country = (flt.country or "").strip().upper()
    if country:
        if len(country) != 2 or not country.isalpha():
            raise InvalidInput(_("a country is a two-letter code like CN"), field="country")
        conditions.append(col(Debtor.country) == country)
    if flt.routed:
        # `> ''` rather than IS NOT NULL: SQLite then seeks ix_case_routed.
        conditions.append(col(Case.routed_reason) > "")
    return conditions


@reads
def browse_cases(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    filters: BrowserFilter | None = None,
    after: BrowserCursor | None = None,
    limit: int = PAGE_SIZE,
) -> BrowserPage:
    """One page of the cases matching `filters`, by client and client reference, starting after
    `after`; the total is counted with the first page (`after` None) only."""
    flt = filters or BrowserFilter()
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    today = now.astimezone(UTC).date()
    conditions = _conditions(flt, actor, today)
    agent = aliased(User)
    statement = (
        select_columns(
            col(Case.id),
            col(Case.client),
            col(Case.client_ref),
            col(Debtor.name),
            col(Debtor.country),
            col(Case.currency),
            col(Case.balance),
            col(Case.status),
            col(Case.due_date),
            col(Case.assigned_to_id),
            col(agent.username),
            col(Case.routed_reason),
            col(Case.last_attempt_at),
            col(Case.next_action_at),
            col(Case.version),
        )
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .outerjoin(agent, col(agent.id) == col(Case.assigned_to_id))
        .where(*conditions)
    )
    if after is not None:
        statement = statement.where(
            or_(
                col(Case.client) > after.client,
                and_(col(Case.client) == after.client, col(Case.client_ref) > after.client_ref),
            )
        )
    order: tuple[SQLColumnExpression[str], SQLColumnExpression[str]]
    if _selective(flt, actor):
        # Few cases match and an index finds them (routed, one agent's, the unassigned): let the
        # planner use it and sort those few. Wrapped columns sort the same but keep SQLite from
        # walking the (client, client_ref) index over the whole book to fill the page.
        order = (func.coalesce(Case.client, ""), func.coalesce(Case.client_ref, ""))
    else:
        order = (col(Case.client), col(Case.client_ref))
    found = session.execute(statement.order_by(*order).limit(limit + 1)).all()
    more = len(found) > limit
    rows = tuple(_browser_row(values, today) for values in found[:limit])
    total: int | None = None
    if after is None:
        total = _total_from_counters(session, flt, actor)
    if after is None and total is None:
        counted = select(func.count()).select_from(Case)
        if flt.country:  # the only condition on the debtor: else the count reads an index only
            counted = counted.join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        counted = counted.where(*conditions)
        total = int(session.execute(counted).scalar_one())
    cursor = BrowserCursor(rows[-1].client, rows[-1].client_ref) if more and rows else None
    return BrowserPage(rows=rows, next_cursor=cursor, total=total)


def _total_from_counters(session: Session, flt: BrowserFilter, actor: Actor) -> int | None:
    """The open cases of the whole book, of one agent or the unassigned, in one currency or all:
    a sum of counters (counting ~1M open cases took ~35 ms at a million). None for any other
    filter, which the page's own conditions count."""
    narrowed = (
        flt.aging
        or (flt.country or "").strip()
        or flt.routed
        or flt.balance_min is not None
        or flt.balance_max is not None
    )
    if flt.status != "open" or narrowed:
        return None
    statement = select(func.coalesce(func.sum(WorkloadCounter.open_cases), 0))
    if not actor.is_supervisor:
        statement = statement.where(col(WorkloadCounter.agent_id) == actor.user_id)
    elif flt.unassigned:
        statement = statement.where(col(WorkloadCounter.agent_id) == UNASSIGNED_KEY)
    elif flt.agent_id is not None:
        statement = statement.where(col(WorkloadCounter.agent_id) == flt.agent_id)
    currency = (flt.currency or "").strip().upper()
    if currency:
        statement = statement.where(col(WorkloadCounter.currency) == currency)
    return int(session.execute(statement).scalar_one())


def _selective(flt: BrowserFilter, actor: Actor) -> bool:
    return flt.routed or flt.unassigned or flt.agent_id is not None or not actor.is_supervisor


def _browser_row(values: Any, today: date) -> BrowserRow:
    (case_id, client, client_ref, debtor, country, currency, balance, status, due,
     agent_id, agent_name, routed, last_attempt, next_action, version) = values  # fmt: skip
    dpd = days_past_due(due, today)
    return BrowserRow(
        case_id=case_id,
        client=client,
        client_ref=client_ref,
        debtor=debtor,
        debtor_country=country,
        currency=currency,
        balance=int(balance),
        status=status,
        days_past_due=dpd,
        aging=aging_bucket(dpd),
        assigned_to_id=agent_id,
        assigned_to=agent_name,
        routed_reason=routed,
        last_attempt_at=last_attempt,
        next_action_at=next_action,
        version=int(version),
    )
