"""The contacts panel with real keys: a number added during a call is dialled and logged in the same
session; a do-not-call mark takes the case out of the queue, saying why; bad input stays in the
form under its field, nothing saved; hostile text in an address is shown as typed."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from sqlmodel import col, func, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, Static

from collector_tui.models import Activity, EmailAddress, Phone, PostalAddress
from collector_tui.services.contacts import book
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.contacts import AddContactForm, MarkContactForm
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.screens.skiptrace import SkipTraceScreen
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline, entry_cell

from .conftest import build_app, burst, drive, login, rendered, settle
from .seed import NOW, Seeded

# REF-1002 (李娜): one number, +86 139 1234 5678, first in Alice's queue (a callback due).
NEW_NUMBER = "135 8888 6666"
NEW_E164 = "+8613588886666"


def notifications(app: CollectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def panel_text(screen: Any) -> str:
    return rendered(screen.query_one("#contacts-panel", Static))


def phones_of(demo: Seeded, ref: str) -> list[Phone]:
    with demo.store.read() as session:
        case_id = demo.cases[ref]
        from collector_tui.models import Case

        case = session.get(Case, case_id)
        assert case is not None
        return list(session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).all())


def count(demo: Seeded, model: Any) -> int:
    with demo.store.read() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


async def open_first_case(pilot: Pilot[None]) -> CaseScreen:
    await login(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen) and screen.case_file is not None
    assert screen.case_file.client_ref == "REF-1002"
    return screen


def test_a_number_added_during_the_call_is_dialled_and_logged(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_first_case(pilot)
        # In one burst: add the number the debtor gives, then log the call made on it. The
        # contact form opens on the case read again, its picker offering the new number.
        await burst(pilot, "+", "tab", NEW_NUMBER, "ctrl+s", "c")
        form = app.screen
        assert isinstance(form, ContactForm)
        assert [p.e164 for p in form.phones] == ["+8613912345678", NEW_E164]
        picker = form.query_one("#phone", Select)
        # Dialable numbers first: the primary, then the new one.
        assert [str(prompt).split(" ")[:4] for prompt, _ in picker._options[1:]] == [
            ["+86", "139", "1234", "5678"],
            ["+86", "135", "8888", "6666"],
        ]
        await burst(pilot, "n", "tab", "enter", "down", "enter")  # n: on to the note; tab: phone
        assert picker.value == str(form.phones[1].id)
        await burst(pilot, "ctrl+s")
        assert app.screen is case_screen
        assert case_screen.case_file is not None
        assert NEW_E164 in [p.e164 for p in case_screen.case_file.phones]
        assert "+86 135 8888 6666" in panel_text(case_screen)
        timeline = case_screen.query_one("#timeline", Timeline)
        newest = timeline.entries[0]
        assert newest.kind == "contact" and newest.phone_e164 == NEW_E164
        assert "6666" in entry_cell(newest, 60, with_outcome=False).plain

    drive(app, scenario)

    with demo.store.read() as session:
        activity = session.exec(
            select(Activity)
            .where(Activity.case_id == demo.cases["REF-1002"])
            .order_by(col(Activity.occurred_at).desc())
        ).first()
        assert activity is not None
        assert activity.disposition == "no_answer"
        assert activity.phone_e164 == NEW_E164
    added = [p for p in phones_of(demo, "REF-1002") if p.e164 == NEW_E164]
    assert len(added) == 1 and added[0].source == "debtor"


def test_do_not_call_on_the_only_number_takes_the_case_out_of_the_queue(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_first_case(pilot)
        await burst(pilot, "x")
        assert isinstance(app.screen, MarkContactForm)
        await burst(pilot, "d", "tab", "asked us to stop calling", "ctrl+s")
        assert app.screen is case_screen
        said = " ".join(notifications(app))
        assert "do not call" in said
        assert "Out of the queue: all numbers do-not-call or invalid" in said
        assert "DO NOT CALL" in panel_text(case_screen)
        assert case_screen.case_file is not None
        assert case_screen.case_file.verdict is not None
        assert not case_screen.case_file.verdict.callable
        await burst(pilot, "escape")
        assert isinstance(app.screen, QueueScreen)
        await burst(pilot, "r")
        rows = app.screen.query_one("#queue-table", DataTable)
        names = [str(rows.get_row_at(i)[1]) for i in range(rows.row_count)]
        assert "李娜" not in names

    drive(app, scenario)

    [phone] = phones_of(demo, "REF-1002")
    assert phone.status == "dnc" and phone.do_not_call
    assert phone.status_reason == "asked us to stop calling"


def field_error(screen: Any, name: str) -> str:
    field = screen.query_one(f"#field-{name}", FormField)
    return field.error or ""


def test_a_bad_number_or_email_is_refused_under_the_field(demo: Seeded) -> None:
    app = build_app(demo)
    before = (count(demo, Phone), count(demo, EmailAddress))

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_first_case(pilot)
        version = case_screen.case_file.version if case_screen.case_file else None
        await burst(pilot, "+", "tab", "12", "ctrl+s")
        form = app.screen
        assert isinstance(form, AddContactForm)
        assert field_error(form, "value")  # the service's message, under the number
        # The number already on file: a duplicate.
        form.query_one("#value").value = ""  # type: ignore[attr-defined]
        await burst(pilot, "139 1234 5678", "ctrl+s")
        assert "already" in field_error(form, "value") or "duplicate" in field_error(form, "value")
        # An e-mail that does not parse: e picks the kind.
        form.query_one("#value").value = ""  # type: ignore[attr-defined]
        await burst(pilot, "shift+tab", "e", "tab", "li.na@@example", "ctrl+s")
        assert form.query_one("#kind", Select).value == "email"
        assert app.screen is form
        assert field_error(form, "value")
        # A consent date in the past.
        form.query_one("#value").value = ""  # type: ignore[attr-defined]
        await burst(pilot, "shift+tab", "p", "tab", NEW_NUMBER)
        form.query_one("#consent", Select).value = "call"
        form.query_one("#until").value = "2020-01-01"  # type: ignore[attr-defined]
        await burst(pilot, "ctrl+s")
        assert "past" in field_error(form, "until")
        await burst(pilot, "escape")
        assert app.screen is case_screen
        assert case_screen.case_file is not None and case_screen.case_file.version == version

    drive(app, scenario)

    assert (count(demo, Phone), count(demo, EmailAddress)) == before


HOSTILE = "[red]x[/red] \x1b[31mEvil\x1b[0m Road [@click=app.quit]1[/]"


def test_hostile_text_in_an_address_is_shown_literally(demo: Seeded) -> None:
    with demo.store.write() as session:
        book.add_address(
            session=session,
            now=NOW,
            actor=demo.users["alice"],
            settings=demo.settings,
            case_id=demo.cases["REF-1002"],
            text=HOSTILE,
        )
    with demo.store.read() as session:
        stored = session.exec(select(PostalAddress.text)).all()
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_first_case(pilot)
        content = case_screen.query_one("#contacts-panel", Static)
        shown = rendered(content)
        assert "[red]x[/red]" in shown and "[@click=app.quit]1[/]" in shown
        assert "\x1b" not in shown
        await burst(pilot, "x")
        picker = app.screen.query_one("#contact", Select)
        labels = [prompt.plain for prompt, _ in picker._options if isinstance(prompt, Text)]
        assert any("[red]x[/red]" in label for label in labels)
        assert app.is_running

    drive(app, scenario)
    assert HOSTILE in stored or any("[red]x[/red]" in text for text in stored)


def test_skip_trace_view_from_the_supervisor_screen(demo: Seeded) -> None:
    phone = phones_of(demo, "REF-1002")[0]
    with demo.store.write() as session:
        book.mark_contact(
            session=session,
            now=NOW,
            actor=demo.users["alice"],
            settings=demo.settings,
            case_id=demo.cases["REF-1002"],
            kind="phone",
            contact_id=phone.id,
            status="disconnected",
        )
    app = build_app(demo, username="sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await burst(pilot, "t")
        assert isinstance(app.screen, SkipTraceScreen)
        table = app.screen.query_one("#skiptrace-table", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert any(row[0] == "REF-1002" and "no callable number" in row[2] for row in rows)
        await burst(pilot, "enter")
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)


def test_consent_edited_and_a_number_retired_with_keys(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        case_screen = await open_first_case(pilot)
        # E: the only number; consent to calls (b: and texts) until a date, and how.
        await burst(pilot, "E", "tab", "tab", "tab", "b", "tab", "+30", "tab", "on the call")
        assert app.screen.query_one("#consent", Select).value == "call sms"
        await burst(pilot, "ctrl+s")
        assert app.screen is case_screen
        assert "call ok" in panel_text(case_screen)
        # X: retire it; it stays in the history, shown struck through at this width.
        await burst(pilot, "X", "ctrl+s")
        assert app.screen is case_screen
        assert "retired" in panel_text(case_screen)
        said = " ".join(notifications(app))
        assert "Out of the queue" in said

    drive(app, scenario)

    [phone] = phones_of(demo, "REF-1002")
    assert phone.retired_at is not None
    assert phone.call_consent_how == "on the call" and phone.sms_consent
