"""`strategy check|apply|show|escalations` (in-process through `cli.main`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlmodel import select

from collector_tui import db
from collector_tui.models import Case, StrategySet

Run = Callable[..., tuple[int, str, str]]

FILE = """
title = "CLI strategies"
[strategies.standard]
queue_weight = 100
sequence = "consumer"
escalations = [{ after_days = 30, p_below = 0.99 }]
[strategies.standard.challenger]
share = 50
queue_weight = 150
[[rules]]
name = "default"
strategy = "standard"
"""


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


def _refused(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert code == 1, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and message in err, err


def test_check_apply_show_and_escalate(
    cli_runner: Callable[[str], Run], store: db.Store, place, tmp_path: Path
) -> None:
    place("OLD-1", placed_date=date(2026, 9, 1), phones=())
    place("NEW-1", placed_date=date(2026, 11, 20), phones=())
    path = tmp_path / "s.toml"
    path.write_text(FILE, encoding="utf-8")
    run = cli_runner("sam")
    checked = json.loads(_ok(run("strategy", "check", str(path), "--json")))
    assert checked["would_change"] == 2 and checked["strategies"] == ["standard"]
    with store.read() as session:
        assert session.exec(select(StrategySet)).all() == []  # a check writes nothing
    out = _ok(run("strategy", "apply", str(path)))
    assert "Strategy set v1 from s.toml in force: 2 cases placed" in out
    shown = json.loads(_ok(run("strategy", "show", "--json")))
    assert shown["version"] == 1 and sum(c["cases"] for c in shown["cases"]) == 2
    text = _ok(run("strategy", "show"))
    assert "queue weight 150%" in text and "reminders consumer" in text
    assert _ok(run("strategy", "show", "--file")).splitlines()[1] == 'title = "CLI strategies"'
    due = json.loads(_ok(run("strategy", "escalations", "--json")))
    assert [d["client_ref"] for d in due] == ["OLD-1"]
    _groups_and_statuses_in_chinese(run, text)
    out = _ok(run("strategy", "escalations", "--escalate"))
    assert "1 cases sent to legal." in out
    with store.read() as session:
        statuses = {c.client_ref: c.status for c in session.exec(select(Case)).all()}
    assert statuses["OLD-1"] == "legal" and statuses["NEW-1"] != "legal"
    assert _ok(run("strategy", "escalations")).strip() == "no escalation due"


def test_a_bad_file_is_one_line_and_changes_nothing(
    cli_runner: Callable[[str], Run], store: db.Store, place, tmp_path: Path
) -> None:
    place("A-1", phones=())
    good = tmp_path / "good.toml"
    good.write_text(FILE, encoding="utf-8")
    run = cli_runner("sam")
    _ok(run("strategy", "apply", str(good)))
    bad = tmp_path / "bad.toml"
    bad.write_text(FILE.replace('strategy = "standard"', 'strategy = "standard"\nflavour = 1'))
    _refused(
        run("strategy", "apply", str(bad)),
        "bad.toml: rule 'default' (rules[1]): unknown field 'flavour'",
    )
    _refused(run("strategy", "check", str(bad)), "unknown field 'flavour'")
    _refused(
        run("strategy", "apply", str(tmp_path / "missing.toml")), "missing.toml: cannot be read"
    )
    assert json.loads(_ok(run("strategy", "show", "--json")))["version"] == 1
    # An agent may look, not apply.
    agent = cli_runner("alice")
    _refused(agent("strategy", "apply", str(good)), "only a supervisor can apply a strategy file")
    assert _ok(agent("strategy", "show", "--json"))


def _groups_and_statuses_in_chinese(run: Run, english: str) -> None:
    """The codes a person reads (groups, the status escalated to) in the reader's language,
    the tables aligned by terminal cells; English as it was."""
    from rich.cells import cell_len

    assert "  champion: queue weight 100%" in english
    assert "  challenger 50%: queue weight 150%" in english
    counts = [line for line in english.splitlines() if line.startswith("  standard ")]
    assert counts and all(line[27:38].strip() in ("champion", "challenger") for line in counts)

    shown = _ok(run("--lang", "zh_CN", "strategy", "show"))
    assert "  冠军组：" in shown or "  冠军组: " in shown
    assert "挑战组 50%" in shown and "champion" not in shown and "challenger" not in shown
    counts = [line for line in shown.splitlines() if line.startswith("  standard ")]
    assert counts and len({cell_len(line) for line in counts}) == 1  # counts end on one cell
    due = _ok(run("--lang", "zh_CN", "strategy", "escalations"))
    assert "→ 法律" in due and "legal" not in due
