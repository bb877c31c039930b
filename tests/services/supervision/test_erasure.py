"""Erasure on request: a closed case's debtor's personal data goes from every row, the audit
trail and the sync log; amounts, dates and the audit chain stay; on SQLite no byte of the erased
values is left in the file."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    Activity,
    AuditEvent,
    Case,
    Debtor,
    EmailAddress,
    FollowUp,
    Phone,
    PostalAddress,
    ThirdParty,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.contacts import book
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.supervision import decisions, erasure

NAME = "Zhao Erasable"
NUMBER = "+8613912345678"
STREET = "88 Forgotten Lane, Pudong"
MAIL = "zhao.erasable@example.com"
PARTY = "Qian Guarantor"
NOTE = f"{NAME} says call {NUMBER} after six; lives at {STREET}"
WHY = "written request of the debtor under PIPL art. 47"


@pytest.fixture
def closed(store: db.Store, place, users, settings: Settings, now: datetime) -> Case:  # noqa: ANN001
    """A case whose debtor has a number, an address, an e-mail, a third party, notes, a
    follow-up, then closed by a supervisor."""
    case = place("ER-1", debtor_name=NAME, phones=(NUMBER,), principal=50_000)
    alice, sam = users["alice"], users["sam"]

    def run(function: Any, actor: Actor, **kwargs: Any) -> Any:
        with store.write() as session:
            return function(session=session, now=now, actor=actor, settings=settings, **kwargs)

    run(book.add_address, alice, case_id=case.id, text=STREET)
    run(book.add_email, alice, case_id=case.id, address=MAIL)
    run(book.add_third_party, alice, case_id=case.id, name=PARTY, relation="guarantor")
    run(
        activities.log_contact,
        alice,
        case_id=case.id,
        contact=ContactInput(
            disposition="callback",
            note=NOTE,
            phone_e164=NUMBER,
            follow_up=FollowUpInput(due_at=now + timedelta(days=1), reason=f"ring {NAME} back"),
        ),
    )
    run(decisions.close_case, sam, case_id=case.id, reason="recalled by the client")
    return case


def _all_text(store: db.Store) -> str:
    """Every stored value of the rows erasure touches, as one string."""
    parts: list[str] = []
    with store.read() as session:
        for model in (Debtor, Phone, PostalAddress, EmailAddress, ThirdParty, Activity, FollowUp):
            for row in session.exec(select(model)).all():
                parts.append(repr(row.model_dump()))
        for event in session.exec(select(AuditEvent)).all():
            parts.append(repr((event.before, event.after)))
    return "\n".join(parts)


def test_erasure_removes_the_values_and_keeps_the_facts(
    store: db.Store, closed: Case, users, now: datetime
) -> None:  # noqa: ANN001
    text_before = _all_text(store)
    for value in (NAME, NUMBER, STREET, MAIL, PARTY, "after six"):
        assert value.lower() in text_before.lower()
    with store.read() as session:
        events_before = session.exec(select(func.count()).select_from(AuditEvent)).one()
        case_before = session.get(Case, closed.id)
        assert case_before is not None
        facts = (case_before.balance, case_before.status, case_before.due_date)
        attempts = sorted(
            session.exec(select(Activity.disposition, Activity.occurred_at)).all(), key=str
        )

    with store.write() as session:
        done = erasure.erase_case(
            session=session,
            now=now,
            actor=users["sam"],
            settings=Settings(),
            case_id=closed.id,
            reason=WHY,
        )
    assert done.cases == 1 and done.rows > 5 and done.audit_events > 3

    text_after = _all_text(store)
    for value in (NAME, NUMBER, NUMBER.lstrip("+"), STREET, MAIL, PARTY, "after six"):
        assert value.lower() not in text_after.lower(), value
    with store.read() as session:
        case_after = session.get(Case, closed.id)
        assert case_after is not None
        assert (case_after.balance, case_after.status, case_after.due_date) == facts
        assert (
            sorted(session.exec(select(Activity.disposition, Activity.occurred_at)).all(), key=str)
            == attempts
        )
        # Nothing was deleted from the audit trail; one event says an erasure happened.
        events_after = session.exec(select(func.count()).select_from(AuditEvent)).one()
        assert events_after == events_before + 1
        erase = session.exec(select(AuditEvent).where(AuditEvent.action == "erase")).one()
        assert erase.after is not None and erase.after["why"] == WHY
        debtor = session.get(Debtor, closed.debtor_id)
        assert debtor is not None and debtor.name == erasure.ERASED
        phones = session.exec(select(Phone).where(Phone.debtor_id == debtor.id)).all()
        assert phones and all(p.e164 is None and not p.valid for p in phones)


def test_erasure_is_refused_before_anything_changes(
    store: db.Store, place, users, now: datetime, closed: Case
) -> None:  # noqa: ANN001
    open_case = place("ER-2")

    def erase(actor: Actor, case_id: uuid.UUID, reason: str = WHY) -> None:
        with store.write() as session:
            erasure.erase_case(
                session=session,
                now=now,
                actor=actor,
                settings=Settings(),
                case_id=case_id,
                reason=reason,
            )

    before = _all_text(store)
    with pytest.raises(Forbidden):
        erase(users["alice"], closed.id)
    with pytest.raises(InvalidInput, match="at least 10"):
        erase(users["sam"], closed.id, reason="asked")
    with pytest.raises(InvalidInput, match="open cases"):
        erase(users["sam"], open_case.id)
    assert _all_text(store) == before


def test_the_audit_trail_still_refuses_edits_and_deletes(store: db.Store, closed: Case) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with store.write() as session:
            session.execute(text("UPDATE auditevent SET action = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"):
        with store.write() as session:
            session.execute(text("UPDATE auditevent SET action = 'x', erased_at = at"))
    with pytest.raises(DBAPIError, match="append-only"):
        with store.write() as session:
            session.execute(text("DELETE FROM auditevent"))


@pytest.mark.sqlite_only
def test_no_byte_of_an_erased_value_is_left_in_the_file(
    store: db.Store, closed: Case, users, now: datetime
) -> None:  # noqa: ANN001
    path = store.file
    assert path is not None

    def file_bytes() -> bytes:
        return b"".join(
            Path(str(path) + suffix).read_bytes()
            for suffix in ("", "-wal")
            if Path(str(path) + suffix).exists()
        )

    assert NAME.encode() in file_bytes()
    with store.write() as session:
        erasure.erase_case(
            session=session,
            now=now,
            actor=users["sam"],
            settings=Settings(),
            case_id=closed.id,
            reason=WHY,
        )
    assert store.checkpoint()
    on_disk = file_bytes()
    for value in (NAME, NUMBER, STREET, MAIL, PARTY, "after six"):
        assert value.encode() not in on_disk, value


@pytest.mark.sqlite_only
def test_an_erasure_reaches_the_laptop_at_its_next_pull(
    store: db.Store, place, users, now: datetime, tmp_path: Path
) -> None:  # noqa: ANN001
    """The laptop pulled the case while it was open; the master closes and erases it; the next
    pull leaves nothing of the debtor in the laptop file."""
    from collector_tui import bootstrap
    from collector_tui.services.sync import engine

    case = place("ER-L", debtor_name=NAME, phones=(NUMBER,))
    alice, sam = users["alice"], users["sam"]
    laptop = bootstrap.open_store(tmp_path / "laptop.db")
    try:
        engine.pull(master=store, laptop=laptop, actor=alice, now=now, settings=Settings())
        laptop_file = tmp_path / "laptop.db"
        assert NAME.encode() in laptop_file.read_bytes() + _wal(laptop_file)
        with store.write() as session:
            decisions.close_case(
                session=session,
                now=now,
                actor=sam,
                case_id=case.id,
                settings=Settings(),
                reason="recalled by the client",
            )
        with store.write() as session:
            erasure.erase_case(
                session=session,
                now=now,
                actor=sam,
                settings=Settings(),
                case_id=case.id,
                reason=WHY,
            )
        later = now + timedelta(hours=1)
        engine.pull(master=store, laptop=laptop, actor=alice, now=later, settings=Settings())
        assert laptop.checkpoint()
        on_disk = laptop_file.read_bytes() + _wal(laptop_file)
        for value in (NAME, NUMBER):
            assert value.encode() not in on_disk, value
    finally:
        laptop.dispose()


def _wal(path: Path) -> bytes:
    wal = Path(str(path) + "-wal")
    return wal.read_bytes() if wal.exists() else b""
