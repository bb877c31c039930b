"""Amounts in a placement file as Chinese users write them: a yuan sign (half or full width), 元
or 人民币 around the figure, full-width digits; an amount that reads two ways is refused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from collector_tui.config import Settings
from collector_tui.db import Store
from collector_tui.models import Case
from collector_tui.services.imports.placement_file import ImportRejected, import_cases

HEADER = "客户,客户编号,债务人,国家,币种,本金,到期日\n"


@pytest.fixture
def run(store: Store, now: datetime, settings: Settings):  # noqa: ANN201
    def _run(path: Path, **options: Any) -> Any:
        return import_cases(store=store, path=path, now=now, settings=settings, **options)

    return _run


def _file(folder: Path, amounts: list[str]) -> Path:
    lines = [
        f'招商银行,ZS-{index},王{index},CN,CNY,"{amount}",2026-01-31'
        for index, amount in enumerate(amounts, 1)
    ]
    path = folder / "in.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_yuan_amounts_as_people_write_them(run, store: Store, tmp_path: Path) -> None:  # noqa: ANN001
    amounts = [
        "¥1,234.50",
        "1234.5元",
        "人民币1234.50",
        "1,234.5元",
        "￥１，２３４．５",
        "RMB 1234.50",
    ]
    report = run(_file(tmp_path, amounts))
    assert (report.cases_created, report.rejected) == (len(amounts), ())
    with store.read() as session:
        principals = set(session.execute(select(Case.principal)).scalars())
    assert principals == {123_450}


@pytest.mark.parametrize("amount", ["¥1.234,50", "1.234,50元", "12,34元", "¥1,23.45"])
def test_an_amount_that_reads_two_ways_is_refused(
    run, store: Store, tmp_path: Path, amount: str
) -> None:  # noqa: ANN001, E501
    with pytest.raises(ImportRejected) as refused:
        run(_file(tmp_path, ["¥1,234.50", amount]))
    report = refused.value.report
    assert [error.line for error in report.rejected] == [3]
    assert amount in report.rejected[0].reason
    with store.read() as session:
        assert list(session.execute(select(Case.id)).scalars()) == []  # nothing half-imported
