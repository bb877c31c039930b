"""Corrections from the case screen with real keys: post a payment (y), lift a hold or end a
dispute (u), void a contact (v), withdraw a promise or cancel a plan (w), reschedule a plan (L),
move a follow-up (m). Each types its reason in one burst, then saves, and checks the screen and
the database."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlmodel import select
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Input, Static

from collector_tui.models import Activity, Case, FollowUp, Hold, Payment, PaymentPlan, Promise
from collector_tui.services.casework import activities, holds, promises
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.commands import CaseCommands
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.corrections import (
    CancelPlanForm,
    MoveFollowUpForm,
    PaymentForm,
    ReleaseHoldForm,
    ReschedulePlanForm,
    VoidContactForm,
    WithdrawPromiseForm,
)
from collector_tui.tui.screens.help import help_sections
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app, drive, login, rendered, settle
from .seed import NOW, Seeded

NEW_KEYS = {
    "y": "payment",
    "u": "lift_hold",
    "v": "void_contact",
    "w": "withdraw",
    "L": "reschedule_plan",
    "m": "move_follow_up",
}
NAMES = {" ": "space", "-": "minus", ".": "full_stop", ",": "comma", ":": "colon", "/": "slash",
         ";": "semicolon", "'": "apostrophe", "+": "plus"}  # fmt: skip


def burst(text: str) -> list[str]:
    return [NAMES.get(char, char) for char in text]


async def open_case(pilot: Pilot[None], app: CollectorApp, case_id: uuid.UUID) -> CaseScreen:
    await login(pilot)
    app.screen.open_case(case_id)  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)
    return app.screen


async def press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


_TOLD: dict[int, list[str]] = {}


def notifications(app: CollectorApp) -> list[str]:
    """Everything the app told the user, kept (a notification on screen expires after a few
    seconds, which a loaded test machine can outlast)."""
    told = _TOLD.get(id(app))
    if told is None:
        told = _TOLD[id(app)] = []
        original = app.tell

        def tell(message: str, **kwargs: object) -> None:
            told.append(message)
            original(message, **kwargs)  # type: ignore[arg-type]

        app.tell = tell  # type: ignore[method-assign]
    return told


def build(seeded: Seeded, username: str = "alice") -> CollectorApp:
    app = build_app(seeded, username)
    notifications(app)
    return app


def error_of(app: CollectorApp, field: str) -> str | None:
    return app.screen.query_one(f"#field-{field}", FormField).error


def general_error(app: CollectorApp) -> str:
    return rendered(app.screen.query_one("#form-error", Static))


def row(seeded: Seeded, model: type, row_id: uuid.UUID) -> object:
    with seeded.store.read() as session:
        found = session.get(model, row_id)
        assert found is not None
        session.expunge(found)
        return found


def highlight(app: CollectorApp, predicate: object) -> None:
    timeline = app.screen.query_one("#timeline", Timeline)
    index = next(i for i, e in enumerate(timeline.entries) if predicate(e))  # type: ignore[operator]
    timeline.move_cursor(row=index)


# -- keys, help and palette -----------------------------------------------------------------------


def test_the_correction_keys_are_in_the_help_and_the_palette() -> None:
    bindings = {b.key: b for b in CaseScreen.BINDINGS if isinstance(b, Binding)}
    assert {key: bindings[key].action for key in NEW_KEYS} == NEW_KEYS
    assert all(bindings[key].id and bindings[key].tooltip for key in NEW_KEYS)
    assert len(bindings) == len(CaseScreen.BINDINGS)
    assert not set(bindings) & {b.key for b in CollectorApp.BINDINGS if isinstance(b, Binding)}
    case_section = next(keys for title, keys in help_sections(CaseScreen) if title == "Case")
    assert {b.key for b in case_section if isinstance(b, Binding)} >= set(NEW_KEYS)
    assert set(NEW_KEYS.values()) <= {command.action for command in CaseCommands.COMMANDS_LIST}


# -- payment --------------------------------------------------------------------------------------


def test_a_payment_posted_on_the_case_screen_pays_into_the_promise(demo: Seeded) -> None:
    case_id = demo.cases["REF-1002"]  # balance 3,200.50 CNY
    with demo.store.write() as session:
        promise_id = promises.create_promise(
            session=session,
            now=NOW,
            actor=demo.users["alice"],
            case_id=case_id,
            promise=PromiseInput(100_000, date(2026, 11, 25)),
            settings=demo.settings,
        )
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "y")
        assert isinstance(app.screen, PaymentForm)
        # Today in alice's zone (Shanghai) is already filled in.
        assert app.screen.query_one("#date", Input).value == "2026-11-20"
        await pilot.press(*burst("1,000"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert any("Payment posted: balance 2,200.50" in n for n in notifications(app)), (
            notifications(app)
        )

    drive(app, scenario)
    with demo.store.read() as session:
        payment = session.exec(select(Payment).where(Payment.case_id == case_id)).one()
    assert (payment.amount, payment.received_on) == (100_000, date(2026, 11, 20))
    kept = row(demo, Promise, promise_id)
    assert (kept.status, kept.paid_amount) == ("kept", 100_000)  # type: ignore[attr-defined]
    assert row(demo, Case, case_id).balance == 220_050  # type: ignore[attr-defined]


def test_a_bad_payment_keeps_the_form_open_and_writes_nothing(demo: Seeded) -> None:
    case_id = demo.cases["REF-1002"]
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "y")
        await pilot.press(*burst("99,999"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, PaymentForm)
        assert "balance" in (error_of(app, "amount") or "")
        assert app.screen.query_one("#amount", Input).value == "99,999"

    drive(app, scenario)
    with demo.store.read() as session:
        assert session.exec(select(Payment).where(Payment.case_id == case_id)).all() == []


# -- holds ----------------------------------------------------------------------------------------


def test_an_agent_lifts_a_hardship_hold_but_not_a_dispute(demo: Seeded) -> None:
    case_id = demo.cases["REF-1005"]  # a dispute hold since yesterday
    with demo.store.write() as session:
        hardship = holds.place_hold(
            session=session,
            now=NOW - timedelta(hours=1),
            actor=demo.users["alice"],
            case_id=case_id,
            kind="hardship",
            settings=demo.settings,
            reason="lost her job in October",
        )
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        highlight(app, lambda e: e.kind == "hold" and e.title.startswith("dispute"))
        await press(pilot, "u")
        assert isinstance(app.screen, ReleaseHoldForm)
        await pilot.press(*burst("verification sent"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ReleaseHoldForm)  # a supervisor's call
        assert "only a supervisor can lift a dispute hold" in general_error(app)
        await press(pilot, "escape")
        highlight(app, lambda e: e.kind == "hold" and e.title.startswith("hardship"))
        await press(pilot, "u")
        await pilot.press(*burst("short"))
        await press(pilot, "ctrl+s")
        assert "at least 10 characters" in (error_of(app, "reason") or "")
        app.screen.query_one("#reason", Input).value = ""
        await pilot.press(*burst("found a new job on Monday"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert "Hold lifted." in notifications(app)

    drive(app, scenario)
    assert row(demo, Hold, hardship).released_at == NOW  # type: ignore[attr-defined]
    with demo.store.read() as session:
        dispute = session.exec(
            select(Hold).where(Hold.case_id == case_id, Hold.kind == "dispute")
        ).one()
        notes = session.exec(select(Activity.note).where(Activity.case_id == case_id)).all()
    assert dispute.released_at is None
    assert "Hardship hold lifted: found a new job on Monday" in notes


def test_a_supervisor_ends_a_dispute_and_the_case_is_new_again(demo: Seeded) -> None:
    case_id = demo.cases["REF-1005"]
    app = build(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "u")
        assert isinstance(app.screen, ReleaseHoldForm)
        await pilot.press(*burst("receipt checked: not repaid"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert "Dispute ended: the case is new again." in notifications(app)

    drive(app, scenario)
    assert row(demo, Case, case_id).status == "new"  # type: ignore[attr-defined]
    with demo.store.read() as session:
        assert holds.active_holds(session=session, case_id=case_id) == []


# -- voiding a contact ----------------------------------------------------------------------------


def test_voiding_a_contact_strikes_it_through_and_moves_the_last_attempt_back(
    demo: Seeded,
) -> None:
    case_id = demo.cases["REF-1003"]
    with demo.store.write() as session:
        logged = activities.log_contact(
            session=session,
            now=NOW - timedelta(minutes=10),
            actor=demo.users["alice"],
            case_id=case_id,
            contact=ContactInput(disposition="no_answer"),
            settings=demo.settings,
        )
    assert row(demo, Case, case_id).last_attempt_at is not None  # type: ignore[attr-defined]
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        timeline = app.screen.query_one("#timeline", Timeline)
        assert timeline.entries[0].ref_id == logged.activity_id  # newest first, highlighted
        await press(pilot, "v")
        assert isinstance(app.screen, VoidContactForm)
        await pilot.press(*burst("wrong case: I called REF-1002"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert "Contact voided." in notifications(app)
        timeline = app.screen.query_one("#timeline", Timeline)
        voided = next(e for e in timeline.entries if e.ref_id == logged.activity_id)
        assert voided.voided and "voided" in voided.title
        index = timeline.entries.index(voided)
        cell = timeline.get_row_at(index)[-1]
        assert "strike" in str(cell.style) or any("strike" in str(s.style) for s in cell.spans)
        # A void cannot be voided: the key says so and opens nothing.
        highlight(app, lambda e: e.voids_id == logged.activity_id)
        await press(pilot, "v")
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        void = session.exec(select(Activity).where(Activity.voids_id == logged.activity_id)).one()
    assert "wrong case: I called REF-1002" in (void.note or "")
    case = row(demo, Case, case_id)
    assert case.last_attempt_at is None and case.status == "new"  # type: ignore[attr-defined]


def test_an_agent_cannot_void_an_old_contact(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]  # alice's right-party call three days ago
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        highlight(app, lambda e: e.kind == "contact")
        await press(pilot, "v")
        await pilot.press(*burst("logged on the wrong case"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, VoidContactForm)
        assert "only on the day it was logged" in general_error(app)

    drive(app, scenario)
    with demo.store.read() as session:
        assert session.exec(select(Activity).where(Activity.voids_id.is_not(None))).all() == []  # type: ignore[union-attr]


# -- promises and plans ---------------------------------------------------------------------------


def test_withdrawing_a_promise(demo: Seeded) -> None:
    case_id = demo.cases["REF-1003"]
    with demo.store.write() as session:
        promise_id = promises.create_promise(
            session=session,
            now=NOW,
            actor=demo.users["alice"],
            case_id=case_id,
            promise=PromiseInput(500_000, date(2026, 12, 1)),
            settings=demo.settings,
        )
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        highlight(app, lambda e: e.ref_id == promise_id)
        await press(pilot, "w")
        assert isinstance(app.screen, WithdrawPromiseForm)
        await pilot.press(*burst("debtor cannot pay on the 1st"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert "Promise withdrawn." in notifications(app)

    drive(app, scenario)
    assert row(demo, Promise, promise_id).status == "cancelled"  # type: ignore[attr-defined]
    assert row(demo, Case, case_id).status == "new"  # type: ignore[attr-defined]


def _plan(seeded: Seeded, case_id: uuid.UUID) -> uuid.UUID:
    with seeded.store.write() as session:
        return promises.create_plan(
            session=session,
            now=NOW,
            actor=seeded.users["alice"],
            case_id=case_id,
            plan=PlanInput(
                tuple(
                    PromiseInput(300_000, date(2026, 12, 1) + timedelta(days=31 * i))
                    for i in range(3)
                )
            ),  # fmt: skip
            settings=seeded.settings,
        )


def test_rescheduling_a_plan(demo: Seeded) -> None:
    case_id = demo.cases["REF-1003"]
    plan_id = _plan(demo, case_id)
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        highlight(app, lambda e: e.plan_id == plan_id)
        await press(pilot, "L")
        assert isinstance(app.screen, ReschedulePlanForm)
        # The rest of the old plan, in as many installments, is filled in.
        assert app.screen.query_one("#total", Input).value == "9,000.00"
        assert app.screen.query_one("#count", Input).value == "3"
        await press(pilot, "tab", "tab")
        await pilot.press(*burst("+14"))
        app.screen.query_one("#reason", Input).focus()
        await pilot.press(*burst("pays after the bonus in December"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert "Payment plan rescheduled." in notifications(app)

    drive(app, scenario)
    assert row(demo, PaymentPlan, plan_id).status == "cancelled"  # type: ignore[attr-defined]
    with demo.store.read() as session:
        pending = session.exec(
            select(Promise).where(Promise.case_id == case_id, Promise.status == "pending")
        ).all()
        notes = session.exec(select(Activity.note).where(Activity.case_id == case_id)).all()
    assert len(pending) == 3 and {p.plan_id for p in pending} != {plan_id}
    assert min(p.due_date for p in pending) == date(2026, 12, 4)
    assert sum(p.amount for p in pending) == 900_000
    assert any(n and str(plan_id) in n and "bonus" in n for n in notes)


def test_w_on_an_installment_cancels_its_plan(demo: Seeded) -> None:
    case_id = demo.cases["REF-1003"]
    plan_id = _plan(demo, case_id)
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        highlight(app, lambda e: e.plan_id == plan_id)
        await press(pilot, "w")
        assert isinstance(app.screen, CancelPlanForm)
        await pilot.press(*burst("pays it all at once"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    assert row(demo, PaymentPlan, plan_id).status == "cancelled"  # type: ignore[attr-defined]


# -- follow-ups -----------------------------------------------------------------------------------


def test_moving_the_follow_up(demo: Seeded) -> None:
    case_id = demo.cases["REF-1002"]  # an open follow-up, due an hour ago
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "m")
        assert isinstance(app.screen, MoveFollowUpForm)
        await pilot.press(*burst("+3"))
        await pilot.press("tab", *burst("10:00"))
        await pilot.press("tab", *burst("debtor travels until Monday"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert "Follow-up moved." in notifications(app)

    drive(app, scenario)
    with demo.store.read() as session:
        follow_up = session.exec(
            select(FollowUp).where(FollowUp.case_id == case_id, FollowUp.done_at.is_(None))  # type: ignore[union-attr]
        ).one()
    # 2026-11-23 10:00 in Shanghai.
    assert follow_up.due_at == datetime.fromisoformat("2026-11-23T02:00:00+00:00")


# -- the minimum reason ---------------------------------------------------------------------------


def test_a_legal_request_with_a_short_reason_is_refused_under_the_field(demo: Seeded) -> None:
    from collector_tui.tui.screens.case_requests import LegalRequestForm

    case_id = demo.cases["REF-1001"]
    app = build(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, app, case_id)
        await press(pilot, "e")
        assert isinstance(app.screen, LegalRequestForm)
        await pilot.press(*burst("sue him"))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, LegalRequestForm)
        assert "at least 10 characters (7 now)" in (error_of(app, "grounds") or "")

    drive(app, scenario)
    assert row(demo, Case, case_id).routed_reason is None  # type: ignore[attr-defined]
