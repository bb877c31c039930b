"""The agent's day with real keys: log in, open a case, log a promise, move to the next case."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from sqlmodel import col, func, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from collector_tui.models import Activity, Draft, Promise
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.forms import PromiseForm
from collector_tui.tui.screens.login import LoginScreen
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import Seeded


def table_text(table: DataTable[Text]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


def case_ref_of(screen: CaseScreen) -> str:
    assert screen.case_file is not None
    return screen.case_file.client_ref


async def choose(pilot: Pilot[None], select_id: str, typed: str) -> None:
    """Open a Select with enter, type to find the option, enter to pick it."""
    pilot.app.screen.query_one(f"#{select_id}", Select).focus()
    await pilot.press("enter")
    await pilot.pause()
    await type_text(pilot, typed)
    await pilot.press("enter")
    await pilot.pause()


def test_login_queue_case_promise_next(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        assert isinstance(app.screen, LoginScreen)
        # The preselected user puts the cursor in the password field.
        assert app.screen.focused is not None and app.screen.focused.id == "password"
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        queue = app.screen.query_one("#queue-table", DataTable)
        rows = table_text(queue)
        # Priority order: the due callback, the broken promise, the new placement, the rest.
        assert [row[0] for row in rows] == ["callback", "broken", "new", "workable"]
        assert rows[0][1] == "李娜" and rows[0][2] == "3,200.50 CNY"
        assert "Follow-ups due 1" in rendered(app.screen.query_one("#queue-counts", Static))
        # Bob's case is not in Alice's queue.
        assert all("Bob" not in row[1] for row in rows)

        await pilot.press("enter")
        await settle(pilot)
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        assert case_ref_of(case_screen) == "REF-1002"
        header = rendered(case_screen.query_one("#case-header", Static))
        assert "李娜" in header and "3,200.50" in header

        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm)
        await choose(pilot, "disposition", "promise")
        assert app.screen.query_one("#disposition", Select).value == "promise"
        await pilot.press("tab", "tab")  # past the duration, to the note
        await type_text(pilot, "will pay on payday")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The promise disposition opens the promise form as part of the same save.
        assert isinstance(app.screen, PromiseForm)
        await type_text(pilot, "1,000.00")
        await pilot.press("tab")
        await type_text(pilot, "2026-11-25")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is case_screen
        assert case_screen.case_file is not None
        assert case_screen.case_file.status == "promised"
        timeline = case_screen.query_one("#timeline", Timeline)
        titles = [entry.title for entry in timeline.entries]
        assert "promise 1,000.00 CNY due 2026-11-25 · pending" in titles
        assert "call · Promise to pay" in titles
        assert "1,000.00 CNY due 2026-11-25" in rendered(
            case_screen.query_one("#status-panel", Static)
        )

        await pilot.press("n")
        await settle(pilot)
        assert app.screen is case_screen  # the next case, shown in the same screen
        assert case_ref_of(app.screen) == "REF-1004"  # the broken promise, next in the queue

    drive(app, scenario)

    with demo.store.read() as session:
        case_id = demo.cases["REF-1002"]
        activity = session.exec(
            select(Activity)
            .where(Activity.case_id == case_id)
            .order_by(col(Activity.occurred_at).desc())
        ).first()
        assert activity is not None
        assert activity.disposition == "promise"
        assert activity.note == "will pay on payday"
        assert activity.phone_e164 == "+8613912345678"  # the primary number was preselected
        promises = session.exec(select(Promise).where(Promise.case_id == case_id)).all()
        assert [(p.amount, p.due_date, p.activity_id) for p in promises] == [
            (100_000, date(2026, 11, 25), activity.id)
        ]
        assert session.exec(select(func.count()).select_from(Draft)).one() == 0


def test_search_by_phone_in_local_format_and_only_own_cases(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("slash")
        await settle(pilot)
        # Another agent's case is not found, whatever is typed.
        await type_text(pilot, "REF-9001")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#search-results", DataTable).row_count == 0
        assert "Nothing found" in rendered(app.screen.query_one("#search-status", Static))
        app.screen.query_one("#search-input", Input).value = ""
        await type_text(pilot, "010-6552 9988")
        await pilot.press("enter")
        await settle(pilot)
        results = app.screen.query_one("#search-results", DataTable)
        assert table_text(results)[0][:2] == ["REF-1001", "王小明"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert case_ref_of(app.screen) == "REF-1001"
        # The case screen shows the full number to dial, and the debtor's clock.
        phones = rendered(app.screen.query_one("#contacts-panel", Static))
        assert "+86 10 6552 9988" in phones and "14:30 Fri Shanghai" in phones
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)

    drive(app, scenario)


def test_wrong_password_is_shown_next_to_the_field(demo: Seeded) -> None:
    app = build_app(demo, username=None)

    async def scenario(pilot: Pilot[None]) -> None:
        await settle(pilot, 1)
        assert app.screen.focused is not None and app.screen.focused.id == "username"
        await type_text(pilot, "alice")
        await pilot.press("enter")
        await type_text(pilot, "nope")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        field = app.screen.query_one("#field-password", FormField)
        assert field.error == "wrong user name or password"
        assert app.screen.query_one("#password", Input).value == ""
        await type_text(pilot, "demo")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)

    drive(app, scenario)


def test_held_tab_lists_reason_and_when_callable(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        # The Held tab has its key, in the footer.
        footer_keys = {key for key, b in app.screen.active_bindings.items() if b.binding.show}
        assert "h" in footer_keys
        await pilot.press("h")
        await settle(pilot)
        tabs = app.screen.query_one("#queue-tabs", TabbedContent)
        assert tabs.active == "held"
        assert app.screen.focused is app.screen.query_one("#held-table", DataTable)
        held = table_text(app.screen.query_one("#held-table", DataTable))
        by_debtor = {row[0]: row for row in held}
        # New York is asleep at 01:30; callable at 08:00 there, 21:00 for Alice in Shanghai.
        assert by_debtor["John Smith"][3] == "11-20 21:00"
        assert "outside calling hours" in by_debtor["John Smith"][4]
        assert "dispute hold" in by_debtor["陈静"][4]
        await pilot.press("h")  # and back
        await settle(pilot)
        assert tabs.active == "queue"
        assert app.screen.focused is app.screen.query_one("#queue-table", DataTable)

    drive(app, scenario)
