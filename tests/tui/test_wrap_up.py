"""Leaving a case worked from the queue with nothing logged during the visit: the team's wrap-up
rule (`wrap_up` in the settings) asks, refuses or lets the agent go. Keys go in one burst: keys
typed past the question must never answer it, nor reach the case screen underneath."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import func, select
from textual.pilot import Pilot

from collector_tui.config import load_settings
from collector_tui.models import Activity, AuditEvent, FollowUp, Payment
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.screens.supervisor import SupervisorScreen

from .conftest import build_app, burst, drive, login, settle
from .seed import Seeded

FIRST = "REF-1002"  # the top of alice's queue (its callback is due)


def with_rule(seeded: Seeded, rule: str) -> Seeded:
    return replace(seeded, settings=replace(seeded.settings, wrap_up=rule))


def activities_of(seeded: Seeded, case_id: uuid.UUID) -> list[str]:
    with seeded.store.read() as session:
        return [
            note or ""
            for note in session.exec(select(Activity.note).where(Activity.case_id == case_id))
        ]


def writes(seeded: Seeded) -> int:
    """Every change the app makes leaves an audit row: the count says whether anything was saved."""
    with seeded.store.read() as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def payments(seeded: Seeded) -> int:
    with seeded.store.read() as session:
        return int(session.exec(select(func.count()).select_from(Payment)).one())


def notifications(app: CollectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def ref_of(app: CollectorApp) -> str:
    screen = app.screen
    assert isinstance(screen, CaseScreen) and screen.case_file is not None
    return screen.case_file.client_ref


async def from_queue(pilot: Pilot[None], app: CollectorApp) -> CaseScreen:
    """Log in and open the top case of the queue with enter."""
    await login(pilot)
    assert isinstance(app.screen, QueueScreen)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)
    assert ref_of(app) == FIRST
    return app.screen


def test_warn_asks_before_leaving_and_keys_typed_ahead_never_answer(demo: Seeded) -> None:
    seeded = with_rule(demo, "warn")
    app = build_app(seeded)
    before: list[int] = []

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await from_queue(pilot, app)
        before.append(writes(seeded))
        # `y` right behind escape was typed before the question: it answers nothing, and it
        # must not reach the case screen either (there it would open the payment form).
        await burst(pilot, "escape", "y")
        assert isinstance(app.screen, ConfirmScreen)
        assert str(app.screen.question) == "Leave without a wrap-up?"
        await burst(pilot, "n")  # stay
        assert app.screen is case_screen
        await burst(pilot, "escape")
        assert isinstance(app.screen, ConfirmScreen)
        await burst(pilot, "escape")  # escape on the question stays too
        assert app.screen is case_screen
        # `n` (next case) asks the same; yes moves on to the next case.
        await burst(pilot, "n")
        assert isinstance(app.screen, ConfirmScreen)
        await burst(pilot, "y")
        assert app.screen is case_screen  # save & next shows the next case in place
        assert ref_of(app) != FIRST
        assert seeded.cases[FIRST] in app.skipped
        # The next case came from the queue too: back asks, yes leaves to the queue.
        await burst(pilot, "escape")
        assert isinstance(app.screen, ConfirmScreen)
        await burst(pilot, "y")
        assert isinstance(app.screen, QueueScreen)

    drive(app, scenario)
    assert writes(seeded) == before[0]  # leaving wrote nothing
    assert payments(seeded) == 0


def test_require_refuses_to_leave_and_says_what_to_log(demo: Seeded) -> None:
    seeded = with_rule(demo, "require")
    app = build_app(seeded)
    before: list[int] = []

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await from_queue(pilot, app)
        before.append(writes(seeded))
        await burst(pilot, "escape", "n", "escape")
        assert app.screen is case_screen  # no question, no leaving
        assert seeded.cases[FIRST] not in app.skipped
        message = (
            "Log what happened before leaving this case: a contact (c), a note (t), "
            "a follow-up (f) or a promise (p)."
        )
        assert message in notifications(app)
        # Once something is logged, the case lets go.
        await burst(pilot, "t", "left a message with the receptionist", "ctrl+s", "escape")
        assert isinstance(app.screen, QueueScreen)

    drive(app, scenario)
    assert activities_of(seeded, seeded.cases[FIRST])[-1:] == [
        "left a message with the receptionist"
    ]
    assert writes(seeded) > before[0]


def test_allow_leaves_at_once(demo: Seeded) -> None:
    seeded = with_rule(demo, "allow")
    app = build_app(seeded)
    before: list[int] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await from_queue(pilot, app)
        before.append(writes(seeded))
        await burst(pilot, "n")
        assert isinstance(app.screen, CaseScreen) and ref_of(app) != FIRST
        await burst(pilot, "escape")
        assert isinstance(app.screen, QueueScreen)

    drive(app, scenario)
    assert writes(seeded) == before[0]


@pytest.mark.parametrize("rule", ["warn", "require"])
def test_something_logged_in_the_visit_leaves_without_a_question(demo: Seeded, rule: str) -> None:
    seeded = with_rule(demo, rule)
    app = build_app(seeded)

    async def scenario(pilot: Pilot[None]) -> None:
        await from_queue(pilot, app)
        # A follow-up, saved, then next case: all typed in one go.
        await burst(pilot, "f", "2026-11-21", "tab", "10:00", "tab", "after payday", "ctrl+s", "n")
        assert isinstance(app.screen, CaseScreen) and ref_of(app) != FIRST

    drive(app, scenario)
    with seeded.store.read() as session:
        reasons = session.exec(
            select(FollowUp.reason).where(FollowUp.case_id == seeded.cases[FIRST])
        ).all()
    assert "after payday" in reasons


def test_a_case_found_by_search_is_left_without_a_question(demo: Seeded) -> None:
    seeded = with_rule(demo, "require")
    app = build_app(seeded)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await burst(pilot, "slash", "REF-1003", "enter")  # search
        await burst(pilot, "enter")  # open the case found
        assert isinstance(app.screen, CaseScreen) and ref_of(app) == "REF-1003"
        await burst(pilot, "escape")
        assert isinstance(app.screen, QueueScreen)

    drive(app, scenario)


def test_a_supervisor_browsing_a_case_is_never_asked(demo: Seeded) -> None:
    seeded = with_rule(demo, "require")
    app = build_app(seeded, username="sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        app.screen.open_case(seeded.cases["REF-1001"])
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        await burst(pilot, "escape")
        assert isinstance(app.screen, SupervisorScreen)

    drive(app, scenario)


def test_wrap_up_is_read_from_the_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('wrap_up = "require"\n', encoding="utf-8")
    monkeypatch.delenv("COLLECTOR_WRAP_UP", raising=False)
    assert load_settings(config, use_environment=False).wrap_up == "require"
    assert load_settings(None, use_environment=False).wrap_up == "warn"
    monkeypatch.setenv("COLLECTOR_WRAP_UP", "allow")
    assert load_settings(config).wrap_up == "allow"
    config.write_text('wrap_up = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="wrap_up must be one of require, warn, allow"):
        load_settings(config, use_environment=False)


def test_logging_out_from_the_palette_asks_for_the_wrap_up_too(demo: Seeded) -> None:
    from collector_tui.tui.screens.login import LoginScreen

    seeded = with_rule(demo, "warn")
    app = build_app(seeded)

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await from_queue(pilot, app)
        await burst(pilot, "ctrl+p", "Log out")
        await settle(pilot)
        await burst(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert str(app.screen.question) == "Leave without a wrap-up?"
        await burst(pilot, "n")
        assert app.screen is case_screen and app.actor is not None
        await burst(pilot, "ctrl+p", "Log out")
        await settle(pilot)
        await burst(pilot, "enter")
        await settle(pilot)
        await burst(pilot, "y")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.actor is None

    drive(app, scenario)


def test_quitting_asks_for_the_wrap_up_and_require_keeps_the_app_open(demo: Seeded) -> None:
    seeded = with_rule(demo, "require")
    app = build_app(seeded)

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await from_queue(pilot, app)
        await burst(pilot, "ctrl+q")
        await settle(pilot)
        assert app.is_running and app.screen is case_screen
        assert any(m.startswith("Log what happened before leaving") for m in notifications(app))
        await burst(pilot, "t", "debtor hung up at once", "ctrl+s")
        await settle(pilot)
        await burst(pilot, "ctrl+q")
        await settle(pilot, 2)
        assert not app.is_running

    drive(app, scenario)
    assert activities_of(seeded, seeded.cases[FIRST])[-1:] == ["debtor hung up at once"]
