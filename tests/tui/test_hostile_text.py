"""Names and notes with Rich markup, terminal escapes and bidi overrides show literally
(docs/decisions.md, text on screen)."""

from __future__ import annotations

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from collector_tui.services.casework import notes
from collector_tui.tui.screens.case import CaseScreen, EntryScreen
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.queue import QueueScreen

from .conftest import build_app, drive, login, rendered, settle
from .seed import NOW, Seeded

HOSTILE_NOTE = "x[/oops] [@click=app.quit]q[/] \x1b[2J\x1b]0;pwned\x07 \u202eevil"


def test_hostile_names_and_notes_render_literally_and_nothing_runs(hostile: Seeded) -> None:
    with hostile.store.write() as session:
        notes.add_note(
            session=session,
            now=NOW,
            actor=hostile.users["alice"],
            case_id=hostile.cases["HX-2"],
            text=HOSTILE_NOTE,
            settings=hostile.settings,
        )
    app = build_app(hostile)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, QueueScreen)
        table = app.screen.query_one("#queue-table", DataTable)
        debtors = {str(table.get_row_at(row)[1]) for row in range(table.row_count)}
        assert {"[bold]X[/]", "x[/oops]", "Evil␛[31mRed␛[0m", "[@click=app.quit]Click"} <= debtors
        # Every cell is a Text: nothing a DataTable would parse as markup.
        assert all(
            isinstance(cell, Text)
            for row in range(table.row_count)
            for cell in table.get_row_at(row)
        )
        screen_text = app.export_screenshot()
        assert "\x1b[31m" not in screen_text

        for ref, shown in (
            ("HX-1", "[bold]X[/]"),
            ("HX-2", "x[/oops]"),
            ("HX-3", "Evil␛[31mRed␛[0m"),
            ("HX-4", "[@click=app.quit]Click"),
        ):
            app.screen.open_case(hostile.cases[ref])  # type: ignore[attr-defined]
            await settle(pilot)
            assert isinstance(app.screen, CaseScreen)
            assert shown in rendered(app.screen.query_one("#case-header", Static))
            assert "\x1b" not in app.screen.title
            if ref == "HX-2":
                await pilot.press("enter")  # the hostile note, in full
                await settle(pilot)
                assert isinstance(app.screen, EntryScreen)
                note = rendered(app.screen.query_one("#entry-note", Static))
                assert "x[/oops] [@click=app.quit]q[/] ␛[2J␛]0;pwned␇ <U+202E>evil" in note
                await pilot.click("#entry-note")  # a click on the text runs no action
                await pilot.press("escape")
                await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            # Opened from the queue and left with nothing logged: the wrap-up question.
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await settle(pilot)
        assert app.is_running

    drive(app, scenario)
