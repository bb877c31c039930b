"""The import commands' reading options (--decimal-point, --decimal-comma, --encoding,
--allow-zero-balance) and the one digit rule at the command line's amounts, through `main([...])`
with the helpers of test_cli."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import select

from collector_tui import db
from collector_tui.models import Case, Payment, Promise
from test_cli import NOW, Run, _count, _one_error_line, clean_environment, db_path, run

__all__ = ["clean_environment", "db_path", "run"]  # fixtures of test_cli, used here by name

DATA = Path(__file__).parents[1] / "data"


def _balances(store: db.Store) -> dict[str, int]:
    with store.read() as session:
        return {case.client_ref: case.balance for case in session.exec(select(Case))}


def _import(run: Run, db_path: str, *args: str) -> tuple[int, str, str]:
    return run("--db", db_path, "--user", "sam", "--now", NOW, "import", *args)


def test_an_excel_export_with_quoted_thousands(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any]
) -> None:
    code, out, err = _import(run, db_path, "cases", str(DATA / "placements_excel_export.csv"))
    assert (code, err) == (0, "")
    assert "3 cases created" in out
    assert _balances(store) == {"XL-1": 1_375_050, "XL-2": 123_456_789, "XL-3": 99_999}


def test_an_ambiguous_semicolon_file_names_the_options(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any]
) -> None:
    path = str(DATA / "placements_semicolon_ambiguous.csv")
    code, out, err = _import(run, db_path, "cases", path)
    assert (code, out) == (1, "")
    line = _one_error_line(err)
    assert "line 3" in line and "'1,500'" in line
    assert "--decimal-comma" in line and "--decimal-point" in line
    assert _count(store, Case) == 0

    code, out, err = _import(run, db_path, "cases", path, "--decimal-comma")
    assert (code, err) == (0, "")
    assert _balances(store) == {"SC-1": 234_567, "SC-2": 150, "SC-3": 30_000}


def test_decimal_point_forces_the_other_reading(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "client;client_ref;debtor_name;country;currency;principal;due_date\n"
        "ACME;D-1;A;DE;EUR;1,500;2026-01-01\n",
        encoding="utf-8",
    )
    code, _, err = _import(run, db_path, "cases", str(path), "--decimal-point")
    assert (code, err) == (0, "")
    assert _balances(store) == {"D-1": 150_000}

    code, _, err = _import(run, db_path, "cases", str(path), "--decimal-point", "--decimal-comma")
    assert code == 2
    assert "not allowed with argument" in err


def test_the_encoding_option(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "kana.csv"
    path.write_bytes(
        "client,client_ref,debtor_name,country,currency,principal,due_date\n"
        "ﾄｳｷｮｳ,K-1,ﾔﾏﾀﾞ ﾀﾛｳ,JP,JPY,1500,2026-01-01\n".encode("cp932")
    )
    code, _, err = _import(run, db_path, "cases", str(path))
    assert code == 1
    assert "could not tell the encoding of kana.csv" in _one_error_line(err)
    assert "--encoding NAME" in err

    code, _, err = _import(run, db_path, "cases", str(path), "--encoding", "klingon")
    assert code == 1
    assert _one_error_line(err) == "collector-tui: error: unknown encoding 'klingon'"
    assert _count(store, Case) == 0

    code, out, err = _import(run, db_path, "cases", str(path), "--encoding", "cp932", "--json")
    assert (code, err) == (0, "")
    assert '"encoding": "cp932"' in out
    with store.read() as session:
        case = session.exec(select(Case)).one()
    assert case.client == "ﾄｳｷｮｳ"


def test_a_zero_balance_is_refused_with_its_line(
    run: Run, db_path: str, store: db.Store, users: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "z.csv"
    path.write_text(
        "client,client_ref,debtor_name,country,currency,principal,due_date\n"
        "ACME,Z-1,A,CN,CNY,10.00,2026-01-01\nACME,Z-2,B,CN,CNY,0.00,2026-01-01\n",
        encoding="utf-8",
    )
    code, _, err = _import(run, db_path, "cases", str(path))
    assert code == 1
    assert "line 3: the balance is zero: nothing to collect" in err.splitlines()
    assert _count(store, Case) == 0

    code, out, err = _import(run, db_path, "cases", str(path), "--allow-zero-balance")
    assert (code, err) == (0, "")
    assert _balances(store) == {"Z-1": 1000, "Z-2": 0}


def test_import_payments_takes_the_reading_options(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case], tmp_path: Path
) -> None:
    place("P-1")  # 1,000.00 CNY
    path = tmp_path / "pay.csv"
    path.write_bytes(
        "client_ref;amount;date;reference;method\nP-1;1,500;2026-11-19;B-1;Überweisung\n".encode(
            "latin-1"
        )
    )
    code, _, err = _import(run, db_path, "payments", str(path))
    assert code == 1
    assert "--decimal-comma" in _one_error_line(err)

    code, _, err = _import(run, db_path, "payments", str(path), "--encoding", "nope")
    assert code == 1
    assert _one_error_line(err) == "collector-tui: error: unknown encoding 'nope'"

    code, out, err = _import(
        run, db_path, "payments", str(path), "--decimal-comma", "--encoding", "latin-1"
    )
    assert (code, err) == (0, "")
    assert "1 payments posted (1.50 CNY)" in out
    with store.read() as session:
        assert session.exec(select(Payment.method)).one() == "Überweisung"


def test_amounts_at_the_command_line_follow_the_digit_rule(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    place("P-1")  # 1,000.00 CNY
    for amount in ("𝟏𝟐𝟑", "١٢٣", "12³"):
        code, _, err = run("--db", db_path, "--user", "sam", "--now", NOW, "payment", "P-1", amount)
        assert code == 1
        assert "has a digit other than 0-9" in _one_error_line(err)
        code, _, err = run(
            "--db", db_path, "--user", "alice", "--now", NOW, "log", "P-1",
            "--disposition", "promise", "--promise", f"{amount}@2026-12-01",
        )  # fmt: skip
        assert code == 1
        assert "has a digit other than 0-9" in _one_error_line(err)
    assert (_count(store, Payment), _count(store, Promise)) == (0, 0)

    code, _, err = run(
        "--db", db_path, "--user", "sam", "--now", NOW, "payment", "P-1", "１２３.４５"
    )
    assert (code, err) == (0, "")
    code, _, err = run(
        "--db", db_path, "--user", "alice", "--now", NOW, "log", "P-1",
        "--disposition", "promise", "--promise", "１００@2026-12-01",
    )  # fmt: skip
    assert (code, err) == (0, "")
    with store.read() as session:
        assert session.exec(select(Payment.amount)).one() == 12_345
        assert session.exec(select(Promise.amount)).one() == 10_000
