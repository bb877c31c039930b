"""Reports with disputes: aging splits disputed from collectible, dispute aging by age and
category, DSO on what is collectible (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.services.casework import disputes
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.reporting import reports
from collector_tui.services.reporting.tables import report_table


def _dispute(store: db.Store, actor, case, now, settings: Settings, **kw) -> None:  # noqa: ANN001, ANN003
    with store.write() as session:
        disputes.open_dispute(
            session=session,
            now=now,
            actor=actor,
            settings=settings,
            case_id=case.id,
            reason="the debtor disputes the price",
            **kw,
        )


def test_aging_dispute_aging_and_dso_split_what_is_disputed(
    store: db.Store, users, place, now, settings: Settings
) -> None:  # noqa: ANN001
    today = now.date()
    case = place(
        "B2B-A",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            # 40 days past due and 10 days issued-to-now ages below.
            InvoiceInput(
                "INV-1", today - timedelta(days=40), 6_000, issue_date=today - timedelta(days=70)
            ),
            InvoiceInput(
                "INV-2", today - timedelta(days=5), 4_000, issue_date=today - timedelta(days=10)
            ),
        ),
    )
    _dispute(store, users["alice"], case, now - timedelta(days=45), settings, invoice="INV-1",
             amount=1_500, category="price", resolve_by=today - timedelta(days=1))  # fmt: skip
    _dispute(store, users["alice"], case, now, settings, invoice="INV-2", category="quality")
    with store.read() as session:
        aging = {r.bucket: r for r in reports.aging(session=session, now=now, actor=None)}
        table = report_table("aging", session=session, now=now, actor=users["sam"])
        ages = reports.dispute_aging(session=session, now=now)
        dso = reports.dso(session=session, now=now)
        disputes_table = report_table("disputes", session=session, now=now, actor=users["alice"])
    assert (aging["31-60"].balance, aging["31-60"].disputed, aging["31-60"].collectible) == (
        6_000,
        1_500,
        4_500,
    )
    assert (aging["1-30"].balance, aging["1-30"].disputed, aging["1-30"].collectible) == (
        4_000,
        4_000,
        0,
    )
    row = next(r for r in table.json_rows if r["bucket"] == "31-60")
    assert row == {"currency": "CNY", "bucket": "31-60", "count": 1, "balance": "60.00",
                   "disputed": "15.00", "collectible": "45.00"}  # fmt: skip
    assert ages == [
        reports.DisputeAgingRow("CNY", "0-30", "quality", 1, 4_000, 0),
        reports.DisputeAgingRow("CNY", "31-60", "price", 1, 1_500, 1),
    ]
    assert disputes_table.json_rows[1] == {"currency": "CNY", "age": "31-60", "category": "price",
                                           "count": 1, "amount": "15.00", "overdue": 1}  # fmt: skip
    # All open: (6000 x 70 + 4000 x 10) / 10000 = 46; collectible: only 4500 of INV-1, 70 days.
    assert dso == [reports.DsoRow("CNY", 10_000, Decimal("46.0"), 2, 4_500, Decimal("70.0"))]
