"""Every form that takes a time to call the debtor warns outside the debtor's contact hours and
offers the next allowed time (ctrl+t), as the follow-up form does: the contact form's callback and
moving a follow-up. The reschedule form reads "today" as the debtor's, as the plan form does."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Input

from collector_tui.clock import FixedClock
from collector_tui.models import Activity, FollowUp, PaymentPlan, Promise
from collector_tui.services.casework import promises
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.tui.app import CollectorApp, make_app
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.corrections import MoveFollowUpForm, ReschedulePlanForm
from collector_tui.tui.screens.forms import FollowUpForm
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, burst, drive, login, settle
from .seed import NOW, Seeded

LATE_WARNING = (
    "outside contact hours in Asia/Shanghai: next allowed 2026-11-21 08:00"
    " — press ctrl+s again to keep, or ctrl+t to use it"
)


async def open_case(pilot: Pilot[None], app: CollectorApp, case_id: uuid.UUID) -> CaseScreen:
    await login(pilot)
    app.screen.open_case(case_id)  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)
    return app.screen


def field(app: CollectorApp, name: str) -> FormField:
    return app.screen.query_one(f"#field-{name}", FormField)


def value(app: CollectorApp, widget_id: str) -> str:
    return app.screen.query_one(f"#{widget_id}", Input).value


def callbacks(seeded: Seeded, case_id: uuid.UUID) -> list[Activity]:
    with seeded.store.read() as session:
        rows = session.exec(
            select(Activity).where(Activity.case_id == case_id, Activity.disposition == "callback")
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def open_follow_ups(seeded: Seeded, case_id: uuid.UUID) -> list[datetime]:
    with seeded.store.read() as session:
        return list(
            session.exec(
                select(FollowUp.due_at).where(
                    FollowUp.case_id == case_id,
                    FollowUp.done_at.is_(None),  # type: ignore[union-attr]
                )
            ).all()
        )


async def late_callback(pilot: Pilot[None], app: CollectorApp, seeded: Seeded) -> CaseScreen:
    """On REF-1001 (a debtor in Shanghai, CN pack: 08:00-22:00), log "call back later" with a
    callback at 23:00 today, all typed in one go: the follow-up form comes back with the warning."""
    case_id = seeded.cases["REF-1001"]
    case_screen = await open_case(pilot, app, case_id)
    await burst(pilot, "c", "c", "ctrl+s", "2026-11-20", "tab", "23:00", "ctrl+s")
    assert isinstance(app.screen, FollowUpForm)
    assert field(app, "date").error == LATE_WARNING
    # What was typed is still there; nothing is saved, neither the contact nor its callback.
    assert (value(app, "date"), value(app, "time")) == ("2026-11-20", "23:00")
    assert callbacks(seeded, case_id) == []
    assert open_follow_ups(seeded, case_id) == []
    return case_screen


def test_the_contact_forms_callback_warns_outside_hours_and_ctrl_t_takes_the_allowed_time(
    demo: Seeded,
) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1001"]

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await late_callback(pilot, app, demo)
        await burst(pilot, "ctrl+t")
        assert (value(app, "date"), value(app, "time")) == ("2026-11-21", "08:00")
        assert not field(app, "date").error
        await burst(pilot, "ctrl+s")
        assert app.screen is case_screen

    drive(app, scenario)
    assert len(callbacks(demo, case_id)) == 1
    assert open_follow_ups(demo, case_id) == [datetime(2026, 11, 21, 0, 0, tzinfo=UTC)]


def test_the_contact_forms_callback_outside_hours_is_kept_on_a_second_save(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1001"]

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await late_callback(pilot, app, demo)
        await burst(pilot, "ctrl+s")
        assert app.screen is case_screen
        assert not isinstance(app.screen, ContactForm)

    drive(app, scenario)
    assert len(callbacks(demo, case_id)) == 1
    assert open_follow_ups(demo, case_id) == [datetime(2026, 11, 20, 15, 0, tzinfo=UTC)]


def test_moving_a_follow_up_outside_hours_warns_and_offers_the_allowed_time(
    demo: Seeded,
) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1002"]  # an open follow-up, due an hour ago

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await burst(pilot, "m")
        assert isinstance(app.screen, MoveFollowUpForm)
        # The agent's day, as the follow-up form states it.
        assert field(app, "reason").hint == (
            "times in your zone, Asia/Shanghai; it is now 2026-11-20 14:30"
        )
        await burst(pilot, "2026-11-20", "tab", "23:00", "ctrl+s")
        assert isinstance(app.screen, MoveFollowUpForm)
        assert field(app, "date").error == LATE_WARNING
        assert open_follow_ups(demo, case_id) == [NOW - timedelta(hours=1)]
        await burst(pilot, "ctrl+t", "ctrl+s")
        assert app.screen is case_screen

    drive(app, scenario)
    assert open_follow_ups(demo, case_id) == [datetime(2026, 11, 21, 0, 0, tzinfo=UTC)]


def test_moving_a_follow_up_outside_hours_is_kept_on_a_second_save(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1002"]

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await burst(pilot, "m", "2026-11-20", "tab", "23:00", "ctrl+s")
        assert field(app, "date").error == LATE_WARNING
        await burst(pilot, "ctrl+s")
        assert app.screen is case_screen

    drive(app, scenario)
    assert open_follow_ups(demo, case_id) == [datetime(2026, 11, 20, 15, 0, tzinfo=UTC)]


def test_rescheduling_a_plan_reads_the_debtors_today(demo: Seeded) -> None:
    # 17:00 UTC: already the 21st for the agent in Shanghai, still the 20th in New York.
    now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    case_id = demo.cases["REF-2001"]
    with demo.store.write() as session:
        plan_id = promises.create_plan(
            session=session,
            now=NOW,
            actor=demo.users["alice"],
            case_id=case_id,
            plan=PlanInput(
                tuple(
                    PromiseInput(30_000, date(2026, 12, 1) + timedelta(days=31 * i))
                    for i in range(2)
                )
            ),  # fmt: skip
            settings=demo.settings,
        )
    app = make_app(
        store=demo.store, settings=demo.settings, clock=FixedClock(now), username="alice"
    )
    app.cursor_blink = False

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await burst(pilot, "L")
        assert isinstance(app.screen, ReschedulePlanForm)
        assert field(app, "first").hint == "today is 2026-11-20 in America/New_York"
        # The debtor's today is a day the plan may start on, for the form as for the service.
        app.screen.query_one("#first", Input).focus()
        await burst(pilot, "2026-11-20")
        app.screen.query_one("#reason", Input).focus()
        await burst(pilot, "pays on the 20th of each month", "ctrl+s")
        assert app.screen is case_screen

    drive(app, scenario)
    with demo.store.read() as session:
        old = session.get(PaymentPlan, plan_id)
        assert old is not None and old.status == "cancelled"
        pending = session.exec(
            select(Promise.due_date).where(Promise.case_id == case_id, Promise.status == "pending")
        ).all()
    assert min(pending) == date(2026, 11, 20)
