"""The reports dashboard's figures: the report tables of one period, read in one unit of work so
that they agree with each other (the TUI's reports screen shows them; the command line's `report`
runs the same `report_table` one at a time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from collector_tui.config import Settings
from collector_tui.services.accounts import Actor
from collector_tui.services.context import reads
from collector_tui.services.reporting.reports import utc_today
from collector_tui.services.reporting.tables import ReportTable, report_table

# From this many days the collections are summed per ISO week: weeks read better than 90 points.
WEEKLY_FROM_DAYS = 60
# Placement months on the dashboard's vintage chart: more curves than this do not read.
VINTAGE_MONTHS = 6


@dataclass(frozen=True)
class Dashboard:
    """Every figure the dashboard shows, for every currency, as of one instant."""

    now: datetime
    days: int
    first: date
    last: date
    per: str  # "day" or "week": the collections' grain
    supervisor_view: bool
    aging: ReportTable
    promises: ReportTable
    collections: ReportTable
    agents: ReportTable
    dso: ReportTable  # as of today, whatever the period: the open invoices' weighted age
    # Liquidation by placement month (the last VINTAGE_MONTHS, whatever the period) and the
    # promise-kept rate by amount band over the period (reporting.kpis).
    vintage: ReportTable | None = None
    promise_bands: ReportTable | None = None
    # Champion against challenger, every case each group holds (services/strategies/report.py).
    strategies: ReportTable | None = None

    @property
    def currencies(self) -> tuple[str, ...]:
        """Currencies with any figure, the book's largest (most open items) first."""
        open_items: dict[str, int] = {}
        for row in self.aging.records:
            open_items[row.currency] = open_items.get(row.currency, 0) + row.count
        seen = set(open_items)
        seen.update(row.currency for row in self.promises.records)
        seen.update(row.currency for row in self.collections.records)
        for row in self.agents.records:
            seen.update(row.collected_by_currency)
        if self.vintage is not None:
            seen.update(row.currency for row in self.vintage.records)
        return tuple(sorted(seen, key=lambda c: (-open_items.get(c, 0), c)))


@reads
def load_dashboard(
    *, session: Session, now: datetime, actor: Actor, days: int, settings: Settings | None = None
) -> Dashboard:
    """The dashboard's reports: aging, DSO and the vintages as of today, the others over the last
    `days` days up to today (UTC)."""
    last = utc_today(now)
    first = last - timedelta(days=days - 1)
    per = "week" if days >= WEEKLY_FROM_DAYS else "day"
    return Dashboard(
        now=now,
        days=days,
        first=first,
        last=last,
        per=per,
        supervisor_view=actor.is_supervisor,
        aging=report_table("aging", session=session, now=now, actor=actor),
        promises=report_table(
            "promises", session=session, now=now, actor=actor, date_from=first, date_to=last
        ),
        collections=report_table(
            "collections",
            session=session,
            now=now,
            actor=actor,
            period=per,
            date_from=first,
            date_to=last,
        ),
        agents=report_table(
            "agents", session=session, now=now, actor=actor, date_from=first, date_to=last
        ),
        dso=report_table("dso", session=session, now=now, actor=actor),
        vintage=report_table(
            "vintage", session=session, now=now, actor=actor, months=VINTAGE_MONTHS
        ),
        promise_bands=report_table(
            "promises",
            session=session,
            now=now,
            actor=actor,
            date_from=first,
            date_to=last,
            by="amount",
            settings=settings,
        ),  # fmt: skip
        strategies=report_table("strategies", session=session, now=now, actor=actor),
    )
