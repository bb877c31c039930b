"""Opening the app from the command line: the login screen paints before the database layer is
imported (the store opens in a thread meanwhile), and a file the app cannot work on is still
refused in one line before any screen."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collector_tui import db

# Holds the store's opening until the login screen is shown, then logs alice in: the login's
# paint must not wait for (or import) SQLAlchemy, and the login still reaches the queue.
DRIVER = textwrap.dedent(
    """
    import asyncio, json, os, sys, threading
    import collector_tui.cli as cli
    import collector_tui.cli.app as cli_app
    import collector_tui.tui.app as tui_app

    go = threading.Event()
    Opening = tui_app.StoreOpening

    class HeldOpening(Opening):
        def __init__(self, open_store):
            def held():
                go.wait(30)
                return open_store()
            super().__init__(held)

    tui_app.StoreOpening = HeldOpening
    seen = {}

    def drive(app):
        async def run():
            async with app.run_test(headless=True, size=(120, 40)) as pilot:
                from textual.widgets import Input

                while not app.screen.query("#password"):
                    await asyncio.sleep(0.01)
                heavy = ("sqlalchemy", "sqlmodel", "collector_tui.models", "collector_tui.db")
                seen["at_login"] = sorted(m for m in sys.modules if m.startswith(heavy))
                go.set()
                password = app.screen.query_one("#password", Input)
                password.value = "demo"
                await password.action_submit()
                for _ in range(3000):
                    screen = app.screen
                    if getattr(screen, "page", None) is not None:
                        break
                    await asyncio.sleep(0.01)
                await pilot.pause()
                seen["after"] = type(app.screen).__name__
                app.exit()

        asyncio.run(run())
        return 0

    cli_app.run_app = drive
    code = cli.main(["--db", sys.argv[1], "--now", "2026-10-15T09:00:00+00:00", "--user", "alice"])
    print(json.dumps({"code": code, **seen}))
    """
)


@pytest.mark.sqlite_only  # hands the SQLite file to the command line (a URL opens up front)
def test_the_login_paints_before_the_database_layer_is_imported(
    store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    assert store.file is not None
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(store.file)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "at_login": [], "after": "QueueScreen"}, done.stderr


def test_a_file_the_app_cannot_open_is_one_line_before_any_screen(
    cli_runner: Callable[[str], Callable[..., tuple[int, str, str]]], tmp_path: Path
) -> None:
    run = cli_runner("alice")
    database = tmp_path / "test.db"
    code, _, err = run()  # no file: nothing is created by looking
    assert code == 1
    assert "collector-tui init" in _one_error_line(err)
    assert not database.exists()

    sqlite3.connect(database).close()
    code, _, err = run()
    assert code == 1
    assert "not initialised" in _one_error_line(err)

    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('0001')")
    connection.close()
    code, _, err = run()
    assert code == 1
    line = _one_error_line(err)
    assert "schema 0001" in line and db.SCHEMA_HEAD in line

    database.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)  # a broken file
    code, _, err = run()
    assert code == 1
    _one_error_line(err)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("collector-tui: error: ")
    assert "Traceback" not in err
    return lines[0]
