"""The agent asks the supervisors from the case screen: settle (s), legal action (e), route (o).

Real keys from the case screen, then the screen (notification, status panel) and the database
(settlement status, the case's routing, the timeline note); bad input keeps the form open with the
message under its field and writes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from sqlmodel import SQLModel, func, select
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Input, Static

from collector_tui import bootstrap
from collector_tui.demo import DEMO_NOW, fresh_demo_copy
from collector_tui.models import Activity, Case, Promise, Settlement
from collector_tui.services import accounts
from collector_tui.services.casework import activities, settlements
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.supervision import decisions
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.commands import CaseCommands
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.case_requests import (
    LegalRequestForm,
    RouteForm,
    SettlementRequestForm,
)
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.help import help_sections
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import NOW, Seeded

NEW_KEYS = {"s": "settle", "e": "legal", "o": "route"}


def count(seeded: Seeded, model: type[SQLModel], case_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(model).where(model.case_id == case_id)  # type: ignore[attr-defined]
    with seeded.store.read() as session:
        return int(session.exec(statement).one())


def case_row(seeded: Seeded, case_id: uuid.UUID) -> Case:
    with seeded.store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)
        return case


def notes_of(seeded: Seeded, case_id: uuid.UUID) -> list[str]:
    with seeded.store.read() as session:
        return [
            note
            for note in session.exec(select(Activity.note).where(Activity.case_id == case_id))
            if note
        ]


def notifications(app: CollectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def error_of(app: CollectorApp, field: str) -> str | None:
    return app.screen.query_one(f"#field-{field}", FormField).error


def value_of(app: CollectorApp, widget_id: str) -> str:
    return app.screen.query_one(f"#{widget_id}", Input).value


def status_panel(app: CollectorApp) -> str:
    return rendered(app.screen.query_one("#status-panel", Static))


async def open_case(pilot: Pilot[None], app: CollectorApp, case_id: uuid.UUID) -> CaseScreen:
    await login(pilot)
    app.screen.open_case(case_id)  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)
    return app.screen


async def press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def fill(app: CollectorApp, **values: str) -> None:
    """Put text in the form's inputs at once (each typed key costs time; the main paths type)."""
    for widget_id, value in values.items():
        app.screen.query_one(f"#{widget_id}", Input).value = value


def set_limit(seeded: Seeded, username: str, pct: int) -> None:
    with seeded.store.write() as session:
        settlements.set_settlement_limit(
            session=session,
            now=NOW,
            actor=seeded.users["sam"],
            user_id=seeded.users[username].user_id,
            limit_pct=pct,
        )


async def confirm(pilot: Pilot[None], app: CollectorApp, key: str = "y") -> str:
    """Answer the confirmation a consequential save asks; its question is returned."""
    assert isinstance(app.screen, ConfirmScreen), app.screen
    question = rendered(app.screen.query_one(".dialog-title", Static))
    await press(pilot, key)
    return question


# -- keys, help and palette -----------------------------------------------------------------------


def test_the_new_keys_have_ids_tooltips_and_palette_entries() -> None:
    bindings = {b.key: b for b in CaseScreen.BINDINGS if isinstance(b, Binding)}
    assert {key: bindings[key].action for key in NEW_KEYS} == NEW_KEYS
    assert all(bindings[key].id and bindings[key].tooltip for key in NEW_KEYS)
    # No key of the case screen is bound twice, nor taken from the app's.
    assert len(bindings) == len(CaseScreen.BINDINGS)
    assert not set(bindings) & {b.key for b in CollectorApp.BINDINGS if isinstance(b, Binding)}
    case_section = next(keys for title, keys in help_sections(CaseScreen) if title == "Case")
    assert {b.key for b in case_section if isinstance(b, Binding)} >= set(NEW_KEYS)
    assert set(NEW_KEYS.values()) <= {command.action for command in CaseCommands.COMMANDS_LIST}
    assert all(hasattr(CaseScreen, f"action_{action}") for action in NEW_KEYS.values())


# -- settlements ----------------------------------------------------------------------------------


def test_settlement_within_the_agents_limit_is_agreed_and_the_promise_recorded(
    demo: Seeded,
) -> None:
    case_id = demo.cases["REF-1001"]  # balance 12,345.00 CNY
    set_limit(demo, "alice", 20)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "s")
        assert isinstance(app.screen, SettlementRequestForm)
        await type_text(pilot, "11,000")
        await pilot.pause()
        discount = rendered(app.screen.query_one("#settlement-discount", Static))
        assert "1,345.00 CNY" in discount and "10.9%" in discount
        await press(pilot, "tab")
        await pilot.press("plus", "7")  # a week from today, 2026-11-20 in Shanghai
        await press(pilot, "tab")
        await type_text(pilot, "lump sum")
        await press(pilot, "ctrl+s")
        question = await confirm(pilot, app)
        assert "for 11,000.00 CNY by 2026-11-27" in question
        assert isinstance(app.screen, CaseScreen)
        assert "Settlement agreed; promise recorded." in notifications(app)
        assert "11,000.00 CNY due 2026-11-27" in status_panel(app)

    drive(app, scenario)
    with demo.store.read() as session:
        settlement = session.exec(select(Settlement).where(Settlement.case_id == case_id)).one()
        promise = session.get(Promise, settlement.promise_id)
        assert promise is not None
        assert (promise.amount, promise.due_date) == (1_100_000, date(2026, 11, 27))
    assert settlement.status == "approved"
    assert (settlement.amount, settlement.note) == (1_100_000, "lump sum")
    assert case_row(demo, case_id).routed_reason is None


def test_settlement_above_the_limit_waits_for_a_supervisor_after_bad_input(demo: Seeded) -> None:
    case_id = demo.cases["REF-1002"]  # balance 3,200.50 CNY; alice's limit is 0%
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "s")
        assert isinstance(app.screen, SettlementRequestForm)
        # Nothing typed: both required fields say so.
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, SettlementRequestForm)
        assert error_of(app, "amount") == "enter an amount"
        assert "enter a date" in (error_of(app, "due_date") or "")
        # Not below the balance, and a date in the past.
        fill(app, amount="3200.50", due_date="2026-11-19")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, SettlementRequestForm)
        assert "less than the balance" in (error_of(app, "amount") or "")
        assert "in the past" in (error_of(app, "due_date") or "")
        assert (value_of(app, "amount"), value_of(app, "due_date")) == ("3200.50", "2026-11-19")
        label = app.screen.query_one("#error-amount")
        assert label.display and label.region.y > app.screen.query_one("#amount").region.y
        assert count(demo, Settlement, case_id) == 0
        # Fixed: 2,000 of 3,200.50 is 37.5% off, above a 0% limit.
        fill(app, amount="2,000", due_date="2026-11-30")
        app.screen.query_one("#due_date", Input).focus()
        await press(pilot, "enter")  # enter in a field saves too
        await confirm(pilot, app)
        assert isinstance(app.screen, CaseScreen)
        assert "Settlement above your limit: sent to a supervisor for approval." in (
            notifications(app)
        )
        assert "settlement approval" in status_panel(app)

    drive(app, scenario)
    with demo.store.read() as session:
        settlement = session.exec(select(Settlement).where(Settlement.case_id == case_id)).one()
    assert (settlement.status, settlement.amount) == ("pending", 200_000)
    assert settlement.promise_id is None
    assert count(demo, Promise, case_id) == 0
    assert case_row(demo, case_id).routed_reason == decisions.SETTLEMENT_ROUTED


def test_a_stale_settlement_is_refused_clearly_and_the_input_kept(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "s")
        fill(app, amount="9,000", due_date="2026-12-01")
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
        await press(pilot, "ctrl+s")
        await confirm(pilot, app)
        assert isinstance(app.screen, SettlementRequestForm)
        general = rendered(app.screen.query_one("#form-error", Static))
        assert "changed by someone else" in general and "your input is kept" in general
        assert (value_of(app, "amount"), value_of(app, "due_date")) == ("9,000", "2026-12-01")
        assert count(demo, Settlement, case_id) == 0
        # The case was read again meanwhile: saving now goes through.
        await press(pilot, "ctrl+s")
        await confirm(pilot, app)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        status = session.exec(select(Settlement.status).where(Settlement.case_id == case_id)).one()
    assert status == "pending"


# -- legal and routing ----------------------------------------------------------------------------


def test_legal_request_needs_grounds_then_routes_the_case(demo: Seeded) -> None:
    case_id = demo.cases["REF-1003"]
    notes_before = notes_of(demo, case_id)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "e")
        assert isinstance(app.screen, LegalRequestForm)
        await type_text(pilot, "   ")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, LegalRequestForm)
        assert error_of(app, "grounds") == "say why legal action is warranted"
        assert case_row(demo, case_id).routed_reason is None
        await type_text(pilot, "has assets")
        await press(pilot, "ctrl+s")
        # "n" says no: nothing is saved and the form is back with the grounds typed.
        assert "Ask for legal action on" in await confirm(pilot, app, "n")
        assert isinstance(app.screen, LegalRequestForm)
        assert case_row(demo, case_id).routed_reason is None
        await press(pilot, "ctrl+s")
        await confirm(pilot, app)
        assert isinstance(app.screen, CaseScreen)
        assert "Legal action requested: the case waits for a supervisor." in notifications(app)
        assert decisions.LEGAL_REQUEST in status_panel(app)
        # Once with the supervisors, the agent is told so instead of getting another form.
        await press(pilot, "o")
        assert isinstance(app.screen, CaseScreen)
        assert any("already with the supervisors" in note for note in notifications(app))

    drive(app, scenario)
    assert case_row(demo, case_id).routed_reason == decisions.LEGAL_REQUEST
    added = [n for n in notes_of(demo, case_id) if n not in notes_before]
    assert added == ["Legal escalation requested: has assets"]


def test_route_to_a_supervisor_with_a_reason(demo: Seeded) -> None:
    case_id = demo.cases["REF-2001"]
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "o")
        assert isinstance(app.screen, RouteForm)
        await press(pilot, "enter")  # enter saves too: nothing typed yet
        assert error_of(app, "reason") == "say why a supervisor should look at it"
        await type_text(pilot, "wants a manager")
        await press(pilot, "enter")
        # "Yes" has the focus: enter confirms.
        assert "Send " in await confirm(pilot, app, "enter")
        assert isinstance(app.screen, CaseScreen)
        assert any("Sent to a supervisor" in note for note in notifications(app))
        assert "wants a manager" in status_panel(app)

    drive(app, scenario)
    assert case_row(demo, case_id).routed_reason == "wants a manager"
    assert "Routed to a supervisor: wants a manager" in notes_of(demo, case_id)


# -- the demo database ----------------------------------------------------------------------------


def test_the_demo_gives_the_supervisors_settlements_and_requests_to_decide(tmp_path: Path) -> None:
    store = bootstrap.open_store(fresh_demo_copy(tmp_path))
    try:
        with store.read() as session:
            sam = accounts.get_actor(session=session, username="sam")
            waiting = settlements.pending_settlements(session=session, actor=sam)
            routed = decisions.routed_cases(session=session, now=DEMO_NOW, actor=sam)
            agreed = [
                view
                for row in routed.rows
                for view in settlements.case_settlements(
                    session=session, actor=sam, case_id=row.case_id
                )
            ]
            approved = session.exec(select(Settlement).where(Settlement.status == "approved")).all()
    finally:
        store.dispose()
    # Above bob's limit: waiting for approval (v), the case routed (o); its date still ahead.
    assert [(v.requested_by, v.status) for v in waiting] == [("bob", "pending")]
    assert waiting[0].due_date > DEMO_NOW.date() and waiting[0].discount_pct > waiting[0].limit_pct
    reasons = {row.routed_reason for row in routed.rows}
    assert {decisions.SETTLEMENT_ROUTED, decisions.LEGAL_REQUEST} <= reasons
    assert [v.status for v in agreed] == ["pending"]
    # Within alice's limit: agreed at once, the promise recorded.
    assert len(approved) == 1 and approved[0].promise_id is not None
