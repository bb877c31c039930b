"""The one digit rule in the forms: full-width digits typed with a Chinese input method are read as
0-9; digits of other scripts or styles are refused under the field, as at the command line and in
the imports (money.amount_text)."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Input

from collector_tui.models import Promise
from collector_tui.tui.parsing import (
    FieldError,
    parse_count,
    parse_date,
    parse_duration,
    parse_time,
)
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.forms import PromiseForm
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, drive, settle, type_text
from .seed import Seeded
from .test_forms import count, open_case


def test_the_promise_form_reads_full_width_digits_and_refuses_others(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PromiseForm)
        amount = app.screen.query_one("#amount", Input)
        due = app.screen.query_one("#due_date", Input)
        for typed, digit in (("𝟓𝟎𝟎", "𝟓"), ("٥٠٠", "٥"), ("50²", "²")):
            amount.value = ""
            amount.focus()
            await type_text(pilot, typed)
            due.value = "+3"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PromiseForm)
            assert amount.value == typed
            error = app.screen.query_one("#field-amount", FormField).error
            assert error == f'"{typed}" has a digit other than 0-9 ({digit}): use 0-9'
        assert count(demo, Promise, case_id) == 0

        amount.value = ""
        amount.focus()
        await type_text(pilot, "５００.５")  # an input method may give the dot either width
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        promise = session.exec(select(Promise).where(Promise.case_id == case_id)).one()
    assert (promise.amount, promise.due_date) == (50_050, date(2026, 11, 23))


def test_counts_durations_dates_and_times_follow_the_same_digit_rule() -> None:
    today = date(2026, 11, 20)
    assert parse_count("３", field="count", low=1, high=12) == 3
    assert parse_duration("３:２０", field="duration") == 200
    assert parse_date("+３", today, field="due_date") == date(2026, 11, 23)
    assert parse_time("１４：３０", field="at") == time(14, 30)
    for read in (
        lambda: parse_count("²", field="f", low=1, high=12),  # int("²") raises ValueError
        lambda: parse_count("٣", field="f", low=1, high=12),  # int("٣") is 3
        lambda: parse_duration("٩٠", field="f"),
        lambda: parse_date("+٣", today, field="f"),
        lambda: parse_time("١٤:٣٠", field="f"),
    ):
        with pytest.raises(FieldError, match="has a digit other than 0-9"):
            read()
