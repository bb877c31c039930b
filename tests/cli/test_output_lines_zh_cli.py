"""The command line's own result lines in the run's language (issue 20): an import's summary, the
dry run's notice and an assignment's line in Chinese with `--lang zh_CN`, in English without it;
the figures and the file name the same in both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, str, str]]

GOOD_FILE = (
    "client,client_ref,debtor_name,country,phone,currency,principal,due_date\n"
    "ACME,Z1,Debtor 1,CN,13800138000,CNY,12.50,2026-01-15\n"
    "ACME,Z2,Debtor 2,CN,13800138001,CNY,10.00,2026-02-01\n"
)


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def test_an_import_summary_in_chinese_then_in_english(run: Run, users, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "good.csv"
    path.write_text(GOOD_FILE, encoding="utf-8")
    code, out, err = run("--lang", "zh_CN", "import", "cases", str(path), "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{path}：2 行，将新建案件 2 个，已存在 0 个，发票 0 张，电话 2 个（无效 0 个），拒绝 0 行",
        "试运行：未写入任何内容",
    ]
    code, out, _err = run("import", "cases", str(path))
    assert code == 0
    assert out.splitlines() == [
        f"{path}: 2 rows, 2 cases created, 0 already there, 0 invoices, 2 phones (0 invalid), "
        "0 rejected"
    ]


def test_an_assignment_line_in_chinese(run: Run, users, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "good.csv"
    path.write_text(GOOD_FILE, encoding="utf-8")
    assert run("import", "cases", str(path))[0] == 0
    code, out, err = run("--lang", "zh_CN", "assign", "ACME/Z1", "ACME/Z2", "--to", "alice")
    assert (code, err) == (0, "")
    assert out.strip() == "已将 2 个案件中的 2 个移交给 alice"


def test_a_contact_change_line_in_chinese_then_in_english(run: Run, users, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "good.csv"
    path.write_text(GOOD_FILE, encoding="utf-8")
    assert run("import", "cases", str(path))[0] == 0
    code, out, err = run(
        "--lang", "zh_CN", "contact", "add", "ACME/Z1", "--email", "li@example.com"
    )
    assert (code, err) == (0, "")
    assert out.startswith("已在 ACME/Z1 添加邮箱 li@example.com；")
    code, out, err = run(
        "--lang", "zh_CN", "contact", "set", "ACME/Z1", "li@example.com", "--status", "wrong",
        "--reason", "bounced twice",
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    assert out.startswith("已标记为有误（非债务人所有）：ACME/Z1 的邮箱 li@example.com；")
    code, out, _err = run("contact", "retire", "ACME/Z1", "li@example.com", "--reason", "gone")
    assert code == 0 and out.startswith("retired e-mail li@example.com on ACME/Z1; ")
