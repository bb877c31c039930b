"""Letters as PDF: Chinese text extracts intact; the US validation notice shows the five
itemization amounts and the dispute-by date; a print batch holds every letter; a hostile name
neither starts a heading nor splits a table (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime

from pypdf import PdfReader
from sqlmodel import select

from collector_tui import db
from collector_tui.config import DeliverySettings, Settings
from collector_tui.delivery.pdf import print_batch
from collector_tui.models import BalanceComponent, Case
from collector_tui.services.casework import payments
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.reminders.fields import (
    business_days_after,
    reminder_fields,
    us_legal_holidays,
)
from collector_tui.services.reminders.letters import letter_pdf
from collector_tui.services.reminders.templates import load_template_book

SETTINGS = replace(
    Settings(),
    delivery=DeliverySettings(
        agency_name="Acme Recoveries",
        agency_address="1 Main Street\nSpringfield, IL 62701",
        agency_phone="+1 800 555 0100",
        payment_details="Bank: First Bank\nAccount: 12345678",
    ),
)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _letter(store: db.Store, case_id, name: str, now) -> tuple[bytes, str]:  # noqa: ANN001
    book = load_template_book(SETTINGS)
    with store.read() as session:
        fields = reminder_fields(session=session, case_id=case_id, now=now, settings=SETTINGS)
    rendered = book.render(name, "letter", fields.debtor_language, fields)
    pdf = letter_pdf(rendered, fields)
    return pdf, _text(pdf)


def test_chinese_letter_text_extracts_intact(store: db.Store, place, now) -> None:  # noqa: ANN001
    case = place(
        "ZH-9",
        debtor_name="张伟",
        language="zh",
        address="上海市浦东新区世纪大道100号",
        invoices=(InvoiceInput("发票-001", date(2026, 9, 1), 100_000),),
    )
    pdf, text = _letter(store, case.id, "first_notice", now)
    assert pdf.startswith(b"%PDF-")
    for expected in (
        "委托催收通知：账户 ZH-9",
        "尊敬的张伟：",
        "ACME Bank已将您的账户（ZH-9）委托Acme Recoveries催收，应还金额为¥1,000.00。",
        "上海市浦东新区世纪大道100号",
        "发票-001",
        "2026年11月20日",
        "Bank: First Bank",
    ):
        assert expected in text, expected
    # The same letter, the same bytes: its hash on the timeline identifies it.
    assert _letter(store, case.id, "first_notice", now)[0] == pdf


def test_validation_notice_shows_the_itemization(store: db.Store, place, users, now) -> None:  # noqa: ANN001
    case = place(
        "US-1",
        country="US",
        currency="USD",
        language="en",
        principal=100_000,
        fees=5_000,
        interest=2_500,
        placed_date=date(2026, 10, 1),
        phones=(),
        address="42 Elm Street, Springfield, IL 62704",
    )
    with store.write() as session:
        payments.post_payment(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            amount=10_000,
            received_on=date(2026, 11, 2),
            settings=SETTINGS,
        )
        # Interest accrued since placement (no service charges it yet): the balance and its
        # interest component grow together, as they would.
        row = session.exec(select(Case).where(Case.id == case.id)).one()
        row.balance += 1_234
        session.add(row)
        session.add(BalanceComponent(case_id=case.id, component="interest", amount=1_234))
    _, text = _letter(store, case.id, "validation_notice", now)
    flat = " ".join(text.split())
    assert "As of October 1, 2026, you owed: $1,075.00" in flat
    assert "You were charged this amount in interest: + $12.34" in flat
    assert "You were charged this amount in fees: + $0.00" in flat
    assert "You paid or were credited this amount toward the debt: - $100.00" in flat
    assert "Total amount of the debt now: $987.34" in flat
    # Sent Friday 20 November: received 5 business days later, Thanksgiving (Thursday 26th) not
    # counted: Monday 30th; plus 30 days.
    assert business_days_after(date(2026, 11, 20), 5) == date(2026, 11, 27)
    assert business_days_after(date(2026, 11, 20), 5, us_legal_holidays(date(2026, 11, 20))) == (
        date(2026, 11, 30)
    )
    assert "by December 30, 2026" in flat
    assert "42 Elm Street" in flat and "Debtor US-1" in flat
    assert "www.cfpb.gov/debt-collection" in flat


def test_print_batch_and_hostile_names(store: db.Store, place, now) -> None:  # noqa: ANN001
    hostile = place(
        "H-2",
        language="en",
        debtor_name="# Evil | heading {{ 7*7 }} <b>bold</b> \\",
        invoices=(InvoiceInput("INV|1 # x", date(2026, 9, 1), 100_000),),
    )
    chinese = place("ZH-2", debtor_name="李娜", language="zh")
    first, first_text = _letter(store, hostile.id, "first_notice", now)
    second, _ = _letter(store, chinese.id, "reminder", now)
    flat = " ".join(first_text.split())
    assert "Dear # Evil | heading {{ 7*7 }} <b>bold</b> \\," in flat
    assert "INV|1 # x" in flat
    batch = print_batch([first, second])
    reader = PdfReader(io.BytesIO(batch))
    assert len(reader.pages) == len(PdfReader(io.BytesIO(first)).pages) + len(
        PdfReader(io.BytesIO(second)).pages
    )
    batch_text = _text(batch)
    assert "Evil" in batch_text and "尊敬的李娜：" in batch_text


def test_receipt_days_skip_the_federal_holidays_and_the_days_they_are_observed() -> None:
    closed = us_legal_holidays(date(2026, 12, 20))
    # Christmas 2026 on a Friday: Monday 21st to Thursday 24th count, the 25th does not, Monday
    # 28th is the fifth.
    assert business_days_after(date(2026, 12, 20), 5, closed) == date(2026, 12, 28)
    # Independence Day 2026 falls on a Saturday and is observed Friday 3 July: not a receipt day.
    assert date(2026, 7, 3) in us_legal_holidays(date(2026, 6, 29))
    assert business_days_after(date(2026, 6, 29), 5, us_legal_holidays(date(2026, 6, 29))) == (
        date(2026, 7, 7)
    )
    # A notice sent late in December counts into January's holidays (next year's list too).
    assert business_days_after(date(2027, 12, 29), 2, us_legal_holidays(date(2027, 12, 29))) == (
        date(2028, 1, 3)
    )


def test_the_letter_is_dated_by_the_debtors_day_not_utcs(store: db.Store, place) -> None:  # noqa: ANN001
    case = place("NY-1", country="US", currency="USD", language="en", phones=("+1 212 555 0100",))
    evening = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 21:00 on the 20th in New York
    with store.read() as session:
        fields = reminder_fields(session=session, case_id=case.id, now=evening, settings=SETTINGS)
    assert fields.today == "November 20, 2026"
    # Receipt: Mon 23, Tue 24, Wed 25, (Thanksgiving), Fri 27, Mon 30; plus 30 days.
    assert fields.itemization.dispute_by == "December 30, 2026"
