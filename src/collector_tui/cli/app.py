"""Opening the app: `collector-tui` without a command, or `collector-tui --demo`.

Textual is imported here, inside the functions, and only here: every other command runs without
it, so the command line starts at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from collector_tui.cli.context import Context, interactive
from collector_tui.cli.output import CliError, UsageError
from collector_tui.i18n import gettext as _

__all__ = ["open_app", "open_demo", "run_app"]


def run_app(app: Any) -> int:
    """Run the Textual app in this terminal: the one place the command line hands the app to a
    terminal (tests and the startup probe replace it to drive the app headless instead)."""
    if not (interactive(sys.stdin) and interactive(sys.stdout)):
        raise CliError(_("the app needs a terminal; for scripts use a command (see --help)"))
    app.run()
    return int(app.return_code or 0)


def open_app(ctx: Context) -> int:
    # Checked now (a refusal is one line, before Textual is imported), opened in a thread while
    # the login screen paints; an encrypted file is unlocked at the login screen.
    store = ctx.open_later()
    from collector_tui.tui.app import make_app

    app = make_app(
        store=store,
        settings=ctx.load_settings(),
        clock=ctx.clock,
        username=ctx.username(),
        language=ctx.option("lang"),
    )
    return run_app(app)


def open_demo(ctx: Context) -> int:
    """The app on a fresh copy of the demo database, on the demo's clock unless --now is given;
    the copy is deleted when the app closes."""
    import shutil
    import tempfile

    from collector_tui.clock import FixedClock, parse_instant
    from collector_tui.demo import DEMO_NOW_TEXT, fresh_demo_copy

    if ctx.option("db"):
        raise UsageError(_("--demo opens its own copy of the demo database: drop --db"))
    folder = Path(tempfile.mkdtemp(prefix="collector-demo-"))
    try:
        path = fresh_demo_copy(folder)
        ctx.args.db = str(path)
        if ctx.option("now") is None:
            ctx.fix_clock(FixedClock(parse_instant(DEMO_NOW_TEXT)))
        return open_app(ctx)
    finally:
        ctx.close()
        shutil.rmtree(folder, ignore_errors=True)
