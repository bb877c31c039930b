"""The placement file's optional `issue_date` (开票日期): kept on the invoice for DSO; a bad one
is a line-numbered error that rejects the file (nothing written), as every other column."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_importer import case_by_ref, table_counts, write

from collector_tui.config import Settings
from collector_tui.db import Store
from collector_tui.services.imports.placement_file import (
    ImportRejected,
    ImportReport,
    RowError,
    import_cases,
    read_placements,
)

HEADER = "client,client_ref,debtor_name,country,currency,balance,due_date,invoice_no,issue_date"


@pytest.fixture
def run(store: Store, now: datetime, settings: Settings):  # noqa: ANN201
    def _run(path: Path, **options: Any) -> ImportReport:
        return import_cases(store=store, path=path, now=now, settings=settings, **options)

    return _run


def test_issue_dates_are_kept_on_the_invoices(run, store: Store, tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        "ACME,K-1,Alpha,CN,CNY,100,2026-03-31,I-1,2026-03-01\n"
        "ACME,K-1,Alpha,CN,CNY,200,2026-04-30,I-2,\n"  # optional: this invoice has none
        "ACME,K-2,Beta,CN,CNY,300,2026-05-31,I-9,2026/5/1\n"
    )
    report = run(write(tmp_path, text))
    assert (report.cases_created, report.invoices) == (2, 3)
    _, _, _, invoices = case_by_ref(store, "K-1")
    assert [(i.number, i.issue_date) for i in invoices] == [
        ("I-1", date(2026, 3, 1)),
        ("I-2", None),
    ]
    _, _, _, invoices = case_by_ref(store, "K-2")
    assert [i.issue_date for i in invoices] == [date(2026, 5, 1)]


def test_chinese_header_for_the_issue_date(run, store: Store, tmp_path: Path) -> None:
    text = (
        "委托方,合同号,债务人,币种,余额,到期日,发票号,开票日期\n"
        "招商银行,ZS-1,某某公司,CNY,100,2026-01-31,FP-1,2026-01-01\n"
    )
    assert run(write(tmp_path, text, encoding="gbk"), region="CN").invoices == 1
    _, _, _, invoices = case_by_ref(store, "ZS-1")
    assert invoices[0].issue_date == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-02-30", "bad date '2026-02-30' (issue_date): use YYYY-MM-DD"),
        ("1899-12-31", "bad date '1899-12-31' (issue_date): use YYYY-MM-DD"),
        ("soon", "bad date 'soon' (issue_date): use YYYY-MM-DD"),
        ("2026-04-01", "issue_date 2026-04-01 is after the due date 2026-03-31"),
    ],
)
def test_a_bad_issue_date_rejects_the_file(
    run, store: Store, tmp_path: Path, value: str, reason: str
) -> None:
    text = (
        f"{HEADER}\n"
        "ACME,K-1,Alpha,CN,CNY,100,2026-03-31,I-1,2026-03-01\n"
        f"ACME,K-2,Beta,CN,CNY,100,2026-03-31,I-2,{value}\n"
    )
    before = table_counts(store)
    with pytest.raises(ImportRejected, match="line 3"):
        run(write(tmp_path, text))
    assert table_counts(store) == before  # all or nothing
    _, errors, _, _ = read_placements(write(tmp_path, text))
    assert errors == [RowError(3, reason)]


def test_an_issue_date_needs_an_invoice(tmp_path: Path) -> None:
    text = f"{HEADER}\nACME,K-1,Alpha,CN,CNY,100,2026-03-31,,2026-03-01\n"
    _, errors, _, _ = read_placements(write(tmp_path, text))
    assert errors == [RowError(2, "issue_date without an invoice_no: it dates an invoice")]
