"""Start the app as a user would, headless, and say when the queue screen shows rows.

    python bench/probe_startup.py DB NOW USERNAME      (password in $COLLECTOR_PASSWORD)

Runs the real entry point, `collector_tui.cli.main(["--db", DB, "--now", NOW, "--user", NAME])`,
with `collector_tui.cli.app.run_app` (the one place the CLI hands the app to a terminal) replaced
by a headless driver: it submits the password on the login screen, waits for the queue table to
show rows, and prints one line `READY {json}` with wall-clock stamps of each stage (time.time(),
compared by the parent with its own spawn time), the process's CPU time at each (every thread:
what a loaded machine disturbs least) and its peak RSS. Imports nothing heavy before `cli`.

The peak is the kernel's VmHWM of this process's own memory: `getrusage`'s ru_maxrss is not,
since Linux carries the parent's peak over `execve` — a bench process holding 170 MB made every
probe it spawned report at least that.
"""

from __future__ import annotations

import time

STAMPS: dict[str, float] = {"interpreter": time.time()}
CPU: dict[str, float] = {"interpreter": time.process_time()}

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import collector_tui.cli as cli  # noqa: E402
import collector_tui.cli.app as cli_app  # noqa: E402

STAMPS["cli_imported"] = time.time()
CPU["cli_imported"] = time.process_time()
POLL_S = 0.002


def _stamp(name: str) -> None:
    STAMPS[name] = time.time()
    CPU[name] = time.process_time()


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: an upper bound


async def _until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(POLL_S)


def _drive(app: Any) -> int:
    _stamp("app_made")

    async def run() -> None:
        async with app.run_test(headless=True, size=(120, 40)):
            from textual.widgets import DataTable, Input

            def login_ready() -> bool:
                try:
                    return app.screen.query_one("#password", Input).has_focus
                except Exception:  # not mounted yet
                    return False

            await _until(login_ready)
            _stamp("login_shown")
            # A person's typing of the password (COLLECTOR_PROBE_TYPING_S, 0 by default): what
            # the login's warm-up gets done before the password's answer.
            await asyncio.sleep(float(os.environ.get("COLLECTOR_PROBE_TYPING_S", "0")))
            password = app.screen.query_one("#password", Input)
            password.value = os.environ["COLLECTOR_PASSWORD"]
            # What the enter key does (Input.action_submit), without Pilot.press, which would
            # wait for the whole login and queue to settle before returning.
            await password.action_submit()
            _stamp("login_submitted")

            def queue_rows() -> bool:
                screen = app.screen
                if "queue_screen" not in STAMPS and type(screen).__name__ == "QueueScreen":
                    _stamp("queue_screen")
                if "queue_built" not in STAMPS and getattr(screen, "page", None) is not None:
                    _stamp("queue_built")
                try:
                    return screen.query_one("#queue-table", DataTable).row_count > 0
                except Exception:
                    return False

            await _until(queue_rows)
            _stamp("queue_shown")
            report = {"stamps": STAMPS, "cpu": CPU, "max_rss_mb": _peak_rss_mb()}
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
