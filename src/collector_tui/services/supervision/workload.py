"""What supervisors look at: each agent's workload, and a browser over every case.

Both are read-only queries that the database aggregates or pages; Python never receives the whole
book. Money is never summed across currencies: a workload carries one balance per currency.

- `agent_workloads`: one row per active agent (and any other user holding open cases), plus an
  "unassigned" row: open cases, balance per currency, follow-ups due by the end of the agent's own
  day (overdue ones included: they are still to do today), pending promises on the agent's cases,
  and the attempts and right-party contacts the agent logged since midnight in the agent's zone.
- `browse_cases`: filtered pages of ~100 cases in a stable order (client, client reference: the
  unique index), read with a keyset cursor, so "load more" costs the same on page 1 and page 1000.

Agents see only their own: their own workload row, their own cases in the browser.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import SQLColumnExpression, and_, case, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from collector_tui.db import select_columns
from collector_tui.i18n import N_
from collector_tui.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Activity,
    Case,
    CaseStatus,
    Debtor,
    FollowUp,
    Promise,
    PromiseStatus,
    Role,
    User,
    case_status_label,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.context import reads
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
    "CurrencyAmount",
    "agent_workloads",
    "aging_bucket",
    "browse_cases",
    "local_day",
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
    open_case = col(Case.status).in_(OPEN_STATUSES)
    own_only = not actor.is_supervisor

    loads: dict[uuid.UUID | None, dict[str, tuple[int, int]]] = defaultdict(dict)
    case_totals = (
        select(col(Case.assigned_to_id), col(Case.currency), func.count(), func.sum(Case.balance))
        .where(open_case)
        .group_by(col(Case.assigned_to_id), col(Case.currency))
    )
    if own_only:
        case_totals = case_totals.where(col(Case.assigned_to_id) == actor.user_id)
    for agent_id, currency, count, balance in session.execute(case_totals).all():
        loads[agent_id][currency] = (int(count), int(balance or 0))

    promise_totals = (
        select(col(Case.assigned_to_id), func.count())
        .select_from(Promise)
        .join(Case, col(Case.id) == col(Promise.case_id))
        .where(col(Promise.status) == PromiseStatus.pending.value)
        .group_by(col(Case.assigned_to_id))
    )
    if own_only:
        promise_totals = promise_totals.where(col(Case.assigned_to_id) == actor.user_id)
    pending = {agent_id: int(count) for agent_id, count in session.execute(promise_totals).all()}

    users = select(User).where(col(User.active))
    if own_only:
        users = users.where(col(User.id) == actor.user_id)
    else:
        holders = [agent_id for agent_id in loads if agent_id is not None]
        agent = col(User.role) == Role.agent.value
        users = users.where(or_(agent, col(User.id).in_(holders)) if holders else agent)
    right_party = _right_party_codes()

    rows: list[AgentWorkload] = []
    for user in session.exec(users.order_by(col(User.username))).all():
        start, end = local_day(now, user.time_zone)
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
        rows.append(_row(user.id, user, loads.get(user.id, {}), pending.get(user.id, 0), int(due),
                         int(attempts), int(contacts or 0)))  # fmt: skip
    if not own_only:
        rows.append(_row(None, None, loads.get(None, {}), pending.get(None, 0), 0, 0, 0))
    return rows


def _day_attempts(
    session: Session,
    user_id: uuid.UUID,
    start: datetime,
    end: datetime,
    right_party: tuple[str, ...],
) -> tuple[int, int]:
    """Attempts and right-party contacts the user logged in [start, end), from the covering index
    ix_activity_user_time. A correction voids the row it replaces: one call counts once, with its
    corrected disposition (as in services.reporting.reports)."""
    window = (
        col(Activity.user_id) == user_id,
        col(Activity.occurred_at) >= start,
        col(Activity.occurred_at) < end,
        col(Activity.channel) != "note",
    )
    attempts, contacts = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((col(Activity.disposition).in_(right_party), 1), else_=0)), 0
            ),
        ).where(*window)
    ).one()
    voided = list(
        session.execute(
            select(Activity.voids_id).where(*window, col(Activity.voids_id).is_not(None))
        ).scalars()
    )
    # A void (casework.corrections) is a note naming the attempt: found through the attempt's
    # case (ix_activity_case_time), whoever voided it and whenever.
    void = aliased(Activity)
    voided.extend(
        session.execute(
            select(Activity.id).where(
                *window,
                col(Activity.voids_id).is_(None),
                select(void.id)
                .where(
                    col(void.case_id) == col(Activity.case_id),
                    col(void.occurred_at) >= col(Activity.occurred_at),
                    col(void.voids_id) == col(Activity.id),
                    col(void.channel) == "note",
                )
                .exists(),
            )
        ).scalars()
    )
    if voided:
        # The (few) rows corrected today no longer count, wherever the correction put them.
        for code in session.execute(
            select(Activity.disposition).where(col(Activity.id).in_(voided), *window)
        ).scalars():
            attempts -= 1
            contacts -= 1 if code in right_party else 0
    return int(attempts), int(contacts or 0)


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
    raise InvalidInput(f"unknown status {status[:20]!r}: use one of {names}", field="status")


def _aging_bounds(bucket: str, today: date) -> tuple[date | None, date | None]:
    """Due dates (earliest, latest) of the cases in `bucket` on `today` (dpd = today - due)."""
    for name, low, high in AGING_BUCKETS:
        if name == bucket:
            latest = today - timedelta(days=low) if low > 0 else None
            earliest = today - timedelta(days=high) if high is not None else None
            return earliest, latest
    names = ", ".join(name for name, _, _ in AGING_BUCKETS)
    raise InvalidInput(f"unknown aging bucket {bucket[:20]!r}: use one of {names}", field="aging")


def _conditions(flt: BrowserFilter, actor: Actor, today: date) -> list[Any]:
    if not actor.is_supervisor:
        if flt.unassigned or (flt.agent_id is not None and flt.agent_id != actor.user_id):
            raise Forbidden("agents see only their own cases")
    conditions: list[Any] = [col(Case.status).in_(_statuses(flt.status))]
    if not actor.is_supervisor:
        conditions.append(col(Case.assigned_to_id) == actor.user_id)
    if flt.unassigned and flt.agent_id is not None:
        raise InvalidInput("choose an agent or the unassigned cases, not both", field="agent")
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
            raise InvalidInput("a currency is a three-letter code like CNY", field="currency")
        conditions.append(col(Case.currency) == currency)
    for bound in (flt.balance_min, flt.balance_max):
        if bound is not None and (type(bound) is not int or bound < 0):
            raise InvalidInput("a balance bound is a whole number of minor units", field="balance")
    if flt.balance_min is not None or flt.balance_max is not None:
        if currency is None:
            raise InvalidInput("a balance range needs a currency", field="currency")
        if flt.balance_min is not None:
            conditions.append(col(Case.balance) >= flt.balance_min)
        if flt.balance_max is not None:
            conditions.append(col(Case.balance) <= flt.balance_max)
        if (
            flt.balance_min is not None
            and flt.balance_max is not None
            and flt.balance_min > flt.balance_max
        ):
            raise InvalidInput("the lowest balance is above the highest", field="balance")
    country = (flt.country or "").strip().upper()
    if country:
        if len(country) != 2 or not country.isalpha():
            raise InvalidInput("a country is a two-letter code like CN", field="country")
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
        counted = select(func.count()).select_from(Case)
        if flt.country:  # the only condition on the debtor: else the count reads an index only
            counted = counted.join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        counted = counted.where(*conditions)
        total = int(session.execute(counted).scalar_one())
    cursor = BrowserCursor(rows[-1].client, rows[-1].client_ref) if more and rows else None
    return BrowserPage(rows=rows, next_cursor=cursor, total=total)


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
