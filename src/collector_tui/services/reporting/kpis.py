"""The collection KPIs beside the daily reports (docs/decisions.md, reports: KPIs): liquidation by
placement month (vintage curves) and the promise-kept rate by amount band.

Same conventions as services/reporting/reports.py: one aggregated query per figure (at most one
row per group reaches Python), money per currency in minor units, never summed across currencies,
an agent sees the cases assigned to them now. Rates are exact `Decimal` fractions (0.2500 is a
quarter) rounded half up to four places, None when there is nothing to divide by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, extract, func, select
from sqlmodel import Session, col

from collector_tui.config import DEFAULT_PROMISE_BANDS, Settings
from collector_tui.i18n import gettext as _
from collector_tui.models import Case, Payment, Promise, PromiseStatus
from collector_tui.money import MoneyError, minor_digits, normalize_currency
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import InvalidInput
from collector_tui.services.reporting.reports import (
    _instant_window,
    _scoped,
    period_bounds,
    utc_today,
)

__all__ = [
    "DEFAULT_VINTAGE_MONTHS",
    "MAX_VINTAGE_MONTHS",
    "PromiseBandRow",
    "VintagePoint",
    "VintageRow",
    "checked_currency",
    "promise_bands",
    "rate",
    "vintage",
]

DEFAULT_VINTAGE_MONTHS = 12
MAX_VINTAGE_MONTHS = 120
_RATE_PLACES = Decimal("0.0001")


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole as a fraction with four decimals, None when whole is not positive."""
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_RATE_PLACES, ROUND_HALF_UP)


def checked_currency(currency: str | None) -> str | None:
    """The ISO 4217 code of a `--currency` filter, or InvalidInput naming it."""
    if currency is None:
        return None
    try:
        return normalize_currency(currency)
    except MoneyError as error:
        raise InvalidInput(str(error), field="currency") from None


# --- vintage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VintagePoint:
    month: int  # 1 = the placement month itself, 2 = the month after, ...
    collected: int  # cumulative to the end of that month (to today in the current month)
    rate: Decimal | None  # collected / placed


@dataclass(frozen=True)
class VintageRow:
    """The cases of one currency placed in one calendar month and what they have paid since."""

    currency: str
    placed_month: date  # the first day of the month
    cases: int
    placed: int  # principal + fees + interest as placed, minor units
    points: tuple[VintagePoint, ...]  # months 1.. up to the current month


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


@dataclass(frozen=True)
class _Vintage:
    cases: int
    placed: int


def vintage(
    *,
    session: Session,
    now: datetime,
    actor: Actor | None = None,
    currency: str | None = None,
    months: int = DEFAULT_VINTAGE_MONTHS,
) -> list[VintageRow]:
    """Liquidation by placement month: for the cases placed in each of the last `months` calendar
    months (the current one included), the money they have paid as a share of what was placed,
    cumulated month by month since placement.

    Month 1 is the calendar month of the placement, month k the (k-1)-th month after it; the
    current month counts up to today. A payment counts in the month it was received and a reversal
    (a negative row) in the month it was recorded, as a client's statement shows them: a month's
    point never changes once the month is over, and a bounced payment lowers the curve from then on.
    Money received before its case's placement month (a data error) counts in month 1. Every case
    placed counts, whatever its status now (closed and written-off cases are the vintage too).
    """
    if type(months) is not int or not 1 <= months <= MAX_VINTAGE_MONTHS:
        raise InvalidInput(
            _("months must be a whole number from 1 to {limit}").format(limit=MAX_VINTAGE_MONTHS),
            field="months",
        )
    code = checked_currency(currency)
    today = utc_today(now)
    current = _month_index(today.year, today.month)
    first = current - months + 1
    first_day = date(first // 12, first % 12 + 1, 1)

    placed_year = extract("year", col(Case.placed_date))
    placed_month = extract("month", col(Case.placed_date))
    case_filter: list[Any] = [col(Case.placed_date) >= first_day, col(Case.placed_date) <= today]
    if code is not None:
        case_filter.append(col(Case.currency) == code)

    placed_rows = session.execute(
        _scoped(
            select(
                col(Case.currency),
                placed_year,
                placed_month,
                func.count(),
                func.sum(col(Case.principal) + col(Case.fees) + col(Case.interest)),
            )
            .where(*case_filter)
            .group_by(col(Case.currency), placed_year, placed_month),
            actor,
        )
    ).all()
    groups: dict[tuple[str, int], _Vintage] = {
        (row[0], _month_index(int(row[1]), int(row[2]))): _Vintage(int(row[3]), int(row[4] or 0))
        for row in placed_rows
    }

    paid_year = extract("year", col(Payment.received_on))
    paid_month = extract("month", col(Payment.received_on))
    paid_rows = session.execute(
        _scoped(
            select(
                col(Case.currency),
                placed_year,
                placed_month,
                paid_year,
                paid_month,
                func.sum(col(Payment.amount)),
            )
            .select_from(Payment)
            .join(Case, col(Case.id) == col(Payment.case_id))
            .where(*case_filter, col(Payment.received_on) <= today)
            .group_by(col(Case.currency), placed_year, placed_month, paid_year, paid_month),
            actor,
        )
    ).all()
    # (currency, placement month) -> {months since placement (0-based): money in that month}
    monthly: dict[tuple[str, int], dict[int, int]] = {}
    for row in paid_rows:
        placed_at = _month_index(int(row[1]), int(row[2]))
        since = max(_month_index(int(row[3]), int(row[4])) - placed_at, 0)
        entry = monthly.setdefault((row[0], placed_at), {})
        entry[since] = entry.get(since, 0) + int(row[5] or 0)

    rows: list[VintageRow] = []
    for (currency_code, placed_at), group in sorted(groups.items()):
        money = monthly.get((currency_code, placed_at), {})
        points: list[VintagePoint] = []
        running = 0
        for since in range(current - placed_at + 1):
            running += money.get(since, 0)
            points.append(VintagePoint(since + 1, running, rate(running, group.placed)))
        rows.append(
            VintageRow(
                currency=currency_code,
                placed_month=date(placed_at // 12, placed_at % 12 + 1, 1),
                cases=group.cases,
                placed=group.placed,
                points=tuple(points),
            )
        )
    return rows


# --- promises by amount --------------------------------------------------------------------------


@dataclass(frozen=True)
class PromiseBandRow:
    """Promises of one currency made in the period whose amount falls in one band.

    The band holds the amounts above `low` up to and including `high` (None: no upper end).
    `due` are the promises whose outcome is known (kept, partial, broken): a pending promise is
    not yet due and a cancelled one was never tested, as in `report promises`.
    """

    currency: str
    band: str  # "0-100", "100-500", ..., "2000+" in major units
    low: int  # minor units, exclusive (0 inclusive for the first band)
    high: int | None  # minor units, inclusive
    made: int
    kept: int
    partial: int
    broken: int
    pending: int
    cancelled: int
    amount_promised: int

    @property
    def due(self) -> int:
        return self.kept + self.partial + self.broken

    @property
    def kept_rate(self) -> Decimal | None:
        return rate(self.kept, self.due)


def band_limits(currency: str, settings: Settings | None) -> tuple[int, ...]:
    """The upper ends of the bands of `currency` in minor units (the last band has none)."""
    configured = settings.promise_amount_bands if settings is not None else DEFAULT_PROMISE_BANDS
    limits = configured.get(currency) or configured.get("*") or DEFAULT_PROMISE_BANDS["*"]
    scale = 10 ** minor_digits(currency)
    return tuple(int(Decimal(str(limit)) * scale) for limit in limits)


def _label(value: int, currency: str) -> str:
    major = Decimal(value).scaleb(-minor_digits(currency))
    return f"{major.normalize():f}"


def _band_labels(currency: str, limits: tuple[int, ...]) -> list[tuple[str, int, int | None]]:
    bands: list[tuple[str, int, int | None]] = []
    low = 0
    for high in limits:
        bands.append((f"{_label(low, currency)}-{_label(high, currency)}", low, high))
        low = high
    bands.append((f"{_label(low, currency)}+", low, None))
    return bands


def promise_bands(
    *,
    session: Session,
    now: datetime,
    settings: Settings | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    actor: Actor | None = None,
    currency: str | None = None,
) -> list[PromiseBandRow]:
    """Promises made in [from, to] (UTC dates of creation) per currency and amount band, with
    their outcome as of now; every band of a currency that has promises is listed, zeros included.

    The bands are `promise_amount_bands` of the settings (upper ends in major units per currency,
    `*` for the others). The database counts per currency and band: the band is a CASE over the
    amount with bounds computed here per currency, so no amount reaches Python.
    """
    first, last = period_bounds(now, date_from, date_to)
    code = checked_currency(currency)
    window = [_instant_window(col(Promise.created_at), first, last)]
    if code is not None:
        window.append(col(Case.currency) == code)
    currencies = sorted(
        str(found)
        for (found,) in session.execute(
            _scoped(
                select(col(Case.currency))
                .select_from(Promise)
                .join(Case, col(Case.id) == col(Promise.case_id))
                .where(*window)
                .distinct(),
                actor,
            )
        ).all()
    )
    if not currencies:
        return []
    layouts = {c: _band_labels(c, band_limits(c, settings)) for c in currencies}
    whens: list[Any] = []
    for currency_code, bands in layouts.items():
        for position, (_low, _label, high) in enumerate(bands):
            if high is None:
                whens.append((col(Case.currency) == currency_code, position))
            else:
                within = (col(Case.currency) == currency_code) & (col(Promise.amount) <= high)
                whens.append((within, position))
    band = case(*whens, else_=0).label("band")

    def count(status: str) -> Any:
        return func.sum(case((col(Promise.status) == status, 1), else_=0))

    statement = _scoped(
        select(
            col(Case.currency),
            band,
            func.count(),
            *(count(status.value) for status in PromiseStatus),
            func.sum(col(Promise.amount)),
        )
        .select_from(Promise)
        .join(Case, col(Case.id) == col(Promise.case_id))
        .where(*window)
        .group_by(col(Case.currency), band),
        actor,
    )
    statuses = [status.value for status in PromiseStatus]
    found: dict[tuple[str, int], tuple[int, dict[str, int], int]] = {}
    for row in session.execute(statement).all():
        counts = {status: int(row[3 + i] or 0) for i, status in enumerate(statuses)}
        found[(row[0], int(row[1]))] = (int(row[2]), counts, int(row[-1] or 0))
    rows: list[PromiseBandRow] = []
    for currency_code in currencies:
        for position, (label, low, high) in enumerate(layouts[currency_code]):
            made, counts, amount = found.get((currency_code, position), (0, {}, 0))
            rows.append(
                PromiseBandRow(
                    currency=currency_code,
                    band=label,
                    low=low,
                    high=high,
                    made=made,
                    kept=counts.get(PromiseStatus.kept.value, 0),
                    partial=counts.get(PromiseStatus.partial.value, 0),
                    broken=counts.get(PromiseStatus.broken.value, 0),
                    pending=counts.get(PromiseStatus.pending.value, 0),
                    cancelled=counts.get(PromiseStatus.cancelled.value, 0),
                    amount_promised=amount,
                )
            )
    return rows
