"""The command line: open the app, or run one command and exit.

Handlers only parse arguments, open the store, call the services in one unit of work and print.
Every refusal is one line on stderr (`collector-tui: error: ...`) with exit status 1, a usage
mistake exits with 2, and nothing is half-written: each command that changes data does it in one
transaction. Heavy modules (SQLAlchemy, the services, Textual) are imported inside the handlers so
`--help` and argument mistakes answer at once.

The package: parser.py builds the argparse tree from each command group's `register` (users.py,
imports.py, cases.py, contacts.py, disputes.py, exports.py, reports.py, supervision.py, sync.py,
devices.py, corrections.py); arguments.py holds what the groups share to declare their commands,
context.py the options, store, clock and acting user of one run, output.py the printing and the
one-line errors; app.py opens the Textual app. The groups import arguments, context and output
only, never each other.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from collector_tui import i18n
from collector_tui.cli import app
from collector_tui.cli.context import Context
from collector_tui.cli.output import (
    PROG,
    BadValue,
    CliError,
    UsageError,
    database_message,
    error,
    silence_stdout,
)
from collector_tui.cli.parser import asked_language, build_parser
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import ServiceError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv) if argv is not None else sys.argv[1:]
    # The language of this run: --lang, else the environment's (LC_ALL, LC_MESSAGES, LANG); the
    # acting user's own setting replaces the environment's once they are known (cli/context.py).
    # Read before the parser is built, so --help and usage mistakes speak it too.
    with i18n.language(asked_language(arguments) or i18n.environment_language()):
        return _main(arguments)


def _usage(usage: UsageError) -> str:
    return _("{problem} (see {prog} --help)").format(problem=usage, prog=PROG)


def _main(arguments: list[str]) -> int:
    parser = build_parser()
    err = sys.stderr
    try:
        args = parser.parse_args(arguments)
    except UsageError as usage:
        error(err, _usage(usage))
        return 2
    except BadValue as bad:
        error(err, str(bad))
        return 1
    except SystemExit as done:  # --help, --version
        return int(done.code or 0)
    ctx = Context(args=args, out=sys.stdout, err=err, stdin=sys.stdin)
    try:
        if args.demo:
            if args.command:
                raise UsageError(_("--demo opens the app: it takes no command"))
            return app.open_demo(ctx)
        handler = getattr(args, "handler", None)
        if handler is None:
            return app.open_app(ctx)
        return int(handler(ctx))
    except UsageError as usage:
        error(err, _usage(usage))
        return 2
    except (CliError, ServiceError) as refusal:
        error(err, str(refusal))
        return 1
    except KeyboardInterrupt:
        error(err, _("interrupted"))
        return 130
    except BrokenPipeError:  # `collector-tui queue | head`: the reader has seen enough
        silence_stdout()
        return 141
    except OSError as failure:  # files to import or export: missing, unreadable, no space
        where = f": {failure.filename}" if failure.filename else ""
        error(err, f"{failure.strerror or failure}{where}")
        return 1
    except ValueError as bad:  # amounts (MoneyError), config values, dates
        error(err, str(bad))
        return 1
    except Exception as failure:
        message = database_message(failure)
        if message is None:
            if os.environ.get("COLLECTOR_DEBUG"):
                raise
            message = _("unexpected {kind}: {detail} (set COLLECTOR_DEBUG=1)").format(
                kind=type(failure).__name__, detail=failure
            )
        error(err, message)
        return 1
    finally:
        ctx.close()
