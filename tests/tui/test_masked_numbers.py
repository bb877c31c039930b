"""Numbers masked for roles that do not dial (config `unmasked_roles`): a supervisor sees the
contacts panel masked until `R` reveals it, which the audit trail records; an agent sees them
in full and is not offered the key. The timeline (a list) shows numbers masked to everyone."""

from __future__ import annotations

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Static

from collector_tui.models import AuditEvent
from collector_tui.tui.screens.case import CaseScreen

from .conftest import build_app, drive, login, rendered, settle
from .seed import Seeded


def _contacts(app: object) -> str:
    return rendered(app.screen.query_one("#contacts-panel", Static))  # type: ignore[attr-defined]


def _reveals(demo: Seeded) -> list[AuditEvent]:
    with demo.store.read() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == "reveal")).all())


def test_a_supervisor_reveals_the_numbers_and_it_is_audited(demo: Seeded) -> None:
    app = build_app(demo, username="sam")
    case_id = demo.cases["REF-1002"]

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.screen.open_case(case_id)  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        shown = _contacts(app)
        assert "139****5678" in shown and "139 1234 5678" not in shown
        assert "R numbers" in str(app.screen.query_one("#contacts-panel").border_title)
        assert app.screen.check_action("reveal_numbers", ()) is True
        await pilot.press("R")
        await settle(pilot)
        assert "139 1234 5678" in _contacts(app)
        assert app.screen.check_action("reveal_numbers", ()) is False
        assert "R numbers" not in str(app.screen.query_one("#contacts-panel").border_title)

    drive(app, scenario)
    reveals = _reveals(demo)
    assert len(reveals) == 1 and reveals[0].entity == "phone"


def test_an_agent_sees_numbers_in_full_and_no_reveal(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.screen.open_case(demo.cases["REF-1002"])  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert "139 1234 5678" in _contacts(app)
        assert app.screen.check_action("reveal_numbers", ()) is False
        await pilot.press("R")
        await settle(pilot)

    drive(app, scenario)
    assert _reveals(demo) == []
