"""Client statements: collected per case by component, reversals, commission by the client's rate,
net to remit; the totals reconcile with the payments (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import col, func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Case, Payment
from collector_tui.services.casework import payments, reversals
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.reporting.statements import client_statement

FROM, TO = date(2026, 11, 1), date(2026, 11, 30)
BANDS = {"ACME Bank": {"bands": [[60, 10], [120, 20], [100000, 30]]}, "Other": {"flat": 12.5}}


def _pay(
    store: db.Store, actor, case, amount: int, now, settings: Settings, on: date | None = None
):  # noqa: ANN001, ANN202
    with store.write() as session:
        return payments.post_payment(
            session=session,
            now=now,
            actor=actor,
            case_id=case.id,
            amount=amount,
            received_on=on or now.date(),
            settings=settings,
        )


def test_statement_totals_reconcile_with_payments(store: db.Store, users, place, now) -> None:  # noqa: ANN001
    settings = replace(Settings(), commission=BANDS)
    consumer = place("C-1", principal=5_000, fees=1_000, interest=500)  # due 2026-09-01: 80 days
    b2b = place(
        "B-1",
        debtor_kind="company",
        principal=10_000,
        due_date=date(2026, 11, 1),  # 19 days past due
        invoices=(InvoiceInput("INV-1", date(2026, 11, 1), 10_000),),
    )
    other = place("O-1", client="Other", principal=9_000)
    _pay(store, users["alice"], consumer, 1_200, now, settings)
    _pay(store, users["alice"], consumer, 100, now, settings, on=date(2026, 10, 15))  # before
    bounced = _pay(store, users["alice"], b2b, 3_000, now, settings)
    _pay(store, users["alice"], b2b, 1_001, now, settings)
    _pay(store, users["alice"], other, 1_000, now, settings)
    with store.write() as session:
        reversals.reverse_payment(
            session=session,
            now=now,
            actor=users["sam"],
            settings=settings,
            payment_id=bounced.payment_id,
            reason="bounced",
        )
    with store.read() as session:
        statement = client_statement(
            session=session,
            actor=users["sam"],
            settings=settings,
            client="ACME Bank",
            date_from=FROM,
            date_to=TO,
        )
        received = session.exec(
            select(func.sum(Payment.amount))
            .join(Case, col(Case.id) == col(Payment.case_id))
            .where(
                Case.client == "ACME Bank",
                col(Payment.received_on) >= FROM,
                col(Payment.received_on) <= TO,
            )
        ).one()
    lines = {line.client_ref: line for line in statement.cases}
    c1, b1 = lines["C-1"], lines["B-1"]
    # 80 days past due: 20 %; interest first, then fees (the default allocation order).
    assert (c1.payments, c1.collected, c1.interest, c1.fees, c1.principal) == (
        1,
        1_200,
        500,
        700,
        0,
    )
    assert (c1.commission, c1.net_to_remit) == (240, 960)
    # 19 days: 10 %; the bounced 30.00 and its commission are taken back; 10.01 -> 1.00 (half up).
    assert (b1.payments, b1.collected, b1.reversed, b1.principal) == (2, 1_001, 3_000, 1_001)
    assert (b1.commission, b1.net_to_remit) == (100, 901)
    (total,) = statement.totals
    assert total.collected == received == 2_201
    assert total.collected == sum(line.collected for line in statement.cases)
    assert total.collected == sum(total.components().values())
    assert total.net_to_remit == total.collected - total.commission == 2_201 - 340
    assert "up to 60 days 10 %" in statement.rule


def test_bad_statements_are_refused(store: db.Store, users, place) -> None:  # noqa: ANN001
    place("C-2")
    ask = {"settings": Settings(), "client": "ACME Bank", "date_from": FROM, "date_to": TO}
    with store.read() as session:
        with pytest.raises(InvalidInput, match="starts .* after it ends"):
            client_statement(
                session=session, actor=users["sam"], **{**ask, "date_to": date(2026, 10, 1)}
            )
        with pytest.raises(NotFound, match="no cases of client"):
            client_statement(session=session, actor=users["sam"], **{**ask, "client": "Nobody"})
        with pytest.raises(Forbidden):
            client_statement(session=session, actor=users["alice"], **ask)
        bad = replace(Settings(), commission={"ACME Bank": {"flat": 140}})
        with pytest.raises(InvalidInput, match="from 0 to 100"):
            client_statement(session=session, actor=users["sam"], **{**ask, "settings": bad})
        empty = client_statement(session=session, actor=users["sam"], **ask)
    assert (empty.cases, empty.totals, empty.rule) == ((), (), "no commission configured")


def test_closures_list_the_cases_closed_in_the_period(store: db.Store, users, place, now) -> None:  # noqa: ANN001
    from collector_tui.services.reporting.statements import client_closures

    settings = Settings()
    paid = place("C-PAID", principal=2_000)
    bounced = place("C-BOUNCED", principal=3_000)
    place("C-OPEN", principal=4_000)
    _pay(store, users["alice"], paid, 2_000, now, settings)
    posted = _pay(store, users["alice"], bounced, 3_000, now, settings)
    with store.write() as session:
        reversals.reverse_payment(
            session=session,
            now=now,
            actor=users["sam"],
            settings=settings,
            payment_id=posted.payment_id,
            reason="chargeback",
        )
    ask = {"client": "ACME Bank", "date_from": FROM, "date_to": TO}
    with store.read() as session:
        lines = client_closures(session=session, actor=users["sam"], **ask)
        before = client_closures(
            session=session, actor=users["sam"], **{**ask, "date_to": date(2026, 11, 19)}
        )
        with pytest.raises(InvalidInput, match="after it ends"):
            client_closures(
                session=session, actor=users["sam"], **{**ask, "date_from": date(2026, 12, 1)}
            )
        with pytest.raises(Forbidden):
            client_closures(session=session, actor=users["alice"], **ask)
    assert [(line.client_ref, line.status, line.closed_on) for line in lines] == [
        ("C-PAID", "paid", now.date())
    ]
    assert (lines[0].placed, lines[0].collected, lines[0].balance) == (2_000, 2_000, 0)
    assert before == []


def test_commission_ages_each_amount_by_the_invoice_it_paid(
    store: db.Store, users, place, now
) -> None:  # noqa: ANN001
    """A B2B case whose invoices sit in three bands: each amount a payment paid earns the band of
    its invoice's age that day; costs charged to the case itself are aged by the case's due date;
    a bounce takes back exactly its payment's commission; the totals still reconcile."""
    from collector_tui.services.casework import charges

    settings = replace(Settings(), commission=BANDS)  # up to 60 days 10 %, 120 20 %, beyond 30 %
    b2b = place(
        "B-AGES",
        debtor_kind="company",
        principal=6_000,
        due_date=date(2026, 11, 1),  # the case: 19 days past due (10 %)
        invoices=(
            InvoiceInput("INV-A", date(2026, 10, 1), 1_000),  # 50 days: 10 %
            InvoiceInput("INV-B", date(2026, 8, 1), 2_000),  # 111 days: 20 %
            InvoiceInput("INV-C", date(2026, 5, 1), 3_000),  # 203 days: 30 %
        ),
    )
    with store.write() as session:
        charges.add_charge(session=session, now=now, actor=users["sam"], settings=settings,
                           case_id=b2b.id, amount=700, component="costs",
                           reason="court filing fee for the claim")  # fmt: skip
    # Costs first (700 at 10 %), then the oldest invoice: INV-C 3,000 at 30 %, INV-B 300 at 20 %.
    _pay(store, users["alice"], b2b, 4_000, now, settings)
    bounced = _pay(store, users["alice"], b2b, 1_500, now, settings)  # INV-B at 20 %: 300
    # INV-B 200 at 20 % (40) and INV-A 801 at 10 % (80.1): 120.1 -> 120 for the payment.
    _pay(store, users["alice"], b2b, 1_001, now, settings)
    with store.write() as session:
        reversals.reverse_payment(session=session, now=now, actor=users["sam"], settings=settings,
                                  payment_id=bounced.payment_id, reason="bounced")  # fmt: skip
    with store.read() as session:
        statement = client_statement(session=session, actor=users["sam"], settings=settings,
                                     client="ACME Bank", date_from=FROM, date_to=TO)  # fmt: skip
        received = session.exec(
            select(func.sum(Payment.amount)).where(Payment.case_id == b2b.id)
        ).one()
    (line,) = statement.cases
    assert (line.payments, line.collected, line.reversed) == (3, 5_001, 1_500)
    assert (line.costs, line.principal) == (700, 4_301)
    # 70 + 900 + 60 = 1,030; 300 - 300 for the bounce; 120: 1,150 (by the case's age: 500).
    assert line.commission == 1_150
    (total,) = statement.totals
    assert total.collected == received == sum(total.components().values()) == 5_001
    assert total.net_to_remit == total.collected - total.commission == 5_001 - 1_150


def test_a_closure_shows_what_was_charged_after_placement(
    store: db.Store, users, place, now
) -> None:  # noqa: ANN001
    from collector_tui.services.casework import charges
    from collector_tui.services.reporting.statements import client_closures

    settings = Settings()
    case = place("C-COSTS", principal=1_000)
    with store.write() as session:
        charges.add_charge(session=session, now=now, actor=users["sam"], settings=settings,
                           case_id=case.id, amount=400, component="costs",
                           reason="court filing fee for the claim")  # fmt: skip
    _pay(store, users["alice"], case, 1_400, now, settings)
    with store.read() as session:
        (line,) = client_closures(session=session, actor=users["sam"], client="ACME Bank",
                                  date_from=FROM, date_to=TO)  # fmt: skip
        statement = client_statement(session=session, actor=users["sam"], settings=settings,
                                     client="ACME Bank", date_from=FROM, date_to=TO)  # fmt: skip
    assert (line.status, line.placed, line.charged, line.collected, line.balance) == (
        "paid",
        1_000,
        400,
        1_400,
        0,
    )
    assert line.placed + line.charged - line.collected - line.credited == line.balance
    (collected,) = statement.cases
    assert (collected.costs, collected.principal, collected.collected) == (400, 1_000, 1_400)
