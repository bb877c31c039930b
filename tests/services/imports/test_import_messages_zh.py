"""The import's refusals in the user's language (issue 20): row errors, header and encoding
refusals, in Chinese when the interface is, in English otherwise; a pool's workers word their
reasons in the importing process's language; the rejects file keeps its English column names."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from collector_tui import i18n
from collector_tui.config import ImportSettings, Settings
from collector_tui.db import Store
from collector_tui.services.errors import ServiceError
from collector_tui.services.imports import placement_file
from collector_tui.services.imports.payment_file import import_payments
from collector_tui.services.imports.placement_file import ImportRejected, import_cases

HEADER = "client,client_ref,debtor_name,country,phone,currency,principal,due_date\n"
GOOD = "ACME,R{n},Debtor {n},CN,+8613800138{n:03d},CNY,100.50,2026-01-15\n"
BAD = {
    3: "ACME,R3,Debtor 3,CN,,CNY,12.5x,2026-01-15\n",  # bad amount
    5: "ACME,R5,,CN,,CNY,1.00,2026-01-15\n",  # missing debtor_name
    7: "ACME,R7,Debtor 7,ZZ,,CNY,1.00,2026-01-15\n",  # unknown country
}


def placements(folder: Path, rows: int = 10) -> Path:
    path = folder / "in.csv"
    text = HEADER + "".join(BAD.get(n, GOOD.format(n=n)) for n in range(rows))
    path.write_text(text, encoding="utf-8")
    return path


def run(store: Store, now: datetime, settings: Settings, path: Path, **options: object):  # noqa: ANN201
    return import_cases(store=store, path=path, now=now, settings=settings, **options)  # type: ignore[arg-type]


def test_bad_rows_are_worded_in_chinese(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    path = placements(tmp_path)
    with i18n.language("zh_CN"), pytest.raises(ImportRejected) as caught:
        run(store, now, settings, path)
    assert str(caught.value) == "3 行有误；第一处：第 5 行：金额无效：'12.5x'（principal）"
    reasons = [error.reason for error in caught.value.report.rejected]
    assert reasons == [
        "金额无效：'12.5x'（principal）",
        "缺少 debtor_name",
        "未知国家 'ZZ'（请使用 ISO 3166 代码，如 CN）",
    ]


def test_the_same_bad_rows_in_english(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ImportRejected) as caught:
        run(store, now, settings, placements(tmp_path))
    assert str(caught.value) == "3 bad rows; first: line 5: bad amount '12.5x' (principal)"
    assert caught.value.report.rejected[1].reason == "missing debtor_name"


def test_parse_workers_word_their_reasons_in_the_importing_language(
    store: Store,
    now: datetime,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A spawned worker starts in English: the import tells it the language.
    monkeypatch.setattr(placement_file, "POOL_MIN_LINES", 0)
    monkeypatch.setattr(placement_file, "CHUNK_ROWS", 4)
    pooled = replace(settings, imports=ImportSettings(workers=2))
    with i18n.language("zh_CN"), pytest.raises(ImportRejected) as caught:
        run(store, now, pooled, placements(tmp_path, rows=12))
    assert caught.value.report.rejected[2].reason.startswith("未知国家 'ZZ'")


def test_the_rejects_file_keeps_english_column_names_and_chinese_reasons(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    with i18n.language("zh_CN"):
        report = run(store, now, settings, placements(tmp_path), skip_bad=True)
    assert len(report.rejected) == 3
    with (tmp_path / "in.rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-2:] == ["line", "reason"]
    assert rows[1][-2:] == ["5", "金额无效：'12.5x'（principal）"]


def test_header_and_encoding_refusals_in_both_languages(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.csv"
    missing.write_text("client,client_ref\nACME,R1\n", encoding="utf-8")
    with i18n.language("zh_CN"), pytest.raises(ServiceError) as caught:
        run(store, now, settings, missing)
    assert str(caught.value).startswith("缺少列：debtor_name, currency, due_date, 本金或余额")
    with pytest.raises(ServiceError, match="^missing columns: debtor_name, currency"):
        run(store, now, settings, missing)

    with i18n.language("zh_CN"), pytest.raises(ServiceError) as caught:
        run(store, now, settings, missing, encoding="klingon")
    assert str(caught.value) == "未知编码 'klingon'"
    assert caught.value.field == "encoding"  # the field stays the code's


def test_a_payment_file_refusal_in_chinese(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "payments.csv"
    path.write_text("client_ref,amount\nR1,10.00\n", encoding="utf-8")
    with i18n.language("zh_CN"), pytest.raises(ServiceError) as caught:
        import_payments(store=store, path=path, now=now, settings=settings)
    assert str(caught.value) == "缺少列：日期（received_on）, reference"
    with pytest.raises(ServiceError, match=r"^missing columns: date \(received_on\), reference$"):
        import_payments(store=store, path=path, now=now, settings=settings)
