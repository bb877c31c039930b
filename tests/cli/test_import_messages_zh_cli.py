"""`import cases` refusing a file in Chinese with `--lang zh_CN` (issue 20): the summary on one
`error:` line, then each bad line, worded where the import judged them; English without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, str, str]]

BAD_FILE = (
    "client,client_ref,debtor_name,country,currency,principal,due_date\n"
    "ACME,R1,Debtor 1,CN,CNY,12.5x,2026-01-15\n"
    "ACME,R2,Debtor 2,CN,CNY,10.00,2026-13-01\n"
)


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def test_import_refusal_in_chinese_then_in_english(run: Run, users, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILE, encoding="utf-8")
    code, out, err = run("--lang", "zh_CN", "import", "cases", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "collector-tui：错误：2 行有误；第一处：第 2 行：金额无效：'12.5x'（principal）",
        "第 2 行：金额无效：'12.5x'（principal）",
        "第 3 行：日期无效：'2026-13-01'（due_date）：请使用 YYYY-MM-DD",
    ]
    code, out, err = run("import", "cases", str(path))
    assert code == 1
    assert err.splitlines()[0] == (
        "collector-tui: error: 2 bad rows; first: line 2: bad amount '12.5x' (principal)"
    )
    assert err.splitlines()[2] == "line 3: bad date '2026-13-01' (due_date): use YYYY-MM-DD"


def test_a_missing_column_in_chinese(run: Run, users, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "short.csv"
    path.write_text("client,client_ref\nACME,R1\n", encoding="utf-8")
    code, _out, err = run("--lang", "zh_CN", "import", "cases", str(path))
    assert code == 1
    assert err.startswith("collector-tui：错误：缺少列：debtor_name")
    assert err.count("\n") == 1
