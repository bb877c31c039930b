"""Invoice disputes offline: opened on a laptop they reach the master as facts; resolving one on a
laptop is refused (the master's), as is reversing a payment or adding a charge (SQLite and
PostgreSQL master)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import Case, CaseCharge, FollowUp, Invoice, InvoiceDispute
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import balances, charges, disputes
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.sync import briefcase, engine

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


def _sync(master: db.Store, laptop: db.Store, agent: Actor, now: datetime):  # noqa: ANN202
    return engine.push(laptop=laptop, master=master, actor=agent, now=now, settings=Settings())


def _pull(master: db.Store, laptop: db.Store, agent: Actor, now: datetime) -> None:
    engine.pull(master=master, laptop=laptop, actor=agent, now=now, settings=Settings())


def _converged(master: db.Store, laptop: db.Store, agent: Actor) -> bool:
    with master.read() as session:
        mine = set(session.exec(select(Case.id).where(Case.assigned_to_id == agent.user_id)))
        on_master = briefcase.case_rows(session.connection(), mine)
    with laptop.read() as session:
        on_laptop = briefcase.laptop_rows(session.connection())
    return on_master == on_laptop


@pytest.fixture
def b2b(place):  # noqa: ANN001, ANN201
    return place(
        "B2B-S",
        debtor_kind="company",
        principal=10_000,
        invoices=(
            InvoiceInput("INV-1", date(2026, 8, 1), 6_000),
            InvoiceInput("INV-2", date(2026, 9, 1), 4_000),
        ),
    )


def test_a_dispute_opened_offline_reaches_the_master_as_a_fact(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], b2b
) -> None:  # noqa: ANN001
    alice = users["alice"]
    _pull(store, laptop, alice, NOW)
    with laptop.write() as session:
        opened = disputes.open_dispute(
            session=session,
            now=NOW + timedelta(minutes=5),
            actor=alice,
            settings=Settings(),
            case_id=b2b.id,
            invoice="INV-1",
            amount=2_500,
            category="goods_not_received",
            reason="half the shipment never arrived",
        )
    result = _sync(store, laptop, alice, LATER)
    assert (result.errors, result.rejected, result.conflict) == (0, 0, 0), result.notes
    with store.read() as session:
        dispute = session.get(InvoiceDispute, opened.dispute_id)
        assert dispute is not None
        assert (dispute.status, dispute.amount, dispute.opened_by_id) == (
            "open",
            2_500,
            alice.user_id,
        )
        assert session.get(FollowUp, dispute.follow_up_id) is not None
        assert session.exec(select(Invoice).where(Invoice.number == "INV-1")).one().disputed
        case = session.get(Case, b2b.id)
        assert balances.collectible(session, case) == 7_500
    _pull(store, laptop, alice, LATER)
    assert _converged(store, laptop, alice)


def test_a_resolution_made_offline_is_refused(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], b2b
) -> None:  # noqa: ANN001
    alice = users["alice"]
    with store.write() as session:
        opened = disputes.open_dispute(
            session=session,
            now=NOW,
            actor=alice,
            settings=Settings(),
            case_id=b2b.id,
            invoice="INV-2",
            category="price",
            reason="priced above the agreed quote",
        )
    _pull(store, laptop, alice, NOW)
    with laptop.write() as session:
        disputes.resolve_dispute(
            session=session,
            now=NOW + timedelta(minutes=5),
            actor=alice,
            settings=Settings(),
            dispute_id=opened.dispute_id,
            outcome="upheld",
            reason="the client agreed on the phone",
        )
    result = _sync(store, laptop, alice, LATER)
    assert result.rejected >= 1
    assert any("invoice_dispute" in note for note in result.notes), result.notes
    with store.read() as session:
        dispute = session.get(InvoiceDispute, opened.dispute_id)
        assert (dispute.status, dispute.credited) == ("open", 0)
        assert session.get(Case, b2b.id).balance == 10_000


def test_a_charge_made_on_a_laptop_is_refused(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], b2b
) -> None:  # noqa: ANN001
    """Charges are the master's (services/casework/charges.py): one a laptop sends is rejected,
    the master's balance and components stay; one made on the master reaches the laptop."""
    alice = users["alice"]
    with store.write() as session:
        made = charges.add_charge(
            session=session,
            now=NOW,
            actor=users["sam"],
            settings=Settings(),
            case_id=b2b.id,
            amount=1_500,
            component="costs",
            reason="court filing fee for the claim",
        )
    _pull(store, laptop, alice, NOW)
    with laptop.read() as session:
        assert session.get(CaseCharge, made.charge_id) is not None
    with laptop.write() as session:
        # A laptop cannot reach the service as a supervisor; a tampered one writes the row itself.
        session.add(
            CaseCharge(
                case_id=b2b.id,
                component="costs",
                amount=99_900,
                reason="legal costs added offline",
                created_by_id=alice.user_id,
                created_at=NOW + timedelta(minutes=5),
            )
        )
    result = _sync(store, laptop, alice, LATER)
    assert result.rejected >= 1
    assert any("case charge rows are created on the master" in note for note in result.notes), (
        result.notes
    )
    with store.read() as session:
        assert session.exec(select(CaseCharge)).all() == [session.get(CaseCharge, made.charge_id)]
        case = session.get(Case, b2b.id)
        assert case.balance == 11_500
        assert balances.case_components(session, case).total == 11_500
