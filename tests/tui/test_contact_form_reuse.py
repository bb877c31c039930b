"""The contact form is composed once and opened again on every case (contact.contact_form): an
opening must look and behave exactly as a new form would. Nothing of the last case stays (the
note, the disposition, the duration, the promise a follow-on form collected, an error under a
field); the phones are the case's own; keys typed in one burst from `c` to the save key land in
it; and what is saved goes to the case on screen."""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from collector_tui.models import Activity, Draft, Promise
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.forms import PromiseForm
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, burst, drive, login, rendered, settle
from .seed import NOW, Seeded


def new_activities(demo: Seeded, case_id: uuid.UUID) -> list[Activity]:
    with demo.store.read() as session:
        return list(
            session.exec(
                select(Activity)
                .where(Activity.case_id == case_id, col(Activity.occurred_at) >= NOW)
                .order_by(col(Activity.occurred_at))
            ).all()
        )


def promises(demo: Seeded, case_id: uuid.UUID) -> list[Promise]:
    with demo.store.read() as session:
        return list(session.exec(select(Promise).where(Promise.case_id == case_id)).all())


def assert_empty(form: ContactForm, ref: str) -> None:
    """What a newly composed contact form shows."""
    assert form.query_one("#disposition", Select).value is Select.NULL
    assert form.query_one("#note", TextArea).text == ""
    assert form.query_one("#duration", Input).value == ""
    assert form.query_one("#direction", Select).value == "outbound"
    assert form.promise is None and form.plan is None and form.follow_up is None
    assert form.extra_raw == {}
    assert not form.query_one("#contact-extra", Static).display
    assert all(field.error is None for field in form.query(FormField))
    assert not form.query_one("#form-error", Static).display
    assert ref in rendered(form.query_one(".dialog-subtitle", Static))
    assert form.focused is form.query_one("#disposition", Select)
    assert not form.saving and not form.closed and not form.then_next


def test_the_form_opened_on_the_next_case_keeps_nothing_of_the_last(demo: Seeded) -> None:
    app = build_app(demo)
    first_id, second_id = demo.cases["REF-1002"], demo.cases["REF-1004"]
    kept: list[ContactForm] = []
    promised_before = len(promises(demo, second_id))

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == first_id
        # First case: a promise, typed in one burst, then save & next through the promise form.
        await burst(pilot, "c", "p", "will pay on Monday", "ctrl+n")
        form = app.screen_stack[-2]
        assert isinstance(app.screen, PromiseForm) and isinstance(form, ContactForm)
        kept.append(form)
        app.screen.query_one("#amount", Input).value = "100"
        app.screen.query_one("#due_date", Input).value = "+3"
        await burst(pilot, "ctrl+n")
        arrived = app.screen
        assert isinstance(arrived, CaseScreen) and arrived.case_id == second_id
        assert arrived.case_file is not None

        # Next case: the same form, empty, its phones the case's own.
        await burst(pilot, "c")
        again = app.screen
        assert again is kept[0]
        assert isinstance(again, ContactForm)
        assert_empty(again, "REF-1004")
        assert again.phones == arrived.case_file.phones
        phone_ids = {str(p.id) for p in arrived.case_file.phones}
        phone = again.query_one("#phone", Select).value
        assert phone is Select.NULL or phone in phone_ids

        # Keys in one burst from the picker to the save key: all of them in this opening.
        await burst(pilot, "n", "rang out", "ctrl+s")
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == second_id

    drive(app, scenario)
    first = new_activities(demo, first_id)
    assert [(a.disposition, a.note) for a in first] == [("promise", "will pay on Monday")]
    assert len(promises(demo, first_id)) == 1
    second = new_activities(demo, second_id)
    assert [(a.disposition, a.note) for a in second] == [("no_answer", "rang out")]
    # The last case's promise did not come along.
    assert len(promises(demo, second_id)) == promised_before


def test_an_error_or_a_draft_of_the_last_opening_does_not_stay(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases["REF-1002"]

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        # Saved without a disposition: the message under the field; then closed with escape.
        await burst(pilot, "c", "ctrl+s")
        form = app.screen
        assert isinstance(form, ContactForm)
        assert form.query_one("#field-disposition", FormField).error
        await burst(pilot, "escape")
        assert isinstance(app.screen, CaseScreen)

        # Opened again: no error; a draft typed then left restores, only on its own case.
        await burst(pilot, "c")
        assert app.screen is form
        assert_empty(form, "REF-1002")
        await burst(pilot, "tab", "tab", "called twice", "escape")
        assert isinstance(app.screen, CaseScreen)
        await burst(pilot, "c")
        assert app.screen is form
        assert form.query_one("#note", TextArea).text == "called twice"
        await burst(pilot, "b", "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        await burst(pilot, "c")
        assert app.screen is form
        assert_empty(form, "REF-1002")
        await burst(pilot, "escape")

    drive(app, scenario)
    assert [(a.disposition, a.note) for a in new_activities(demo, case_id)] == [
        ("busy", "called twice")
    ]
    with demo.store.read() as session:
        assert session.exec(select(Draft)).all() == []


def test_another_user_gets_a_form_of_their_own(demo: Seeded) -> None:
    from collector_tui.tui.screens.contact import contact_form

    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await burst(pilot, "c")
        form = app.screen
        assert isinstance(form, ContactForm)
        await burst(pilot, "escape")
        form.kept_for = ("someone else", *form.kept_for[1:])
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        await burst(pilot, "c")
        assert isinstance(app.screen, ContactForm) and app.screen is not form
        assert not form.is_attached  # the other one's form is gone, not kept beside
        assert contact_form is not None

    drive(app, scenario)
