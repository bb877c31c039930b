"""Type-ahead: every key typed before the save key reaches the saved record, whatever the speed.

`burst` queues keys the way a terminal hands them over when they arrive in one read; `pilot.press`
with many keys is the gentle version (idle after each key). Every form is opened and filled in
one burst that starts with the key that opens it and ends with the save key, then the database is
read: the whole text must be there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import SQLModel, col, select
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, TextArea

from collector_tui.models import Activity, Assignment, Case, FollowUp, Hold, Promise, Settlement
from collector_tui.services.casework import settlements
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.forms import FormScreen, NoteForm
from collector_tui.tui.screens.search import SearchScreen
from collector_tui.tui.screens.supervisor import SupervisorScreen
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app as make
from .conftest import burst, drive, login, settle
from .seed import NOW, Seeded

LONG = (
    "Says the card was stolen in March, police report 4471; wants the statement by post "
    "and asks us to call after 18:00 on weekdays only"
)
CHINESE = "客户说卡在三月被盗，已报警，报案号4471。"


def notes(seeded: Seeded, case_id: uuid.UUID) -> list[str]:
    with seeded.store.read() as session:
        rows = session.exec(
            select(Activity.note).where(
                Activity.case_id == case_id, col(Activity.note).is_not(None)
            )
        ).all()
    return [row or "" for row in rows]


def rows(seeded: Seeded, model: type[SQLModel], case_id: uuid.UUID) -> list[Any]:
    with seeded.store.read() as session:
        return list(session.exec(select(model).where(model.case_id == case_id)).all())  # type: ignore[attr-defined]


async def on_case(pilot: Pilot[None], app: CollectorApp, case_id: uuid.UUID) -> None:
    await login(pilot)
    app.screen.open_case(case_id)  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen) and app.screen.case_file is not None


async def answer_yes(pilot: Pilot[None], app: CollectorApp) -> None:
    """A confirmation answers only keys pressed once it is shown: type-ahead never answers it."""
    assert isinstance(app.screen, ConfirmScreen), app.screen
    await pilot.press("y")
    await settle(pilot)


# The case screen's forms: how to fill each in one burst, and where its text lands.
CASE_FORMS: dict[str, tuple[tuple[str, ...], bool, Callable[[Seeded, uuid.UUID], str]]] = {
    "note": (("t", LONG), False, lambda s, c: notes(s, c)[-1]),
    "contact": (
        # `b` picks "busy" by its hot key and moves on to the note.
        ("c", "b", LONG),
        False,
        lambda s, c: notes(s, c)[-1],
    ),
    "dispute": (("d", LONG), True, lambda s, c: rows(s, Hold, c)[-1].reason),
    "legal": (("e", LONG), True, lambda s, c: notes(s, c)[-1]),
    "route": (("o", LONG), True, lambda s, c: notes(s, c)[-1]),
    "settlement": (
        ("s", "500", "tab", "+7", "tab", LONG[:200]),
        True,
        lambda s, c: rows(s, Settlement, c)[-1].note,
    ),
    "follow-up": (
        ("f", "tomorrow", "tab", "10:00", "tab", LONG),
        False,
        lambda s, c: rows(s, FollowUp, c)[-1].reason,
    ),
    "promise": (
        ("p", "1,234.50", "tab", "+7"),
        False,
        lambda s, c: str(rows(s, Promise, c)[-1].amount),
    ),
    "plan": (
        ("l", "tab", "tab", "+7"),
        False,
        lambda s, c: str(len(rows(s, Promise, c))),
    ),
}
EXPECTED = {"promise": "123450", "plan": "3", "settlement": LONG[:200].strip()}


@pytest.mark.parametrize(
    ("form", "save_key"),
    [*((form, "ctrl+s") for form in CASE_FORMS), ("contact", "ctrl+n"), ("legal", "ctrl+n")],
)
def test_a_burst_from_the_opening_key_to_the_save_key_saves_everything(
    demo: Seeded, form: str, save_key: str
) -> None:
    case_id = demo.cases["REF-1001"]
    parts, confirms, stored = CASE_FORMS[form]
    app = make(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await on_case(pilot, app, case_id)
        await burst(pilot, *parts, save_key)
        if confirms:
            await answer_yes(pilot, app)
        assert not isinstance(app.screen, FormScreen), f"{form} still open"

    drive(app, scenario)
    saved = stored(demo, case_id)
    expected = EXPECTED.get(form, LONG)
    assert expected in saved, f"{form}: saved {saved!r}"


def test_the_gentle_pilot_burst_saves_everything_too(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = make(demo)
    names = {" ": "space", ",": "comma", ".": "full_stop", ";": "semicolon", ":": "colon"}

    async def scenario(pilot: Pilot[None]) -> None:
        await on_case(pilot, app, case_id)
        await pilot.press("d", *(names.get(char, char) for char in LONG), "ctrl+s")
        await settle(pilot)
        await answer_yes(pilot, app)

    drive(app, scenario)
    assert rows(demo, Hold, case_id)[-1].reason == LONG


@pytest.mark.parametrize("text", [LONG, CHINESE + "\nsecond line " + LONG])
def test_a_paste_then_the_save_key_saves_the_paste(demo: Seeded, text: str) -> None:
    case_id = demo.cases["REF-1001"]
    app = make(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await on_case(pilot, app, case_id)
        await burst(pilot, "t", events.Paste(text), "ctrl+s")
        assert isinstance(app.screen, CaseScreen), "the note form is still open"

    drive(app, scenario)
    assert notes(demo, case_id)[-1] == text


def test_a_paste_into_an_open_form_then_save(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = make(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await on_case(pilot, app, case_id)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, NoteForm)
        await burst(pilot, events.Paste(CHINESE), " and more", "ctrl+s")
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)
    assert notes(demo, case_id)[-1] == CHINESE + " and more"


def test_keys_typed_right_after_the_opening_key_land_in_the_form(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = make(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await on_case(pilot, app, case_id)
        # "s" is also the case screen's settlement key: it must not open a settlement.
        await burst(pilot, "t", "so far so good")
        assert isinstance(app.screen, NoteForm)
        assert app.screen.query_one("#note", TextArea).text == "so far so good"

    drive(app, scenario)


def test_keys_typed_after_save_and_next_wait_for_the_next_case(demo: Seeded) -> None:
    case_id = demo.cases["REF-1001"]
    app = make(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await on_case(pilot, app, case_id)
        first = app.screen
        await burst(pilot, "t", "first note", "ctrl+n", "t", "second note", "ctrl+s")
        assert app.screen is first  # save & next shows the next case in the same screen
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.case_id != case_id
        second = app.screen.case_id
        assert notes(demo, second)[-1] == "second note"

    drive(app, scenario)
    assert notes(demo, case_id)[-1] == "first note"


# -- the disposition picker ----------------------------------------------------------------------


def picked(app: CollectorApp) -> object:
    return app.screen.query_one("#disposition", Select).value


@pytest.mark.parametrize(
    ("keys", "code", "then"),
    [
        (("p",), "promise", "note"),  # a hot key, never the placeholder; on to the note
        (("l",), "plan", "note"),
        (("z",), Select.NULL, "disposition"),  # no disposition for z: nothing picked, nothing else
        (("z", "q"), "cease", "note"),
        # In the open list letters narrow (no time limit); enter closes it on the pick.
        (("enter", "p", "l", "enter"), "plan", "disposition"),
        (("enter", "d", "i", "s", "p", "enter"), "dispute", "disposition"),
        (("enter", "d", "i", "s", "c", "enter"), "disconnected", "disposition"),
        (("enter", "c", "e", "enter"), "cease", "disposition"),
        # nothing starts "busyp": starts again from p
        (("enter", "b", "u", "s", "y", "p", "enter"), "promise", "disposition"),
        (("enter", "p", "l", "backspace", "enter"), "promise", "disposition"),
        (("enter", "v", "enter"), "voicemail", "disposition"),
    ],
)
def test_the_disposition_picker_by_typing(
    demo: Seeded, keys: tuple[str, ...], code: object, then: str
) -> None:
    case_id = demo.cases["REF-1001"]
    app = make(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await on_case(pilot, app, case_id)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm)
        # A slow typist: a pause between the letters changes nothing.
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.3)
        assert picked(app) == code
        assert isinstance(app.screen, ContactForm)
        assert not app.screen.query_one("#disposition", Select).expanded
        assert app.screen.focused is not None and app.screen.focused.id == then

    drive(app, scenario)


# Agents type `c`, the disposition's letter, the note, `ctrl+n`: every letter after the
# disposition's is the note's, in one burst or key by key.
DISPOSITION_THEN_NOTE = [("n", "no_answer"), ("v", "voicemail"), ("s", "right_party")]


@pytest.mark.parametrize(("letter", "code"), DISPOSITION_THEN_NOTE)
@pytest.mark.parametrize("how", ["burst", "per key"])
def test_contact_letter_note_save_next(demo: Seeded, letter: str, code: str, how: str) -> None:
    app = make(demo)
    names = {" ": "space", ",": "comma", ".": "full_stop", ";": "semicolon", ":": "colon"}
    opened: list[uuid.UUID] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("enter")  # the top of the queue
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id is not None
        opened.append(app.screen.case_id)
        if how == "burst":
            await burst(pilot, "c", letter, LONG, "ctrl+n")
        else:
            await pilot.press("c", letter, *(names.get(char, char) for char in LONG), "ctrl+n")
            await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case_file is not None
        assert screen.case_id != opened[0]  # the next case is open, filled
        opened.append(screen.case_id)

    drive(app, scenario)
    with demo.store.read() as session:
        logged = session.exec(
            select(Activity).where(Activity.case_id == opened[0], Activity.note == LONG)
        ).all()
        assert [row.disposition for row in logged] == [code]
        # Nothing typed spilled onto the next case.
        spilled = select(Activity).where(
            Activity.case_id == opened[1], col(Activity.occurred_at) >= NOW
        )
        assert session.exec(spilled).first() is None


def test_every_disposition_has_its_own_hot_key_shown_beside_it() -> None:
    from collector_tui.services.rules.dispositions import DISPOSITIONS
    from collector_tui.tui.screens.contact import HOT_KEYS, disposition_options

    assert set(HOT_KEYS) == set(DISPOSITIONS)
    assert len(set(HOT_KEYS.values())) == len(HOT_KEYS)
    for prompt, code in disposition_options(list(DISPOSITIONS.values())):
        assert str(prompt).startswith(HOT_KEYS[code] + " ")


# -- the supervisor's dialogs ---------------------------------------------------------------------


async def on_supervisor(pilot: Pilot[None], app: CollectorApp) -> None:
    await login(pilot)
    assert isinstance(app.screen, SupervisorScreen)
    await settle(pilot)


def test_a_burst_into_a_supervisor_decision(demo: Seeded) -> None:
    app = make(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await on_supervisor(pilot, app)
        await burst(pilot, "w", LONG, "ctrl+s")
        await answer_yes(pilot, app)
        assert isinstance(app.screen, SupervisorScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        written_off = session.exec(select(Case).where(Case.status == "written_off")).all()
    assert len(written_off) == 1
    assert any(LONG in note for note in notes(demo, written_off[0].id))


def test_a_burst_into_the_balance_reason(demo: Seeded) -> None:
    with demo.store.write() as session:
        from collector_tui.services.supervision.assignment import assign_cases

        assign_cases(
            session=session,
            now=NOW,
            actor=demo.users["sam"],
            case_ids=[demo.cases["REF-1003"], demo.cases["REF-1004"]],
            to_user_id=None,
            settings=demo.settings,
            reason="new",
        )
    app = make(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await on_supervisor(pilot, app)
        await burst(pilot, "b", "spread over both of them", "ctrl+s")
        await answer_yes(pilot, app)
        assert isinstance(app.screen, SupervisorScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        reasons = set(
            session.exec(
                select(Assignment.reason).where(
                    col(Assignment.case_id).in_([demo.cases["REF-1003"], demo.cases["REF-1004"]]),
                    col(Assignment.from_user_id).is_(None),
                )
            ).all()
        )
    assert reasons == {"auto-balance: spread over both of them"}


def test_a_burst_into_the_settlement_decision_note(demo: Seeded) -> None:
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
            note="from savings",
        )
    app = make(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await on_supervisor(pilot, app)
        await pilot.press("o")
        await settle(pilot)
        await burst(pilot, "v", "tab", LONG, "ctrl+s")
        assert isinstance(app.screen, SupervisorScreen)

    drive(app, scenario)
    with demo.store.read() as session:
        settlement = session.get(Settlement, asked.id)
    assert settlement is not None and settlement.decision_note == LONG


# -- search, then enter ---------------------------------------------------------------------------


def test_search_keeps_the_typing_in_the_query_and_enter_opens(demo: Seeded) -> None:
    app = make(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await on_supervisor(pilot, app)
        await burst(pilot, "slash", "r", "enter")  # every reference: REF-1001 .. REF-9001
        assert isinstance(app.screen, SearchScreen)
        query = app.screen.query_one("#search-input", Input)
        results = app.screen.query_one("#search-results", DataTable)
        assert results.row_count == 7 and app.screen.focused is query
        # Letters go into the query line: no key of the list or of the screen below runs.
        await burst(pilot, "w", "c", "e")
        assert isinstance(app.screen, SearchScreen) and query.value == "rwce"
        await burst(pilot, "backspace", "backspace", "backspace", "down")
        assert results.cursor_row == 1
        second = results.coordinate_to_cell_key(results.cursor_coordinate).row_key.value
        await burst(pilot, "enter")
        # The case opens with the focus on its timeline; letters typed now are the case's keys.
        assert isinstance(app.screen, CaseScreen) and str(app.screen.case_id) == second
        assert isinstance(app.screen.focused, Timeline)
        await burst(pilot, "z", "q")
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)


def test_search_enter_enter_in_one_burst_opens_the_only_result(demo: Seeded) -> None:
    app = make(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        # The second enter waits for the results, and the note key for the case.
        await burst(pilot, "slash", "REF-1003", "enter", "enter", "t", "found it", "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.case_id == demo.cases["REF-1003"]

    drive(app, scenario)
    assert notes(demo, demo.cases["REF-1003"])[-1] == "found it"
