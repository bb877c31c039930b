"""The supervisor's screen with real keys: reassigning, auto-balancing, decisions, the audit trail;
an agent refused; an agent's save on a case reassigned meanwhile; snapshots at 80x24 and 120x40."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from sqlmodel import col, func, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, SelectionList, Static, TextArea

from collector_tui.models import Activity, Assignment, AuditEvent, Case, Settlement
from collector_tui.services.casework import settlements
from collector_tui.services.supervision import decisions
from collector_tui.services.supervision.assignment import assign_cases
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.audit import AuditScreen
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.screens.supervision_forms import AssignForm, BalanceForm, DecisionForm
from collector_tui.tui.screens.supervisor import SupervisorQueueScreen, SupervisorScreen

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import NOW, Seeded

SIZES = [(80, 24), (120, 40)]


def owners(seeded: Seeded) -> dict[uuid.UUID, uuid.UUID | None]:
    with seeded.store.read() as session:
        return dict(session.exec(select(Case.id, Case.assigned_to_id)).all())


def browser(app: CollectorApp) -> DataTable[Any]:
    return app.screen.query_one("#browser-table", DataTable)


async def cursor_to(pilot: Pilot[None], app: CollectorApp, case_id: uuid.UUID) -> None:
    """Move the browser's cursor onto a case with the arrow keys."""
    table = browser(app)
    target = table.get_row_index(str(case_id))
    while table.cursor_row < target:
        await pilot.press("down")
    while table.cursor_row > target:
        await pilot.press("up")
    await pilot.pause()


def cell(app: CollectorApp, case_id: uuid.UUID, column: str) -> str:
    return str(browser(app).get_cell(str(case_id), column))


def unassign(seeded: Seeded, *refs: str) -> None:
    with seeded.store.write() as session:
        assign_cases(
            session=session,
            now=NOW,
            actor=seeded.users["sam"],
            case_ids=[seeded.cases[ref] for ref in refs],
            to_user_id=None,
            settings=seeded.settings,
            reason="new placements",
        )


def test_supervisor_reassigns_selected_cases_with_keys(demo: Seeded) -> None:
    alice, bob, sam = demo.users["alice"], demo.users["bob"], demo.users["sam"]
    moving = [demo.cases["REF-1002"], demo.cases["REF-1003"]]
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        workload = app.screen.query_one("#workload-table", DataTable)
        assert [key.value for key in workload.rows] == [
            str(alice.user_id),
            str(bob.user_id),
            "unassigned",
        ]
        assert str(workload.get_cell(str(alice.user_id), "open")) == "6"
        for case_id in moving:
            await cursor_to(pilot, app, case_id)
            await pilot.press("space")
        assert app.screen.selected == {str(c) for c in moving}  # type: ignore[attr-defined]
        assert cell(app, moving[0], "sel") == "●"

        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignForm)
        await pilot.press("enter")  # open the list of agents
        await pilot.press("down", "down", "enter")  # past alice, onto bob
        await pilot.pause()
        assert app.screen.query_one("#agent", Select).value == str(bob.user_id)
        await pilot.press("tab")
        await type_text(pilot, "alice on leave")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(app.screen, SupervisorScreen)
        assert all(cell(app, case_id, "agent") == "bob" for case_id in moving)
        assert cell(app, moving[0], "sel") == " "
        assert str(workload.get_cell(str(bob.user_id), "open")) == "3"
        notes = [str(n.message) for n in app._notifications]
        assert any("Moved 2 of 2 case(s) to Bob Miller" in n for n in notes)

        # The audit trail of one of them, with `h`.
        await cursor_to(pilot, app, moving[0])
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        trail = app.screen.query_one("#audit-table", DataTable)
        first = [str(c) for c in trail.get_row_at(0)]
        assert first[1] == "sam" and first[2] == "case assign"
        assert "assigned_to_id: alice→bob" in first[3] and "alice on leave" in first[3]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)

    drive(app, scenario)

    found = owners(demo)
    assert [found[case_id] for case_id in moving] == [bob.user_id, bob.user_id]
    with demo.store.read() as session:
        history = session.exec(select(Assignment).where(col(Assignment.case_id).in_(moving))).all()
        events = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "assign",
                col(AuditEvent.entity_id).in_([str(c) for c in moving]),
            )
        ).all()
    assert {(h.from_user_id, h.to_user_id, h.moved_by_id, h.reason) for h in history} == {
        (alice.user_id, bob.user_id, sam.user_id, "alice on leave")
    }
    assert len(history) == 2 and len(events) == 2
    assert {e.user_id for e in events} == {sam.user_id}


def test_supervisor_balances_the_unassigned_cases_with_keys(demo: Seeded) -> None:
    alice, bob, sam = demo.users["alice"], demo.users["bob"], demo.users["sam"]
    pool = ["REF-1003", "REF-1004", "REF-1005"]
    unassign(demo, *pool)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        workload = app.screen.query_one("#workload-table", DataTable)
        assert str(workload.get_cell("unassigned", "open")) == "3"
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BalanceForm)
        choices = app.screen.query_one("#agents", SelectionList)
        assert set(choices.selected) == {str(alice.user_id), str(bob.user_id)}
        # The reason has the focus: its spaces are spaces, never a tick taken off an agent.
        assert app.screen.focused is app.screen.query_one("#reason")
        await type_text(pilot, "new week monday")
        assert set(choices.selected) == {str(alice.user_id), str(bob.user_id)}
        # Ticked and unticked agents differ by text, not only by colour.
        await pilot.press("tab", "space")
        await settle(pilot)
        assert set(choices.selected) == {str(bob.user_id)}
        prompts = [str(choices.get_option_at_index(i).prompt) for i in range(2)]
        assert prompts[0].startswith("[ ] Alice") and prompts[1].startswith("[x] Bob")
        preview = rendered(app.screen.query_one("#balance-preview", Static))
        assert "Bob Miller gets 3" in preview
        await pilot.press("space")
        await settle(pilot)
        preview = rendered(app.screen.query_one("#balance-preview", Static))
        # The service's own plan: bob holds 1 open case and alice 3, so bob gets 2 of the 3.
        assert "Alice Wang gets 1" in preview and "Bob Miller gets 2" in preview
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Nothing moves before the supervisor has seen the plan once more and said yes.
        assert isinstance(app.screen, ConfirmScreen)
        assert "Bob Miller gets 2" in rendered(app.screen.query_one(".dialog-hint", Static))
        assert str(workload.get_cell("unassigned", "open")) == "3"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        assert str(workload.get_cell("unassigned", "open")) == "0"
        open_counts = [
            int(str(workload.get_cell(str(agent.user_id), "open"))) for agent in (alice, bob)
        ]
        assert sum(open_counts) == 7 and abs(open_counts[0] - open_counts[1]) <= 1

    drive(app, scenario)

    found = owners(demo)
    spread = Counter(found[demo.cases[ref]] for ref in pool)
    assert set(spread) <= {alice.user_id, bob.user_id} and sum(spread.values()) == 3
    # Alice held 3 open cases and bob 1: bob evens out first.
    assert spread[bob.user_id] >= 2
    with demo.store.read() as session:
        history = session.exec(
            select(Assignment).where(
                col(Assignment.case_id).in_([demo.cases[ref] for ref in pool]),
                col(Assignment.from_user_id).is_(None),
            )
        ).all()
        balance = session.exec(select(AuditEvent).where(AuditEvent.entity == "workload")).one()
    reasons = {(h.moved_by_id, h.reason) for h in history}
    assert reasons == {(sam.user_id, "auto-balance: new week monday")}
    assert len(history) == 3
    assert balance.user_id == sam.user_id and balance.after["cases"] == 3


def test_supervisor_escalates_a_routed_case_to_legal(demo: Seeded) -> None:
    case_id = demo.cases["REF-1004"]
    with demo.store.write() as session:
        decisions.request_legal_escalation(
            session=session,
            now=NOW,
            actor=demo.users["alice"],
            case_id=case_id,
            settings=demo.settings,
            reason="ignores every letter",
        )
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("o")  # only the cases routed to supervisors
        await settle(pilot)
        assert [key.value for key in browser(app).rows] == [str(case_id)]
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, DecisionForm)
        await pilot.press("ctrl+s")  # no reason: refused next to the field
        await settle(pilot)
        assert isinstance(app.screen, DecisionForm)
        await type_text(pilot, "court claim")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        assert browser(app).row_count == 0  # no longer waiting for a supervisor

    drive(app, scenario)
    with demo.store.read() as session:
        case = session.get(Case, case_id)
    assert (case.status, case.routed_reason) == ("legal", None)


def test_an_agent_is_refused_the_supervisor_screen_and_other_agents_cases(demo: Seeded) -> None:
    bobs_case = demo.cases["REF-9001"]
    before = owners(demo)
    app = build_app(demo, "alice")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        app.push_screen(SupervisorScreen())
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        notes = [str(n.message) for n in app._notifications]
        assert "The supervisor screen is for supervisors." in notes
        # Bob's case cannot be opened, nor found.
        app.screen.open_case(bobs_case)  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert any("is not assigned to you" in str(n.message) for n in app._notifications)
        await pilot.press("slash")
        await settle(pilot)
        await type_text(pilot, "REF-9001")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#search-results", DataTable).row_count == 0
        await pilot.press("escape")
        await settle(pilot)
        # Nor its history.
        app.push_screen(AuditScreen(bobs_case))
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)

    drive(app, scenario)
    assert owners(demo) == before


@pytest.mark.parametrize("meanwhile", ["moved away", "moved and back"])
def test_an_agents_contact_on_a_case_reassigned_meanwhile_is_refused_and_kept(
    demo: Seeded, meanwhile: str
) -> None:
    case_id = demo.cases["REF-1001"]
    alice, bob, sam = demo.users["alice"], demo.users["bob"], demo.users["sam"]
    with demo.store.read() as session:
        before = session.exec(select(func.count()).where(Activity.case_id == case_id)).one()
    app = build_app(demo, "alice")

    def move(to: uuid.UUID) -> None:
        with demo.store.write() as session:
            assign_cases(session=session, now=NOW, actor=sam, case_ids=[case_id],
                         to_user_id=to, settings=demo.settings, reason="cover")  # fmt: skip

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.screen.open_case(case_id)  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm)
        app.screen.query_one("#disposition", Select).value = "no_answer"
        app.screen.query_one("#note", TextArea).load_text("rang twice, no answer")
        # Meanwhile the supervisor's app (another unit of work on the same file) moves it.
        move(bob.user_id)
        if meanwhile == "moved and back":
            move(alice.user_id)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm)
        message = rendered(app.screen.query_one("#form-error"))
        if meanwhile == "moved away":
            assert "is not assigned to you" in message
        else:
            assert "changed by someone else" in message and "input is kept" in message
        assert app.screen.query_one("#note", TextArea).text == "rang twice, no answer"

    drive(app, scenario)
    with demo.store.read() as session:
        after = session.exec(select(func.count()).where(Activity.case_id == case_id)).one()
    assert after == before  # nothing written over the supervisor's move


def test_the_supervisors_own_queue_and_back(demo: Seeded) -> None:
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorQueueScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)

    drive(app, scenario)


def test_the_supervisor_opens_reports_and_import_with_keys(demo: Seeded) -> None:
    from collector_tui.tui.screens.imports import ImportScreen
    from collector_tui.tui.screens.reports import ReportsScreen

    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        for key, screen in (("g", ReportsScreen), ("i", ImportScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, SupervisorScreen)

    drive(app, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_supervisor_screen(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    unassign(demo, "REF-1005")

    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("down", "space")
        await settle(pilot)
        # DataTable settles its column widths when idle: give it that moment before the shot
        # (under load the header was once caught a frame behind its rows).
        await pilot.pause(0.2)
        await settle(pilot)

    assert snap_compare(build_app(demo, "sam"), terminal_size=size, run_before=run_before)


def test_supervisor_approves_a_settlement_with_keys(demo: Seeded) -> None:
    case_id = demo.cases["REF-1003"]
    with demo.store.write() as session:
        asked = settlements.request_settlement(
            session=session,
            now=NOW,
            actor=demo.users["alice"],
            case_id=case_id,
            amount=6_000_000,
            due_date=NOW.date(),
            settings=demo.settings,
            note="the owner pays from savings",
        )
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert cell(app, case_id, "routed") == "settlement approval"
        await pilot.press("v")
        await settle(pilot)
        terms = rendered(app.screen.query_one(".settlement-terms"))
        assert "60,000.00 CNY" in terms and "31.8% off, limit 0%" in terms
        await pilot.press("tab")
        await type_text(pilot, "ok")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        assert browser(app).row_count == 0

    drive(app, scenario)
    with demo.store.read() as session:
        settlement = session.get(Settlement, asked.id)
        case = session.get(Case, case_id)
    assert (settlement.status, settlement.decision_note) == ("approved", "ok")
    assert (case.status, case.routed_reason) == ("promised", None)


def test_help_and_palette_list_every_supervisor_key() -> None:
    from collector_tui.tui.commands import SupervisorCommands
    from collector_tui.tui.screens.help import help_sections

    actions = {command.action for command in SupervisorCommands.COMMANDS_LIST}
    keys = {binding.action for binding in SupervisorScreen.BINDINGS}  # type: ignore[union-attr]
    assert keys <= actions
    title, bindings = help_sections(SupervisorScreen)[0]
    assert title == "Supervisor" and len(bindings) == len(SupervisorScreen.BINDINGS)
    assert help_sections(QueueScreen)[0][0] == "Queue"
