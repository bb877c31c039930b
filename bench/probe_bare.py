"""The start-up baseline: a bare Textual + SQLModel app, spawned as probe_startup.py is.

    python bench/probe_bare.py DB USERNAME

Imports Textual and SQLModel, opens the database with SQLModel's engine, reads 100 open cases
with their debtors in one query, paints them in a DataTable on a headless app and prints
`READY {json}` (with the process's CPU time, every thread) when the table shows rows (the same
moment probe_startup.py waits for). No app code, no login, no password hash: what any Textual +
SQLModel program over this file pays.
"""

from __future__ import annotations

import time

STAMPS: dict[str, float] = {"interpreter": time.time()}

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, create_engine  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable, Footer, Header  # noqa: E402

STAMPS["imported"] = time.time()
POLL_S = 0.002
# One agent's open cases by priority, as the queue's first page reads them (the queue index).
QUERY = text(
    "SELECT c.client_ref, d.name, c.currency, c.balance, c.due_date, c.priority"
    " FROM collection_case c JOIN debtor d ON d.id = c.debtor_id"
    " WHERE c.assigned_to_id = (SELECT id FROM app_user WHERE username = :agent)"
    " AND c.status IN ('new', 'active', 'promised') ORDER BY c.priority LIMIT 100"
)


class Bare(App[None]):
    def __init__(self, database: str, agent: str) -> None:
        super().__init__()
        self.engine = create_engine(f"sqlite:///{database}")
        self.agent = agent

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#table", DataTable)
        table.add_columns("ref", "debtor", "ccy", "balance", "due", "priority")
        with Session(self.engine) as session:
            rows = session.execute(QUERY, {"agent": self.agent}).all()
        table.add_rows([tuple(str(value) for value in row) for row in rows])


async def _run(database: str, agent: str) -> None:
    app = Bare(database, agent)
    async with app.run_test(headless=True, size=(120, 40)):
        deadline = time.monotonic() + 60
        while app.query_one("#table", DataTable).row_count == 0:
            if time.monotonic() > deadline:
                raise TimeoutError("no rows")
            await asyncio.sleep(POLL_S)
        STAMPS["table_shown"] = time.time()
        report = {"stamps": STAMPS, "cpu_s": time.process_time()}
        sys.stdout.write("READY " + json.dumps(report) + "\n")
        sys.stdout.flush()
        app.exit()


if __name__ == "__main__":
    asyncio.run(_run(sys.argv[1], sys.argv[2]))
