"""One date style across the workspace: a day is `2026-11-20`, an instant `2026-11-20 09:00` in the
user's zone, and the only shorter form is the same pattern cut (`11-20`), never another order."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Static

from collector_tui.models import Promise
from collector_tui.tui.formatting import agent_time, day_text
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.forms import PromiseForm
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.charts import Chart

from .conftest import build_app, burst, drive, login, rendered, settle
from .seed import Seeded
from .test_reports_screen import open_dashboard, with_payments

# A day written day-first or with slashes ("22/10", "20.11.2026"): never shown.
OTHER_ORDER = re.compile(r"\b\d{1,2}/\d{1,2}\b|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b")


def test_the_two_helpers() -> None:
    assert day_text(date(2026, 11, 20)) == "2026-11-20"
    assert day_text(None) == "—"
    instant = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert agent_time(instant, "Asia/Shanghai") == "2026-11-20 09:00"
    # The short form is the same pattern without its year, and only within the year.
    assert agent_time(instant, "Asia/Shanghai", instant) == "11-20 09:00"
    assert agent_time(instant, "America/New_York", datetime(2027, 1, 2, tzinfo=UTC)) == (
        "2026-11-19 20:00"
    )


def test_a_promise_reads_the_same_on_the_case_and_the_days_on_the_chart_are_cut_iso(
    demo: Seeded,
) -> None:
    with_payments(demo)
    case_id = demo.cases["REF-1001"]
    app = build_app(demo, "alice")
    shown: dict[str, str] = {}

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        app.screen.open_case(case_id)
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        await burst(pilot, "p")
        assert isinstance(app.screen, PromiseForm)
        await burst(pilot, "1000", "tab", "+5", "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        status = rendered(app.screen.query_one("#status-panel", Static))
        debt = rendered(app.screen.query_one("#debt-panel", Static))
        shown["status"], shown["debt"] = status, debt
        assert "1,000.00 CNY due 2026-11-25" in status
        assert re.search(r"Due date\s+\d{4}-\d\d-\d\d", debt)
        assert not OTHER_ORDER.search(status + debt)
        await burst(pilot, "escape")
        screen = await open_dashboard(pilot)
        chart = str(screen.query_one("#chart-collections", Chart).render())
        shown["chart"] = chart
        # The axis's days: month-day, cut from 2026-11-20; no day/month.
        assert re.search(r"\b1[01]-\d\d\b", chart)
        assert not OTHER_ORDER.search(chart)

    drive(app, scenario)
    assert shown
    with demo.store.read() as session:
        due = session.exec(
            select(Promise.due_date).where(Promise.case_id == case_id, Promise.amount == 100_000)
        ).one()
    assert due == date(2026, 11, 25)
