"""The History screen with real keys: readable amounts and names, the recorded JSON in full."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from collector_tui.tui.screens.audit import AuditEntryScreen, AuditScreen

from .conftest import build_app, drive, login, settle
from .seed import Seeded


def test_history_shows_money_and_names_and_keeps_the_json(demo: Seeded) -> None:
    sam = demo.users["sam"]
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.push_screen(AuditScreen(demo.cases["REF-2001"], heading="REF-2001"))
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        table = app.screen.query_one("#audit-table", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        placed = next(row for row in rows if row[2] == "case place")
        assert "balance=1,250.00 US" in placed[3], placed  # cut to the column
        assert "125000" not in " ".join(row[3] for row in rows)
        while [str(c) for c in table.get_row_at(table.cursor_row)][2] != "case place":
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditEntryScreen)
        body = str(app.screen.query_one("#audit-entry-body", Static).render())
        assert "balance = 1,250.00 USD" in body
        assert "recorded after:" in body and '"balance": 125000' in body
        assert str(sam.user_id) not in body
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)

    drive(app, scenario)
