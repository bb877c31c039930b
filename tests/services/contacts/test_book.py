"""Contact data: adding, marking, retiring phones, addresses, e-mails and third parties; refusals
that write nothing; the queue moving in the same transaction; access."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import AuditEvent, EmailAddress, Phone, PostalAddress, ThirdParty
from collector_tui.services.accounts import Actor
from collector_tui.services.contacts import book
from collector_tui.services.errors import InvalidInput

NEW = "+86 139 0013 9000"
NEW_E164 = "+8613900139000"


def run(store: db.Store, service: Any, **arguments: Any) -> Any:
    with store.write() as session:
        return service(session=session, **arguments)


def counts(store: db.Store) -> dict[str, int]:
    with store.read() as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Phone, PostalAddress, EmailAddress, ThirdParty, AuditEvent)
        }


@pytest.fixture
def case_id(place: Any) -> uuid.UUID:
    return place("REF-1").id  # type: ignore[no-any-return]


def common(users: dict[str, Actor], now: datetime, settings: Settings, who: str = "alice") -> Any:
    return {"now": now, "actor": users[who], "settings": settings}


def test_add_phone_is_parsed_as_on_import_and_audited(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    saved = run(
        store,
        book.add_phone,
        **common(users, now, settings),
        case_id=case_id,
        number=NEW,
        phone_type="work",
        source="debtor",
    )
    assert saved.kind == "phone" and saved.value == NEW_E164 and saved.status == "valid"
    assert saved.queue.callable is not None
    with store.read() as session:
        phone = session.get(Phone, saved.contact_id)
        assert phone is not None
        assert phone.kind == "work" and phone.source == "debtor" and phone.valid
        assert "Asia/Shanghai" in phone.time_zones
        events = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "phone", AuditEvent.entity_id == str(phone.id)
            )
        ).all()
        assert [e.action for e in events] == ["create"]
        listed = book.list_contacts(session=session, actor=users["alice"], case_id=case_id, now=now)
    values = [(e.kind, e.value, e.status, e.source) for e in listed.entries]
    assert ("phone", NEW_E164, "valid", "debtor") in values
    assert ("phone", "+8613800138000", "valid", "placement") in values


@pytest.mark.parametrize(
    ("number", "field"),
    [("12345", "phone"), ("", "phone"), ("not a number", "phone"), ("+8613800138000", "phone")],
)
def test_bad_or_duplicate_number_is_refused_under_the_field(
    store: db.Store,
    users: dict[str, Actor],
    now: datetime,
    settings: Settings,
    case_id: uuid.UUID,
    number: str,
    field: str,
) -> None:
    before = counts(store)
    with pytest.raises(InvalidInput) as refused:
        run(store, book.add_phone, **common(users, now, settings), case_id=case_id, number=number)
    assert refused.value.field == field
    assert counts(store) == before
