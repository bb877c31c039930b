"""The case screen's promise, plan and settlement forms: an agreement taken there is a contact that
answers the due callback; due dates read the debtor's "today", which the form states; the
settlement form shows the agent's limit and a settlement sent for approval is on the timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rich.text import Text
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from collector_tui.clock import FixedClock
from collector_tui.models import Case, FollowUp, Promise
from collector_tui.tui.app import make_app
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.case_requests import SettlementRequestForm
from collector_tui.tui.screens.forms import FollowUpForm, PlanForm, PromiseForm
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import NOW, Seeded
from .test_case_requests import confirm, open_case, press, set_limit


def _queue_kinds(app: CaseScreen | QueueScreen) -> list[tuple[str, str]]:
    table: DataTable[Text] = app.query_one("#queue-table", DataTable)
    return [
        (str(table.get_row_at(row)[0]), str(table.get_row_at(row)[1]))
        for row in range(table.row_count)
    ]


def _titles(screen: CaseScreen) -> list[str]:
    return [entry.title for entry in screen.query_one("#timeline", Timeline).entries]


def _hint(screen: object, field: str) -> str:
    return screen.query_one(f"#field-{field}", FormField).hint or ""  # type: ignore[attr-defined]


def test_a_promise_from_the_case_screen_answers_the_due_callback(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1002"]  # its callback was due an hour ago

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert ("callback", "李娜") in _queue_kinds(app.screen)
        await press(pilot, "enter")
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        await press(pilot, "p")
        assert isinstance(app.screen, PromiseForm)
        await pilot.press(*"1000", "tab", *"2026-11-25", "ctrl+s")
        await settle(pilot)
        assert app.screen is case_screen
        titles = _titles(case_screen)
        assert "call · Promise to pay" in titles
        assert "promise 1,000.00 CNY due 2026-11-25 · pending" in titles
        await press(pilot, "escape")
        assert isinstance(app.screen, QueueScreen)
        assert all(kind != "callback" for kind, _name in _queue_kinds(app.screen))

    drive(app, scenario)
    with demo.store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.last_contact_at == NOW
        follow_ups = session.exec(select(FollowUp).where(FollowUp.case_id == case_id)).all()
        assert follow_ups and all(f.done_at == NOW for f in follow_ups)


def test_a_plan_from_the_case_screen_is_a_right_party_contact(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1002"]

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await press(pilot, "l")
        assert isinstance(app.screen, PlanForm)
        app.screen.query_one("#first").focus()
        await pilot.press(*"2026-12-01", "ctrl+s")
        await settle(pilot)
        assert app.screen is case_screen
        assert "call · Payment plan agreed" in _titles(case_screen)

    drive(app, scenario)
    with demo.store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.last_contact_at == NOW and case.status == "plan"
        follow_ups = session.exec(select(FollowUp).where(FollowUp.case_id == case_id)).all()
        assert all(f.done_at == NOW for f in follow_ups)


def test_the_promise_form_and_the_check_share_the_debtors_today(demo: Seeded) -> None:
    # 02:00 UTC: already the 20th for alice in Shanghai, still the 19th for a New York debtor.
    early = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    app = make_app(
        store=demo.store, settings=demo.settings, clock=FixedClock(early), username="alice"
    )
    app.cursor_blink = False
    case_id = demo.cases["REF-2001"]  # John Smith, +1 212: New York

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await press(pilot, "p")
        assert isinstance(app.screen, PromiseForm)
        assert _hint(app.screen, "due_date") == "today is 2026-11-19 in America/New_York"
        await type_text(pilot, "100")
        await pilot.press("tab", *"2026-11-19", "ctrl+s")
        await settle(pilot)
        assert app.screen is case_screen, _hint(app.screen, "due_date")

    drive(app, scenario)
    with demo.store.read() as session:
        promise = session.exec(select(Promise).where(Promise.case_id == case_id)).one()
    assert promise.due_date == date(2026, 11, 19)


def test_the_settlement_form_shows_the_limit_and_a_pending_one_is_on_the_timeline(
    demo: Seeded,
) -> None:
    set_limit(demo, "alice", 10)
    app = build_app(demo)
    case_id = demo.cases["REF-1001"]  # balance 12,345.00 CNY

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await press(pilot, "s")
        assert isinstance(app.screen, SettlementRequestForm)
        limit = rendered(app.screen.query_one("#settlement-limit", Static))
        assert "your limit: 10%" in limit and "above it a supervisor approves" in limit
        assert _hint(app.screen, "due_date") == "today is 2026-11-20 in Asia/Shanghai"
        await type_text(pilot, "9000")  # 27% off: above the limit
        await pilot.press("tab", *"2026-11-30", "ctrl+s")
        await settle(pilot)
        await confirm(pilot, app)
        assert app.screen is case_screen
        assert "settlement 9,000.00 CNY by 2026-11-30 · pending approval" in _titles(case_screen)

    drive(app, scenario)


def _follow_ups(demo: Seeded, case_id: object) -> list[FollowUp]:
    with demo.store.read() as session:
        return list(
            session.exec(
                select(FollowUp).where(FollowUp.case_id == case_id, FollowUp.reason == "late call")
            )
        )


async def _late_follow_up(pilot: Pilot[None], app: object) -> None:
    await press(pilot, "f")
    assert isinstance(app.screen, FollowUpForm)  # type: ignore[attr-defined]
    # 23:00 in Shanghai: the CN pack allows calls 08:00-22:00.
    await pilot.press(*"2026-11-20", "tab", *"23:00", "tab")
    await type_text(pilot, "late call")
    await press(pilot, "ctrl+s")


def test_a_follow_up_outside_contact_hours_warns_and_offers_the_next_allowed_time(
    demo: Seeded,
) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1001"]

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await _late_follow_up(pilot, app)
        assert isinstance(app.screen, FollowUpForm)
        warning = app.screen.query_one("#field-date", FormField).error or ""
        assert warning == (
            "outside contact hours in Asia/Shanghai: next allowed 2026-11-21 08:00"
            " — press ctrl+s again to keep, or ctrl+t to use it"
        )
        assert _follow_ups(demo, case_id) == []
        await press(pilot, "ctrl+t")
        assert app.screen.query_one("#date", Input).value == "2026-11-21"
        assert app.screen.query_one("#time", Input).value == "08:00"
        assert not app.screen.query_one("#field-date", FormField).error
        await press(pilot, "ctrl+s")
        assert app.screen is case_screen

    drive(app, scenario)
    (saved,) = _follow_ups(demo, case_id)
    assert saved.due_at == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_a_follow_up_outside_contact_hours_is_kept_on_a_second_save(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1001"]

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_case(pilot, app, case_id)
        await _late_follow_up(pilot, app)
        assert isinstance(app.screen, FollowUpForm)
        await press(pilot, "ctrl+s")
        assert app.screen is case_screen

    drive(app, scenario)
    (saved,) = _follow_ups(demo, case_id)
    assert saved.due_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
