"""Placement import with its parse workers (placement_file._parsed_chunks): the same rows, errors
and database with one worker (in-process) and with a pool of two, at every chunk boundary."""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from collector_tui.config import ImportSettings, Settings
from collector_tui.db import Store
from collector_tui.models import Case, Phone
from collector_tui.services.errors import ServiceError
from collector_tui.services.imports import placement_file, placement_rows
from collector_tui.services.imports.placement_file import (
    ImportRejected,
    import_cases,
    read_placements,
)

HEADER = "client,client_ref,debtor_name,country,phone,currency,principal,due_date,address\n"


def good_row(number: int) -> str:
    # A few numbers repeat down the file (the phone cache), the rest differ.
    phone = "+8613800138000" if number % 7 == 0 else f"+86138{number:08d}"
    return f"ACME,R{number:05d},Debtor {number},CN,{phone},CNY,{100 + number}.50,2026-01-15,\n"


def placement_file_text(rows: int, bad: dict[int, str] | None = None) -> str:
    """`rows` data rows (line n + 2 holds row n); `bad` replaces some rows by bad text."""
    bad = bad or {}
    return HEADER + "".join(bad.get(number, good_row(number)) for number in range(rows))


def table_counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def with_workers(settings: Settings, workers: int) -> Settings:
    return replace(settings, imports=ImportSettings(workers=workers))


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 records and a pool for any file, so a test file of a few dozen rows spans
    several chunks and workers."""
    monkeypatch.setattr(placement_file, "CHUNK_ROWS", 7)
    monkeypatch.setattr(placement_file, "POOL_MIN_LINES", 0)


def run(store: Store, now: datetime, settings: Settings, path: Path, workers: int, **options: Any):  # noqa: ANN201
    return import_cases(
        store=store, path=path, now=now, settings=with_workers(settings, workers), **options
    )


# Errors on lines in different chunks (chunks of 7 records: the header is record 1, row n is
# record n + 2), one of them a case's second row whose first row is in an earlier chunk.
BAD_ROWS = {
    3: "ACME,R00003,Debtor 3,CN,+8613800000003,CNY,12.5x,2026-01-15,\n",  # bad amount
    12: "ACME,R00012,,CN,+8613800000012,CNY,1.00,2026-01-15,\n",  # missing debtor_name
    20: "ACME,R00001,Someone Else,CN,,CNY,1.00,2026-01-15,\n",  # conflicts with row 1
    33: "ACME,R00033,Debtor 33,ZZ,+8613800000033,CNY,1.00,2026-01-15,\n",  # unknown country
    34: "ACME,R00034,Debtor 34,CN,,CNY,1.00,2026-13-01,\n",  # bad date
}


@pytest.mark.usefixtures("small_chunks")
def test_errors_in_different_chunks_come_back_in_line_order_with_one_or_two_workers(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(placement_file_text(40, BAD_ROWS), encoding="utf-8")
    refused = {}
    for workers in (1, 2):
        with pytest.raises(ImportRejected) as caught:
            run(store, now, settings, path, workers)
        refused[workers] = (str(caught.value), caught.value.report)
    assert refused[1] == refused[2]
    message, report = refused[2]
    assert message == "6 bad rows; first: line 5: bad amount '12.5x' (principal)"
    assert [error.line for error in report.rejected] == [3, 5, 14, 22, 35, 36]
    assert report.rejected[0].reason.startswith("case rejected with line 22")  # row 1's case
    assert report.rejected[3].reason == "debtor_name differs from line 3 (same client_ref)"
    assert table_counts(store)["collection_case"] == 0


@pytest.mark.usefixtures("small_chunks")
def test_skip_bad_imports_the_same_cases_and_rejects_with_one_or_two_workers(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(placement_file_text(40, BAD_ROWS), encoding="utf-8")
    two = run(store, now, settings, path, 2, skip_bad=True, dry_run=True)
    one = run(store, now, settings, path, 1, skip_bad=True)
    assert (two.rows, two.cases_created, two.phones, two.rejected) == (
        one.rows,
        one.cases_created,
        one.phones,
        one.rejected,
    )
    assert one.cases_created == 40 - 6
    with (tmp_path / "bad.rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert [row[-2] for row in rejects[1:]] == ["3", "5", "14", "22", "35", "36"]


@pytest.mark.usefixtures("small_chunks")
def test_a_pool_import_writes_what_an_in_process_import_writes(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "good.csv"
    path.write_text(placement_file_text(50), encoding="utf-8")
    report = run(store, now, settings, path, 2)
    assert (report.rows, report.cases_created, report.phones) == (50, 50, 50)
    with store.read() as session:
        phones = session.execute(select(Phone.raw, Phone.e164, Phone.kind, Phone.valid)).all()
        refs = sorted(session.execute(select(Case.client_ref)).scalars())
    assert refs == [f"R{number:05d}" for number in range(50)]
    assert {(raw, e164, kind, valid) for raw, e164, kind, valid in phones} == {
        (raw, raw, "mobile", True) for raw, *_ in phones
    }


def _dying_chunk(config: Any, records: Any, seen: Any = None) -> Any:
    # Module-level, so a spawned worker can import it: a worker that dies on its third chunk
    # (as the OOM killer would end it).
    if records[0][0] > 14:
        os._exit(3)
    return placement_rows.parse_chunk(config, records, seen)


@pytest.mark.usefixtures("small_chunks")
def test_a_worker_that_dies_fails_the_import_with_nothing_written(
    store: Store, now: datetime, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "good.csv"
    path.write_text(placement_file_text(40), encoding="utf-8")
    before = table_counts(store)
    monkeypatch.setattr(placement_file, "parse_chunk", _dying_chunk)
    with pytest.raises(ServiceError, match="a parse worker stopped"):
        run(store, now, settings, path, 2)
    assert table_counts(store) == before


def _raising_chunk(config: Any, records: Any, seen: Any = None) -> Any:
    if records[0][0] > 14:
        raise RuntimeError("a bug in a worker")
    return placement_rows.parse_chunk(config, records, seen)


@pytest.mark.usefixtures("small_chunks")
def test_a_worker_that_raises_fails_the_import_with_nothing_written(
    store: Store, now: datetime, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "good.csv"
    path.write_text(placement_file_text(40), encoding="utf-8")
    before = table_counts(store)
    monkeypatch.setattr(placement_file, "parse_chunk", _raising_chunk)
    with pytest.raises(RuntimeError, match="a bug in a worker"):
        run(store, now, settings, path, 2)
    assert table_counts(store) == before


# A quoted field spanning lines (an address over three lines) in every position around a chunk
# boundary: records, never text, are cut into chunks, so the field stays whole and the rows
# after it keep their numbers.
MULTI_LINE = (
    'ACME,R99999,"Multi, Line",CN,+8613900000000,CNY,5.00,2026-01-15,"1 Road\nFlat 2\nCity"\n'
)


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("position", [0, 1, 2, 3, 4, 5, 6])
def test_a_multi_line_field_at_any_chunk_edge_reads_as_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int, position: int
) -> None:
    rows = [good_row(number) for number in range(6)]
    rows.insert(position, MULTI_LINE)
    # A bad row after the multi-line field, numbered as csv_records numbers records.
    rows.append("ACME,R00100,Bad,CN,,CNY,x,2026-01-15,\n")
    path = tmp_path / "multi.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    monkeypatch.setattr(placement_file, "CHUNK_ROWS", 10_000)
    expected = read_placements(path)
    monkeypatch.setattr(placement_file, "CHUNK_ROWS", chunk_rows)
    assert read_placements(path) == expected
    good, errors, _, _ = expected
    assert [row.address for row in good if row.client_ref == "R99999"] == ["1 Road\nFlat 2\nCity"]
    assert [error.line for error in errors] == [1 + 7 + 1]  # after the header and 7 rows


@pytest.mark.usefixtures("small_chunks")
def test_a_multi_line_field_on_a_chunk_edge_in_a_pool(
    store: Store, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    rows = [good_row(number) for number in range(20)]
    rows.insert(6, MULTI_LINE)  # the last record of the first chunk of 7
    rows.insert(14, MULTI_LINE.replace("R99999", "R99998"))  # the first of the third
    path = tmp_path / "multi.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    report = run(store, now, settings, path, 2)
    assert report.cases_created == 22
    with store.read() as session:
        addresses = session.execute(
            select(Case.client_ref).where(Case.client_ref.in_(["R99999", "R99998"]))  # type: ignore[attr-defined]
        ).scalars()
        assert sorted(addresses) == ["R99998", "R99999"]


def test_a_number_repeated_down_the_file_is_parsed_once(tmp_path: Path) -> None:
    path = tmp_path / "repeat.csv"
    path.write_text(placement_file_text(30), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    records = list(placement_file.csv_records(text, ","))
    config = placement_rows.RowConfig(
        placement_file._layout(records[0][1], client=None, currency=None, region=None),
        "point",
        False,
        None,
        None,
        None,
        False,
    )
    seen: dict[tuple[str, str], Any] = {}
    first = placement_rows.parse_chunk(config, records[1:16], seen)
    second = placement_rows.parse_chunk(config, records[16:], seen)
    shared = ("+8613800138000", "CN")
    assert shared in first.phones and shared not in second.phones
    assert len(first.phones) + len(second.phones) == len(seen) == 30 - 5 + 1  # 0, 7, ..., 28


def test_a_small_file_never_starts_a_pool(
    store: Store, now: datetime, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a pool was started for a small file")

    monkeypatch.setattr(placement_file, "ProcessPoolExecutor", no_pool)
    path = tmp_path / "small.csv"
    path.write_text(placement_file_text(100), encoding="utf-8")
    assert run(store, now, settings, path, 2).cases_created == 100


def test_the_workers_setting() -> None:
    assert ImportSettings().worker_count() == min(2, os.cpu_count() or 1)
    assert ImportSettings(workers=1).worker_count() == 1
    for wrong in (0, 33, 1.5, "2"):
        with pytest.raises(ValueError, match="imports workers"):
            ImportSettings(workers=wrong)  # type: ignore[arg-type]
