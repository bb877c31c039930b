"""The message catalogs: extract, update, compile (Babel's pybabel, driven with the project's paths).

    python tools/i18n.py extract   # src -> src/collector_tui/locale/collector_tui.pot
    python tools/i18n.py update    # the .pot -> each language's .po (new messages empty)
    python tools/i18n.py compile   # each .po -> its .mo (committed: README, Languages)
    python tools/i18n.py init LANG # a new language's .po
    python tools/i18n.py all       # extract, update, compile: after changing or translating text

tests/core/test_i18n.py fails when a message in the code has no zh_CN translation or a .mo is
older than its .po, so a forgotten step shows in CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "collector_tui" / "locale"
POT = LOCALE / "collector_tui.pot"
DOMAIN = "collector_tui"


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    _pybabel(
        "extract",
        "-F",
        str(ROOT / "babel.cfg"),
        "-k",
        "N_",
        "--no-location",
        "--sort-output",
        "--project",
        "collector-tui",
        "--msgid-bugs-address",
        "",
        "-o",
        str(POT),
        str(ROOT / "src" / "collector_tui"),
    )


def update() -> None:
    # --no-fuzzy-matching: a guessed translation of a changed message is worse than none (the
    # test then names it as missing).
    _pybabel(
        "update",
        "-i",
        str(POT),
        "-d",
        str(LOCALE),
        "-D",
        DOMAIN,
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


def compile_catalogs() -> None:
    _pybabel("compile", "-d", str(LOCALE), "-D", DOMAIN, "--statistics")


def init(language: str) -> None:
    _pybabel("init", "-i", str(POT), "-d", str(LOCALE), "-D", DOMAIN, "-l", language)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("extract", "update", "compile", "init", "all"):
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[0]
    if command == "init":
        if len(argv) != 2:
            print("init needs a language, e.g. `init zh_TW`", file=sys.stderr)
            return 2
        init(argv[1])
        return 0
    if command in ("extract", "all"):
        extract()
    if command in ("update", "all"):
        update()
    if command in ("compile", "all"):
        compile_catalogs()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
