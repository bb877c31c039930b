"""Writing records to a file.

    collector-tui export cases|activities|promises|payments FILE.csv [--bom] [--json]

An agent's export holds that agent's cases only; `--bom` starts the file with a UTF-8 BOM so that
Excel reads it as UTF-8.
"""

from __future__ import annotations

from pathlib import Path

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import show
from collector_tui.i18n import gettext as _
from collector_tui.labels import EXPORT_KINDS, word

__all__ = ["register"]


def register(commands: Commands) -> None:
    about = _("write cases, activities, promises or payments to a CSV file")
    export = commands.add("export", _cmd_export, help=about, description=about)
    export.add_argument("what", choices=("cases", "activities", "promises", "payments"))
    export.add_argument("file", metavar="FILE.csv", type=Path)
    export.add_argument("--bom", action="store_true", help=_("start with a UTF-8 BOM (Excel)"))
    export.add_argument("--json", action="store_true", help=_("print the result as JSON"))


def _cmd_export(ctx: Context) -> int:
    from collector_tui.services.reporting import exports

    args = ctx.args
    actor = ctx.actor()
    # Chinese headers only when --lang zh_CN is given on this run: the English ones are the
    # machine contract and never follow the user's or the environment's language.
    headers = "zh_CN" if ctx.option("lang") == "zh_CN" else "en"
    count = ctx.run(
        exports.export,
        what=args.what,
        path=args.file,
        bom=args.bom,
        actor=actor,
        headers=headers,
    )
    if args.json:
        ctx.json({"exported": args.what, "rows": count, "path": str(args.file)})
    else:
        ctx.print(
            _("wrote {count} {what} to {file}").format(
                count=count, what=word(EXPORT_KINDS, args.what), file=show(str(args.file))
            )
        )
    return 0
