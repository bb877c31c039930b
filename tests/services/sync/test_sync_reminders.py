"""A reminder queued on a laptop travels to the master as queued; only the master sends, and it
checks the case again at send time (a hold placed on the master meanwhile wins)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import EmailAddress, Reminder
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import holds
from collector_tui.services.contacts import book
from collector_tui.services.errors import Forbidden
from collector_tui.services.reminders import outbox
from collector_tui.services.sync import engine

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
MORNING = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LATER = MORNING + timedelta(hours=1)


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


class Mailer:
    idempotent = False

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: outbox.Outgoing) -> outbox.Receipt:
        self.sent.append(message.to)
        return outbox.Receipt(reference="1")


def render(session: Any, case: Any, row: Any, now: Any, settings: Any) -> outbox.Rendered:
    return outbox.Rendered(subject="Reminder", text="Please pay", html=None)


def queued_offline(store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any) -> Any:
    alice = users["alice"]
    case = place("L-1")
    with store.write() as session:
        book.add_email(
            session=session,
            now=NOW,
            actor=alice,
            settings=Settings(),
            case_id=case.id,
            address="debtor@example.com",
        )
        session.flush()
        for email in session.exec(select(EmailAddress)):
            email.opt_in = True
            session.add(email)
    engine.pull(master=store, laptop=laptop, actor=alice, now=NOW, settings=Settings())
    with laptop.write() as session:
        outbox.queue_reminder(
            session=session,
            now=MORNING,
            settings=Settings(),
            actor=alice,
            case_id=case.id,
            channel="email",
            template="reminder",
        )
    result = engine.push(laptop=laptop, master=store, actor=alice, now=LATER, settings=Settings())
    assert result.rejected == 0 and result.errors == 0, result.notes
    return case


def test_queued_on_a_laptop_sent_by_the_master(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any
) -> None:
    queued_offline(store, laptop, users, place)
    with store.read() as session:
        [row] = session.exec(select(Reminder)).all()
        assert row.status == "queued" and row.created_by_id == users["alice"].user_id
    with pytest.raises(Forbidden, match="master"):
        outbox.send_due(
            store=laptop,
            now=LATER,
            settings=Settings(),
            actor=users["alice"],
            couriers={"email": Mailer()},
            render=render,
        )
    mailer = Mailer()
    report = outbox.send_due(
        store=store,
        now=LATER,
        settings=Settings(),
        actor=users["sam"],
        couriers={"email": mailer},
        channels=["email"],
        render=render,
    )
    assert report.sent == 1 and mailer.sent == ["debtor@example.com"]


def test_a_hold_placed_on_the_master_meanwhile_wins(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place: Any
) -> None:
    case = queued_offline(store, laptop, users, place)
    with store.write() as session:
        holds.place_hold(
            session=session,
            now=LATER,
            actor=users["sam"],
            case_id=case.id,
            kind="dispute",
            settings=Settings(),
            reason="the debtor wrote to dispute the debt",
        )
    mailer = Mailer()
    report = outbox.send_due(
        store=store,
        now=LATER,
        settings=Settings(),
        actor=users["sam"],
        couriers={"email": mailer},
        channels=["email"],
        render=render,
    )
    assert (report.sent, report.skipped, mailer.sent) == (0, 1, [])
    with store.read() as session:
        [row] = session.exec(select(Reminder)).all()
        assert row.status == "skipped" and "dispute" in (row.reason or "")
