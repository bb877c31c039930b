"""Start the app as a user would, headless, and say when the queue screen shows rows.

    python bench/probe_startup.py DB NOW USERNAME      (password in $COLLECTOR_PASSWORD)

Runs the real entry point, `collector_tui.cli.main(["--db", DB, "--now", NOW, "--user", NAME])`,
with `collector_tui.cli.app.run_app` (the one place the CLI hands the app to a terminal) replaced
by a headless driver: it submits the password on the login screen, waits for the queue table to
show rows, and prints one line `READY {json}` with wall-clock stamps of each stage (time.time(),
compared by the parent with its own spawn time) and the process's peak RSS. Imports nothing heavy
before `cli`.
"""

from __future__ import annotations

import time

STAMPS: dict[str, float] = {"interpreter": time.time()}

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import collector_tui.cli as cli  # noqa: E402
import collector_tui.cli.app as cli_app  # noqa: E402

STAMPS["cli_imported"] = time.time()
POLL_S = 0.002


async def _until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(POLL_S)


def _drive(app: Any) -> int:
    STAMPS["app_made"] = time.time()

    async def run() -> None:
        async with app.run_test(headless=True, size=(120, 40)):
            from textual.widgets import DataTable, Input

            def login_ready() -> bool:
                try:
                    return app.screen.query_one("#password", Input).has_focus
                except Exception:  # not mounted yet
                    return False

            await _until(login_ready)
            STAMPS["login_shown"] = time.time()
            password = app.screen.query_one("#password", Input)
            password.value = os.environ["COLLECTOR_PASSWORD"]
            # What the enter key does (Input.action_submit), without Pilot.press, which would
            # wait for the whole login and queue to settle before returning.
            await password.action_submit()
            STAMPS["login_submitted"] = time.time()

            def queue_rows() -> bool:
                screen = app.screen
                if "queue_screen" not in STAMPS and type(screen).__name__ == "QueueScreen":
                    STAMPS["queue_screen"] = time.time()
                if "queue_built" not in STAMPS and getattr(screen, "page", None) is not None:
                    STAMPS["queue_built"] = time.time()
                try:
                    return screen.query_one("#queue-table", DataTable).row_count > 0
                except Exception:
                    return False

            await _until(queue_rows)
            STAMPS["queue_shown"] = time.time()
            rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            report = {"stamps": STAMPS, "max_rss_mb": rss_kib / 1024}
            sys.stdout.write("READY " + json.dumps(report) + "\n")
            sys.stdout.flush()
            app.exit()

    asyncio.run(run())
    return 0


def main() -> int:
    database, now, username = sys.argv[1:4]
    cli_app.run_app = _drive  # type: ignore[assignment]
    return cli.main(["--db", database, "--now", now, "--user", username])


if __name__ == "__main__":
    raise SystemExit(main())
