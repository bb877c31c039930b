"""Reminders in the app: the case screen's M previews a reminder rendered for the case and queues
it after a yes (a refusal is shown, nothing written); the supervisor's outbox (n) lists it and a
send run (s) sends it, with real keys, checking the screen and the database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static

from collector_tui.config import DeliverySettings, Settings
from collector_tui.models import Activity, Case, Reminder
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.outbox import OutboxLoaded, OutboxScreen
from collector_tui.tui.screens.outbox_forms import CancelReminderForm, SettleReminderForm
from collector_tui.tui.screens.reminders import ReminderScreen
from collector_tui.tui.screens.supervisor import SupervisorScreen

from .conftest import build_app, burst, drive, login, rendered, settle
from .seed import NOW, Seeded

REF = "REF-1001"  # 王小明, language zh, an address in Shanghai, no SMS consent


def with_outbox(demo: Seeded, tmp_path: Path) -> Seeded:
    settings = Settings(delivery=DeliverySettings(outbox_dir=str(tmp_path / "outbox")))
    return replace(demo, settings=settings)


def reminders(seeded: Seeded) -> list[Reminder]:
    with seeded.store.read() as session:
        rows = list(session.exec(select(Reminder)).all())
        for row in rows:
            session.expunge(row)
        return rows


def notifications(app: CollectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def choose(app: CollectorApp, channel: str, template: str) -> int:
    screen = app.screen
    assert isinstance(screen, ReminderScreen)
    return next(
        index
        for index, choice in enumerate(screen.choices)
        if (choice.channel, choice.template) == (channel, template)
    )


def test_m_previews_a_letter_and_queues_it_after_a_yes(demo: Seeded, tmp_path: Path) -> None:
    seeded = with_outbox(demo, tmp_path)
    app = build_app(seeded)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.push_screen(CaseScreen(seeded.cases[REF]))
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, ReminderScreen)
        # The first choice is an SMS: this debtor gave no SMS consent.
        assert "no SMS consent" in rendered(app.screen.query_one("#reminder-message", Static))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReminderScreen) and reminders(seeded) == []
        downs = choose(app, "letter", "first_notice")
        await pilot.press(*(["down"] * downs))
        await settle(pilot)
        preview = rendered(app.screen.query_one("#reminder-preview", Static))
        assert "上海市浦东新区世纪大道100号" in preview and "王小明" in preview
        assert rendered(app.screen.query_one("#reminder-message", Static)) == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert any("Reminder queued: first_notice by letter" in n for n in notifications(app))
        [row] = reminders(seeded)
        assert (row.channel, row.template, row.status) == ("letter", "first_notice", "queued")

    drive(app, scenario)


def test_supervisor_outbox_send_run(demo: Seeded, tmp_path: Path) -> None:
    seeded = with_outbox(demo, tmp_path)
    app = build_app(seeded, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        assert app.screen.query_one("#outbox-table", DataTable).row_count == 0
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot, 12)
        assert isinstance(app.screen, OutboxScreen)
        report = app.screen.last_report
        assert report is not None and report.sent >= 1
        sent = [row for row in reminders(seeded) if row.status == "sent"]
        assert len(sent) == report.sent
        with seeded.store.read() as session:
            letters = session.exec(select(Activity).where(Activity.channel == "letter")).all()
            assert len(letters) == sum(1 for row in sent if row.channel == "letter")
        summary = rendered(app.screen.query_one("#outbox-summary", Static))
        assert f"sent {report.sent}" in summary
        await pilot.press("f")  # the sent list
        await settle(pilot)
        table = app.screen.query_one("#outbox-table", DataTable)
        assert table.row_count == report.sent
        assert "sent" in " ".join(str(cell) for cell in table.get_row_at(0))
        assert list((tmp_path / "outbox" / "batches").iterdir())

    drive(app, scenario)


def test_escape_leaves_the_preview_without_queueing(demo: Seeded, tmp_path: Path) -> None:
    seeded = with_outbox(demo, tmp_path)
    app = build_app(seeded)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.push_screen(CaseScreen(seeded.cases[REF]))
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        options = app.screen.query_one("#reminder-choices", OptionList)
        assert options.option_count >= 7
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and reminders(seeded) == []

    drive(app, scenario)


def _left_in_the_outbox(seeded: Seeded) -> None:
    """An e-mail a stopped run left uncertain and a letter queued, on REF-1001."""
    with seeded.store.write() as session:
        case = session.get(Case, seeded.cases[REF])
        assert case is not None
        for status, channel, key in (("uncertain", "email", "k-1"), ("queued", "letter", "k-2")):
            session.add(
                Reminder(
                    case_id=case.id,
                    debtor_id=case.debtor_id,
                    channel=channel,
                    template="reminder",
                    due_date=NOW.date(),
                    destination="wang@example.com" if channel == "email" else None,
                    subject="Reminder" if channel == "email" else None,
                    body="请尽快还款。",
                    status=status,
                    tries=1 if status == "uncertain" else 0,
                    idempotency_key=key,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )


def test_the_outbox_settles_an_uncertain_reminder_and_cancels_a_queued_one(
    demo: Seeded, tmp_path: Path
) -> None:
    seeded = with_outbox(demo, tmp_path)
    _left_in_the_outbox(seeded)
    app = build_app(seeded, "sam")

    def status(channel: str) -> str:
        return next(row.status for row in reminders(seeded) if row.channel == channel)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen) and app.screen.view_name == "due"
        await pilot.press("u")  # the queued letter is highlighted: not uncertain
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        assert "Only an uncertain reminder" in " ".join(notifications(app))
        await pilot.press("f", "f")  # sent, then failed (and uncertain)
        await settle(pilot)
        assert app.screen.view_name == "failed"
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, SettleReminderForm)
        await pilot.press("enter", "down", "enter")  # "Yes: record it sent"
        await settle(pilot)
        await burst(pilot, "tab", "SMTP log: accepted 09:14", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        assert status("email") == "sent"
        with seeded.store.read() as session:
            [activity] = session.exec(select(Activity).where(Activity.channel == "email")).all()
            assert "请尽快还款" in (activity.note or "")
        await pilot.press("f", "f")  # skipped, then due again
        await settle(pilot)
        assert app.screen.view_name == "due"
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, CancelReminderForm)
        await burst(pilot, "paid", "ctrl+s")  # too short for the audit trail
        await settle(pilot)
        assert isinstance(app.screen, CancelReminderForm)
        assert "at least 10 characters" in (app.screen.field("reason").error or "")
        assert status("letter") == "queued"
        await burst(pilot, " by phone this morning", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        assert status("letter") == "cancelled"
        with seeded.store.read() as session:
            [row] = session.exec(select(Reminder).where(Reminder.channel == "letter")).all()
            assert row.reason == "paid by phone this morning"

    drive(app, scenario)


def test_a_late_read_for_an_earlier_list_does_not_replace_the_current_one(
    demo: Seeded, tmp_path: Path
) -> None:
    seeded = with_outbox(demo, tmp_path)
    _left_in_the_outbox(seeded)
    app = build_app(seeded, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OutboxScreen)
        due = list(screen.rows.values())
        assert [row.status for row in due] == ["queued"]
        await burst(pilot, "f", "f")  # sent, then failed, as fast as a terminal sends them
        await settle(pilot)
        assert screen.view_name == "failed"
        assert [row.status for row in screen.rows.values()] == ["uncertain"]
        # The read made for the due list arriving now (a slow worker) is dropped.
        screen.post_message(OutboxLoaded(due, view=0))
        await settle(pilot)
        assert [row.status for row in screen.rows.values()] == ["uncertain"]
        assert screen.query_one("#outbox-table", DataTable).row_count == 1

    drive(app, scenario)
