"""Form dates outside the accepted range (1900-01-01 … 2200-12-31) are refused under their field,
whichever way they are typed, and nothing is saved: never an OverflowError, never a crash."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import SQLModel, func, select
from textual.pilot import Pilot
from textual.widgets import Input

from collector_tui.models import FollowUp, Promise
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.forms import FollowUpForm, PlanForm, PromiseForm
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, drive, login, settle, type_text
from .seed import Seeded


def _count(seeded: Seeded, model: type[SQLModel], case_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(model).where(model.case_id == case_id)  # type: ignore[attr-defined]
    with seeded.store.read() as session:
        return int(session.exec(statement).one())


async def _open_case(pilot: Pilot[None], app: CollectorApp, case_id: uuid.UUID) -> None:
    await login(pilot)
    app.screen.open_case(case_id)  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)


async def _type_into(pilot: Pilot[None], app: CollectorApp, field: str, text: str) -> None:
    field_input = app.screen.query_one(f"#{field}", Input)
    field_input.focus()
    field_input.value = ""
    await pilot.pause()
    await type_text(pilot, text)  # one burst of real keys


def _error(app: CollectorApp, field: str) -> str:
    return app.screen.query_one(f"#field-{field}", FormField).error or ""


@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01", "2201-01-01"])
def test_a_promise_date_outside_the_range_stays_in_the_form(demo: Seeded, typed: str) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await _open_case(pilot, app, case_id)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PromiseForm)
        await _type_into(pilot, app, "amount", "100")
        await _type_into(pilot, app, "due_date", typed)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PromiseForm)
        assert "outside 1900-01-01 … 2200-12-31" in _error(app, "due_date")
        assert app.screen.query_one("#due_date", Input).value == typed

    drive(app, scenario)
    assert _count(demo, Promise, case_id) == 0


def test_a_follow_up_on_the_first_day_of_year_one_is_refused(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await _open_case(pilot, app, case_id)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpForm)
        await _type_into(pilot, app, "date", "0001-01-01")
        await _type_into(pilot, app, "time", "00:00")
        await _type_into(pilot, app, "reason", "x")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpForm)
        assert "outside 1900-01-01 … 2200-12-31" in _error(app, "date")

    drive(app, scenario)
    assert _count(demo, FollowUp, case_id) == 0


def test_a_plan_starting_thousands_of_weeks_ahead_is_refused(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await _open_case(pilot, app, case_id)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, PlanForm)
        await _type_into(pilot, app, "total", "300")
        await _type_into(pilot, app, "count", "3")
        await _type_into(pilot, app, "first", "+9999w")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PlanForm)
        assert "outside 1900-01-01 … 2200-12-31" in _error(app, "first")

    drive(app, scenario)
    assert _count(demo, Promise, case_id) == 0
