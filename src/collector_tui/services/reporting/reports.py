"""Supervisors' reports: aging, promises kept and broken, collections, agent activity, DSO
(docs/decisions.md, reports).

Every report is a read-only query that the database aggregates (GROUP BY); Python receives at most
one row per group, or per calendar day where a day is the finest grain (collections, DSO), never
the cases, promises or payments themselves, so the reports cost the same on a 1M-case book.

Conventions shared by all reports:

- Money is never summed across currencies: every row carries its currency.
- Calendar dates are UTC dates: "today" is the UTC date of `now`, and a period [from, to] holds the
  instants from `from` 00:00 UTC up to (not including) the day after `to`, 00:00 UTC. This matches
  how casework.promises judges promises; judging by each agent's own zone is a later refinement.
- A period defaults to the last 30 days up to and including today.
- Scoping: an agent's report covers the cases assigned to that agent now; supervisors and admins
  see every case. Agent activity is also limited to the agent's own row.
- Voids: a payment reversed by another row (`voids_id`, negative amount) counts net of its
  reversals, on the day the original was received; a reversal row is never a payment by itself.
  An activity corrected by a later row (its `voids_id`) is replaced by that row: one call counts
  once, with its corrected disposition.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    case,
    exists,
    func,
    literal_column,
    null,
    or_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from collector_tui.i18n import gettext as _
from collector_tui.models import (
    OPEN_STATUSES,
    Activity,
    Case,
    Invoice,
    InvoiceDispute,
    Payment,
    Promise,
    PromiseStatus,
    Role,
    User,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import InvalidInput

__all__ = [
    "AGING_BUCKETS",
    "AgentActivityRow",
    "AgingRow",
    "CollectionRow",
    "DSO_BASES",
    "DisputeAgingRow",
    "DsoRow",
    "PromiseStatsRow",
    "agent_activity",
    "aging",
    "collections",
    "default_period",
    "dispute_aging",
    "period_bounds",
    "dso",
    "promise_stats",
    "right_party_codes",
]

AGING_BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "91-180", "180+")
DISPUTE_AGES: tuple[tuple[str, int], ...] = (("0-30", 30), ("31-60", 60), ("61-90", 90))
DISPUTE_OLDEST = "90+"
# Upper bound (days past due, inclusive) of each bucket but the last.
_BUCKET_LIMITS: tuple[tuple[str, int], ...] = (
    ("current", 0),
    ("1-30", 30),
    ("31-60", 60),
    ("61-90", 90),
    ("91-180", 180),
)
DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 5 * 366  # a day-by-day table of more than five years is a typo in a date
PERIODS = ("day", "week")
# Used only when services.casework.activities cannot be imported (it defines the real list;
# docs/decisions.md, dispositions).
_FALLBACK_RIGHT_PARTY = (
    "right_party",
    "promise",
    "plan",
    "refused",
    "dispute",
    "callback",
    "paid",
    "hardship",
    "cease",
)
_RESOLVED = (PromiseStatus.kept.value, PromiseStatus.partial.value, PromiseStatus.broken.value)


# --- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingRow:
    currency: str
    bucket: str  # one of AGING_BUCKETS
    count: int  # open invoices, plus open cases without invoices
    balance: int  # minor units of `currency`
    disputed: int = 0  # of `balance`, under open invoice dispute (casework.disputes)

    @property
    def collectible(self) -> int:
        return self.balance - self.disputed


@dataclass(frozen=True)
class PromiseStatsRow:
    """Promises made in the period (created then), with their outcome as of now.

    `amount_kept` is what has been paid into them so far. The rates are percentages (one decimal)
    over the promises whose outcome is known (kept, partial, broken); None when there are none:
    a pending promise is not yet a failure, and a cancelled one was never tested.
    """

    agent: str | None  # username of who took the promise; None for "all agents" or no user
    currency: str
    made: int
    kept: int
    partial: int
    broken: int
    pending: int
    cancelled: int
    amount_promised: int
    amount_kept: int
    kept_rate_count: Decimal | None
    kept_rate_amount: Decimal | None


@dataclass(frozen=True)
class CollectionRow:
    period_start: date  # the day, or the Monday of the ISO week
    currency: str
    collected: int  # received in the period, net of reversals
    promised_due: int  # promised (not cancelled) to fall due in the period
    payments: int  # payments that still count (not fully reversed)


@dataclass(frozen=True)
class AgentActivityRow:
    agent: str  # username
    attempts: int
    right_party_contacts: int
    promises: int
    collected_by_currency: dict[str, int] = field(default_factory=dict)

    @property
    def rpc_rate(self) -> Decimal | None:
        """Right-party contacts per attempt, a fraction with four decimals (reporting.kpis)."""
        if self.attempts <= 0:
            return None
        return (Decimal(self.right_party_contacts) / Decimal(self.attempts)).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        )


@dataclass(frozen=True)
class DsoRow:
    currency: str
    open_receivables: int  # open invoice amounts of open cases
    days: Decimal  # amount-weighted average days outstanding, one decimal
    invoices: int = 0
    # The same over what is collectible (open amounts less what is under open dispute); None when
    # nothing is.
    collectible_receivables: int = 0
    collectible_days: Decimal | None = None
    # "issue_date": days since the invoices were issued, the DSO; "days_past_due": invoices that
    # carry no issue date, aged from their due date, which is not a DSO and is said so.
    basis: str = "issue_date"


@dataclass(frozen=True)
class DisputeAgingRow:
    """Open invoice disputes of one currency, age band (days since opened) and category."""

    currency: str
    age: str  # one of DISPUTE_AGES
    category: str
    count: int
    amount: int  # disputed, minor units of `currency`
    overdue: int  # past their resolve-by date


# --- shared pieces -------------------------------------------------------------------------------


def utc_today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def default_period(now: datetime) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = utc_today(now)
    return today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today


def period_bounds(
    now: datetime, date_from: date | None = None, date_to: date | None = None
) -> tuple[date, date]:
    """[from, to] with the defaults filled in and checked (InvalidInput when backwards or huge)."""
    for value, name in ((date_from, "from"), (date_to, "to")):
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise InvalidInput(
                _("the '{name}' date must be a calendar date").format(name=name), field=name
            )
    first, last = default_period(now)
    if date_from is None and date_to is not None:
        # Only an end: the 30 days up to it.
        first, last = date_to - timedelta(days=DEFAULT_PERIOD_DAYS - 1), date_to
    elif date_from is not None:
        # Only a start: up to today, or that one day when it lies in the future.
        first = date_from
        last = date_to if date_to is not None else max(date_from, last)
    if first > last:
        raise InvalidInput(
            _("the period starts ({first}) after it ends ({last})").format(
                first=first.isoformat(), last=last.isoformat()
            ),
            field="from",
        )
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(_("a report period can be at most five years"), field="from")
    return first, last


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _instant_window(column: Any, first: date, last: date) -> Any:
    return and_(column >= _start_of(first), column < _start_of(last + timedelta(days=1)))


def _scoped(statement: Any, actor: Actor | None) -> Any:
    """Limit a statement that already joins Case to what the actor may see."""
    if actor is None or actor.is_supervisor:
        return statement
    return statement.where(col(Case.assigned_to_id) == actor.user_id)


def _percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _as_date(value: Any) -> date:
    # Dates come back as date objects through typed columns; a bare SQL expression on SQLite may
    # hand over the ISO string instead.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def right_party_codes() -> tuple[str, ...]:
    """Disposition codes that mean we spoke with the debtor (docs/decisions.md, dispositions)."""
    try:
        from collector_tui.services.rules.dispositions import DISPOSITIONS
    except ImportError:  # pragma: no cover - the module ships with the app
        return _FALLBACK_RIGHT_PARTY
    return tuple(sorted(code for code, d in DISPOSITIONS.items() if d.right_party))


def _net_payments() -> Any:
    """Original payments with their reversals netted in: (case_id, received_on, net) rows."""
    reversal = aliased(Payment)
    reversed_sum = (
        select(
            col(reversal.voids_id).label("voided_id"),
            func.sum(reversal.amount).label("reversed"),
        )
        .where(col(reversal.voids_id).is_not(None))
        .group_by(col(reversal.voids_id))
        .subquery()
    )
    net = (col(Payment.amount) + func.coalesce(reversed_sum.c.reversed, 0)).label("net")
    return (
        select(
            col(Payment.case_id).label("case_id"),
            col(Payment.received_on).label("received_on"),
            net,
        )
        .select_from(Payment)
        .outerjoin(reversed_sum, reversed_sum.c.voided_id == col(Payment.id))
        .where(col(Payment.voids_id).is_(None))
    )


# --- aging ---------------------------------------------------------------------------------------


def _bucket_expression(due: Any, today: date) -> Any:
    # Days past due = today - due date; the bounds are dates computed here, so the SQL is the same
    # on SQLite and PostgreSQL (no backend date arithmetic).
    whens = [(due >= today - timedelta(days=limit), name) for name, limit in _BUCKET_LIMITS]
    return case(*whens, else_=AGING_BUCKETS[-1])


def aging(*, session: Session, now: datetime, actor: Actor | None = None) -> list[AgingRow]:
    """Open balances by days past due, per currency, every bucket present, in bucket order.

    An open case (status in OPEN_STATUSES) contributes each invoice with an open amount, aged by
    the invoice's due date; a case without invoices contributes its balance, aged by its own due
    date. Days past due are counted from today (UTC date of `now`): due today or later is
    `current`, 1-30 days late is `1-30`, and so on.
    """
    today = utc_today(now)
    open_case = col(Case.status).in_(OPEN_STATUSES)
    disputed = _open_disputes()
    on_invoice = _disputed_of_invoice(disputed)
    by_invoice = _scoped(
        select(
            col(Case.currency).label("currency"),
            _bucket_expression(col(Invoice.due_date), today).label("bucket"),
            col(Invoice.open_amount).label("amount"),
            on_invoice.label("disputed"),
        )
        .select_from(Invoice)
        .join(Case, col(Case.id) == col(Invoice.case_id))
        .outerjoin(disputed, disputed.c.invoice_id == col(Invoice.id))
        .where(open_case, col(Invoice.open_amount) > 0),
        actor,
    )
    has_invoice = exists().where(col(Invoice.case_id) == col(Case.id))
    by_case = _scoped(
        select(
            col(Case.currency).label("currency"),
            _bucket_expression(col(Case.due_date), today).label("bucket"),
            col(Case.balance).label("amount"),
            literal_column("0", BigInteger).label("disputed"),
        ).where(open_case, col(Case.balance) > 0, ~has_invoice),
        actor,
    )
    parts = union_all(by_invoice, by_case).subquery()
    totals = session.execute(
        sa_select(
            parts.c.currency,
            parts.c.bucket,
            func.count().label("count"),
            func.sum(parts.c.amount).label("balance"),
            func.sum(parts.c.disputed).label("disputed"),
        ).group_by(parts.c.currency, parts.c.bucket)
    ).all()
    found: dict[tuple[str, str], tuple[int, int, int]] = {
        (currency, bucket): (int(count), int(balance or 0), int(held or 0))
        for currency, bucket, count, balance, held in totals
    }
    rows: list[AgingRow] = []
    for currency in sorted({currency for currency, _bucket in found}):
        for bucket in AGING_BUCKETS:
            count, balance, held = found.get((currency, bucket), (0, 0, 0))
            rows.append(AgingRow(currency, bucket, count, balance, held))
    return rows


def _open_disputes() -> Any:
    """(invoice_id, disputed) of the invoices under open dispute."""
    return (
        select(
            col(InvoiceDispute.invoice_id).label("invoice_id"),
            func.sum(col(InvoiceDispute.amount)).label("disputed"),
        )
        .where(col(InvoiceDispute.status) == "open")
        .group_by(col(InvoiceDispute.invoice_id))
        .subquery()
    )


def _disputed_of_invoice(disputed: Any) -> Any:
    """What of an invoice's open amount is disputed: at most the open amount (a payment may
    have reached a disputed part), 0 without a dispute."""
    held = func.coalesce(disputed.c.disputed, 0)
    return case((held > col(Invoice.open_amount), col(Invoice.open_amount)), else_=held)


# --- dispute aging -------------------------------------------------------------------------------


def dispute_aging(
    *, session: Session, now: datetime, actor: Actor | None = None
) -> list[DisputeAgingRow]:
    """Open invoice disputes by age (days since opened: 0-30, 31-60, 61-90, 90+) and category,
    per currency, with how many are past their resolve-by date. Only groups that have disputes."""
    today = utc_today(now)
    opened = _start_of(today + timedelta(days=1))
    whens = [
        (col(InvoiceDispute.opened_at) >= opened - timedelta(days=limit + 1), name)
        for name, limit in DISPUTE_AGES
    ]
    age = case(*whens, else_=DISPUTE_OLDEST).label("age")
    overdue = func.sum(case((col(InvoiceDispute.resolve_by) < today, 1), else_=0))
    statement = _scoped(
        sa_select(
            col(Case.currency),
            age,
            col(InvoiceDispute.category),
            func.count(),
            func.sum(col(InvoiceDispute.amount)),
            overdue,
        )
        .select_from(InvoiceDispute)
        .join(Case, col(Case.id) == col(InvoiceDispute.case_id))
        .where(col(InvoiceDispute.status) == "open")
        .group_by(col(Case.currency), age, col(InvoiceDispute.category)),
        actor,
    )
    order = {name: i for i, name in enumerate([*(n for n, _ in DISPUTE_AGES), DISPUTE_OLDEST])}
    rows = [
        DisputeAgingRow(
            currency=currency,
            age=str(band),
            category=category,
            count=int(count),
            amount=int(amount or 0),
            overdue=int(late or 0),
        )
        for currency, band, category, count, amount, late in session.execute(statement).all()
    ]
    return sorted(rows, key=lambda r: (r.currency, order[r.age], r.category))


# --- promises ------------------------------------------------------------------------------------


def _count_status(status: str) -> Any:
    return func.sum(case((col(Promise.status) == status, 1), else_=0))


def promise_stats(
    *,
    session: Session,
    now: datetime,
    date_from: date | None = None,
    date_to: date | None = None,
    actor: Actor | None = None,
    by_agent: bool = True,
) -> list[PromiseStatsRow]:
    """Promises made in [from, to] (UTC dates of creation), per agent who took them and currency.

    Outcomes are as of the last sweep: a promise past its grace that no sweep has judged yet is
    still counted as pending (the queue and `sweep` run it).
    """
    first, last = period_bounds(now, date_from, date_to)
    resolved = col(Promise.status).in_(_RESOLVED)
    columns: list[Any] = [
        col(Case.currency).label("currency"),
        func.count().label("made"),
        *(_count_status(status.value).label(status.value) for status in PromiseStatus),
        func.sum(col(Promise.amount)).label("amount_promised"),
        func.sum(col(Promise.paid_amount)).label("amount_kept"),
        func.sum(case((resolved, col(Promise.amount)), else_=0)).label("resolved_amount"),
        func.sum(case((resolved, col(Promise.paid_amount)), else_=0)).label("resolved_paid"),
    ]
    statement = (
        select(*columns)
        .select_from(Promise)
        .join(Case, col(Case.id) == col(Promise.case_id))
        .where(_instant_window(col(Promise.created_at), first, last))
    )
    if by_agent:
        statement = (
            statement.add_columns(col(User.username).label("agent"))
            .outerjoin(User, col(User.id) == col(Promise.created_by_id))
            .group_by(col(User.username), col(Case.currency))
        )
    else:
        statement = statement.add_columns(null().label("agent")).group_by(col(Case.currency))
    rows: list[PromiseStatsRow] = []
    for row in session.execute(_scoped(statement, actor)).mappings():
        kept, partial, broken = int(row["kept"]), int(row["partial"]), int(row["broken"])
        rows.append(
            PromiseStatsRow(
                agent=row["agent"],
                currency=row["currency"],
                made=int(row["made"]),
                kept=kept,
                partial=partial,
                broken=broken,
                pending=int(row["pending"]),
                cancelled=int(row["cancelled"]),
                amount_promised=int(row["amount_promised"] or 0),
                amount_kept=int(row["amount_kept"] or 0),
                kept_rate_count=_percent(kept, kept + partial + broken),
                kept_rate_amount=_percent(
                    int(row["resolved_paid"] or 0), int(row["resolved_amount"] or 0)
                ),
            )
        )
    rows.sort(key=lambda r: (r.agent is None, r.agent or "", r.currency))
    return rows


# --- collections ---------------------------------------------------------------------------------


def _period_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day


def _period_starts(first: date, last: date, period: str) -> list[date]:
    step = timedelta(days=7 if period == "week" else 1)
    starts = []
    current = _period_start(first, period)
    while current <= last:
        starts.append(current)
        current += step
    return starts


def collections(
    *,
    session: Session,
    now: datetime,
    date_from: date | None = None,
    date_to: date | None = None,
    period: str = "day",
    actor: Actor | None = None,
) -> list[CollectionRow]:
    """Money received per day or ISO week (Monday first), against what was promised to fall due.

    Payments count on the day received (`received_on`, both ends of the period included), net of
    their reversals; promises count on their due date unless cancelled, whatever their outcome.
    Every period from `from` to `to` is listed for each currency that has any figure, zeros
    included, so a chart has no holes; a week row is the Monday of the week and covers only the
    days inside [from, to] (the first and last weeks may be partial).

    The database sums per day; days are folded into weeks here, which keeps the SQL the same on
    every backend (week arithmetic on dates is not portable) and reads at most one row per day and
    currency.
    """
    if period not in PERIODS:
        raise InvalidInput(
            _("the period is 'day' or 'week', not {period}").format(period=repr(period)),
            field="period",
        )
    first, last = period_bounds(now, date_from, date_to)

    payments = _net_payments().subquery()
    paid_rows = session.execute(
        _scoped(
            select(
                payments.c.received_on,
                col(Case.currency),
                func.sum(payments.c.net),
                func.sum(case((payments.c.net > 0, 1), else_=0)),
            )
            .select_from(payments)
            .join(Case, col(Case.id) == payments.c.case_id)
            .where(payments.c.received_on >= first, payments.c.received_on <= last)
            .group_by(payments.c.received_on, col(Case.currency)),
            actor,
        )
    ).all()
    promised_rows = session.execute(
        _scoped(
            select(col(Promise.due_date), col(Case.currency), func.sum(col(Promise.amount)))
            .select_from(Promise)
            .join(Case, col(Case.id) == col(Promise.case_id))
            .where(
                col(Promise.due_date) >= first,
                col(Promise.due_date) <= last,
                col(Promise.status) != PromiseStatus.cancelled.value,
            )
            .group_by(col(Promise.due_date), col(Case.currency)),
            actor,
        )
    ).all()

    figures: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for day, currency, net, count in paid_rows:
        entry = figures[(_period_start(_as_date(day), period), currency)]
        entry[0] += int(net or 0)
        entry[2] += int(count or 0)
    for day, currency, amount in promised_rows:
        figures[(_period_start(_as_date(day), period), currency)][1] += int(amount or 0)
    currencies = sorted({currency for _, currency in figures})
    rows: list[CollectionRow] = []
    for currency in currencies:
        for start in _period_starts(first, last, period):
            collected, promised, count = figures.get((start, currency), (0, 0, 0))
            rows.append(CollectionRow(start, currency, collected, promised, count))
    return rows


# --- agent activity ------------------------------------------------------------------------------


def _live_activity() -> Any:
    # A correction is a new row that voids the old one and carries the corrected outcome: count
    # the correction, not the row it replaces, so one call stays one attempt.
    correction = aliased(Activity)
    return ~exists().where(col(correction.voids_id) == col(Activity.id))


def agent_activity(
    *,
    session: Session,
    now: datetime,
    date_from: date | None = None,
    date_to: date | None = None,
    actor: Actor | None = None,
) -> list[AgentActivityRow]:
    """Per user, in [from, to]: contact attempts, right-party contacts, promises taken, money in.

    - attempts: live activities the user logged on any channel but `note` (a correction replaces
      the row it voids, so it counts once);
    - right_party_contacts: those of the attempts whose disposition is a right-party one
      (docs/decisions.md, dispositions);
    - promises: promises the user took (created) in the period, cancelled ones included;
    - collected_by_currency: payments received in the period (net of reversals) on the cases
      assigned to the user NOW. A payment row does not say who earned it, and the agent holding
      the case is who the client and the supervisor hold to account; a case moved after the
      payment moves its money with it.

    Rows: every active agent (zeros included), plus any other user with a figure, by username.
    An agent sees only their own row.
    """
    first, last = period_bounds(now, date_from, date_to)
    own_only = actor is not None and not actor.is_supervisor
    right_party = right_party_codes()

    activity_filter = [
        col(Activity.user_id).is_not(None),
        col(Activity.channel) != "note",
        _instant_window(col(Activity.occurred_at), first, last),
        _live_activity(),
    ]
    if own_only:
        assert actor is not None
        activity_filter.append(col(Activity.user_id) == actor.user_id)
    attempts = {
        user_id: (int(count), int(contacts or 0))
        for user_id, count, contacts in session.execute(
            select(
                col(Activity.user_id),
                func.count(),
                func.sum(case((col(Activity.disposition).in_(right_party), 1), else_=0)),
            )
            .where(*activity_filter)
            .group_by(col(Activity.user_id))
        ).all()
    }

    promise_filter = [
        col(Promise.created_by_id).is_not(None),
        _instant_window(col(Promise.created_at), first, last),
    ]
    if own_only:
        assert actor is not None
        promise_filter.append(col(Promise.created_by_id) == actor.user_id)
    promises = {
        user_id: int(count)
        for user_id, count in session.execute(
            select(col(Promise.created_by_id), func.count())
            .where(*promise_filter)
            .group_by(col(Promise.created_by_id))
        ).all()
    }

    payments = _net_payments().subquery()
    collected: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    paid = (
        select(col(Case.assigned_to_id), col(Case.currency), func.sum(payments.c.net))
        .select_from(payments)
        .join(Case, col(Case.id) == payments.c.case_id)
        .where(
            col(Case.assigned_to_id).is_not(None),
            payments.c.received_on >= first,
            payments.c.received_on <= last,
        )
        .group_by(col(Case.assigned_to_id), col(Case.currency))
    )
    for user_id, currency, net in session.execute(_scoped(paid, actor)).all():
        if net:
            collected[user_id][currency] = int(net)

    wanted = set(attempts) | set(promises) | set(collected)
    users = select(col(User.id), col(User.username))
    if own_only:
        assert actor is not None
        users = users.where(col(User.id) == actor.user_id)
    else:
        agent = and_(col(User.role) == Role.agent.value, col(User.active))
        users = users.where(or_(agent, col(User.id).in_(wanted)) if wanted else agent)
    rows = []
    for user_id, username in session.execute(users.order_by(col(User.username))).all():
        count, contacts = attempts.get(user_id, (0, 0))
        rows.append(
            AgentActivityRow(
                agent=username,
                attempts=count,
                right_party_contacts=contacts,
                promises=promises.get(user_id, 0),
                collected_by_currency=dict(sorted(collected.get(user_id, {}).items())),
            )
        )
    return rows


# --- DSO -----------------------------------------------------------------------------------------


DSO_BASES = ("issue_date", "days_past_due")


def dso(*, session: Session, now: datetime, actor: Actor | None = None) -> list[DsoRow]:
    """Days sales outstanding of the invoiced (B2B) book, per currency and basis.

    days = Σ(open_amount × age) / Σ(open_amount), over the invoices with an open amount on open
    cases, where age = today - issue date, at least 0. It is the balance-weighted average age of
    what is still owed: the classic "receivables / sales × days" needs the client's sales, which a
    collector never sees. Invoices whose client gave no issue date cannot have a DSO: they form
    a row of their own with basis "days_past_due", aged from their due date, so a book without
    issue dates says it shows days past due, and the two are never mixed. Cases without invoices
    are left out.

    The database sums open amounts per currency and date; the weighting is done here over those
    sums (at most one row per distinct date), which keeps date arithmetic out of the SQL.
    """
    today = utc_today(now)
    has_issue = col(Invoice.issue_date).is_not(None)
    issued = case((has_issue, col(Invoice.issue_date)), else_=col(Invoice.due_date)).label("issued")
    basis = case((has_issue, DSO_BASES[0]), else_=DSO_BASES[1]).label("basis")
    disputed = _open_disputes()
    statement = _scoped(
        sa_select(
            col(Case.currency),
            basis,
            issued,
            func.sum(col(Invoice.open_amount)),
            func.count(),
            func.sum(_disputed_of_invoice(disputed)),
        )
        .select_from(Invoice)
        .join(Case, col(Case.id) == col(Invoice.case_id))
        .outerjoin(disputed, disputed.c.invoice_id == col(Invoice.id))
        .where(col(Case.status).in_(OPEN_STATUSES), col(Invoice.open_amount) > 0)
        .group_by(col(Case.currency), basis, issued),
        actor,
    )
    # open, open x age, invoices, collectible, collectible x age
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for currency, kind, day, amount, count, held in session.execute(statement).all():
        age = max((today - _as_date(day)).days, 0)
        entry = sums[(currency, str(kind))]
        entry[0] += int(amount)
        entry[1] += int(amount) * age
        entry[2] += int(count)
        collectible = int(amount) - int(held or 0)
        entry[3] += collectible
        entry[4] += collectible * age

    def days(weighted: int, total: int) -> Decimal:
        return (Decimal(weighted) / Decimal(total)).quantize(Decimal("0.1"), ROUND_HALF_UP)

    return [
        DsoRow(
            currency=currency,
            open_receivables=total,
            days=days(weighted, total),
            invoices=count,
            collectible_receivables=collectible,
            collectible_days=days(weighted_collectible, collectible) if collectible > 0 else None,
            basis=kind,
        )
        for (currency, kind), (total, weighted, count, collectible, weighted_collectible) in sorted(
            sums.items(), key=lambda item: (item[0][0], DSO_BASES.index(item[0][1]))
        )
        if total > 0
    ]
