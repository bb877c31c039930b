"""Contact data made offline: a number added on a laptop (and dialled there) reaches the master, a
do-not-call mark made offline stands, a loosening is the master's, bad rows are refused as the
services refuse them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import (
    Activity,
    EmailAddress,
    Phone,
    PostalAddress,
    SyncAppliedOp,
    ThirdParty,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, queue
from collector_tui.services.contacts import book
from collector_tui.services.rules import compliance
from collector_tui.services.sync import engine, hlc
from collector_tui.services.sync.apply import Op, apply_ops

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # as tests/conftest.py; 22:30 in Shanghai
MORNING = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: inside the cn hours
LATER = MORNING + timedelta(hours=1)
FIRST = "+8613800138000"
NEW = "+8613900139000"


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


def pull(master: db.Store, laptop: db.Store, actor: Actor, now: datetime = NOW) -> Any:
    return engine.pull(master=master, laptop=laptop, actor=actor, now=now, settings=Settings())


def push(laptop: db.Store, master: db.Store, actor: Actor, now: datetime = LATER) -> Any:
    return engine.push(laptop=laptop, master=master, actor=actor, now=now, settings=Settings())


def write(store: db.Store, service: Any, actor: Actor, now: datetime = MORNING, **kw: Any) -> Any:
    with store.write() as session:
        return service(session=session, now=now, actor=actor, settings=Settings(), **kw)


def phone(store: db.Store, e164: str) -> Phone:
    with store.read() as session:
        return session.exec(select(Phone).where(Phone.e164 == e164)).one()


def test_a_number_added_offline_and_dialled_there_reaches_the_master(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any
) -> None:
    alice = users["alice"]
    case = place("A-1")
    pull(store, laptop, alice)
    added = write(laptop, book.add_phone, alice, case_id=case.id, number="139 0013 9000")
    write(
        laptop,
        activities.log_contact,
        alice,
        now=MORNING + timedelta(minutes=5),
        case_id=case.id,
        contact=activities.ContactInput(disposition="no_answer", phone_e164="13900139000"),
    )
    write(laptop, book.add_email, alice, case_id=case.id, address="Debtor@Example.com")
    write(laptop, book.add_address, alice, case_id=case.id, text="1 Offline Road, Wuhan")

    result = push(laptop, store, alice)

    assert result.rejected == 0 and result.errors == 0, result.notes
    on_master = phone(store, NEW)
    assert on_master.id == added.contact_id and on_master.source == "agent"
    assert on_master.valid and not on_master.do_not_call and "Asia/Shanghai" in on_master.time_zones
    with store.read() as session:
        dialled = session.exec(select(Activity).where(Activity.case_id == case.id)).one()
        assert dialled.phone_id == added.contact_id and dialled.phone_e164 == NEW
        assert session.exec(select(EmailAddress.address)).all() == ["Debtor@example.com"]
        assert "1 Offline Road, Wuhan" in session.exec(select(PostalAddress.text)).all()
    pull(store, laptop, alice, now=LATER)
    assert phone(laptop, NEW).version == phone(store, NEW).version


def test_a_do_not_call_mark_made_offline_stands_and_the_case_leaves_the_queue(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any
) -> None:
    alice = users["alice"]
    case = place("A-1")
    pull(store, laptop, alice)
    only = phone(laptop, FIRST)
    write(
        laptop,
        book.mark_contact,
        alice,
        case_id=case.id,
        kind="phone",
        contact_id=only.id,
        status="dnc",
        how="asked on the phone to stop calling this number",
    )
    # Meanwhile on the master a supervisor notes the number is valid: the mark still stands.
    result = push(laptop, store, alice)

    assert result.rejected == 0, result.notes
    marked = phone(store, FIRST)
    assert marked.status == "dnc" and marked.do_not_call and marked.dnc_how is not None
    with store.write() as session:
        page = queue.build_queue(
            session=session,
            now=LATER,
            agent_id=alice.user_id,
            settings=Settings(),
            include_held=True,
        )
        assert case.id not in [entry.case_id for entry in page.entries]
        held = [entry for entry in page.held if entry.case_id == case.id]
        assert held and held[0].reason == "all numbers do-not-call or invalid"
        assert held[0].callable_at is None


def test_lifting_a_mark_offline_is_the_masters_call(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any
) -> None:
    alice = users["alice"]
    case = place("A-1", phones=("+86 138 0013 8000", "+86 139 0013 9000"))
    with store.write() as session:
        wrong = session.exec(select(Phone).where(Phone.e164 == NEW)).one()
        book.mark_contact(
            session=session,
            now=NOW,
            actor=alice,
            settings=Settings(),
            case_id=case.id,
            kind="phone",
            contact_id=wrong.id,
            status="wrong",
        )
    pull(store, laptop, alice)
    write(
        laptop,
        book.mark_contact,
        alice,
        case_id=case.id,
        kind="phone",
        contact_id=wrong.id,
        status="valid",
    )
    assert phone(laptop, NEW).valid

    result = push(laptop, store, alice)

    assert result.rejected + result.conflict >= 1
    assert any("the master's value stands" in note for note in result.notes)
    assert phone(store, NEW).status == "wrong" and not phone(store, NEW).valid


def test_a_number_the_master_added_meanwhile_is_kept_retired_beside_it(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any
) -> None:
    alice = users["alice"]
    case = place("A-1")
    pull(store, laptop, alice)
    offline = write(laptop, book.add_phone, alice, case_id=case.id, number=NEW)
    online = write(store, book.add_phone, users["sam"], case_id=case.id, number=NEW)

    result = push(laptop, store, alice)

    assert result.conflict >= 1 and result.rejected == 0, result.notes
    with store.read() as session:
        both = {p.id: p for p in session.exec(select(Phone).where(Phone.e164 == NEW))}
    assert both[online.contact_id].retired_at is None
    assert both[offline.contact_id].retired_at is not None and not both[offline.contact_id].valid


def test_a_third_party_and_their_objection_made_offline_stand(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any
) -> None:
    alice = users["alice"]
    case = place("A-1")
    pull(store, laptop, alice)
    party = write(
        laptop,
        book.add_third_party,
        alice,
        case_id=case.id,
        name="Wang Wei <b>boss</b>",
        relation="employer",
        phone="+86 21 6321 0000",
    )
    write(laptop, book.record_objection, alice, case_id=case.id, party_id=party.contact_id)

    result = push(laptop, store, alice)

    assert result.rejected == 0, result.notes
    with store.read() as session:
        row = session.get(ThirdParty, party.contact_id)
        assert row is not None and row.objected_at is not None
        assert row.name == "Wang Wei <b>boss</b>"
        number = session.get(Phone, row.phone_id)
        assert number is not None and number.do_not_call and number.kind == "third_party"


@pytest.mark.parametrize(
    ("entity", "row", "message"),
    [
        ("phone", {"raw": "12345", "status": "valid", "source": "agent"}, "number"),
        ("emailaddress", {"address": "not an e-mail", "status": "valid"}, "not an e-mail"),
        ("phone", {"raw": "+8613900139000", "status": "maybe", "source": "agent"}, "status"),
        ("thirdparty", {"name": "X", "relation": "neighbour"}, "relation"),
    ],
)
def test_a_contact_row_the_service_would_refuse_is_refused_on_the_master(
    store: db.Store,
    users: dict[str, Actor],
    place: Any,
    entity: str,
    row: dict[str, Any],
    message: str,
) -> None:
    case = place("A-1")
    device = uuid.uuid4()
    op = Op(
        op_id=uuid.uuid4(),
        txn_id=uuid.uuid4(),
        hlc=hlc.tick(None, MORNING, device.hex),
        device_id=device,
        actor_id=users["alice"].user_id,
        kind="insert",
        entity=entity,
        entity_id=str(uuid.uuid4()),
        case_id=None,
        base_version=None,
        payload={
            "row": {
                "debtor_id": str(case.debtor_id),
                "created_at": MORNING.isoformat(),
                "updated_at": MORNING.isoformat(),
                **row,
            }
        },
    )
    with store.write() as session:
        answers = apply_ops(
            session=session, ops=[op], actor=users["alice"], now=LATER, settings=Settings()
        ).answers
    assert answers[0].outcome == "rejected"
    assert message in (answers[0].message or "")
    with store.read() as session:
        assert session.exec(select(SyncAppliedOp)).first() is not None
        verdict = compliance.check_case(session=session, case=case, now=LATER, settings=Settings())
    assert verdict.callable
