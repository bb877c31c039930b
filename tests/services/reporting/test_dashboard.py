"""The dashboard's figures are the report tables the command line prints, read in one unit."""

from __future__ import annotations

from datetime import datetime

from collector_tui import db
from collector_tui.clock import FixedClock
from collector_tui.config import Settings
from collector_tui.services.context import Context, unit_of
from collector_tui.services.reporting.dashboard import load_dashboard
from collector_tui.services.reporting.tables import report_table


def test_the_dashboard_is_the_report_tables_of_its_period(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    place("DB-1", currency="CNY")
    place("DB-2", currency="EUR", country="DE", phones=("+49 30 901820",))
    sam = Context(store=store, clock=FixedClock(now), settings=settings, actor=users["sam"])
    assert unit_of(load_dashboard) == "read"

    week = sam.run(load_dashboard, days=7)
    quarter = sam.run(load_dashboard, days=90)

    assert (week.days, week.per, quarter.per) == (7, "day", "week")
    assert (week.last - week.first).days == 6
    assert week.supervisor_view
    with store.read() as session:
        aging = report_table("aging", session=session, now=now, actor=users["sam"])
        collections = report_table(
            "collections",
            session=session,
            now=now,
            actor=users["sam"],
            period="week",
            date_from=quarter.first,
            date_to=quarter.last,
        )
    assert week.aging == aging
    assert quarter.collections == collections
    assert set(week.currencies) == {"CNY", "EUR"}
    alice = sam.acting_as(users["alice"]).run(load_dashboard, days=30)
    assert not alice.supervisor_view
