"""The command line's package keeps its shape: it starts without Textual (the app is loaded only
when it opens), the command groups depend on the shared modules and never on each other, nothing
imports another module's private names, the app's screens never import the command line, and the
console script and `python -m collector_tui` still reach `main`."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import collector_tui

PACKAGE = Path(collector_tui.__file__).resolve().parent
CLI = PACKAGE / "cli"
# What the command groups may import from the command line's package.
SHARED = {"collector_tui.cli.arguments", "collector_tui.cli.context", "collector_tui.cli.output"}
GROUPS = {
    "app",
    "assessment",
    "cases",
    "charges",
    "contacts",
    "disputes",
    "encryption",
    "corrections",
    "devices",
    "exports",
    "imports",
    "reminders",
    "reports",
    "strategies",
    "supervision",
    "sync",
    "users",
}
# The shared modules' own imports inside the package: a chain with no way back.
ALLOWED = {
    "output": set(),
    "context": {"collector_tui.cli.output"},
    "arguments": {"collector_tui.cli.output", "collector_tui.cli.context"},
    "parser": {*(f"collector_tui.cli.{group}" for group in GROUPS - {"app"}), *SHARED},
    **{group: SHARED for group in GROUPS},
}


def _python(code: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=environment,
    )
    return done.stdout.strip()


SUBMODULES = {path.stem for path in CLI.glob("*.py")} - {"__init__"}


def _imports(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) for every import in the file, at any depth (lazy imports included);
    `from collector_tui.cli import cases` counts as importing collector_tui.cli.cases."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = tuple(alias.name for alias in node.names)
            if node.module == "collector_tui.cli" and set(names) <= SUBMODULES:
                found.extend((f"collector_tui.cli.{name}", ()) for name in names)
            else:
                found.append((node.module, names))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, ()) for alias in node.names)
    return found


def _package_modules(found: list[tuple[str, tuple[str, ...]]]) -> set[str]:
    """The modules of the command line's package among `found` (its __init__ included)."""
    return {m for m, _ in found if m == "collector_tui.cli" or m.startswith("collector_tui.cli.")}


def test_importing_the_command_line_and_its_help_load_no_textual() -> None:
    loaded = _python(
        "import contextlib, io, sys\n"
        "import collector_tui.cli as cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert cli.main(['--help']) == 0\n"
        "    assert cli.main(['report', '--help']) == 0\n"
        "heavy = ('textual', 'sqlalchemy', 'sqlmodel', 'collector_tui.tui')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    assert loaded == "[]"


def test_the_package_exports_main_only() -> None:
    from collector_tui import cli

    assert cli.__all__ == ["main"]
    assert callable(cli.main)


def test_groups_import_only_the_shared_modules_and_nothing_private() -> None:
    assert SUBMODULES == set(ALLOWED)
    for path in sorted(CLI.glob("*.py")):
        found = _imports(path)
        if path.stem != "__init__":
            inside = _package_modules(found)
            assert inside <= ALLOWED[path.stem], (path.name, inside - ALLOWED[path.stem])
        for module, names in found:
            if module.startswith("collector_tui"):
                private = [n for n in names if n.startswith("_") and not n.endswith("__")]
                assert not private, (path.name, module, private)


def test_the_app_never_imports_the_command_line() -> None:
    for path in sorted((PACKAGE / "tui").rglob("*.py")):
        for module, _ in _imports(path):
            assert not module.startswith("collector_tui.cli"), (path, module)


def test_the_report_tables_are_plain_data() -> None:
    found = {module for module, _ in _imports(PACKAGE / "services" / "reporting" / "tables.py")}
    for heavy in ("rich", "textual", "argparse", "collector_tui.cli", "collector_tui.tui"):
        assert not any(m == heavy or m.startswith(f"{heavy}.") for m in found), heavy


def test_the_console_script_and_module_reach_main() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "collector-tui"]
    assert script.value == "collector_tui.cli:main"
    from collector_tui.cli import main

    assert script.load() is main
    version = subprocess.run(
        [sys.executable, "-m", "collector_tui", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (version.returncode, version.stdout) == (
        0,
        f"collector-tui {collector_tui.__version__}\n",
    )
