"""CSV exports: columns, exact money, scoping, streaming in batches, no half-written file."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from collector_tui.services import activities, exports
from collector_tui.services.activities import ContactInput
from collector_tui.services.errors import InvalidInput


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_cases_writes_one_row_per_case_with_the_contract_columns(
    store, users, place, tmp_path
) -> None:
    place("E-1", debtor_name="王小明", principal=123_450, fees=50)
    place(
        "E-2",
        debtor_name="John Smith",
        country="US",
        currency="USD",
        principal=99,
        phones=("+1 212 555 0123",),
        assigned_to_id=None,
    )
    target = tmp_path / "cases.csv"

    with store.read() as session:
        count = exports.export_cases(session=session, path=target)

    rows = _read(target)
    assert count == 2
    assert list(rows[0]) == list(exports.CASE_COLUMNS)
    for column in ("client", "client_ref", "debtor_name", "currency", "balance", "status"):
        assert column in rows[0]
    by_ref = {row["client_ref"]: row for row in rows}
    assert by_ref["E-1"]["debtor_name"] == "王小明"
    assert by_ref["E-1"]["balance"] == "1235.00"  # 123,450 + 50 fen, a decimal string
    assert by_ref["E-1"]["currency"] == "CNY"
    assert by_ref["E-1"]["status"] == "new"
    assert by_ref["E-1"]["assigned_to"] == "alice"
    assert by_ref["E-2"]["balance"] == "0.99"
    assert by_ref["E-2"]["assigned_to"] == ""
    assert by_ref["E-2"]["due_date"] == "2026-09-01"


def test_bom_for_spreadsheets(store, place, tmp_path) -> None:
    place("B-1", debtor_name="李娜")
    target = tmp_path / "bom.csv"
    with store.read() as session:
        exports.export_cases(session=session, path=target, bom=True)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert _read(target, "utf-8-sig")[0]["debtor_name"] == "李娜"


def test_an_agent_exports_only_their_cases(store, users, place, tmp_path) -> None:
    place("MINE-1")
    place("BOBS-1", assigned_to_id=users["bob"].user_id)
    target = tmp_path / "agent.csv"
    with store.read() as session:
        assert exports.export_cases(session=session, path=target, actor=users["alice"]) == 1
        assert [r["client_ref"] for r in _read(target)] == ["MINE-1"]
        assert exports.export_cases(session=session, path=target, actor=users["sam"]) == 2


def test_formulas_are_defused(store, place, tmp_path) -> None:
    place("F-1", debtor_name='=HYPERLINK("http://evil","x")')
    target = tmp_path / "f.csv"
    with store.read() as session:
        exports.export_cases(session=session, path=target)
    assert _read(target)[0]["debtor_name"].startswith("'=")


def test_rows_stream_in_batches(store, place, tmp_path, monkeypatch) -> None:
    for number in range(7):
        place(f"S-{number}")
    monkeypatch.setattr(exports, "BATCH_ROWS", 3)
    target = tmp_path / "s.csv"
    with store.read() as session:
        assert exports.export_cases(session=session, path=target) == 7
    assert sorted(r["client_ref"] for r in _read(target)) == [f"S-{n}" for n in range(7)]


def test_a_failed_export_leaves_no_file(store, place, tmp_path, monkeypatch) -> None:
    place("X-1")
    target = tmp_path / "x.csv"
    target.write_text("previous export\n")

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "_day", broken)
    with store.read() as session, pytest.raises(RuntimeError):
        exports.export_cases(session=session, path=target)
    assert target.read_text() == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".x.csv")) == []


def test_a_missing_folder_or_a_folder_as_target_is_refused(store, place, tmp_path) -> None:
    place("D-1")
    with store.read() as session:
        with pytest.raises(InvalidInput, match="no folder"):
            exports.export_cases(session=session, path=tmp_path / "nope" / "x.csv")
        with pytest.raises(InvalidInput, match="is a folder"):
            exports.export_cases(session=session, path=tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_export_activities(store, now, settings, users, place, tmp_path) -> None:
    mine = place("A-1")
    theirs = place("A-2", assigned_to_id=users["bob"].user_id)
    with store.write() as session:
        for case, actor, note in (
            (mine, users["alice"], "债务人称月底还款"),
            (theirs, users["bob"], None),
        ):
            activities.log_contact(
                session=session,
                now=now,
                actor=actor,
                case_id=case.id,
                contact=ContactInput(
                    disposition="right_party",
                    phone_e164="+8613800138000",
                    note=note,
                    duration_s=75,
                    occurred_at=now - timedelta(minutes=5),
                ),
                settings=settings,
            )
    target = tmp_path / "activities.csv"
    with store.read() as session:
        assert exports.export_activities(session=session, path=target) == 2
        rows = _read(target)
        assert list(rows[0]) == list(exports.ACTIVITY_COLUMNS)
        row = next(r for r in rows if r["client_ref"] == "A-1")
        assert row["user"] == "alice"
        assert row["disposition"] == "right_party"
        assert row["note"] == "债务人称月底还款"
        assert row["phone"] == "+8613800138000"
        assert row["duration_s"] == "75"
        assert row["occurred_at"] == (now - timedelta(minutes=5)).isoformat()

        assert exports.export_activities(session=session, path=target, actor=users["alice"]) == 1
        assert exports.export_activities(session=session, path=target, since=now, until=None) == 0
    assert date.fromisoformat(rows[0]["occurred_at"][:10]) == now.date()
