"""A cases export with Chinese headers (`export cases --lang zh_CN`) reads back through the
placement import: the import knows every Chinese placement header the export writes."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, str, str]]
PLACEMENT = (
    "client",
    "debtor_name",
    "debtor_type",
    "country",
    "currency",
    "principal",
    "fees",
    "interest",
    "balance",
    "due_date",
    "placed_date",
    "risk_grade",
)


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def test_chinese_headers_round_trip_through_the_import(
    run: Run,
    place,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    place("招商-1", client="招商银行", debtor_name="王小明", principal=123_450, fees=1_000)
    place("招商-2", client="招商银行", debtor_name="深圳华信贸易有限公司", principal=5_000_000)
    exported = tmp_path / "zh.csv"
    code, out, _err = run("--lang", "zh_CN", "export", "cases", str(exported), "--bom")
    assert code == 0 and "cases" not in out.replace(str(exported), "") and "案件" in out, out
    with exported.open(encoding="utf-8-sig", newline="") as file:
        table = list(csv.reader(file))
    header = table[0]
    for name in ("客户", "客户编号", "债务人", "类型", "国家", "币种", "本金", "费用", "利息"):
        assert name in header
    for name in ("余额", "到期日", "委托日期", "风险等级"):
        assert name in header
    # The same file under new references: the import reads it as new placements.
    ref = header.index("客户编号")
    for row in table[1:]:
        row[ref] = "NEW-" + row[ref]
    again = tmp_path / "again.csv"
    with again.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(table)
    code, out, err = run("import", "cases", str(again), "--json")
    assert (code, err) == (0, ""), err
    assert json.loads(out)["cases_created"] == 2
    english = tmp_path / "en.csv"
    assert run("export", "cases", str(english))[0] == 0
    by_ref = {row["client_ref"]: row for row in _rows(english)}
    for old in ("招商-1", "招商-2"):
        copied = by_ref["NEW-" + old]
        assert {k: copied[k] for k in PLACEMENT} == {k: by_ref[old][k] for k in PLACEMENT}
