"""Forms: validation next to the field, nothing lost, nothing half-saved; drafts; stale edits."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import SQLModel, func, select
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from collector_tui.models import Activity, Draft, FollowUp, Hold, Promise
from collector_tui.services.casework import activities
from collector_tui.services.casework.activities import ContactInput
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.forms import FollowUpForm, FormScreen, PlanForm, PromiseForm
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import NOW, Seeded


def count(seeded: Seeded, model: type[SQLModel], case_id: uuid.UUID | None = None) -> int:
    statement = select(func.count()).select_from(model)
    if case_id is not None:
        statement = statement.where(model.case_id == case_id)  # type: ignore[attr-defined]
    with seeded.store.read() as session:
        return int(session.exec(statement).one())


async def open_case(pilot: Pilot[None], app: CollectorApp, case_id: uuid.UUID) -> CaseScreen:
    await login(pilot)
    app.screen.open_case(case_id)  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)
    return app.screen


def fill(app: CollectorApp, **values: str) -> None:
    """Put text in the form's inputs (keys are exercised in test_flow; this keeps tests fast)."""
    for widget_id, value in values.items():
        widget = app.screen.query_one(f"#{widget_id}")
        if isinstance(widget, TextArea):
            widget.load_text(value)
        else:
            assert isinstance(widget, Input)
            widget.value = value


def error_of(app: CollectorApp, field: str) -> str | None:
    return app.screen.query_one(f"#field-{field}", FormField).error


def general_error(app: CollectorApp) -> str:
    return rendered(app.screen.query_one("#form-error", Static))


async def save(pilot: Pilot[None], key: str = "ctrl+s") -> None:
    await pilot.press(key)
    await settle(pilot)


def run(seeded: Seeded, scenario: Any) -> None:
    drive(build_app(seeded), scenario)


def test_bad_amount_and_past_date_stay_in_the_form_next_to_their_fields(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PromiseForm)
        fill(app, amount="12.3.4", due_date="2026-11-19")
        await save(pilot)
        assert isinstance(app.screen, PromiseForm)
        assert "12.3.4" in (error_of(app, "amount") or "")
        assert "in the past" in (error_of(app, "due_date") or "")
        # Everything typed is still there.
        assert app.screen.query_one("#amount", Input).value == "12.3.4"
        assert app.screen.query_one("#due_date", Input).value == "2026-11-19"
        # The message is rendered right under its field.
        label = app.screen.query_one("#error-amount")
        assert label.display and label.region.y > app.screen.query_one("#amount").region.y
        fill(app, amount="0", due_date="soon")
        await save(pilot)
        assert error_of(app, "amount") == "the amount must be more than zero"
        assert "is not a date" in (error_of(app, "due_date") or "")

    drive(app, scenario)
    assert count(demo, Promise, case_id) == 0


def test_service_refusal_lands_under_the_field_and_a_fix_saves(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("p")
        await settle(pilot)
        fill(app, amount="99,999.00", due_date="+3")
        await save(pilot)
        assert isinstance(app.screen, PromiseForm)
        assert "exceeds the open balance" in (error_of(app, "amount") or "")
        assert count(demo, Promise, case_id) == 0
        fill(app, amount="¥500")
        await save(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        promise = session.exec(select(Promise).where(Promise.case_id == case_id)).one()
    assert (promise.amount, promise.due_date) == (50_000, date(2026, 11, 23))


def test_contact_without_disposition_is_refused_and_nothing_is_saved(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    before = count(demo, Activity, case_id)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("c")
        await settle(pilot)
        fill(app, note="talked about the fees", duration="ten minutes")
        await save(pilot)
        assert isinstance(app.screen, ContactForm)
        assert error_of(app, "disposition") == "pick what happened on this attempt"
        assert "duration" in (error_of(app, "duration") or "")
        assert app.screen.query_one("#note", TextArea).text == "talked about the fees"
        assert app.screen.focused is app.screen.query_one("#disposition", Select)

    drive(app, scenario)
    assert count(demo, Activity, case_id) == before


def test_refused_promise_of_a_contact_reopens_its_form_with_the_input(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    before = count(demo, Activity, case_id)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#disposition", Select).value = "promise"
        fill(app, note="promised everything and more")
        await save(pilot)
        assert isinstance(app.screen, PromiseForm)
        fill(app, amount="99,999", due_date="+3")
        await save(pilot, "enter")
        # The service refused the promise part: its form is back, input intact, message below.
        assert isinstance(app.screen, PromiseForm)
        assert app.screen.query_one("#amount", Input).value == "99,999"
        assert "exceeds the open balance" in (error_of(app, "amount") or "")
        assert count(demo, Activity, case_id) == before
        fill(app, amount="100")
        await save(pilot, "enter")
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    assert count(demo, Activity, case_id) == before + 1
    with demo.store.read() as session:
        promise = session.exec(select(Promise).where(Promise.case_id == case_id)).one()
        activity = session.get(Activity, promise.activity_id)
    assert promise.amount == 10_000
    assert activity is not None and activity.note == "promised everything and more"


def test_a_typed_note_survives_closing_the_form_and_goes_away_on_save(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#note", TextArea).focus()
        await type_text(pilot, "line busy, try later")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        with demo.store.read() as session:
            draft = session.exec(select(Draft).where(Draft.case_id == case_id)).one()
        assert draft.form == "contact" and draft.payload["note"] == "line busy, try later"

        await pilot.press("c")
        await settle(pilot)
        assert app.screen.query_one("#note", TextArea).text == "line busy, try later"
        app.screen.query_one("#disposition", Select).value = "busy"
        await save(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    assert count(demo, Draft) == 0
    with demo.store.read() as session:
        notes = session.exec(select(Activity.note).where(Activity.case_id == case_id)).all()
    assert "line busy, try later" in notes


def test_a_stale_edit_is_refused_clearly_and_the_input_kept(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    before = count(demo, Activity, case_id)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#disposition", Select).value = "no_answer"
        fill(app, note="rang twice")
        # Meanwhile, another process logs an attempt on the same case.
        with demo.store.write() as session:
            activities.log_contact(
                session=session,
                now=NOW,
                actor=demo.users["sam"],
                case_id=case_id,
                contact=ContactInput(disposition="voicemail"),
                settings=demo.settings,
            )
        await save(pilot)
        assert isinstance(app.screen, ContactForm)
        assert "changed by someone else" in general_error(app)
        assert app.screen.query_one("#note", TextArea).text == "rang twice"
        assert count(demo, Activity, case_id) == before + 1
        # The case was read again meanwhile: saving now goes through.
        await save(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    assert count(demo, Activity, case_id) == before + 2


def test_follow_up_is_entered_in_the_agents_time_zone(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpForm)
        # 14:30 in Shanghai now: 13:00 today has passed.
        fill(app, date="today", time="13:00", reason="")
        await save(pilot)
        assert "passed" in (error_of(app, "time") or "")
        assert error_of(app, "reason") == "say why to call back"
        fill(app, date="2026-11-21", time="10:00", reason="after payday")
        await save(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        follow_up = session.exec(select(FollowUp).where(FollowUp.case_id == case_id)).one()
    assert follow_up.due_at == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert follow_up.reason == "after payday"


def test_payment_plan_from_count_first_date_and_interval(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, PlanForm)
        fill(app, total="1,000.00", count="3", first="2027-01-31")
        await pilot.pause()
        preview = rendered(app.screen.query_one("#plan-preview", Static))
        assert "2027-02-28" in preview and "333.34 CNY" in preview
        await save(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        rows = session.exec(
            select(Promise.due_date, Promise.amount, Promise.plan_id)
            .where(Promise.case_id == case_id)
            .order_by(Promise.due_date)  # type: ignore[arg-type]
        ).all()
    assert [(due, amount) for due, amount, _ in rows] == [
        (date(2027, 1, 31), 33_334),
        (date(2027, 2, 28), 33_333),
        (date(2027, 3, 31), 33_333),
    ]
    assert len({plan for _, _, plan in rows}) == 1 and rows[0][2] is not None


def test_note_then_dispute_then_save_and_next(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await pilot.press("t")
        await settle(pilot)
        await save(pilot)
        assert error_of(app, "note") == "the note is empty"
        fill(app, note="Debtor's employer: 上海银行\nsecond line")
        await save(pilot)
        assert app.screen is case_screen
        assert case_screen.case_file is not None
        assert case_screen.case_file.timeline[0].kind == "note"

        await pilot.press("d")
        await settle(pilot)
        fill(app, reason="says it was paid in March")
        await save(pilot, "ctrl+n")
        # A dispute hold takes the case out of the queue: asked first.
        assert isinstance(app.screen, ConfirmScreen)
        await save(pilot, "y")
        # Saved, then straight on to the next case of the queue, in the same screen.
        assert app.screen is case_screen and case_screen.case_id != case_id

    drive(app, scenario)
    with demo.store.read() as session:
        hold = session.exec(select(Hold).where(Hold.case_id == case_id)).one()
        note = session.exec(
            select(Activity).where(Activity.case_id == case_id, Activity.channel == "note")
        ).one()
    assert (hold.kind, hold.reason) == ("dispute", "says it was paid in March")
    assert note.note == "Debtor's employer: 上海银行\nsecond line"


def test_every_form_has_save_cancel_and_save_next_keys() -> None:
    keys = {binding.key: binding for binding in FormScreen.BINDINGS}  # type: ignore[union-attr]
    assert {"ctrl+s", "ctrl+n", "escape"} <= set(keys)
    assert all(binding.id and binding.tooltip for binding in keys.values())


def test_dates_and_times_read_by_forms() -> None:
    from collector_tui.services.casework.promises import even_installments
    from collector_tui.tui.parsing import FieldError, parse_date, parse_duration

    today = date(2026, 11, 20)
    assert parse_date("tomorrow", today, field="d") == today + timedelta(days=1)
    assert parse_date("+2w", today, field="d") == date(2026, 12, 4)
    # The payment form's hint offers "yesterday" (昨天 in Chinese).
    assert parse_date("yesterday", today, field="d") == date(2026, 11, 19)
    assert parse_date("昨天", today, field="d") == date(2026, 11, 19)
    assert parse_duration("3:20", field="x") == 200
    assert parse_duration("5m", field="x") == 300
    assert sum(amount for _, amount in even_installments(100_00, 3, today, "weekly")) == 100_00
    try:
        parse_date("31/12", today, field="due_date")
    except FieldError as error:
        assert error.field == "due_date"
    else:  # pragma: no cover
        raise AssertionError("a date that is not ISO must be refused")
