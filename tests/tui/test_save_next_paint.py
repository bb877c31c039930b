"""Save & next, frame by frame: the next case is read ahead while the agent works, so the first
frame after the switch already shows it (never a "Loading the case…" screen); the toast names
the case the contact was saved on; a case read ahead is checked again when it is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from textual._compositor import CompositorUpdate
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from collector_tui.models import Activity
from collector_tui.services import accounts
from collector_tui.services.casework import notes
from collector_tui.services.supervision import assignment
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.contact import ContactForm
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app, burst, drive, login, rendered, settle
from .seed import NOW, Seeded

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Frame:
    """One frame the app handed to the terminal while a case screen was on top."""

    screen: CaseScreen
    ref: str | None  # the case file the screen held then
    header: str  # what its header widget showed
    text: str  # the frame itself, as the terminal would draw it (without escape sequences)


def record_frames(app: CollectorApp) -> list[Frame]:
    """Every frame from now on whose screen is a case screen. Headless Textual composes each frame
    and skips only the writing; this turns it into the text a terminal would be sent."""
    frames: list[Frame] = []
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        if isinstance(screen, CaseScreen) and isinstance(renderable, CompositorUpdate):
            case = screen.case_file
            frames.append(
                Frame(
                    screen=screen,
                    ref=case.client_ref if case else None,
                    header=rendered(screen.query_one("#case-header", Static)),
                    text=ANSI.sub("", renderable.render_segments(app.console)),
                )
            )
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    return frames


def record_toasts(app: CollectorApp) -> list[str]:
    """Every notification's text from now on (the toasts themselves expire)."""
    said: list[str] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        said.append(message)
        original(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return said


async def open_first_case(pilot: Pilot[None]) -> CaseScreen:
    await login(pilot)
    assert isinstance(pilot.app.screen, QueueScreen)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen) and screen.case_file is not None
    assert screen.case_file.client_ref == "REF-1002"  # the top of alice's queue
    return screen


def test_save_and_next_paints_the_next_case_filled_in_its_first_frame(demo: Seeded) -> None:
    app = build_app(demo)
    frames: list[Frame] = []
    said: list[str] = []

    async def scenario(pilot: Pilot[None]) -> None:
        first = await open_first_case(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm)
        await pilot.press("n")  # no answer
        recorded = record_frames(app)
        told = record_toasts(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        # The same screen shows the next case (save & next in place): every frame of it after
        # the form closed shows the next case, none of the case just saved.
        frames.extend(recorded)
        said.extend(told)
        arrived = app.screen
        assert arrived is first
        assert arrived.case_file is not None and arrived.case_file.client_ref == "REF-1004"

    drive(app, scenario)

    assert frames, "the next case was never painted"
    opening = frames[0]
    # The very first frame of the next case: its reference and debtor, no placeholder.
    assert opening.ref == "REF-1004"
    assert "张伟" in opening.header
    assert "REF-1004" in opening.text and "张伟" in opening.text
    for frame in frames:
        assert frame.ref == "REF-1004"
        assert "Loading the case" not in frame.header
        assert "Loading the case" not in frame.text
    # The toast is shown on REF-1004: it says which case the contact went to.
    assert "REF-1002: Contact logged." in said
    assert "Contact logged." not in said

    with demo.store.read() as session:
        logged = session.exec(
            select(Activity)
            .where(Activity.case_id == demo.cases["REF-1002"])
            .order_by(col(Activity.occurred_at).desc())
        ).first()
        assert logged is not None and logged.disposition == "no_answer"
        assert logged.user_id == demo.users["alice"].user_id
        assert (
            session.exec(
                select(Activity).where(
                    Activity.case_id == demo.cases["REF-1004"],
                    Activity.disposition == "no_answer",
                    col(Activity.occurred_at) >= NOW,
                )
            ).first()
            is None
        )


def test_a_case_read_ahead_and_changed_meanwhile_arrives_as_it_is_now(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        first = await open_first_case(pilot)
        assert first.next_file is not None and first.next_file.client_ref == "REF-1004"
        # Someone else writes on the case read ahead before the agent gets there.
        with demo.store.write() as session:
            notes.add_note(
                session=session,
                now=NOW,
                actor=accounts.get_actor(session=session, username="sam"),
                case_id=demo.cases["REF-1004"],
                text="debtor called the client directly",
                settings=demo.settings,
            )
        # Nothing was logged on the first case: the agent says yes to leaving without a wrap-up.
        await pilot.press("n", "y")
        await settle(pilot)
        arrived = app.screen
        assert isinstance(arrived, CaseScreen) and arrived.case_file is not None
        assert arrived.case_file.client_ref == "REF-1004"
        shown = [entry.note for entry in arrived.query_one("#timeline", Timeline).entries]
        assert "debtor called the client directly" in shown

    drive(app, scenario)


def test_a_case_read_ahead_then_taken_moves_on_to_the_next(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        first = await open_first_case(pilot)
        assert first.next_file is not None and first.next_file.client_ref == "REF-1004"
        with demo.store.write() as session:
            assignment.assign_cases(
                session=session,
                now=NOW,
                actor=accounts.get_actor(session=session, username="sam"),
                case_ids=[demo.cases["REF-1004"]],
                to_user_id=demo.users["bob"].user_id,
                settings=demo.settings,
            )
        said = record_toasts(app)
        # Nothing was logged on the first case: the agent says yes to leaving without a wrap-up.
        await pilot.press("n", "y")
        await settle(pilot)
        arrived = app.screen
        assert isinstance(arrived, CaseScreen) and arrived.case_file is not None
        assert arrived.case_file.client_ref not in ("REF-1002", "REF-1004")
        assert any("REF-1004 is no longer yours" in message for message in said)

    drive(app, scenario)


def _opened_from_the_queue(demo: Seeded, *keys: str, peek: bool) -> tuple[list[Frame], str]:
    """Log in, then press `keys` on the queue (with or without letting the cursor rest long
    enough for the highlighted case to be read ahead); the frames of the case screen it opens."""
    from collector_tui.tui.screens import queue as queue_screen

    app = build_app(demo)
    frames: list[Frame] = []
    opened: list[str] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        if peek:
            await pilot.pause(queue_screen.PEEK_AFTER_S * 3)
            await settle(pilot)
            assert app.screen.peeked is not None
        else:
            app.screen.peeked = None
        recorded = record_frames(app)
        await pilot.press(*keys)
        await settle(pilot)
        frames.extend(recorded)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_file is not None
        opened.append(app.screen.case_file.client_ref)

    drive(app, scenario)
    return frames, opened[0]


def _never_loading(frames: list[Frame], ref: str) -> None:
    assert frames, "the case was never painted"
    assert ref in frames[0].text
    for frame in frames:
        assert frame.ref == ref
        assert "Loading the case" not in frame.header


def test_enter_on_the_queue_paints_the_case_filled_in_its_first_frame(demo: Seeded) -> None:
    frames, ref = _opened_from_the_queue(demo, "enter", peek=True)
    assert ref == "REF-1002"
    _never_loading(frames, ref)


def test_enter_before_the_row_was_read_ahead_still_never_paints_an_empty_case(
    demo: Seeded,
) -> None:
    frames, ref = _opened_from_the_queue(demo, "enter", peek=False)
    assert ref == "REF-1002"
    _never_loading(frames, ref)


def test_next_on_the_queue_paints_the_case_filled_in_its_first_frame(demo: Seeded) -> None:
    frames, ref = _opened_from_the_queue(demo, "n", peek=False)
    assert ref == "REF-1002"
    _never_loading(frames, ref)


def test_at_80_columns_the_next_case_is_never_painted_in_the_wide_layout(demo: Seeded) -> None:
    """The width class comes before the first frame: no frame of the wide layout (panels side by
    side) flashes on every next case at 80 columns."""
    app = build_app(demo)
    layouts: list[tuple[str, bool]] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await open_first_case(pilot)
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if isinstance(screen, CaseScreen) and isinstance(renderable, CompositorUpdate):
                layouts.append((type(screen).__name__, screen.has_class("-narrow")))
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("n", "ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario, size=(80, 24))
    assert layouts, "no case screen was painted"
    assert all(narrow for _, narrow in layouts), layouts


def test_enter_on_a_search_result_opens_the_case_read_ahead_filled_in_its_first_frame(
    demo: Seeded,
) -> None:
    from collector_tui.tui.screens import search as search_screen
    from collector_tui.tui.screens.search import SearchScreen

    app = build_app(demo)
    frames: list[Frame] = []
    read_by_the_queue: list[object] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        queue.read_case_to_open = read_by_the_queue.append  # type: ignore[assignment,method-assign]
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"REF-1003", "enter")
        await settle(pilot)
        await pilot.pause(search_screen.PEEK_AFTER_S * 3)
        await settle(pilot)
        assert app.screen.peeked is not None
        assert app.screen.peeked.client_ref == "REF-1003"
        recorded = record_frames(app)
        await pilot.press("enter")
        await settle(pilot)
        frames.extend(recorded)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_file is not None
        assert app.screen.case_file.client_ref == "REF-1003"
        assert not app.screen.from_queue  # looked up, not worked from the queue

    drive(app, scenario)
    assert read_by_the_queue == []  # opened with what the search read ahead
    _never_loading(frames, "REF-1003")


def test_three_cases_in_a_row_each_shows_only_its_own_data(demo: Seeded) -> None:
    """Save & next shows the next case in the same screen: nothing of the case before may stay
    (header, phones, timeline and its cursor, notes, the outlook, the wrap-up flag, the form)."""
    from collector_tui.services.casework.casefile import load_case_file

    app = build_app(demo)
    worked: list[str] = []
    phones = {ref: tuple(p[-4:] for p in digits) for ref, digits in SEEDED_PHONES.items()}

    def fresh(ref: str) -> Any:
        with demo.store.read() as session:
            return load_case_file(
                session=session,
                now=NOW,
                actor=accounts.get_actor(session=session, username="alice"),
                case_id=demo.cases[ref],
            )

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_first_case(pilot)
        for _round in range(3):
            case = screen.case_file
            assert app.screen is screen and case is not None
            ref = case.client_ref
            assert ref not in worked and screen.case_id == demo.cases[ref]
            assert not screen.logged and not screen.moving_on
            # What the screen shows is this case's, as read from the database now.
            expected = fresh(ref)
            assert [e.title for e in case.timeline] == [e.title for e in expected.timeline]
            assert case.debtor.name == expected.debtor.name
            header = rendered(screen.query_one("#case-header", Static))
            contacts = rendered(screen.query_one("#contacts-panel", Static))
            timeline = screen.query_one("#timeline", Timeline)
            assert ref in header and expected.debtor.name in header
            assert screen.sub_title.endswith(ref) and screen.title == expected.debtor.name
            assert timeline.cursor_row == 0 and not timeline.open_plans
            notes_shown = [entry.note or "" for entry in timeline.entries]
            for before in worked:
                assert before not in header and f"worked {before}" not in " ".join(notes_shown)
                assert all(four not in contacts for four in phones.get(before, ()))
            assert all(four in contacts for four in phones.get(ref, ()))
            assert screen.outlook is None or screen.outlook.case_id == screen.case_id
            assert screen.strategy is None or screen.strategy.case_id == screen.case_id
            assert screen.next_file is None or screen.next_file.case_id != screen.case_id
            # The contact form (kept between cases) opens empty, on this case.
            await burst(pilot, "c")
            form = app.screen
            assert isinstance(form, ContactForm)
            assert form.query_one("#note", TextArea).text == ""
            assert ref in rendered(form.query_one(".dialog-subtitle", Static))
            await burst(pilot, "n", f"worked {ref}", "ctrl+n")  # the code moves on to the note
            await settle(pilot)
            worked.append(ref)
        assert app.screen is screen and screen.case_file is not None
        assert screen.case_file.client_ref not in worked

    drive(app, scenario)
    assert worked[:2] == ["REF-1002", "REF-1004"]
    with demo.store.read() as session:
        for ref in worked:
            logged = session.exec(
                select(Activity).where(
                    Activity.case_id == demo.cases[ref], col(Activity.occurred_at) >= NOW
                )
            ).all()
            assert [(a.disposition, a.note) for a in logged] == [("no_answer", f"worked {ref}")]


SEEDED_PHONES = {
    "REF-1001": ("+86 138 0013 8000", "010 6552 9988"),
    "REF-1002": ("+86 139 1234 5678",),
    "REF-1003": ("+86 755 8888 1234",),
    "REF-1004": ("+86 137 0000 1111",),
    "REF-1005": ("+86 136 2222 3333",),
    "REF-2001": ("+1 212 555 0123",),
}
