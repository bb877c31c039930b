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
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from collector_tui.i18n import N_, format_day
from collector_tui.i18n import gettext as _
from collector_tui.services.context import reads

if TYPE_CHECKING:
    from collector_tui.config import Settings
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

REPORT_KINDS = (
    "aging",
    "promises",
    "collections",
    "agents",
    "dso",
    "disputes",
    "vintage",
    "strategies",
)
# `report promises --by`: per agent (the default) or per amount band (reporting.kpis).
PROMISE_GROUPINGS = ("agent", "amount")

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


def _fraction(value: Decimal | None) -> str | None:
    """A rate for CSV and JSON: the exact fraction ("0.3125"), None when there is none."""
    return None if value is None else str(value)


def _percent_text(value: Decimal | None) -> str:
    """A rate to read: "31.3%" (one decimal, half up), "-" when there is none."""
    if value is None:
        return "-"
    return f"{(value * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


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
    by: str = "agent",
    currency: str | None = None,
    months: int | None = None,
    settings: Settings | None = None,
) -> ReportTable:
    """Run one report and lay it out: the cells for text, CSV and JSON, and the service rows.

    `currency` keeps the rows of that currency only (InvalidInput when it is no currency code);
    `by="amount"` turns the promises report into the kept rate per amount band; `months` is how
    many placement months `vintage` covers.
    """
    from collector_tui.services.reporting import kpis

    code = kpis.checked_currency(currency)
    table = _report_table(
        kind, session=session, now=now, actor=actor, date_from=date_from, date_to=date_to,
        period=period, by_agent=by_agent, by=by, currency=code, months=months, settings=settings,
    )  # fmt: skip
    return table if code is None else _only_currency(table, code)


def _only_currency(table: ReportTable, currency: str) -> ReportTable:
    """The rows of one currency; the agents table keeps its money columns of that currency."""
    if "currency" not in table.columns:
        keep = [
            i
            for i, name in enumerate(table.columns)
            if not name.startswith("collected_") or name == f"collected_{currency}"
        ]
        return ReportTable(
            title=table.title,
            columns=tuple(table.columns[i] for i in keep),
            numeric=table.numeric,
            rows=tuple(tuple(row[i] for i in keep) for row in table.rows),
            csv_rows=tuple(tuple(row[i] for i in keep) for row in table.csv_rows),
            json_rows=tuple(
                {
                    **row,
                    "collected_by_currency": {
                        c: v
                        for c, v in row.get("collected_by_currency", {}).items()
                        if c == currency
                    },
                }
                if "collected_by_currency" in row
                else row
                for row in table.json_rows
            ),
            records=table.records,
        )
    at = table.columns.index("currency")
    keep = [i for i, row in enumerate(table.csv_rows) if row[at] == currency]
    return ReportTable(
        title=table.title,
        columns=table.columns,
        numeric=table.numeric,
        rows=tuple(table.rows[i] for i in keep),
        csv_rows=tuple(table.csv_rows[i] for i in keep),
        json_rows=tuple(table.json_rows[i] for i in keep),
        records=tuple(table.records[i] for i in keep)
        if len(table.records) == len(table.rows)
        else table.records,
    )


def _report_table(
    kind: str,
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    date_from: date | None,
    date_to: date | None,
    period: str,
    by_agent: bool,
    by: str,
    currency: str | None,
    months: int | None,
    settings: Settings | None,
) -> ReportTable:
    from collector_tui.services.reporting import reports

    scope = _scope_text(actor)
    if kind == "vintage":
        return _vintage_table(
            session=session, now=now, actor=actor, scope=scope, currency=currency, months=months
        )
    if kind == "aging":
        return _aging_table(session=session, now=now, actor=actor, scope=scope)
    if kind == "dso":
        return _dso_table(session=session, now=now, actor=actor, scope=scope)
    if kind == "disputes":
        return _disputes_table(session=session, now=now, actor=actor, scope=scope)
    if kind == "strategies":
        return strategies_table(session=session, actor=actor, scope=scope)

    first, last = reports.period_bounds(now, date_from, date_to)
    during = _period_text(first, last)
    if kind == "promises" and by == "amount":
        return _promise_bands_table(
            session=session, now=now, actor=actor, scope=scope, first=first, last=last,
            during=during, currency=currency, settings=settings,
        )  # fmt: skip
    if by not in PROMISE_GROUPINGS:
        from collector_tui.services.errors import InvalidInput

        raise InvalidInput(
            _("promises are grouped by agent or amount, not {by}").format(by=repr(by)), field="by"
        )
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

    raise InvalidInput(
        _("unknown report {kind}: one of {choices}").format(
            kind=repr(kind), choices=", ".join(REPORT_KINDS)
        )
    )


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
        title=_(
            "Days sales outstanding of open invoices on {day}, {scope}; basis issue_date: days"
            " since issue (DSO), days_past_due: invoices without an issue date, days since due"
            " (not DSO)"
        ).format(day=format_day(reports.utc_today(now)), scope=scope),
        columns=(
            "currency",
            "basis",
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
                r.basis,
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
                r.basis,
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
                "basis": r.basis,
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
        "rpc_rate",
        "promises",
        *(f"collected_{c}" for c in currencies),
    )

    def agent_cells(
        r: reports.AgentActivityRow, money: Callable[[int, str], str]
    ) -> tuple[str, ...]:
        machine = money is _decimal
        return (
            r.agent,
            str(r.attempts),
            str(r.right_party_contacts),
            (_fraction(r.rpc_rate) or "") if machine else _percent_text(r.rpc_rate),
            str(r.promises),
            *(money(r.collected_by_currency.get(c, 0), c) for c in currencies),
        )

    return ReportTable(
        title=_(
            "Agent activity {during}; rpc_rate = right-party contacts / attempts; money collected"
            " on the agents' current cases"
        ).format(during=during),
        columns=columns,
        numeric=frozenset(columns[1:]),
        rows=tuple(agent_cells(r, grouped) for r in activity),
        csv_rows=tuple(agent_cells(r, _decimal) for r in activity),
        json_rows=tuple(
            {
                "agent": r.agent,
                "attempts": r.attempts,
                "right_party_contacts": r.right_party_contacts,
                "rpc_rate": _fraction(r.rpc_rate),
                "promises": r.promises,
                "collected_by_currency": {
                    c: _decimal(amount, c) for c, amount in r.collected_by_currency.items()
                },
            }
            for r in activity
        ),
        records=tuple(activity),
    )


VINTAGE_COLUMNS = (
    "currency",
    "placement_month",
    "cases",
    "placed",
    "month",
    "collected",
    "liquidation_rate",
)


def _vintage_table(
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    scope: str,
    currency: str | None,
    months: int | None,
) -> ReportTable:
    """Liquidation by placement month: one row per vintage and month since placement."""
    from collector_tui.services.reporting import kpis, reports

    vintages = kpis.vintage(
        session=session,
        now=now,
        actor=actor,
        currency=currency,
        months=kpis.DEFAULT_VINTAGE_MONTHS if months is None else months,
    )
    points = [(v, p) for v in vintages for p in v.points]

    def cells(
        v: kpis.VintageRow, p: kpis.VintagePoint, money: Callable[[int, str], str]
    ) -> tuple[str, ...]:
        return (
            v.currency,
            v.placed_month.strftime("%Y-%m"),
            str(v.cases),
            money(v.placed, v.currency),
            str(p.month),
            money(p.collected, v.currency),
            (_fraction(p.rate) or "") if money is _decimal else _percent_text(p.rate),
        )

    return ReportTable(
        title=_(
            "Liquidation by placement month on {day} (UTC), {scope}:"
            " collected since placement / placed, month 1 = the placement month"
        ).format(day=format_day(reports.utc_today(now)), scope=scope),
        columns=VINTAGE_COLUMNS,
        numeric=frozenset(VINTAGE_COLUMNS[2:]),
        rows=tuple(cells(v, p, grouped) for v, p in points),
        csv_rows=tuple(cells(v, p, _decimal) for v, p in points),
        json_rows=tuple(
            {
                "currency": v.currency,
                "placement_month": v.placed_month.strftime("%Y-%m"),
                "cases": v.cases,
                "placed": _decimal(v.placed, v.currency),
                "month": p.month,
                "collected": _decimal(p.collected, v.currency),
                "liquidation_rate": _fraction(p.rate),
            }
            for v, p in points
        ),
        records=tuple(vintages),
    )


PROMISE_BAND_COLUMNS = (
    "currency",
    "band",
    "made",
    "kept",
    "partial",
    "broken",
    "pending",
    "cancelled",
    "due",
    "kept_rate",
    "amount_promised",
)


def _promise_bands_table(
    *,
    session: Any,
    now: datetime,
    actor: Actor | None,
    scope: str,
    first: date,
    last: date,
    during: str,
    currency: str | None,
    settings: Settings | None,
) -> ReportTable:
    """Promises made in the period per amount band: kept / due (kept, partial or broken)."""
    from collector_tui.services.reporting import kpis

    bands = kpis.promise_bands(
        session=session, now=now, settings=settings, date_from=first, date_to=last,
        actor=actor, currency=currency,
    )  # fmt: skip

    def cells(r: kpis.PromiseBandRow, money: Callable[[int, str], str]) -> tuple[str, ...]:
        counts = (r.made, r.kept, r.partial, r.broken, r.pending, r.cancelled, r.due)
        return (
            r.currency,
            r.band,
            *(str(n) for n in counts),
            (_fraction(r.kept_rate) or "") if money is _decimal else _percent_text(r.kept_rate),
            money(r.amount_promised, r.currency),
        )

    return ReportTable(
        title=_(
            "Promises made {during} by amount, outcome as of now, {scope}:"
            " kept_rate = kept / due (kept, partial or broken)"
        ).format(during=during, scope=scope),
        columns=PROMISE_BAND_COLUMNS,
        numeric=frozenset(PROMISE_BAND_COLUMNS[2:]),
        rows=tuple(cells(r, grouped) for r in bands),
        csv_rows=tuple(cells(r, _decimal) for r in bands),
        json_rows=tuple(
            {
                "currency": r.currency,
                "band": r.band,
                "band_from": _decimal(r.low, r.currency),
                "band_to": None if r.high is None else _decimal(r.high, r.currency),
                "made": r.made,
                "kept": r.kept,
                "partial": r.partial,
                "broken": r.broken,
                "pending": r.pending,
                "cancelled": r.cancelled,
                "due": r.due,
                "kept_rate": _fraction(r.kept_rate),
                "amount_promised": _decimal(r.amount_promised, r.currency),
            }
            for r in bands
        ),
        records=tuple(bands),
    )


STRATEGY_COLUMNS = (
    "strategy",
    "group",
    "cases",
    "contacted",
    "contact_rate",
    "rpc",
    "rpc_rate",
    "promises_made",
    "promises_kept",
    "currency",
    "placed",
    "collected",
    "liquidation_rate",
    "collected_per_case",
)


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def strategies_table(*, session: Any, actor: Actor | None, scope: str) -> ReportTable:
    """Champion against challenger (services/strategies/report.py): one text row per strategy,
    group and currency; one JSON object per strategy and group, money per currency."""
    from collector_tui.services.strategies.report import strategy_outcomes

    outcomes = strategy_outcomes(session=session, actor=actor)

    def cells(o: Any, money: Callable[[int, str], str]) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        for currency in o.placed:
            rows.append(
                (
                    o.strategy,
                    o.group,
                    str(o.cases),
                    str(o.contacted),
                    _rate(o.contact_rate) or "",
                    str(o.rpc),
                    _rate(o.rpc_rate) or "",
                    str(o.promises_made),
                    str(o.promises_kept),
                    currency,
                    money(o.placed[currency], currency),
                    money(o.collected.get(currency, 0), currency),
                    _rate(o.liquidation_rate(currency)) or "",
                    money(o.collected_per_case(currency), currency),
                )
            )
        return rows

    def as_json(o: Any) -> dict[str, Any]:
        return {
            "strategy": o.strategy,
            "group": o.group,
            "cases": o.cases,
            "contacted": o.contacted,
            "contact_rate": _rate(o.contact_rate),
            "rpc": o.rpc,
            "rpc_rate": _rate(o.rpc_rate),
            "promises_made": o.promises_made,
            "promises_kept": o.promises_kept,
            "promise_kept_rate": _rate(o.promise_kept_rate),
            "cases_by_currency": dict(o.cases_by_currency),
            "placed": {c: _decimal(a, c) for c, a in o.placed.items()},
            "collected": {c: _decimal(a, c) for c, a in o.collected.items()},
            "liquidation_rate": {c: _rate(o.liquidation_rate(c)) for c in o.placed},
            "collected_per_case": {c: _decimal(o.collected_per_case(c), c) for c in o.placed},
        }

    return ReportTable(
        title=f"Strategies, champion against challenger, {scope}: rates with their counts",
        columns=STRATEGY_COLUMNS,
        numeric=frozenset(STRATEGY_COLUMNS[2:9]) | frozenset(STRATEGY_COLUMNS[10:]),
        rows=tuple(row for o in outcomes for row in cells(o, grouped)),
        csv_rows=tuple(row for o in outcomes for row in cells(o, _decimal)),
        json_rows=tuple(as_json(o) for o in outcomes),
        records=tuple(outcomes),
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
