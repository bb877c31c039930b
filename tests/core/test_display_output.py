"""Stored text never drives the terminal (display.py): C0 and C1 controls, bidi overrides,
embeddings, isolates and marks are shown as placeholders in the app and the command line's
tables, and escaped in every command's JSON, while Chinese stays readable. CSV export files keep
the data as it is (only the formula prefix protects a spreadsheet).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collector_tui import cli, db
from collector_tui.display import first_line, json_text, printable, safe_text
from collector_tui.models import User
from collector_tui.services import accounts

pytestmark = pytest.mark.sqlite_only  # the command line is given the SQLite file

NOW = "2026-11-20T14:30:00+00:00"
# A name an attacker would like: reverses the line, hides a mark, and a C1 CSI (one-byte ESC [).
HOSTILE = "王小明\u202eevil\u200f\x9b31m\u061c\u2066x\u2069\u200e"
UNSAFE = ["\u202e", "\u200f", "\x9b", "\u061c", "\u2066", "\u2069", "\u200e", "\x1b", "\x85"]

Run = Callable[..., tuple[int, str, str]]


def _raw_unsafe(text: str) -> list[str]:
    return [char for char in UNSAFE if char in text]


# --- the helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\u200e", "<U+200E>"),  # LEFT-TO-RIGHT MARK
        ("\u200f", "<U+200F>"),  # RIGHT-TO-LEFT MARK
        ("\u061c", "<U+061C>"),  # ARABIC LETTER MARK
        ("\u2066", "<U+2066>"),  # isolates
        ("\u2067", "<U+2067>"),
        ("\u2068", "<U+2068>"),
        ("\u2069", "<U+2069>"),
        ("\u202a", "<U+202A>"),  # embeddings and overrides
        ("\u202e", "<U+202E>"),
        ("\x80", "<U+0080>"),  # C1
        ("\x85", "<U+0085>"),
        ("\x9b", "<U+009B>"),
        ("\x9f", "<U+009F>"),
        ("\ufeff", "<U+FEFF>"),
        ("\u200b", "<U+200B>"),
        ("\x1b", "\u241b"),  # C0: its control picture
    ],
)
def test_every_terminal_control_becomes_a_placeholder(char: str, shown: str) -> None:
    assert printable(f"a{char}b") == f"a{shown}b"
    text = safe_text(f"a{char}b")  # what the app's widgets are given
    assert text.plain == f"a{shown}b"
    assert char not in first_line(f"a{char}b", 40).plain


def test_ordinary_text_is_untouched() -> None:
    for text in ("王小明", "José Müller", "Zoë\u200d", "محمد", "[bold]x[/bold]"):
        assert printable(text) == text


def test_json_escapes_controls_but_keeps_chinese_readable() -> None:
    value = {"debtor": HOSTILE, "note": "line\u2028two\x7f", "王": ["ok"]}
    text = json_text(value)
    assert "王小明" in text and '"王"' in text
    assert _raw_unsafe(text) == [] and "\u2028" not in text and "\x7f" not in text
    for escape in ("\\u202e", "\\u200f", "\\u009b", "\\u061c", "\\u2066", "\\u2028", "\\u007f"):
        assert escape in text
    assert json.loads(text) == value  # the data itself is intact


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLLECTOR_PASSWORD", "demo")


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], store: db.Store, tmp_path: Path) -> Run:
    def _run(*args: str) -> Any:
        capsys.readouterr()
        code = cli.main(["--db", str(tmp_path / "test.db"), "--now", NOW, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


@pytest.fixture
def hostile_case(place: Any) -> Any:
    return place("HX-1", debtor_name=HOSTILE)


def test_queue_shows_a_hostile_name_as_placeholders(run: Run, hostile_case: Any) -> None:
    code, out, err = run("--user", "alice", "queue", "--held")
    assert (code, err) == (0, "")
    assert "王小明<U+202E>ev" in out  # the column is cut to its width, after the placeholder
    assert _raw_unsafe(out) == []


def test_queue_json_escapes_a_hostile_name(run: Run, hostile_case: Any) -> None:
    code, out, err = run("--user", "alice", "queue", "--held", "--json")
    assert (code, err) == (0, "")
    assert _raw_unsafe(out) == []
    assert "\\u202e" in out and "\\u009b" in out and "王小明" in out
    assert [entry["debtor"] for entry in json.loads(out)] == [HOSTILE]


def test_cases_json_and_text_escape_a_hostile_name(run: Run, hostile_case: Any) -> None:
    code, out, err = run("--user", "sam", "cases", "--json")
    assert (code, err) == (0, "")
    assert _raw_unsafe(out) == [] and json.loads(out)[0]["debtor"] == HOSTILE
    code, out, err = run("--user", "sam", "cases")
    assert (code, err) == (0, "")
    assert _raw_unsafe(out) == [] and "王小明<U+202E>" in out


@pytest.fixture
def hostile_agent(store: db.Store, place: Any) -> str:
    """A user stored before user names were checked (names are plain ASCII since)."""
    name = "ag\u202eent\x9b"
    with store.write() as session:
        user = User(
            username=name, display_name=name, role="agent",
            password_hash=accounts.hash_password("demo"), time_zone="UTC",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
        session.add(user)
        session.flush()
        user_id = user.id
    place("HX-2", assigned_to_id=user_id)
    return name


def test_report_text_and_json_escape_a_hostile_agent_name(run: Run, hostile_agent: str) -> None:
    code, out, err = run("--user", "sam", "report", "agents", "--json")
    assert (code, err) == (0, "")
    assert _raw_unsafe(out) == []
    assert hostile_agent in [row.get("agent") for row in json.loads(out)]
    code, out, err = run("--user", "sam", "report", "agents")
    assert (code, err) == (0, "")
    assert _raw_unsafe(out) == [] and "<U+202E>" in out
    code, out, err = run("--user", "sam", "workload", "--json")
    assert (code, err) == (0, "")
    assert _raw_unsafe(out) == []


def test_history_shows_a_hostile_name_as_placeholders(run: Run, hostile_case: Any) -> None:
    code, out, err = run("--user", "sam", "history", "HX-1", "--json")
    assert (code, err) == (0, "") and _raw_unsafe(out) == []
    code, out, err = run("--user", "sam", "history", "HX-1")
    assert (code, err) == (0, "") and _raw_unsafe(out) == []


def test_csv_export_keeps_the_data_as_it_is(run: Run, hostile_case: Any, tmp_path: Path) -> None:
    target = tmp_path / "cases.csv"
    code, out, err = run("--user", "sam", "export", "cases", str(target), "--json")
    assert (code, err) == (0, "") and _raw_unsafe(out) == []
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["debtor_name"] for row in rows] == [HOSTILE]
