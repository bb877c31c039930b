"""Payment import: a clean file posts and keeps promises; a bad one is refused whole with every bad
line, nothing written; the same file twice posts nothing new; GBK files with Chinese text; scoping;
dry runs; and the `import payments` command's output."""

from __future__ import annotations

import argparse
import io
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.cli import imports as cli_imports
from collector_tui.cli.parser import build_parser
from collector_tui.config import Settings
from collector_tui.models import AuditEvent, Case, Payment, Promise
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import promises
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import ServiceError
from collector_tui.services.imports.payment_file import (
    PaymentImportRejected,
    RowError,
    import_payments,
)

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


@pytest.fixture
def place(place, users):  # noqa: ANN001, ANN201
    """conftest's `place`, answering the new case's id. `users` is named here because pytest does
    not look through a fixture that overrides itself: without it `store` would start empty."""

    def _place(ref: str, **overrides: Any) -> uuid.UUID:
        return place(ref, **overrides).id

    return _place


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "pay.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def payment_count(store: db.Store) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(Payment)).one()


def run(store: db.Store, path: Path, settings: Settings, actor: Actor | None, **kw: Any):  # noqa: ANN201
    return import_payments(store=store, path=path, now=NOW, settings=settings, actor=actor, **kw)


@pytest.fixture
def promised(store: db.Store, settings: Settings, users: dict[str, Actor], place) -> uuid.UUID:  # noqa: ANN001
    case_id = place("P-1")
    with store.write() as session:
        promises.create_promise(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case_id,
            promise=PromiseInput(amount=30_000, due_date=date(2026, 11, 25)),
            settings=settings,
        )
    return case_id


GOOD = (
    "Client_Ref,Amount,Date,Reference,Method\n"
    "P-1,300.00,2026-11-19,BANK-0001,transfer\n"
    "P-2,45.5,2026-11-18,BANK-0002,\n"
)


def test_good_file_posts_and_keeps_the_promise(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    promised: uuid.UUID,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    other = place("P-2")
    report = run(store, write(tmp_path, GOOD), settings, users["sam"])
    assert (report.rows, report.posted, report.duplicates, report.rejected) == (2, 2, 0, ())
    assert (report.encoding, report.delimiter, report.dry_run) == ("utf-8", ",", False)
    assert report.totals == (("CNY", 34_550),)
    with store.read() as session:
        promise = session.exec(select(Promise).where(Promise.case_id == promised)).one()
        assert (promise.status, promise.paid_amount) == ("kept", 30_000)
        paid = {p.reference: p for p in session.exec(select(Payment))}
        assert paid["BANK-0001"].amount == 30_000
        assert paid["BANK-0001"].method == "transfer"
        assert paid["BANK-0001"].received_on == date(2026, 11, 19)
        assert paid["BANK-0001"].recorded_by_id == users["sam"].user_id
        assert (paid["BANK-0002"].amount, paid["BANK-0002"].method) == (4_550, None)
        case = session.get(Case, other)
        assert case is not None and case.balance == 100_000 - 4_550
        audited = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "payment")
        ).one()
        assert audited == 2


def test_same_file_twice_posts_nothing_new(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    promised: uuid.UUID,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-2")
    path = write(tmp_path, GOOD)
    run(store, path, settings, users["sam"])
    before = payment_count(store)
    again = run(store, path, settings, users["sam"])
    assert (again.posted, again.duplicates, again.rejected) == (0, 2, ())
    assert payment_count(store) == before == 2
    with store.read() as session:
        case = session.get(Case, promised)
        assert case is not None and case.balance == 70_000  # taken once


def test_bad_file_is_refused_whole_with_line_numbers(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    place("USD-1", currency="USD", country="US", phones=())
    text = (
        "client_ref,amount,received_on,reference\n"
        "P-1,10.00,2026-11-19,OK-1\n"  # 2: good, but must not be posted
        "NOPE,10.00,2026-11-19,X-3\n"  # 3
        "P-1,12.3x,2026-11-19,X-4\n"  # 4
        "P-1,1.234,2026-11-19,X-5\n"  # 5: over-precise
        "P-1,10.00,19/11/2026,X-6\n"  # 6
        "P-1,5000.00,2026-11-19,X-7\n"  # 7: above the balance
        "P-1,10.00,2026-11-21,X-8\n"  # 8: future
        "P-1,10.00,2026-11-19,\n"  # 9: no reference
        "USD-1,-5,2026-11-19,X-10\n"  # 10: negative
        "\n"  # 11: blank lines are skipped
        "P-1,0,2026-11-19,X-12\n"  # 12
    )
    with pytest.raises(PaymentImportRejected) as refused:
        run(store, write(tmp_path, text), settings, users["sam"])
    report = refused.value.report
    reasons = {error.line: error.reason for error in report.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 12]
    assert "unknown case 'NOPE'" in reasons[3]
    assert "bad amount '12.3x'" in reasons[4]
    assert "CNY allows at most 2 decimal places" in reasons[5]
    assert "bad date '19/11/2026'" in reasons[6]
    assert "above the balance 990.00 CNY of case P-1 after the file" in reasons[7]
    assert "in the future" in reasons[8]
    assert "missing reference" in reasons[9]
    assert "negative" in reasons[10]
    assert "above zero" in reasons[12]
    assert report.rows == 10 and report.posted == 0
    assert str(refused.value).startswith("9 bad rows; first: line 3: unknown case")
    assert payment_count(store) == 0


def test_the_balance_counts_earlier_rows_of_the_file(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    text = (
        "client_ref,amount,date,reference\n"
        "P-1,600.00,2026-11-19,A\n"
        "P-1,400.00,2026-11-19,B\n"  # exactly the rest: fine
        "P-1,0.01,2026-11-19,C\n"
    )
    with pytest.raises(PaymentImportRejected) as refused:
        run(store, write(tmp_path, text), settings, users["sam"])
    assert [(e.line, e.reason) for e in refused.value.report.rejected] == [
        (
            4,
            "amount 0.01 CNY is above the balance 0.00 CNY of case P-1 after the file's earlier"
            " rows",
        )
    ]
    assert payment_count(store) == 0


def test_duplicates_within_the_file(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    same = "client_ref,amount,date,reference\nP-1,10,2026-11-19,R\nP-1,10.00,2026-11-19,R\n"
    report = run(store, write(tmp_path, same), settings, users["sam"])
    assert (report.posted, report.duplicates) == (1, 1)
    changed = "client_ref,amount,date,reference\nP-1,10,2026-11-19,S\nP-1,11,2026-11-19,S\n"
    with pytest.raises(PaymentImportRejected, match="line 3: reference 'S' repeats line 2"):
        run(store, write(tmp_path, changed, name="b.csv"), settings, users["sam"])
    # A reference already recorded with another amount is an error, not a duplicate.
    clash = "client_ref,amount,date,reference\nP-1,99,2026-11-19,R\n"
    with pytest.raises(PaymentImportRejected, match="already recorded on this case with another"):
        run(store, write(tmp_path, clash, name="c.csv"), settings, users["sam"])
    assert payment_count(store) == 1


def test_gbk_file_with_chinese_headers_and_references(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("合同-001", principal=500_000)
    text = (
        "合同号;还款金额;还款日期;流水号;还款方式\n"
        "合同-001;1,234.50;2026-11-19;工商银行转账第一笔;银行转账\n"
    )
    path = write(tmp_path, text, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really not UTF-8
    report = run(store, path, settings, users["alice"])
    assert (report.encoding, report.delimiter, report.posted) == ("gb18030", ";", 1)
    with store.read() as session:
        payment = session.exec(select(Payment)).one()
    assert (payment.reference, payment.method) == ("工商银行转账第一笔", "银行转账")
    assert payment.amount == 123_450  # thousands separator allowed in a ';' file
    again = run(store, path, settings, users["alice"])
    assert (again.posted, again.duplicates) == (0, 1)


def test_utf8_bom_and_case_id_and_client_columns(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    first = place("SHARED")
    second = place("SHARED", client="Other Bank")
    ambiguous = "client_ref,amount,date,reference\nSHARED,1,2026-11-19,T1\n"
    with pytest.raises(PaymentImportRejected, match="several clients"):
        run(store, write(tmp_path, ambiguous), settings, users["sam"])
    text = (
        "\ufeffCase ID,Client,Client Ref,Amount,Payment Date,Transaction ID,CCY\n"
        f"{first},,,1.00,2026-11-19,T1,cny\n"
        f",Other Bank,SHARED,2.00,2026-11-19,T2,\n"
    )
    report = run(store, write(tmp_path, text, name="bom.csv"), settings, users["sam"])
    assert (report.encoding, report.posted) == ("utf-8-sig", 2)
    with store.read() as session:
        amounts = {p.case_id: p.amount for p in session.exec(select(Payment))}
    assert amounts == {first: 100, second: 200}
    wrong_currency = (
        "client_ref,client,amount,date,reference,currency\nSHARED,ACME Bank,1,2026-11-19,T3,USD\n"
    )
    with pytest.raises(PaymentImportRejected, match="currency USD is not the case's currency CNY"):
        run(store, write(tmp_path, wrong_currency, name="ccy.csv"), settings, users["sam"])


def test_an_agent_imports_only_to_own_cases(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("ALICE-1")
    text = "client_ref,amount,date,reference\nALICE-1,1.00,2026-11-19,Z\n"
    with pytest.raises(PaymentImportRejected, match="unknown case 'ALICE-1' assigned to you"):
        run(store, write(tmp_path, text), settings, users["bob"])
    assert payment_count(store) == 0
    assert run(store, write(tmp_path, text), settings, users["alice"]).posted == 1


def test_dry_run_writes_nothing(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    promised: uuid.UUID,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-2")
    report = run(store, write(tmp_path, GOOD), settings, users["sam"], dry_run=True)
    assert (report.posted, report.dry_run, report.totals) == (2, True, (("CNY", 34_550),))
    assert payment_count(store) == 0
    with store.read() as session:
        promise = session.exec(select(Promise).where(Promise.case_id == promised)).one()
    assert promise.status == "pending"


def test_unreadable_files(store: db.Store, settings: Settings, users: dict, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="missing column: reference"):
        run(store, write(tmp_path, "client_ref,amount,date\nA,1,2026-11-19\n"), settings, None)
    with pytest.raises(ServiceError, match="empty"):
        run(store, write(tmp_path, "\n\n", name="empty.csv"), settings, None)


def _args(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_command_output(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    place("P-2")
    good = write(tmp_path, GOOD)
    out, err = io.StringIO(), io.StringIO()
    status = cli_imports.run_import_payments(
        _args(["import", "payments", str(good), "--dry-run"]),
        store=store, settings=settings, now=NOW, actor=users["sam"], out=out, err=err,
    )  # fmt: skip
    assert status == 0 and err.getvalue() == ""
    assert "2 payments to post (345.50 CNY), 0 already recorded" in out.getvalue()
    assert "dry run: nothing was written" in out.getvalue()

    bad = write(tmp_path, "client_ref,amount,date,reference\nP-1,x,2026-11-19,R\n", name="b.csv")
    out, err = io.StringIO(), io.StringIO()
    status = cli_imports.run_import_payments(
        _args(["import", "payments", str(bad), "--json"]),
        store=store, settings=settings, now=NOW, actor=users["sam"], out=out, err=err,
    )  # fmt: skip
    assert status == 1
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("collector-tui: error: 1 bad row; first: line 2: bad amount")
    assert lines[1].startswith("line 2: bad amount 'x'")
    assert json.loads(out.getvalue())["rejected"][0]["line"] == 2
    assert payment_count(store) == 0


def test_without_a_user_the_import_records_no_one(
    store: db.Store,
    settings: Settings,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    text = "client_ref,amount,date,reference\nP-1,1.00,2026-11-19,SYS-1\n"
    assert run(store, write(tmp_path, text), settings, None).posted == 1
    with store.read() as session:
        payment = session.exec(select(Payment)).one()
    assert (payment.amount, payment.recorded_by_id) == (100, None)


def test_progress_is_reported_up_to_the_whole_file(
    store: db.Store, settings: Settings, users: dict, place, tmp_path: Path
) -> None:
    for n in range(5):
        place(f"PR-{n}")
    lines = "".join(f"PR-{n},10.00,2026-11-19,PR-BANK-{n}\n" for n in range(5))
    path = write(tmp_path, "client_ref,amount,date,reference\n" + lines)
    seen: list[tuple[int, int]] = []

    report = run(store, path, settings, users["sam"], progress=lambda d, t: seen.append((d, t)))

    assert report.posted == 5
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]  # a small file: after each payment
    assert payment_count(store) == 5
    # Nothing new the second time: still told it is done, (0, 0).
    again: list[tuple[int, int]] = []
    run(store, path, settings, users["sam"], progress=lambda d, t: again.append((d, t)))
    assert again == [(0, 0)]


def test_progress_is_not_reported_for_a_refused_file(
    store: db.Store, settings: Settings, users: dict, place, tmp_path: Path
) -> None:
    place("PR-1")
    text = "client_ref,amount,date,reference\nPR-1,10.00,2026-11-19,B-1\nPR-9,1,x,\n"
    path = write(tmp_path, text)
    seen: list[tuple[int, int]] = []
    with pytest.raises(PaymentImportRejected):
        run(store, path, settings, users["sam"], progress=lambda d, t: seen.append((d, t)))
    assert seen == []
    assert payment_count(store) == 0


# --- decimal marks, encodings, digits -------------------------------------------------------------


def test_excel_quoted_thousands_in_a_comma_separated_file(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1", principal=2_000_000)
    text = (
        "client_ref,amount,date,reference\r\n"
        'P-1,"12,500.00",2026-11-19,B-1\r\nP-1,"1,500",2026-11-19,B-2\r\n'
    )
    report = run(store, write(tmp_path, text, encoding="utf-8-sig"), settings, users["sam"])
    assert (report.posted, report.totals) == (2, (("CNY", 1_400_000),))


def test_a_semicolon_file_with_an_amount_read_two_ways_is_refused(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    path = write(
        tmp_path,
        "client_ref;amount;date;reference\nP-1;12,50;2026-11-19;B-1\nP-1;1,500;2026-11-19;B-2\n",
    )
    with pytest.raises(ServiceError) as caught:
        run(store, path, settings, users["sam"])
    assert str(caught.value) == (
        "pay.csv: the amount '1,500' on line 3 reads two ways (1500 or 1.500): say"
        " --decimal-point or --decimal-comma"
    )
    assert payment_count(store) == 0

    report = run(store, path, settings, users["sam"], decimal="comma")
    assert report.totals == (("CNY", 1400),)  # 12.50 + 1.50

    place("P-2", principal=1_000_000)
    path = write(tmp_path, "client_ref;amount;date;reference\nP-2;1,500;2026-11-19;B-3\n")
    report = run(store, path, settings, users["sam"], decimal="point")
    assert report.totals == (("CNY", 150_000),)


def test_a_payment_file_writing_decimals_both_ways_is_refused(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    path = write(
        tmp_path,
        "client_ref;amount;date;reference\nP-1;12.50;2026-11-19;B-1\nP-1;1,25;2026-11-19;B-2\n",
    )
    with pytest.raises(ServiceError, match="writes decimals both ways: '12.50' on line 2"):
        run(store, path, settings, users["sam"])
    assert payment_count(store) == 0


def test_full_width_digits_are_read_and_other_digits_refused(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    bad = write(
        tmp_path,
        "client_ref,amount,date,reference\nP-1,１２.５０,2026-11-19,B-1\n"
        "P-1,𝟏𝟐,2026-11-19,B-2\nP-1,١٢,2026-11-19,B-3\n",
    )
    with pytest.raises(PaymentImportRejected) as caught:
        run(store, bad, settings, users["sam"])
    assert caught.value.report.rejected == (
        RowError(3, "bad amount '𝟏𝟐': has a digit other than 0-9 (𝟏): use 0-9"),
        RowError(4, "bad amount '١٢': has a digit other than 0-9 (١): use 0-9"),
    )
    good = write(tmp_path, "client_ref,amount,date,reference\nP-1,１２.５０,2026-11-19,B-1\n")
    assert run(store, good, settings, users["sam"]).totals == (("CNY", 1250),)


def test_payment_files_in_cp1252_and_shift_jis(
    store: db.Store,
    settings: Settings,
    users: dict,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("P-1")
    place("J-1", currency="JPY", country="JP", principal=50_000, phones=())
    western = "client_ref,amount,date,reference,method\nP-1,10.00,2026-11-19,Réf-1,Überweisung\n"
    report = run(store, write(tmp_path, western, encoding="latin-1"), settings, users["sam"])
    assert (report.encoding, report.posted) == ("cp1252", 1)
    japanese = "client_ref,amount,date,reference,method\nJ-1,1500,2026-11-19,振込-1,銀行振込\n"
    path = write(tmp_path, japanese, encoding="shift_jis", name="jp.csv")
    report = run(store, path, settings, users["sam"])
    assert (report.encoding, report.posted) == ("cp932", 1)
    with store.read() as session:
        methods = sorted(session.exec(select(Payment.method)).all())
    assert methods == ["Überweisung", "銀行振込"]
    with pytest.raises(ServiceError, match="^unknown encoding 'nope'$"):
        run(store, path, settings, users["sam"], encoding="nope")
