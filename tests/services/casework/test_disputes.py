"""Invoice disputes: the disputed amount leaves the collectible balance, the rest stays workable,
resolutions credit or restore, bad input writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    AuditEvent,
    Case,
    FollowUp,
    Hold,
    Invoice,
    InvoiceDispute,
)
from collector_tui.services.casework import balances, disputes, payments, promises, queue
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound

REASON = "debtor says the goods never arrived"


@pytest.fixture
def b2b(place):  # noqa: ANN001, ANN201
    """A company case of two invoices: INV-1 60.00 (older) and INV-2 40.00, balance 100.00."""
    return place(
        "B2B-1",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            InvoiceInput("INV-1", date(2026, 8, 1), 6_000),
            InvoiceInput("INV-2", date(2026, 9, 1), 4_000),
        ),
    )


def _open(store: db.Store, users, case, now, settings, **kw):  # noqa: ANN001, ANN003, ANN202
    values = {"invoice": "INV-1", "category": "quality", "reason": REASON}
    values.update(kw)
    actor = values.pop("actor", users["alice"])
    with store.write() as session:
        return disputes.open_dispute(
            session=session, now=now, actor=actor, settings=settings, case_id=case.id, **values
        )


def _counts(store: db.Store) -> tuple[int, int, int, int]:
    with store.read() as session:
        return (
            session.exec(select(func.count()).select_from(InvoiceDispute)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
            session.exec(select(func.count()).select_from(FollowUp)).one(),
            session.exec(select(func.sum(Invoice.open_amount))).one(),
        )


def test_partial_dispute_keeps_the_rest_workable_and_out_of_promises(
    store: db.Store, users, b2b, now, settings: Settings
) -> None:  # noqa: ANN001
    change = _open(store, users, b2b, now, settings, amount=2_500)
    assert (change.balance, change.disputed, change.collectible) == (10_000, 2_500, 7_500)
    assert change.case_status in ("new", "active")
    with store.read() as session:
        case = session.get(Case, b2b.id)
        assert balances.collectible(session, case) == 7_500
        assert session.exec(select(Hold)).all() == []  # only part is disputed: no hold
        follow_up = session.exec(select(FollowUp)).one()
        assert follow_up.owner_id == users["alice"].user_id
        assert follow_up.due_at.date() == now.date() + timedelta(days=31)
    # More than the collectible 75.00 cannot be promised; 75.00 can.
    with store.write() as session, pytest.raises(InvalidInput, match="25.00 CNY disputed"):
        promises.create_promise(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=b2b.id,
            promise=PromiseInput(amount=7_501, due_date=date(2026, 11, 25)),
            settings=settings,
        )
    with store.write() as session:
        promises.create_promise(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=b2b.id,
            promise=PromiseInput(amount=7_500, due_date=date(2026, 11, 25)),
            settings=settings,
        )
    # The queue scores the case on what is collectible.
    with store.read() as session:
        case = session.get(Case, b2b.id)
        assert "balance 75.00" in case.score_factors[0]["detail"]


def test_a_payment_reaches_the_disputed_part_last(
    store: db.Store, users, b2b, now, settings: Settings
) -> None:  # noqa: ANN001
    _open(store, users, b2b, now, settings)  # all of INV-1 (the older invoice)
    with store.write() as session:
        payments.post_payment(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=b2b.id,
            amount=3_000,
            received_on=now.date(),
            settings=settings,
        )
    with store.read() as session:
        opens = dict(session.exec(select(Invoice.number, Invoice.open_amount)).all())
    assert opens == {"INV-1": 6_000, "INV-2": 1_000}


def test_whole_debt_disputed_holds_the_case_until_resolved(
    store: db.Store, users, b2b, now, settings: Settings
) -> None:  # noqa: ANN001
    first = _open(store, users, b2b, now, settings)
    assert first.case_status != "dispute"
    second = _open(store, users, b2b, now, settings, invoice="INV-2", category="price")
    assert (second.case_status, second.collectible) == ("dispute", 0)
    with store.read() as session:
        assert session.exec(select(Hold).where(col(Hold.released_at).is_(None))).one().kind == (
            "dispute"
        )
    # The owner (an agent) rejects one: the hold goes, the case is workable again.
    with store.write() as session:
        done = disputes.resolve_dispute(
            session=session,
            now=now,
            actor=users["alice"],
            settings=settings,
            dispute_id=second.dispute_id,
            outcome="rejected",
            reason="delivery note signed by the debtor",
        )
    assert done.status == "rejected"
    assert done.case_status in ("new", "active")
    assert (done.disputed, done.collectible) == (6_000, 4_000)
    with store.read() as session:
        assert session.exec(select(Hold).where(col(Hold.released_at).is_(None))).all() == []
        assert session.get(Invoice, session.exec(
            select(Invoice.id).where(Invoice.number == "INV-2")
        ).one()).disputed is False  # fmt: skip


def test_upheld_dispute_reduces_the_invoice_by_exactly_that_amount(
    store: db.Store, users, b2b, now, settings: Settings
) -> None:  # noqa: ANN001
    change = _open(store, users, b2b, now, settings, amount=1_234)
    with store.write() as session:
        done = disputes.resolve_dispute(
            session=session,
            now=now,
            actor=users["sam"],
            settings=settings,
            dispute_id=change.dispute_id,
            outcome="upheld",
            reason="quality report confirms the damage",
        )
    assert (done.credited, done.balance, done.disputed, done.collectible) == (
        1_234,
        10_000 - 1_234,
        0,
        10_000 - 1_234,
    )
    with store.read() as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "INV-1")).one()
        assert (invoice.amount, invoice.open_amount, invoice.disputed) == (6_000, 4_766, False)
        credit = session.exec(select(AuditEvent).where(AuditEvent.action == "credit")).one()
        assert credit.after["credited"] == 1_234
        follow_up = session.exec(select(FollowUp)).one()
        assert follow_up.done_at is not None
        case = session.get(Case, b2b.id)
        assert balances.case_components(session, case).total == case.balance


def test_partly_upheld_credits_part_and_restores_the_rest(
    store: db.Store, users, b2b, now, settings: Settings
) -> None:  # noqa: ANN001
    change = _open(store, users, b2b, now, settings, amount=2_000)
    with store.write() as session:
        done = disputes.resolve_dispute(
            session=session,
            now=now,
            actor=users["sam"],
            settings=settings,
            dispute_id=change.dispute_id,
            outcome="partly",
            amount=500,
            reason="half the pallets were damaged",
        )
    assert (done.status, done.credited, done.balance, done.collectible) == (
        "partly",
        500,
        9_500,
        9_500,
    )


def test_bad_input_writes_nothing(store: db.Store, users, b2b, now, settings: Settings) -> None:  # noqa: ANN001
    before = _counts(store)
    with pytest.raises(InvalidInput, match="exceeds the open amount 60.00 CNY"):
        _open(store, users, b2b, now, settings, amount=6_001)
    with pytest.raises(InvalidInput, match="no invoice"):
        _open(store, users, b2b, now, settings, invoice="INV-9")
    with pytest.raises(InvalidInput, match="unknown category"):
        _open(store, users, b2b, now, settings, category="bored")
    with pytest.raises(InvalidInput, match="reason"):
        _open(store, users, b2b, now, settings, reason="no")
    with pytest.raises(InvalidInput, match="above zero"):
        _open(store, users, b2b, now, settings, amount=0)
    with pytest.raises(InvalidInput, match="past"):
        _open(store, users, b2b, now, settings, resolve_by=date(2026, 1, 1))
    with pytest.raises(Forbidden):
        _open(store, users, b2b, now, settings, actor=users["bob"])
    assert _counts(store) == before
    change = _open(store, users, b2b, now, settings, amount=5_000)
    # What is left of INV-1 to dispute is 10.00.
    with pytest.raises(InvalidInput, match=r"open amount 10.00 CNY .*50.00 CNY already"):
        _open(store, users, b2b, now, settings, amount=1_001)
    resolve = {"now": now, "settings": settings, "reason": "checked with the client"}
    with store.write() as session:
        disputes.resolve_dispute(
            session=session,
            actor=users["sam"],
            dispute_id=change.dispute_id,
            outcome="rejected",
            **resolve,
        )
    after = _counts(store)
    with store.write() as session, pytest.raises(InvalidInput, match="already resolved"):
        disputes.resolve_dispute(
            session=session,
            actor=users["sam"],
            dispute_id=change.dispute_id,
            outcome="upheld",
            **resolve,
        )
    with store.write() as session, pytest.raises(NotFound):
        disputes.resolve_dispute(
            session=session,
            actor=users["sam"],
            dispute_id=b2b.id,
            outcome="upheld",
            **resolve,
        )
    second = _open(store, users, b2b, now, settings, amount=1_000)
    after = _counts(store)
    for outcome, amount, message in (
        ("partly", None, "needs the amount"),
        ("partly", 1_000, "uphold it instead"),
        ("upheld", 5, "only with a partly"),
        ("maybe", None, "unknown outcome"),
    ):
        with store.write() as session, pytest.raises(InvalidInput, match=message):
            disputes.resolve_dispute(
                session=session,
                actor=users["sam"],
                dispute_id=second.dispute_id,
                outcome=outcome,
                amount=amount,
                **resolve,
            )
    with store.write() as session, pytest.raises(Forbidden):
        disputes.resolve_dispute(
            session=session,
            actor=users["bob"],
            dispute_id=second.dispute_id,
            outcome="upheld",
            **resolve,
        )
    assert _counts(store) == after


def test_overdue_dispute_comes_to_its_owners_queue(
    store: db.Store, users, b2b, now, settings: Settings
) -> None:  # noqa: ANN001
    _open(store, users, b2b, now, settings, amount=100, resolve_by=now.date() + timedelta(days=2))
    later = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    with store.write() as session:
        page = queue.build_queue(
            session=session, now=later, agent_id=users["alice"].user_id, settings=settings
        )
        listed = disputes.list_disputes(session=session, now=later, actor=users["alice"])
    assert page.entries[0].case_id == b2b.id
    assert page.entries[0].tier_name == "follow-up due"
    assert [view.overdue for view in listed] == [True]
