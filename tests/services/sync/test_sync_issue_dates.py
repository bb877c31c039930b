"""An invoice's issue date is master data (the placement file's): a laptop that changes it sends
nothing the master applies, and the next pull brings the master's date back."""

from __future__ import annotations

from datetime import date

from sqlmodel import select
from test_sync_disputes import LATER, NOW, _pull, _sync, laptop  # noqa: F401 (a fixture)

from collector_tui import db
from collector_tui.models import Invoice
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.cases import InvoiceInput

ISSUED = date(2026, 7, 1)


def test_a_laptop_cannot_change_an_issue_date(
    store: db.Store,
    laptop: db.Store,  # noqa: F811
    users: dict[str, Actor],
    place,  # noqa: ANN001
) -> None:
    alice = users["alice"]
    place(
        "ISS-1",
        debtor_kind="company",
        principal=0,
        invoices=(InvoiceInput("INV-1", date(2026, 8, 1), 6_000, issue_date=ISSUED),),
    )
    _pull(store, laptop, alice, NOW)
    with laptop.write() as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "INV-1")).one()
        assert invoice.issue_date == ISSUED
        invoice.issue_date = date(2026, 7, 31)
        session.add(invoice)
    result = _sync(store, laptop, alice, LATER)
    assert result.errors == 0, result.notes
    with store.read() as session:
        assert session.exec(select(Invoice.issue_date)).one() == ISSUED
    _pull(store, laptop, alice, LATER)
    with laptop.read() as session:
        assert session.exec(select(Invoice.issue_date)).one() == ISSUED
