"""Reports and their refusals in English and Chinese: the printed table's title and headers in
the language of the run, days in its style; --json and --csv keep the column names; a refusal on
one stderr line in either language."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, str, str]]
PERIOD = ("--from", "2026-11-01", "--to", "2026-11-30")


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def test_a_report_in_english_and_in_chinese(run: Run, place) -> None:  # noqa: ANN001
    place("REF-1", balance=10_000)
    code, english, err = run("report", "aging")
    assert (code, err) == (0, "")
    code, chinese, err = run("--lang", "zh_CN", "report", "aging")
    assert (code, err) == (0, "")
    en_title, _, en_header, *_ = english.splitlines()
    zh_title, _, zh_header, *_ = chinese.splitlines()
    assert en_title.startswith("Aging on 2026-") and en_title.endswith("all cases")
    assert en_header.split() == [
        "currency",
        "bucket",
        "count",
        "balance",
        "disputed",
        "collectible",
    ]
    assert zh_title.startswith("2026/") and "账龄" in zh_title and zh_title.endswith("全部案件")
    assert zh_header.split() == ["币种", "账龄段", "笔数", "余额", "争议金额", "可催收"]
    # The same figures under the headers (the columns as wide as their headers).
    cells = [line.split() for line in english.splitlines()[4:]]
    assert cells and cells == [line.split() for line in chinese.splitlines()[4:]]


def test_machine_output_keeps_the_column_names(run: Run, place) -> None:  # noqa: ANN001
    place("REF-1", balance=10_000)
    for kind in ("aging", "promises", "collections", "agents", "dso", "disputes"):
        english = run("report", kind, "--json")
        chinese = run("--lang", "zh_CN", "report", kind, "--json")
        assert english[0] == 0 and english == chinese, kind
        json.loads(english[1])
        assert run("report", kind, "--csv") == run("--lang", "zh_CN", "report", kind, "--csv")


def test_a_refused_statement_file_in_both_languages(run: Run, place, tmp_path: Path) -> None:  # noqa: ANN001
    place("A-1")
    target = str(tmp_path / "no" / "x.pdf")
    code, out, err = run("statement", "ACME Bank", *PERIOD, "--pdf", target)
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert err.startswith("collector-tui: error: cannot write ") and "x.pdf" in err
    code, out, err = run("--lang", "zh_CN", "statement", "ACME Bank", *PERIOD, "--pdf", target)
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert err.startswith("collector-tui：错误：无法写入 ") and "x.pdf" in err


def test_the_statement_written_says_so_in_chinese(run: Run, place, tmp_path: Path) -> None:  # noqa: ANN001
    place("A-1")
    target = tmp_path / "s.pdf"
    code, out, err = run("--lang", "zh_CN", "statement", "ACME Bank", *PERIOD, "--pdf", str(target))
    assert (code, err) == (0, "")
    assert out.strip() == f"已将 ACME Bank 的对账单写入 {target}"
