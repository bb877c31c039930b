"""The reports as tables of cells: what `collector-tui report` prints and the reports dashboard
shows, from one query per report, so the command line, the dashboard's tables and its charts always
agree.

`report_table(kind, session=, now=, actor=)` runs one report (services/reports.py) and returns a
`ReportTable`: text cells with grouped money ("1,234.50"), CSV cells and JSON objects with decimal
strings ("1234.50"), percentages as strings ("66.7") or None, and the service's own rows for
charts. Plain data: how it is drawn (aligned text, CSV, a DataTable) is the caller's business, and
text from the database (an agent's name) is left as stored for the caller to show safely.

The services are imported inside `report_table`: the command line reads REPORT_KINDS to build its
parser, and that must not load SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from collector_tui.i18n import N_, format_day
from collector_tui.i18n import gettext as _
from collector_tui.services.context import reads

if TYPE_CHECKING:
    from collector_tui.services.accounts import Actor
    from collector_tui.services.reporting.statements import (
        ClosureLine,
        Statement,
        StatementLine,
    )

__all__ = [
    "REPORT_KINDS",
    "ReportTable",
    "closures_table",
    "grouped",
    "report_table",
    "statement_table",
]

REPORT_KINDS = ("aging", "promises", "collections", "agents", "dso", "disputes")

# What a person reads over each column of a printed report: in English the column name itself
# (the text output reads as it always did), translated in other languages. The names are also
# the CSV header and the --json keys, which never change with the language.
COLUMN_LABELS: dict[str, str] = {
    "currency": N_("currency"),
    "bucket": N_("bucket"),
    "count": N_("count"),
    "balance": N_("balance"),
    "disputed": N_("disputed"),
    "collectible": N_("collectible"),
    "open_receivables": N_("open_receivables"),
    "invoices": N_("invoices"),
    "days": N_("days"),
    "collectible_receivables": N_("collectible_receivables"),
    "collectible_days": N_("collectible_days"),
    "age": N_("age"),
    "category": N_("category"),
    "amount": N_("amount"),
    "overdue": N_("overdue"),
    "agent": N_("agent"),
    "made": N_("made"),
    "kept": N_("kept"),
    "partial": N_("partial"),
    "broken": N_("broken"),
    "pending": N_("pending"),
    "cancelled": N_("cancelled"),
    "amount_promised": N_("amount_promised"),
    "amount_kept": N_("amount_kept"),
    "kept_rate_count": N_("kept_rate_count"),
    "kept_rate_amount": N_("kept_rate_amount"),
    "period_start": N_("period_start"),
    "collected": N_("collected"),
    "promised_due": N_("promised_due"),
    "payments": N_("payments"),
    "attempts": N_("attempts"),
    "right_party_contacts": N_("right_party_contacts"),
    "promises": N_("promises"),
    "client_ref": N_("client_ref"),
    "reversed": N_("reversed"),
    "principal": N_("principal"),
    "fees": N_("fees"),
    "interest": N_("interest"),
    "costs": N_("costs"),
    "commission": N_("commission"),
    "net_to_remit": N_("net_to_remit"),
    "status": N_("status"),
    "closed_on": N_("closed_on"),
    "placed": N_("placed"),
    "credited": N_("credited"),
    "charged": N_("charged"),
}


def column_label(name: str) -> str:
    """A report column's header in the current language (`collected_CNY`: 回收额 CNY)."""
    label = COLUMN_LABELS.get(name)
    if label is not None:
        return str(label)
    if name.startswith("collected_"):
        return _("collected_{currency}").format(currency=name.removeprefix("collected_"))
    return name


@dataclass(frozen=True)
class ReportTable:
    """A report as rows of cells: the same figures for text, CSV and JSON."""

    title: str  # may hold stored text (an agent's name): shown through the display helpers
    columns: tuple[str, ...]
    numeric: frozenset[str]  # right-aligned in text
    rows: tuple[tuple[str, ...], ...]  # text cells (grouped money for reading)
    csv_rows: tuple[tuple[str, ...], ...]  # machine cells (decimal strings)
    json_rows: tuple[dict[str, Any], ...]
    # The service's own rows (reports.AgingRow, ...), in the order of `rows`: the TUI draws its
    # charts from them, so a chart and its table come from one query.
    records: tuple[Any, ...] = ()


def _decimal(amount: int, currency: str) -> str:
    from collector_tui.money import Money, MoneyError

    try:
        return Money(amount, currency).decimal_string()
    except (MoneyError, TypeError):
        return str(amount)


def grouped(amount: int, currency: str) -> str:
    """ "1,234.50": the amount with its grouping, without the currency (text tables)."""
    from collector_tui.money import Money, MoneyError, format_plain

    try:
        return format_plain(Money(amount, currency)).rsplit(" ", 1)[0]
    except (MoneyError, TypeError):
        return str(amount)


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _days(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _period_text(first: date, last: date) -> str:
    return _("{first} to {last} (UTC dates)").format(first=format_day(first), last=format_day(last))


def _scope_text(actor: Actor | None) -> str:
    # The user name as stored: whoever shows the title makes it safe for the screen.
    if actor is None or actor.is_supervisor:
        return _("all cases")
    return _("cases of {user}").format(user=actor.username)


@reads
def report_table(
    kind: str,
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    date_from: date | None = None,
    date_to: date | None = None,
    period: str = "day",
    by_agent: bool = True,
) -> ReportTable:
    """Run one report and lay it out: the cells for text, CSV and JSON, and the service rows."""
    from collector_tui.services.reporting import reports

    scope = _scope_text(actor)
    if kind == "aging":
        return _aging_table(session=session, now=now, actor=actor, scope=scope)
    if kind == "dso":
        return _dso_table(session=session, now=now, actor=actor, scope=scope)
    if kind == "disputes":
        return _disputes_table(session=session, now=now, actor=actor, scope=scope)

    first, last = reports.period_bounds(now, date_from, date_to)
    during = _period_text(first, last)
    if kind == "promises":
        return _promises_table(
            session=session, now=now, actor=actor, scope=scope,
            first=first, last=last, during=during, by_agent=by_agent,
        )  # fmt: skip
    if kind == "collections":
        return _collections_table(
            session=session, now=now, actor=actor, scope=scope,
            first=first, last=last, during=during, period=period,
        )  # fmt: skip
    if kind == "agents":
        return _agents_table(
            session=session, now=now, actor=actor, first=first, last=last, during=during
        )
    from collector_tui.services.errors import InvalidInput

    raise InvalidInput(f"unknown report {kind!r}: one of {', '.join(REPORT_KINDS)}")


def _aging_table(*, session: Any, now: datetime, actor: Actor | None, scope: str) -> ReportTable:
    """Open balances by age bucket, as of today."""
    from collector_tui.services.reporting import reports

    aging = reports.aging(session=session, now=now, actor=actor)
    today = reports.utc_today(now)
    return ReportTable(
        title=_("Aging on {day} (UTC), {scope}").format(day=format_day(today), scope=scope),
        columns=("currency", "bucket", "count", "balance", "disputed", "collectible"),
        numeric=frozenset({"count", "balance", "disputed", "collectible"}),
        rows=tuple(
            (
                r.currency,
                r.bucket,
                str(r.count),
                grouped(r.balance, r.currency),
                grouped(r.disputed, r.currency),
                grouped(r.collectible, r.currency),
            )
            for r in aging
        ),
        csv_rows=tuple(
            (
                r.currency,
                r.bucket,
                str(r.count),
                _decimal(r.balance, r.currency),
                _decimal(r.disputed, r.currency),
                _decimal(r.collectible, r.currency),
            )
            for r in aging
        ),
        json_rows=tuple(
            {
                "currency": r.currency,
                "bucket": r.bucket,
                "count": r.count,
                "balance": _decimal(r.balance, r.currency),
                "disputed": _decimal(r.disputed, r.currency),
                "collectible": _decimal(r.collectible, r.currency),
            }
            for r in aging
        ),
        records=tuple(aging),
    )


def _dso_table(*, session: Any, now: datetime, actor: Actor | None, scope: str) -> ReportTable:
    """Days sales outstanding of the open invoices, as of today."""
    from collector_tui.services.reporting import reports

    dso = reports.dso(session=session, now=now, actor=actor)
    return ReportTable(
        title=_("Days sales outstanding of open invoices on {day}, {scope}").format(
            day=format_day(reports.utc_today(now)), scope=scope
        ),
        columns=(
            "currency",
            "open_receivables",
            "invoices",
            "days",
            "collectible_receivables",
            "collectible_days",
        ),
        numeric=frozenset(
            {
                "open_receivables",
                "invoices",
                "days",
                "collectible_receivables",
                "collectible_days",
            }
        ),
        rows=tuple(
            (
                r.currency,
                grouped(r.open_receivables, r.currency),
                str(r.invoices),
                str(r.days),
                grouped(r.collectible_receivables, r.currency),
                _days(r.collectible_days) or "-",
            )
            for r in dso
        ),
        csv_rows=tuple(
            (
                r.currency,
                _decimal(r.open_receivables, r.currency),
                str(r.invoices),
                str(r.days),
                _decimal(r.collectible_receivables, r.currency),
                _days(r.collectible_days) or "",
            )
            for r in dso
        ),
        json_rows=tuple(
            {
                "currency": r.currency,
                "open_receivables": _decimal(r.open_receivables, r.currency),
                "invoices": r.invoices,
                "days": str(r.days),
                "collectible_receivables": _decimal(r.collectible_receivables, r.currency),
                "collectible_days": _days(r.collectible_days),
            }
            for r in dso
        ),
        records=tuple(dso),
    )


def _disputes_table(*, session: Any, now: datetime, actor: Actor | None, scope: str) -> ReportTable:
    """Open invoice disputes by age and category, as of today."""
    from collector_tui.services.reporting import reports

    open_disputes = reports.dispute_aging(session=session, now=now, actor=actor)
    return ReportTable(
        title=_("Open invoice disputes by age on {day} (UTC), {scope}").format(
            day=format_day(reports.utc_today(now)), scope=scope
        ),
        columns=("currency", "age", "category", "count", "amount", "overdue"),
        numeric=frozenset({"count", "amount", "overdue"}),
        rows=tuple(
            (
                r.currency,
                r.age,
                r.category,
                str(r.count),
                grouped(r.amount, r.currency),
                str(r.overdue),
            )
            for r in open_disputes
        ),
        csv_rows=tuple(
            (
                r.currency,
                r.age,
                r.category,
                str(r.count),
                _decimal(r.amount, r.currency),
                str(r.overdue),
            )
            for r in open_disputes
        ),
        json_rows=tuple(
            {
                "currency": r.currency,
                "age": r.age,
                "category": r.category,
                "count": r.count,
                "amount": _decimal(r.amount, r.currency),
                "overdue": r.overdue,
            }
            for r in open_disputes
        ),
        records=tuple(open_disputes),
    )


def _promises_table(
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    scope: str,
    first: date,
    last: date,
    during: str,
    by_agent: bool,
) -> ReportTable:
    """Promises made in the period and how they turned out."""
    from collector_tui.services.reporting import reports

    stats = reports.promise_stats(
        session=session,
        now=now,
        date_from=first,
        date_to=last,
        actor=actor,
        by_agent=by_agent,
    )
    columns: tuple[str, ...] = (
        "agent",
        "currency",
        "made",
        "kept",
        "partial",
        "broken",
        "pending",
        "cancelled",
        "amount_promised",
        "amount_kept",
        "kept_rate_count",
        "kept_rate_amount",
    )

    def promise_cells(
        r: reports.PromiseStatsRow, money: Callable[[int, str], str]
    ) -> tuple[str, ...]:
        counts = (r.made, r.kept, r.partial, r.broken, r.pending, r.cancelled)
        return (
            r.agent or ("(all)" if not by_agent else "(none)"),
            r.currency,
            *(str(n) for n in counts),
            money(r.amount_promised, r.currency),
            money(r.amount_kept, r.currency),
            _pct(r.kept_rate_count) or "",
            _pct(r.kept_rate_amount) or "",
        )

    return ReportTable(
        title=_("Promises made {during}, outcome as of now, {scope}").format(
            during=during, scope=scope
        ),
        columns=columns,
        numeric=frozenset(columns[2:]),
        rows=tuple(promise_cells(r, grouped) for r in stats),
        csv_rows=tuple(promise_cells(r, _decimal) for r in stats),
        json_rows=tuple(
            {
                "agent": r.agent,
                "currency": r.currency,
                "made": r.made,
                "kept": r.kept,
                "partial": r.partial,
                "broken": r.broken,
                "pending": r.pending,
                "cancelled": r.cancelled,
                "amount_promised": _decimal(r.amount_promised, r.currency),
                "amount_kept": _decimal(r.amount_kept, r.currency),
                "kept_rate_count": _pct(r.kept_rate_count),
                "kept_rate_amount": _pct(r.kept_rate_amount),
            }
            for r in stats
        ),
        records=tuple(stats),
    )


def _collections_table(
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    scope: str,
    first: date,
    last: date,
    during: str,
    period: str,
) -> ReportTable:
    """Money collected and promised per day or week of the period."""
    from collector_tui.services.reporting import reports

    rows = reports.collections(
        session=session, now=now, date_from=first, date_to=last, period=period, actor=actor
    )
    columns = ("period_start", "currency", "collected", "promised_due", "payments")

    def collection_cells(
        r: reports.CollectionRow, money: Callable[[int, str], str]
    ) -> tuple[str, ...]:
        return (
            r.period_start.isoformat(),
            r.currency,
            money(r.collected, r.currency),
            money(r.promised_due, r.currency),
            str(r.payments),
        )

    return ReportTable(
        title=(
            _("Collections per week {during}, {scope}")
            if period == "week"
            else _("Collections per day {during}, {scope}")
        ).format(during=during, scope=scope),
        columns=columns,
        numeric=frozenset(columns[2:]),
        rows=tuple(collection_cells(r, grouped) for r in rows),
        csv_rows=tuple(collection_cells(r, _decimal) for r in rows),
        json_rows=tuple(
            {
                "period_start": r.period_start.isoformat(),
                "currency": r.currency,
                "collected": _decimal(r.collected, r.currency),
                "promised_due": _decimal(r.promised_due, r.currency),
                "payments": r.payments,
            }
            for r in rows
        ),
        records=tuple(rows),
    )


def _agents_table(
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    first: date,
    last: date,
    during: str,
) -> ReportTable:
    """What each agent did in the period."""
    from collector_tui.services.reporting import reports

    activity = reports.agent_activity(
        session=session, now=now, date_from=first, date_to=last, actor=actor
    )
    currencies = sorted({c for r in activity for c in r.collected_by_currency})
    columns = (
        "agent",
        "attempts",
        "right_party_contacts",
        "promises",
        *(f"collected_{c}" for c in currencies),
    )

    def agent_cells(
        r: reports.AgentActivityRow, money: Callable[[int, str], str]
    ) -> tuple[str, ...]:
        return (
            r.agent,
            str(r.attempts),
            str(r.right_party_contacts),
            str(r.promises),
            *(money(r.collected_by_currency.get(c, 0), c) for c in currencies),
        )

    return ReportTable(
        title=_("Agent activity {during}; money collected on the agents' current cases").format(
            during=during
        ),
        columns=columns,
        numeric=frozenset(columns[1:]),
        rows=tuple(agent_cells(r, grouped) for r in activity),
        csv_rows=tuple(agent_cells(r, _decimal) for r in activity),
        json_rows=tuple(
            {
                "agent": r.agent,
                "attempts": r.attempts,
                "right_party_contacts": r.right_party_contacts,
                "promises": r.promises,
                "collected_by_currency": {
                    c: _decimal(amount, c) for c, amount in r.collected_by_currency.items()
                },
            }
            for r in activity
        ),
        records=tuple(activity),
    )


STATEMENT_COLUMNS = (
    "client_ref",
    "currency",
    "payments",
    "collected",
    "reversed",
    "principal",
    "fees",
    "interest",
    "costs",
    "commission",
    "net_to_remit",
)
_STATEMENT_MONEY = STATEMENT_COLUMNS[3:]


def statement_table(statement: Statement) -> ReportTable:
    """A client's statement (services/reporting/statements.py) as a table: one row per case, then
    one `total` row per currency."""
    lines = [*statement.cases, *statement.totals]

    def cells(line: StatementLine, money: Callable[[int, str], str]) -> tuple[str, ...]:
        return (
            line.client_ref if line.client_ref is not None else "total",
            line.currency,
            str(line.payments),
            *(money(getattr(line, name), line.currency) for name in _STATEMENT_MONEY),
        )

    def as_json(line: StatementLine) -> dict[str, Any]:
        return {
            "client_ref": line.client_ref,
            "currency": line.currency,
            "payments": line.payments,
            **{name: _decimal(getattr(line, name), line.currency) for name in _STATEMENT_MONEY},
        }

    period = _period_text(statement.date_from, statement.date_to)
    return ReportTable(
        title=_("Statement of {client}, {period}; commission {rule}").format(
            client=statement.client, period=period, rule=statement.rule
        ),
        columns=STATEMENT_COLUMNS,
        numeric=frozenset({"payments", *_STATEMENT_MONEY}),
        rows=tuple(cells(line, grouped) for line in lines),
        csv_rows=tuple(cells(line, _decimal) for line in lines),
        json_rows=tuple(as_json(line) for line in lines),
        records=tuple(lines),
    )


CLOSURE_COLUMNS = (
    "client_ref",
    "status",
    "closed_on",
    "currency",
    "placed",
    "collected",
    "credited",
    "balance",
    "charged",  # after placement, less waivers: placed + charged - collected - credited = balance
)
_CLOSURE_MONEY = CLOSURE_COLUMNS[4:]


def closures_table(
    lines: Sequence[ClosureLine], *, client: str, date_from: date, date_to: date
) -> ReportTable:
    """A client's recall and closure file (services/reporting/statements.client_closures)."""

    def cells(line: ClosureLine, money: Callable[[int, str], str]) -> tuple[str, ...]:
        return (
            line.client_ref,
            line.status,
            line.closed_on.isoformat(),
            line.currency,
            *(money(getattr(line, name), line.currency) for name in _CLOSURE_MONEY),
        )

    return ReportTable(
        title=_("Cases of {client} closed {period}").format(
            client=client, period=_period_text(date_from, date_to)
        ),
        columns=CLOSURE_COLUMNS,
        numeric=frozenset(_CLOSURE_MONEY),
        rows=tuple(cells(line, grouped) for line in lines),
        csv_rows=tuple(cells(line, _decimal) for line in lines),
        json_rows=tuple(
            {
                "client_ref": line.client_ref,
                "status": line.status,
                "closed_on": line.closed_on.isoformat(),
                "currency": line.currency,
                **{name: _decimal(getattr(line, name), line.currency) for name in _CLOSURE_MONEY},
            }
            for line in lines
        ),
        records=tuple(lines),
    )
