"""CSV placement import (docs/decisions.md, placement files): encodings, delimiters, aliases, cases
of several invoices, bad rows and their line numbers, all-or-nothing, --skip-bad, idempotence and
dry runs."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from collector_tui.bootstrap import make_engine
from collector_tui.config import Settings
from collector_tui.db import Store, upgrade
from collector_tui.models import (
    TIER_NEW,
    Assignment,
    AuditEvent,
    Case,
    Debtor,
    Invoice,
    Phone,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import Forbidden, ServiceError
from collector_tui.services.imports import placement_file
from collector_tui.services.imports.placement_file import (
    ImportRejected,
    ImportReport,
    RowError,
    import_cases,
    read_placements,
)
from collector_tui.services.rules import scoring

DATA = Path(__file__).parents[2] / "data"
HEADER = "client,client_ref,debtor_name,country,phone,currency,principal,due_date"


@pytest.fixture
def run(store: Store, now: datetime, settings: Settings):  # noqa: ANN201
    """import_cases with the test database, clock and settings filled in."""

    def _run(path: Path, **options: Any) -> ImportReport:
        return import_cases(store=store, path=path, now=now, settings=settings, **options)

    return _run


def write(folder: Path, text: str, *, encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def table_counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def case_by_ref(store: Store, client_ref: str) -> tuple[Case, Debtor, list[Phone], list[Invoice]]:
    with store.read() as session:
        case = session.exec(select(Case).where(Case.client_ref == client_ref)).one()[0]
        debtor = session.get(Debtor, case.debtor_id)
        assert debtor is not None
        phones = list(
            session.exec(
                select(Phone).where(Phone.debtor_id == debtor.id).order_by(col(Phone.raw))
            ).scalars()
        )
        invoices = list(
            session.exec(
                select(Invoice).where(Invoice.case_id == case.id).order_by(col(Invoice.number))
            ).scalars()
        )
        return case, debtor, phones, invoices


# --- a clean import -------------------------------------------------------------------------------


def test_import_creates_debtors_phones_and_cases(run, store: Store, now: datetime) -> None:
    report = run(DATA / "placements_basic.csv")

    assert report == ImportReport(
        rows=3,
        cases_created=3,
        cases_existing=0,
        invoices=0,
        phones=4,
        phones_invalid=0,
        rejected=(),
        dry_run=False,
        encoding="utf-8",
        delimiter=",",
    )
    case, debtor, phones, invoices = case_by_ref(store, "A-1001")
    assert (case.client, case.currency, case.status) == ("ACME Bank", "CNY", "new")
    assert (case.principal, case.fees, case.interest, case.balance) == (1234567, 10000, 33, 1244600)
    assert (case.due_date, case.placed_date) == (date(2026, 8, 15), date(2026, 11, 1))
    assert (case.created_at, case.updated_at, case.version) == (now, now, 1)
    assert case.assigned_to_id is None
    assert (debtor.name, debtor.kind, debtor.country, debtor.risk_grade) == (
        "王小明",
        "person",
        "CN",
        "B",
    )
    assert debtor.address == "上海市浦东新区世纪大道100号, 5楼"  # quoted: the comma stays inside
    assert invoices == []
    [phone] = phones
    assert (phone.e164, phone.raw, phone.valid, phone.is_primary, phone.kind) == (
        "+8613800138000",
        "+86 138 0013 8000",
        True,
        True,
        "mobile",
    )
    assert phone.time_zones == "Asia/Shanghai"

    case, debtor, phones, _ = case_by_ref(store, "A-1002")
    assert debtor.name == "Smith, John" and debtor.kind == "person"
    assert case.due_date == date(2026, 7, 4)  # 2026/7/4, as Excel writes it
    assert case.placed_date == now.date()  # no placed_date: placed today
    assert [(p.e164, p.is_primary) for p in phones] == [
        ("+12125550123", True),
        ("+14155550100", False),
    ]
    case, debtor, _, _ = case_by_ref(store, "A-1003")
    assert (debtor.kind, case.currency, case.balance) == ("company", "GBP", 5_000_000)
    assert case.due_date == date(2026, 6, 1)  # 01.06.2026


def test_new_cases_get_the_queue_place_scoring_would_give(
    run, store: Store, now: datetime, settings: Settings
) -> None:
    run(DATA / "placements_basic.csv")

    with store.read() as session:
        cases = list(session.exec(select(Case)).scalars())
        assert len(cases) == 3
        for case in cases:
            expected = scoring.compute_place(session=session, case=case, now=now, settings=settings)
            assert case.queue_tier == expected.tier == TIER_NEW
            assert case.priority == expected.priority
            assert case.score == expected.score > 0
            assert case.score_factors == expected.factors
            assert case.next_action_at is None


def test_one_audit_event_for_the_whole_import(run, store: Store, users: dict[str, Actor]) -> None:
    before = table_counts(store)["auditevent"]
    run(DATA / "placements_basic.csv", actor=users["sam"])

    with store.read() as session:
        events = list(
            session.exec(select(AuditEvent).where(AuditEvent.entity == "import")).scalars()
        )
        assert table_counts(store)["auditevent"] == before + 1
    [event] = events
    assert (event.action, event.user_id) == ("cases", users["sam"].user_id)
    assert event.after is not None
    assert event.after["file"] == "placements_basic.csv"
    assert (event.after["cases_created"], event.after["phones"], event.after["rows"]) == (3, 4, 3)


# --- encodings, delimiters, headers ---------------------------------------------------------------

CHINESE = (
    "client,client_ref,debtor_name,country,phone,address,currency,principal,due_date\n"
    "华夏银行,HX-1,张伟,CN,13800138000,北京市朝阳区建国路88号,CNY,8888.88,2026-05-20\n"
    "华夏银行,HX-2,欧阳娜娜,CN,13900139000,广州市天河区体育西路1号,CNY,66.60,2026-06-01\n"
)


@pytest.mark.parametrize(
    ("encoding", "written", "reported"),
    [
        ("utf-8", "utf-8", "utf-8"),
        ("utf-8 with BOM", "utf-8-sig", "utf-8-sig"),
        ("GBK", "gbk", "gb18030"),
        ("UTF-16 LE with BOM", "utf-16", "utf-16"),
        ("UTF-16 BE with BOM", "utf-16-be-bom", "utf-16"),
    ],
)
def test_chinese_text_survives_every_encoding(
    run, store: Store, tmp_path: Path, encoding: str, written: str, reported: str
) -> None:
    if written == "utf-16-be-bom":
        path = tmp_path / "in.csv"
        path.write_bytes(b"\xfe\xff" + CHINESE.encode("utf-16-be"))
    else:
        path = write(tmp_path, CHINESE, encoding=written)

    report = run(path)

    assert (report.cases_created, report.encoding) == (2, reported), encoding
    case, debtor, _, _ = case_by_ref(store, "HX-2")
    assert case.client == "华夏银行"
    assert debtor.name == "欧阳娜娜"
    assert debtor.address == "广州市天河区体育西路1号"
    assert case.balance == 6660


def test_the_placement_address_is_a_contact_an_agent_can_mark_returned(
    run, store: Store, users: dict[str, Actor], tmp_path: Path, now: datetime, settings: Settings
) -> None:
    from collector_tui.models import PostalAddress
    from collector_tui.services.contacts import book, skiptrace

    run(write(tmp_path, CHINESE))
    case, debtor, _, _ = case_by_ref(store, "HX-2")
    with store.read() as session:
        rows = session.exec(
            select(PostalAddress).where(col(PostalAddress.debtor_id) == debtor.id)
        ).all()
    assert [(a.text, a.source, a.status, a.is_primary) for (a,) in rows] == [
        ("广州市天河区体育西路1号", "placement", "valid", True)
    ]
    with store.write() as session:
        sam = users["sam"]
        saved = book.set_contact_status(
            session=session, now=now, actor=sam, settings=settings, case_id=case.id,
            value="广州市天河区体育西路1号", status="returned", reason="letter came back",
        )  # fmt: skip
        assert saved.kind == "address" and saved.status == "returned"
        traced = skiptrace.skip_trace_cases(session=session, actor=sam)
    assert [(t.client_ref, t.reasons) for t in traced if t.case_id == case.id] == [
        ("HX-2", ("returned mail",))
    ]


def test_utf8_chinese_is_never_read_as_gb18030(tmp_path: Path) -> None:
    # Most UTF-8 Chinese also decodes as GB18030, as nonsense: UTF-8 must be tried first.
    rows, errors, encoding, _ = read_placements(write(tmp_path, CHINESE))
    assert (encoding, errors) == ("utf-8", [])
    assert [row.debtor_name for row in rows] == ["张伟", "欧阳娜娜"]


def test_semicolon_delimiter_and_unambiguous_amounts(run, store: Store, tmp_path: Path) -> None:
    text = (
        "client;client_ref;debtor_name;country;phone;currency;principal;fees;due_date\n"
        "Bank AG;S-1;Müller, Hans;DE;+49 30 123456;EUR;1.234,50;1.000,00;2026-03-01\n"
        "Bank AG;S-2;Other;DE;+49 30 123457;EUR;12;;2026-03-01\n"
        "Bank AG;S-3;Third;DE;+49 30 123458;EUR;1500,5;1.234.567;2026-03-01\n"
    )
    report = run(write(tmp_path, text))

    assert (report.delimiter, report.cases_created) == (";", 3)
    case, debtor, _, _ = case_by_ref(store, "S-1")
    assert debtor.name == "Müller, Hans"
    assert (case.principal, case.fees, case.balance) == (123450, 100000, 223450)
    case, _, _, _ = case_by_ref(store, "S-3")
    assert (case.principal, case.fees) == (150050, 123456700)


def test_excel_quoted_thousands_import_in_comma_separated_files(
    run, store: Store, tmp_path: Path
) -> None:
    text = (
        f'{HEADER}\nACME,R-1,A,CN,,CNY,"12,500.00",2026-01-01\n'
        'ACME,R-2,B,CN,,CNY,"1,234,567.89",2026-01-01\nACME,R-3,C,CN,,CNY,"1,500",2026-01-01\n'
    )
    report = run(write(tmp_path, text))
    assert (report.delimiter, report.cases_created) == (",", 3)
    assert case_by_ref(store, "R-1")[0].balance == 1_250_000
    assert case_by_ref(store, "R-2")[0].balance == 123_456_789
    assert case_by_ref(store, "R-3")[0].balance == 150_000  # a comma file: a point, commas group


def test_a_decimal_comma_in_a_comma_separated_file_needs_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, f'{HEADER}\nACME,R-1,A,CN,,CNY,"12,5",2026-01-01\n')
    _, errors, _, _ = read_placements(path)
    assert errors == [
        RowError(
            2,
            "bad amount '12,5' (principal): \",\" only groups thousands with a decimal point"
            " (a decimal comma? say --decimal-comma)",
        )
    ]
    rows, errors, _, _ = read_placements(path, decimal="comma")
    assert (errors, [row.principal for row in rows]) == ([], [1250])


def test_tab_separated_utf16_as_excel_saves_unicode_text(run, store: Store, tmp_path: Path) -> None:
    text = "client\tclient_ref\tdebtor_name\tcountry\tcurrency\tprincipal\tdue_date\n"
    text += "ACME\tT-1\t李雷\tCN\tCNY\t10\t2026-01-01\n"
    report = run(write(tmp_path, text, encoding="utf-16"))
    assert (report.delimiter, report.encoding, report.cases_created) == ("\t", "utf-16", 1)


def test_header_aliases_case_and_spacing_are_forgiven(run, store: Store, tmp_path: Path) -> None:
    text = (
        " Creditor ,Account No,NAME,Type,Country,Telephone,Mobile 2,Amount,CCY,Due,Placed,Grade,"
        "Invoice,Notes For Us\n"
        "Globex,ACC-9,Initech LLC,Business,us,(212) 555-0199,+1 415 555 0100;+1 415 555 0101,"
        "75.5,usd,2026-02-28,2026-10-15,c,INV-9,ignored column\n"
    )
    report = run(write(tmp_path, text))

    assert (report.cases_created, report.phones) == (1, 3)
    case, debtor, phones, invoices = case_by_ref(store, "ACC-9")
    assert (case.client, case.currency, case.principal, case.balance) == (
        "Globex",
        "USD",
        7550,
        7550,
    )
    assert (case.due_date, case.placed_date) == (date(2026, 2, 28), date(2026, 10, 15))
    assert (debtor.name, debtor.kind, debtor.country, debtor.risk_grade) == (
        "Initech LLC",
        "company",
        "US",
        "C",
    )
    assert sorted(p.e164 for p in phones) == ["+12125550199", "+14155550100", "+14155550101"]
    assert [i.number for i in invoices] == ["INV-9"]


def test_chinese_headers(run, store: Store, tmp_path: Path) -> None:
    text = (
        "委托方,合同号,债务人,电话,币种,金额,到期日,地址\n"
        "招商银行,ZS-1,王芳,13800138000,CNY,100,2026-01-31,深圳\n"
    )
    report = run(write(tmp_path, text, encoding="gbk"), region="CN")
    assert report.cases_created == 1
    case, debtor, phones, _ = case_by_ref(store, "ZS-1")
    assert (case.client, debtor.name, debtor.country, debtor.address) == (
        "招商银行",
        "王芳",
        "CN",
        "深圳",
    )
    assert [p.e164 for p in phones] == ["+8613800138000"]


def test_client_and_region_options_fill_what_the_file_lacks(
    run, store: Store, tmp_path: Path
) -> None:
    text = "reference,debtor,phone,currency,balance,due\nR-1,李四,13800138000,CNY,5,2026-01-01\n"
    report = run(write(tmp_path, text), client="Client X", region="cn")
    assert report.cases_created == 1
    case, debtor, phones, _ = case_by_ref(store, "R-1")
    assert (case.client, debtor.country, phones[0].e164) == ("Client X", "CN", "+8613800138000")
    assert (case.principal, case.balance) == (500, 500)


def test_a_row_naming_another_client_than_the_option_is_refused(tmp_path: Path) -> None:
    text = f"{HEADER}\nOther Bank,R-1,A,CN,,CNY,1,2026-01-01\n,R-2,B,CN,,CNY,1,2026-01-01\n"
    rows, errors, _, _ = read_placements(write(tmp_path, text), client="ACME")
    assert [row.client_ref for row in rows] == ["R-2"]
    assert rows[0].client == "ACME"
    assert errors == [RowError(2, "client 'Other Bank' is not the one given (ACME)")]


# --- cases of several invoices --------------------------------------------------------------------


def test_rows_sharing_a_reference_form_one_case_of_invoices(run, store: Store) -> None:
    report = run(DATA / "placements_multi_invoice.csv")

    assert (report.rows, report.cases_created, report.invoices, report.phones) == (4, 2, 4, 2)
    case, debtor, phones, invoices = case_by_ref(store, "W-77")
    assert debtor.name == "深圳市某某科技有限公司" and debtor.kind == "company"
    assert case.balance == case.principal == 100000 + 250050 + 49950
    assert case.due_date == date(2026, 7, 31)  # the oldest invoice
    assert [(i.number, i.due_date, i.amount, i.open_amount) for i in invoices] == [
        ("INV-001", date(2026, 7, 31), 250050, 250050),
        ("INV-002", date(2026, 8, 31), 49950, 49950),
        ("INV-003", date(2026, 9, 30), 100000, 100000),
    ]
    # The landline repeated on two rows is stored once; the mobile of the third row is added.
    assert sorted(p.e164 for p in phones) == ["+8613900139000", "+8675588886666"]
    assert sum(p.is_primary for p in phones) == 1
    with store.read() as session:
        assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 2


def test_rows_of_one_case_must_agree(tmp_path: Path) -> None:
    header = "client,client_ref,debtor_name,country,currency,balance,due_date,invoice_no"
    text = (
        f"{header}\n"
        "ACME,K-1,Alpha,CN,CNY,1,2026-01-01,I-1\n"  # 2
        "ACME,K-1,Beta,CN,CNY,1,2026-01-01,I-2\n"  # 3: another debtor
        "ACME,K-2,Gamma,CN,CNY,1,2026-01-01,I-1\n"  # 4
        "ACME,K-2,Gamma,CN,CNY,1,2026-01-01,I-1\n"  # 5: same invoice twice
        "ACME,K-3,Delta,CN,CNY,1,2026-01-01,I-1\n"  # 6
        "ACME,K-3,Delta,CN,USD,1,2026-01-01,I-2\n"  # 7: another currency
        "ACME,K-4,Eps,CN,CNY,1,2026-01-01,\n"  # 8
        "ACME,K-4,Eps,CN,CNY,1,2026-01-01,\n"  # 9: a repeated reference without invoices
        "ACME,K-5,Zeta,CN,CNY,1,2026-01-01,I-1\n"  # 10: fine
    )
    rows, errors, _, _ = read_placements(write(tmp_path, text))

    assert [row.line for row in rows] == [10]
    sibling = "case rejected with line {} (rows of one case are imported together)"
    assert errors == [
        RowError(2, sibling.format(3)),
        RowError(3, "debtor_name differs from line 2 (same client_ref)"),
        RowError(4, sibling.format(5)),
        RowError(5, "invoice_no repeats line 4 (same case)"),
        RowError(6, sibling.format(7)),
        RowError(7, "currency differs from line 6 (same client_ref)"),
        RowError(8, sibling.format(9)),
        RowError(9, "client_ref repeats line 8: rows of one case need an invoice_no"),
    ]


def test_a_bad_row_takes_its_whole_case_with_it(run, store: Store, tmp_path: Path) -> None:
    header = "client,client_ref,debtor_name,country,currency,balance,due_date,invoice_no"
    text = (
        f"{header}\n"
        "ACME,K-1,Alpha,CN,CNY,1,2026-01-01,I-1\n"
        "ACME,K-1,Alpha,CN,CNY,oops,2026-01-01,I-2\n"
        "ACME,K-2,Beta,CN,CNY,1,2026-01-01,I-1\n"
    )
    report = run(write(tmp_path, text), skip_bad=True)

    assert (report.cases_created, report.invoices) == (1, 1)
    assert report.rejected == (
        RowError(2, "case rejected with line 3 (rows of one case are imported together)"),
        RowError(3, "bad amount 'oops' (balance)"),
    )
    with store.read() as session:
        refs = session.execute(select(Case.client_ref)).scalars().all()
    assert refs == ["K-2"]  # K-1 is not half-imported without invoice I-2


# --- bad rows -------------------------------------------------------------------------------------

BAD_REASONS = [
    RowError(3, "bad amount '12,3x' (principal)"),
    RowError(4, "bad date '2026-13-01' (due_date): use YYYY-MM-DD"),
    RowError(6, "missing client_ref"),  # line 5 is blank: still counted, as a spreadsheet does
    RowError(7, "bad amount '1500.5' (principal): JPY allows no decimal places"),
]


def test_bad_rows_are_reported_with_their_line_and_reason() -> None:
    rows, errors, _, _ = read_placements(DATA / "placements_bad.csv")
    assert errors == BAD_REASONS
    assert [(row.line, row.client_ref) for row in rows] == [(2, "B-1"), (8, "B-7")]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ("ACME,R,A,CN,,CNY,-5,2026-01-01", "bad amount '-5' (principal): must not be negative"),
        (
            "ACME,R,A,CN,,CNY,1.234,2026-01-01",
            "bad amount '1.234' (principal): CNY allows at most 2 decimal places",
        ),
        ("ACME,R,A,CN,,CNY,1e3,2026-01-01", "bad amount '1e3' (principal)"),
        (
            "ACME,R,A,CN,,CNY,𝟏𝟐,2026-01-01",
            "bad amount '𝟏𝟐' (principal): has a digit other than 0-9 (𝟏): use 0-9",
        ),
        (
            "ACME,R,A,CN,,CNY,١٢٣,2026-01-01",
            "bad amount '١٢٣' (principal): has a digit other than 0-9 (١): use 0-9",
        ),
        (
            "ACME,R,A,CN,,CNY,12³,2026-01-01",
            "bad amount '12³' (principal): has a digit other than 0-9 (³): use 0-9",
        ),  # fmt: skip
        ("ACME,R,A,CN,,CNY,−5,2026-01-01", "bad amount '−5' (principal): must not be negative"),
        ("ACME,R,A,CN,,CNY,0,2026-01-01", "the balance is zero: nothing to collect"),
        ("ACME,R,A,CN,,CNY,0.00,2026-01-01", "the balance is zero: nothing to collect"),
        (
            "ACME,R,A,CN,,CNY,10000000000000000,2026-01-01",
            "bad amount '10000000000000000' (principal): too large",
        ),
        ("ACME,R,A,CN,,CNY,,2026-01-01", "missing principal or balance"),
        ("ACME,R,A,CN,,CNY,1,01/02/2026", "bad date '01/02/2026' (due_date): use YYYY-MM-DD"),
        ("ACME,R,A,CN,,CNY,1,2026-02-30", "bad date '2026-02-30' (due_date): use YYYY-MM-DD"),
        ("ACME,R,A,CN,,CNY,1,0226-02-01", "bad date '0226-02-01' (due_date): use YYYY-MM-DD"),
        ("ACME,R,A,CN,,CNY,1,", "missing due_date"),
        ("ACME,R,A,CN,,XYZ,1,2026-01-01", "unknown currency 'XYZ'"),
        ("ACME,R,A,ZZ,,CNY,1,2026-01-01", "unknown country 'ZZ' (use an ISO 3166 code like CN)"),
        ("ACME,R,A,,,CNY,1,2026-01-01", "missing country"),
        ("ACME,R,,CN,,CNY,1,2026-01-01", "missing debtor_name"),
        (",R,A,CN,,CNY,1,2026-01-01", "missing client"),
        (
            "ACME,R,A,CN,,CNY,1,2026-01-01,surplus",
            "9 fields but the header has 8 (a value containing the delimiter needs quotes)",
        ),
        (f"ACME,{'R' * 101},A,CN,,CNY,1,2026-01-01", "client_ref is longer than 100 characters"),
    ],
)
def test_each_kind_of_bad_value(tmp_path: Path, fields: str, reason: str) -> None:
    _, errors, _, _ = read_placements(write(tmp_path, f"{HEADER}\n{fields}\n"))
    assert errors == [RowError(2, reason)]


def test_zero_decimals_beyond_the_currency_are_harmless(tmp_path: Path) -> None:
    text = f"{HEADER}\nACME,R,A,JP,,JPY,1500.00,2026-01-01\nACME,S,B,JP,,jpy,7,2026-01-01\n"
    rows, errors, _, _ = read_placements(write(tmp_path, text))
    assert errors == []
    assert [(row.principal, row.currency) for row in rows] == [(1500, "JPY"), (7, "JPY")]


def test_one_bad_row_rejects_the_file_and_writes_nothing(
    run, store: Store, users: dict[str, Actor], place
) -> None:
    place("EXISTING-1")
    before = table_counts(store)

    with pytest.raises(ImportRejected) as caught:
        run(DATA / "placements_bad.csv", actor=users["sam"])

    assert str(caught.value) == "4 bad rows; first: line 3: bad amount '12,3x' (principal)"
    assert isinstance(caught.value, ServiceError)
    assert caught.value.report.rejected == tuple(BAD_REASONS)
    assert (caught.value.report.rows, caught.value.report.cases_created) == (6, 0)
    assert table_counts(store) == before
    assert not (DATA / "placements_bad.rejects.csv").exists()


def test_a_failure_while_writing_rolls_everything_back(
    run, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = table_counts(store)
    original = placement_file._write_cases

    def write_then_fail(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(placement_file, "_write_cases", write_then_fail)
    with pytest.raises(RuntimeError):
        run(DATA / "placements_basic.csv")
    assert table_counts(store) == before


def test_skip_bad_imports_the_good_rows_and_writes_the_rejects(
    run, store: Store, tmp_path: Path
) -> None:
    source = tmp_path / "placements.csv"
    source.write_bytes((DATA / "placements_bad.csv").read_bytes())

    report = run(source, skip_bad=True)

    assert (report.cases_created, report.rejected) == (2, tuple(BAD_REASONS))
    with store.read() as session:
        refs = sorted(session.execute(select(Case.client_ref)).scalars())
    assert refs == ["B-1", "B-7"]
    rejects = tmp_path / "placements.rejects.csv"
    assert rejects.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel then reads UTF-8
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == [*HEADER.split(","), "line", "reason"]
    assert written[1] == [
        "ACME Bank",
        "B-2",
        "Bad Amount",
        "CN",
        "13800138001",
        "CNY",
        "12,3x",
        "2026-09-01",
        "3",
        "bad amount '12,3x' (principal)",
    ]
    assert [(row[-2], row[-1]) for row in written[1:]] == [
        (str(e.line), e.reason) for e in BAD_REASONS
    ]


def test_fixed_rejects_file_can_be_imported_back(run, store: Store, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    run(DATA / "placements_bad.csv", skip_bad=True, rejects_path=rejects)
    fixed = rejects.read_text(encoding="utf-8-sig")
    fixed = fixed.replace('"12,3x"', "12.30").replace("2026-13-01", "2026-12-01")
    fixed = fixed.replace("ACME Bank,,No Reference", "ACME Bank,B-5,No Reference")
    fixed = fixed.replace("1500.5", "1500")

    report = run(write(tmp_path, fixed, name="fixed.csv"))  # line and reason columns are ignored
    assert (report.cases_created, report.rejected) == (4, ())


def test_importing_the_same_file_twice_creates_nothing_new(run, store: Store, place) -> None:
    existing = place("A-1002", client="ACME Bank", debtor_name="Already Here", balance=42)
    run(DATA / "placements_basic.csv")
    after_first = table_counts(store)

    again = run(DATA / "placements_basic.csv")

    assert (again.cases_created, again.cases_existing, again.phones, again.invoices) == (0, 3, 0, 0)
    assert table_counts(store) == after_first
    case, debtor, _, _ = case_by_ref(store, "A-1002")
    assert (case.id, debtor.name, case.balance) == (existing.id, "Already Here", 42)
    assert (case.version, case.updated_at) == (existing.version, existing.updated_at)


def test_dry_run_reports_and_writes_nothing(run, store: Store, tmp_path: Path, place) -> None:
    place("A-1001", client="ACME Bank")
    before = table_counts(store)
    folder = tmp_path / "files"
    folder.mkdir()
    source = folder / "bad.csv"
    source.write_bytes((DATA / "placements_bad.csv").read_bytes())

    report = run(DATA / "placements_basic.csv", dry_run=True)
    assert (report.dry_run, report.cases_created, report.cases_existing) == (True, 2, 1)
    assert (report.phones, report.phones_invalid) == (3, 0)
    with pytest.raises(ImportRejected) as caught:
        run(source, dry_run=True)
    assert caught.value.report.dry_run
    skipped = run(source, dry_run=True, skip_bad=True)
    assert (skipped.cases_created, len(skipped.rejected)) == (2, 4)

    assert table_counts(store) == before
    assert [p.name for p in folder.iterdir()] == ["bad.csv"]  # no rejects file


# --- phones ---------------------------------------------------------------------------------------


def test_invalid_phones_are_kept_but_marked_invalid(run, store: Store, tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        "ACME,P-1,A,CN,12345|13800138000,CNY,1,2026-01-01\n"
        "ACME,P-2,B,CN,not a number,CNY,1,2026-01-01\n"
        "ACME,P-3,C,CN,,CNY,1,2026-01-01\n"
    )
    report = run(write(tmp_path, text))

    assert (report.cases_created, report.phones, report.phones_invalid) == (3, 3, 2)
    _, _, phones, _ = case_by_ref(store, "P-1")
    assert [(p.raw, p.e164, p.valid, p.is_primary) for p in phones] == [
        ("12345", None, False, False),
        ("13800138000", "+8613800138000", True, True),  # the first valid one is primary
    ]
    _, _, phones, _ = case_by_ref(store, "P-2")
    assert [(p.raw, p.valid, p.is_primary) for p in phones] == [("not a number", False, False)]
    _, _, phones, _ = case_by_ref(store, "P-3")
    assert phones == []


def test_one_number_written_two_ways_is_stored_once(run, store: Store, tmp_path: Path) -> None:
    text = "client,client_ref,debtor_name,country,phone,phone2,currency,principal,due_date\n"
    text += "ACME,D-1,A,CN,138 0013 8000,+86 13800138000,CNY,1,2026-01-01\n"
    report = run(write(tmp_path, text))
    assert report.phones == 1


# --- CSV shape ------------------------------------------------------------------------------------


def test_mixed_line_endings_blank_lines_and_quoted_fields(
    run, store: Store, tmp_path: Path
) -> None:
    text = (
        f"{HEADER}\r\n"
        'ACME,Q-1,"Doe, Jane",CN,13800138000,CNY,1,2026-01-01\n'
        'ACME,Q-2,"Multi\nLine Co",CN,,CNY,2,2026-01-01\r'
        "ACME,Q-3,C,CN,,CNY,3,2026-01-01\r\n"
        "\r\n"
        ",,,,,,,\n"
        "   \n"
        "\n"
    )
    report = run(write(tmp_path, text))

    assert (report.rows, report.cases_created) == (3, 3)
    assert case_by_ref(store, "Q-1")[1].name == "Doe, Jane"
    assert case_by_ref(store, "Q-2")[1].name == "Multi\nLine Co"


def test_line_numbers_count_records_after_a_multiline_field(tmp_path: Path) -> None:
    text = (
        f'{HEADER}\nACME,M-1,"two\nlines",CN,,CNY,1,2026-01-01\nACME,M-2,B,CN,,CNY,x,2026-01-01\n'
    )
    _, errors, _, _ = read_placements(write(tmp_path, text))
    assert errors == [RowError(3, "bad amount 'x' (principal)")]  # the spreadsheet's row 3


def test_quoted_field_containing_the_semicolon_delimiter(tmp_path: Path) -> None:
    text = "client;client_ref;debtor_name;country;phone;currency;principal;due_date\n"
    text += 'ACME;X-1;"A; B & Co";CN;"13800138000;13900139000";CNY;1;2026-01-01\n'
    rows, errors, _, delimiter = read_placements(write(tmp_path, text))
    assert (delimiter, errors) == (";", [])
    assert rows[0].debtor_name == "A; B & Co"
    assert rows[0].phones == ("13800138000", "13900139000")


# --- refusing the file as a whole -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "in.csv is empty"),
        (b"\n\r\n  \n", "in.csv is empty"),
        (b"\xef\xbb\xbf", "in.csv is empty"),
        (HEADER.encode() + b"\n", "in.csv has a header but no rows"),
        (b"client,debtor_name,currency,principal,due_date,country\n", "missing column: client_ref"),
        (
            b"client_ref,debtor_name\n",
            "missing columns: client, currency, due_date, principal or balance,"
            " country (or give a region)",
        ),
        (
            b"client,client_ref,ref,debtor_name\n",
            "columns 'client_ref' and 'ref' both mean client_ref: keep one",
        ),
        (
            "client,ref\n".encode("utf-16-le"),
            "in.csv is not a text CSV file (UTF-16 without a byte order mark? save it as UTF-8)",
        ),
        (b"\xff\xfe\x00\xd8", "in.csv is not UTF-8, UTF-16 or GBK text (bad bytes at offset 2)"),
    ],
)
def test_files_that_cannot_be_taken(
    run, store: Store, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    before = table_counts(store)
    with pytest.raises(ServiceError) as caught:
        run(path)
    assert str(caught.value) == message
    assert table_counts(store) == before


def test_an_unreadable_file_is_one_clear_error(run, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match=r"^cannot read .*missing\.csv: No such file"):
        run(tmp_path / "missing.csv")
    with pytest.raises(ServiceError, match=r"^cannot read .*: Is a directory"):
        run(tmp_path)


def test_unknown_region_and_currency_options(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n")
    with pytest.raises(ServiceError, match="unknown region 'XX'"):
        read_placements(path, region="XX")
    with pytest.raises(ServiceError, match="is not a known currency code"):
        read_placements(path, currency="ABC")


# --- who, assignment, progress --------------------------------------------------------------------


def test_agents_cannot_import(run, store: Store, users: dict[str, Actor]) -> None:
    before = table_counts(store)
    with pytest.raises(Forbidden):
        run(DATA / "placements_basic.csv", actor=users["alice"])
    assert table_counts(store) == before


def test_assign_to_gives_every_new_case_to_the_agent_with_history(
    run, store: Store, users: dict[str, Actor]
) -> None:
    alice, sam = users["alice"], users["sam"]
    run(DATA / "placements_basic.csv", actor=sam, assign_to=alice.user_id)

    with store.read() as session:
        cases = list(session.exec(select(Case)).scalars())
        moves = list(session.exec(select(Assignment)).scalars())
    assert {case.assigned_to_id for case in cases} == {alice.user_id}
    assert sorted(m.case_id for m in moves) == sorted(case.id for case in cases)
    assert {(m.from_user_id, m.to_user_id, m.moved_by_id) for m in moves} == {
        (None, alice.user_id, sam.user_id)
    }
    assert {m.reason for m in moves} == {"imported from placements_basic.csv"}


def test_assign_to_an_unknown_user_is_refused(run, store: Store) -> None:
    import uuid

    before = table_counts(store)
    with pytest.raises(ServiceError, match="no such user"):
        run(DATA / "placements_basic.csv", assign_to=uuid.uuid4())
    assert table_counts(store) == before


def test_chunked_writes_report_progress(
    run, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(placement_file, "WRITE_CHUNK", 2)
    lines = [f"ACME,C-{n},Debtor {n},CN,1380013{n:04d},CNY,{n}.50,2026-01-01" for n in range(7)]
    seen: list[tuple[int, int]] = []

    report = run(write(tmp_path, "\n".join([HEADER, *lines])), progress=lambda *a: seen.append(a))

    assert report.cases_created == 7
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]
    assert table_counts(store)["collection_case"] == 7


# --- internals worth pinning ----------------------------------------------------------------------


def test_rows_written_cover_every_column_of_their_tables() -> None:
    # A column added to a model must be added to the importer's rows too (or have a default).
    for model, columns in (
        (Debtor, placement_file._DEBTOR_COLUMNS),
        (Case, placement_file._CASE_COLUMNS),
        (Phone, placement_file._PHONE_COLUMNS),
        (Invoice, placement_file._INVOICE_COLUMNS),
        (Assignment, placement_file._ASSIGNMENT_COLUMNS),
    ):
        assert [c.name for c in model.__table__.columns] == columns  # type: ignore[attr-defined]


@pytest.mark.sqlite_only  # the SQLite writer's JSON text
def test_score_factors_text_is_what_json_dumps_gives(store: Store, now: datetime) -> None:
    builder = placement_file._CaseBuilder(
        now=now,
        settings=Settings(),
        assign_to=None,
        writers=placement_file._writers(store.engine.dialect),
        dialect=store.engine.dialect,
    )
    factors = scoring.score_factors(
        balance_minor=123_456_789,
        currency="CNY",
        risk_grade="B",
        dpd=95,
        broken_promises=1,
        last_contact_at=None,
        last_attempt_at=None,
        now=now,
        weights=Settings().weights,
    )
    factors.append(scoring.Factor('quote " and 汉字', 3, "back\\slash\n"))
    expected = json.dumps([factor.as_dict() for factor in factors])
    assert builder.factors_json(factors) == expected
    assert builder.factors_json(factors) == expected  # from the fragment cache this time


def test_the_core_insert_path_used_off_sqlite_gives_the_same_rows(
    store: Store, tmp_path: Path, now: datetime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def snapshot(target: Store) -> list[tuple[Any, ...]]:
        with target.read() as session:
            rows = session.execute(
                select(Case, Debtor, Phone)
                .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
                .join(Phone, col(Phone.debtor_id) == col(Debtor.id))
                .order_by(col(Case.client_ref), col(Phone.raw))
            ).all()
        ignored = {"id", "debtor_id"}
        return [
            tuple(
                (name, getattr(row, name))
                for row in found
                for name in type(row).model_fields
                if name not in ignored
            )
            for found in rows
        ]

    import_cases(store=store, path=DATA / "placements_basic.csv", now=now, settings=settings)
    monkeypatch.setattr(placement_file, "_FAST_DIALECTS", frozenset())
    other = Store(make_engine(tmp_path / "core.db"))
    upgrade(other)
    try:
        import_cases(store=other, path=DATA / "placements_basic.csv", now=now, settings=settings)
        assert snapshot(other) == snapshot(store)
        assert len(snapshot(other)) == 4
    finally:
        other.dispose()


@pytest.mark.sqlite_only  # a SQLite pragma
def test_the_bigger_page_cache_is_given_back_to_the_pooled_connection(run, store: Store) -> None:
    with store.read() as session:
        before = session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
    run(DATA / "placements_basic.csv")
    with store.read() as session:
        assert session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one() == before


# --- decimal marks, encodings, zero balances, digits ---------------------------------------------

SEMICOLON_HEADER = "client;client_ref;debtor_name;country;currency;principal;due_date\n"


def _semicolon(tmp_path: Path, *amounts: str) -> Path:
    rows = "".join(f"ACME;R-{n};Name {n};DE;EUR;{a};2026-01-01\n" for n, a in enumerate(amounts))
    return write(tmp_path, SEMICOLON_HEADER + rows)


def test_an_excel_export_with_quoted_thousands_imports(run, store: Store) -> None:
    report = run(DATA / "placements_excel_export.csv")

    assert (report.encoding, report.delimiter, report.cases_created) == ("utf-8-sig", ",", 3)
    case, debtor, _, _ = case_by_ref(store, "XL-1")
    assert debtor.name == "Smith, John"
    assert (case.principal, case.fees, case.interest, case.balance) == (
        1_250_000,
        25_000,
        100_050,
        1_375_050,
    )
    assert case_by_ref(store, "XL-2")[0].balance == 123_456_789
    assert case_by_ref(store, "XL-3")[1].name == "Renée Müller"


def test_a_semicolon_file_with_an_amount_read_two_ways_is_refused_whole(
    run, store: Store, tmp_path: Path
) -> None:
    before = table_counts(store)
    path = DATA / "placements_semicolon_ambiguous.csv"
    for skip_bad in (False, True):  # not a bad row: the file's convention is unknown
        with pytest.raises(ServiceError) as caught:
            run(path, skip_bad=skip_bad, dry_run=skip_bad)
        assert str(caught.value) == (
            "placements_semicolon_ambiguous.csv: the amount '1,500' on line 3 reads two ways"
            " (1500 or 1.500): say --decimal-point or --decimal-comma"
        )
        assert caught.value.field == "decimal"
    assert table_counts(store) == before
    with pytest.raises(ServiceError, match="line 3 reads two ways"):
        read_placements(path)

    report = run(path, decimal="comma")

    assert report.cases_created == 3
    assert case_by_ref(store, "SC-1")[0].balance == 234_567
    assert case_by_ref(store, "SC-2")[0].balance == 150  # 1,500 with a decimal comma: 1.50
    assert case_by_ref(store, "SC-3")[0].balance == 30_000


def test_the_decimal_options_force_one_reading(tmp_path: Path) -> None:
    path = _semicolon(tmp_path, "1,500", "1.234,56", "1500,5", "12.500")
    rows, errors, _, _ = read_placements(path, decimal="comma")
    assert errors == []
    assert [row.principal for row in rows] == [150, 123_456, 150_050, 1_250_000]

    rows, errors, _, _ = read_placements(_semicolon(tmp_path, "1,500", "12.500"), decimal="point")
    assert errors == []
    assert [row.principal for row in rows] == [150_000, 1250]

    _, errors, _, _ = read_placements(_semicolon(tmp_path, "1500.50"), decimal="comma")
    assert errors == [
        RowError(2, "bad amount '1500.50' (principal): \".\" only groups thousands with a decimal"
                 " comma")
    ]  # fmt: skip
    with pytest.raises(ServiceError, match="decimal must be point or comma, not 'dot'"):
        read_placements(path, decimal="dot")


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        ("1500.50", 150_050),  # a point followed by two digits: only a decimal point
        ("1500", 150_000),
        ("1.234,56", 123_456),  # both marks: the last one is the decimal
        ("1,234.56", 123_456),
        ("1500,5", 150_050),  # a comma followed by one digit: only a decimal comma
        ("1.234.567", 123_456_700),  # repeated: it groups
        ("1234,500", 123_450),  # four digits before: not a thousands group
        ("0,500", 50),  # nobody writes 500 as 0,500
        ("1 234,56", 123_456),  # spaces (no-break ones too) only group
        ("1\u202f234,56", 123_456),
        ("１２３４.５０", 123_450),  # full-width, as a Chinese input method types it
    ],
)
def test_unambiguous_amounts_in_a_semicolon_file(tmp_path: Path, amount: str, minor: int) -> None:
    rows, errors, _, _ = read_placements(_semicolon(tmp_path, amount))
    assert errors == []
    assert [row.principal for row in rows] == [minor]


@pytest.mark.parametrize("amount", ["1,500", "12.500", "999,000", "1.000"])
def test_amounts_that_read_two_ways_refuse_a_semicolon_file(tmp_path: Path, amount: str) -> None:
    with pytest.raises(ServiceError, match="--decimal-point or --decimal-comma"):
        read_placements(_semicolon(tmp_path, "10", amount))


def test_a_file_writing_decimals_both_ways_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as caught:
        read_placements(_semicolon(tmp_path, "12.50", "7", "1.234,56"))
    assert str(caught.value) == (
        "in.csv writes decimals both ways: '12.50' on line 2 with a decimal point, '1.234,56' on"
        " line 4 with a decimal comma: say --decimal-point or --decimal-comma"
    )


def test_a_tab_separated_file_reads_decimal_commas_too(tmp_path: Path) -> None:
    text = "client\tclient_ref\tdebtor_name\tcountry\tcurrency\tprincipal\tdue_date\n"
    text += "ACME\tT-1\tRenée\tFR\tEUR\t1 234,56\t2026-01-01\n"
    rows, errors, _, delimiter = read_placements(write(tmp_path, text, encoding="utf-16"))
    assert (delimiter, errors, [row.principal for row in rows]) == ("\t", [], [123_456])


def test_a_zero_balance_is_refused_unless_allowed(run, store: Store, tmp_path: Path) -> None:
    text = (
        "client,client_ref,debtor_name,country,currency,principal,fees,interest,balance,due_date\n"
        "ACME,Z-1,A,CN,CNY,0,0,0,,2026-01-01\n"
        "ACME,Z-2,B,CN,CNY,100.00,,,0.00,2026-01-01\n"
        "ACME,Z-3,C,CN,CNY,100.00,,,,2026-01-01\n"
        "ACME,Z-4,D,CN,CNY,-100.00,,,,2026-01-01\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ImportRejected) as caught:
        run(path)
    assert caught.value.report.rejected == (
        RowError(2, "the balance is zero: nothing to collect"),
        RowError(3, "the balance is zero: nothing to collect"),
        RowError(5, "bad amount '-100.00' (principal): must not be negative"),
    )
    assert str(caught.value) == "3 bad rows; first: line 2: the balance is zero: nothing to collect"
    assert table_counts(store)["collection_case"] == 0

    report = run(path, allow_zero_balance=True, skip_bad=True)
    assert (report.cases_created, report.rejected) == (
        3,
        (RowError(5, "bad amount '-100.00' (principal): must not be negative"),),
    )
    assert case_by_ref(store, "Z-2")[0].balance == 0


WESTERN = (
    "client,client_ref,debtor_name,country,currency,principal,due_date\n"
    "Bank AG,L-1,Renée Müller,DE,EUR,100.00,2026-01-01\n"
    "Bank AG,L-2,José Peña,ES,EUR,5,2026-01-01\n"
)
JAPANESE = (
    "client,client_ref,debtor_name,country,currency,principal,due_date\n"
    "東京銀行,J-1,山田太郎,JP,JPY,1500,2026-01-01\n"
    "東京銀行,J-2,すずき いちろう,JP,JPY,20000,2026-01-01\n"
)


@pytest.mark.parametrize(
    ("text", "written", "reported", "ref", "name"),
    [
        (WESTERN, "latin-1", "cp1252", "L-1", "Renée Müller"),
        (WESTERN.replace("José", "“José”"), "cp1252", "cp1252", "L-2", "“José” Peña"),
        (JAPANESE, "shift_jis", "cp932", "J-1", "山田太郎"),
        (JAPANESE, "shift_jis", "cp932", "J-2", "すずき いちろう"),
        (CHINESE, "gbk", "gb18030", "HX-2", "欧阳娜娜"),
    ],
)
def test_files_that_are_not_utf8_are_told_apart(
    run, store: Store, tmp_path: Path, text: str, written: str, reported: str, ref: str, name: str
) -> None:
    report = run(write(tmp_path, text, encoding=written))
    assert report.encoding == reported
    assert case_by_ref(store, ref)[1].name == name


def test_short_names_in_each_encoding_are_not_mojibake(tmp_path: Path) -> None:
    # A single short name is the hard case: "Müller" is valid GB18030 ("M黮ler") and "山田" valid
    # cp1252; each must come back as written, or the file be refused, never misread.
    header = "client,client_ref,debtor_name,country,currency,principal,due_date\n"
    for name, encoding in [
        ("Müller", "latin-1"),
        ("Straße", "latin-1"),
        ("Søren Ærø", "latin-1"),
        ("渡辺", "shift_jis"),
        ("田中", "shift_jis"),
        ("刘", "gbk"),
        ("张伟", "gbk"),
        ("李娜", "gbk"),
    ]:
        path = write(tmp_path, f"{header}B,R,{name},CN,CNY,1,2026-01-01\n", encoding=encoding)
        rows, _, _, _ = read_placements(path)
        assert [row.debtor_name for row in rows] == [name], encoding


def test_a_file_whose_encoding_cannot_be_told_asks_for_it(
    run, store: Store, tmp_path: Path
) -> None:
    # Half-width katakana only: cp932, or GBK misread as cp932? Too little to tell.
    text = "client,client_ref,debtor_name,country,currency,principal,due_date\n"
    text += "ﾄｳｷｮｳ,K-1,ﾔﾏﾀﾞ ﾀﾛｳ,JP,JPY,1500,2026-01-01\n"
    path = write(tmp_path, text, encoding="cp932")
    with pytest.raises(ServiceError) as caught:
        run(path)
    assert str(caught.value) == (
        "could not tell the encoding of in.csv (it is not UTF-8): say --encoding NAME"
        " (e.g. gb18030, cp1252, shift_jis)"
    )
    assert table_counts(store)["collection_case"] == 0

    report = run(path, encoding="Shift-JIS")
    assert (report.encoding, report.cases_created) == ("shift_jis", 1)
    assert case_by_ref(store, "K-1")[1].name == "ﾔﾏﾀﾞ ﾀﾛｳ"


def test_the_encoding_option(run, store: Store, tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as caught:
        run(write(tmp_path, WESTERN), encoding="klingon")
    assert (str(caught.value), caught.value.field) == ("unknown encoding 'klingon'", "encoding")
    with pytest.raises(ServiceError, match="^unknown encoding 'base64'$"):
        run(write(tmp_path, WESTERN), encoding="base64")
    with pytest.raises(ServiceError, match=r"^in\.csv is not utf-8 text \(bad bytes at offset"):
        run(write(tmp_path, WESTERN, encoding="latin-1"), encoding="utf-8")
    # A BOM is no part of the text, whatever the name given.
    report = run(write(tmp_path, CHINESE, encoding="utf-8-sig"), encoding="UTF8")
    assert (report.encoding, report.cases_created) == ("utf-8", 2)
    assert case_by_ref(store, "HX-1")[0].client == "华夏银行"
    report = run(write(tmp_path, WESTERN, encoding="latin-1", name="w.csv"), encoding="latin-1")
    assert (report.encoding, report.cases_created) == ("iso8859-1", 2)


def test_every_chinese_placement_header(run, store: Store, tmp_path: Path) -> None:
    text = (
        "客户,客户编号,债务人,类型,国家,电话,地址,币种,本金,费用,利息,余额,到期日,委托日期,"
        "风险等级,发票号\n"
        "招商银行,ZS-9,深圳某某贸易有限公司,公司,CN,13800138000,深圳南山,CNY,1000,20,5.50,"
        "1025.50,2026-01-31,2026-10-15,B,FP-1\n"
    )
    report = run(write(tmp_path, text, encoding="utf-8-sig"), region=None)
    assert report.cases_created == 1
    case, debtor, phones, invoices = case_by_ref(store, "ZS-9")
    assert (case.client, case.currency, case.principal, case.balance) == (
        "招商银行",
        "CNY",
        100_000,
        102_550,
    )
    assert (case.due_date, case.placed_date) == (date(2026, 1, 31), date(2026, 10, 15))
    assert (debtor.name, debtor.kind, debtor.country, debtor.address, debtor.risk_grade) == (
        "深圳某某贸易有限公司",
        "company",
        "CN",
        "深圳南山",
        "B",
    )
    assert [p.e164 for p in phones] == ["+8613800138000"]
    assert [i.number for i in invoices] == ["FP-1"]


def test_customer_alone_is_not_guessed(tmp_path: Path) -> None:
    # In a bank's file "客户" is the debtor: without a debtor column of its own, refused.
    text = (
        "委托方,合同号,客户,电话,币种,金额,到期日\n"
        "招商银行,ZS-1,王芳,13800138000,CNY,1,2026-01-31\n"
    )
    with pytest.raises(ServiceError, match="may mean the client or the debtor"):
        read_placements(write(tmp_path, text), region="CN")
