"""A form's save and the discard of its draft are one unit of work: the draft goes with a save
that holds, and stays when the save is refused."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.clock import FixedClock
from collector_tui.config import Settings
from collector_tui.models import Activity, Draft
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import drafted, drafts
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.context import Context
from collector_tui.services.errors import InvalidInput, StaleEdit


def context(store: db.Store, settings: Settings, actor: Actor, now: datetime) -> Context:
    return Context(store=store, clock=FixedClock(now), settings=settings, actor=actor)


def count(store: db.Store, model: type) -> int:
    with store.read() as session:
        return len(list(session.exec(select(model))))


def test_a_logged_contact_takes_its_draft_with_it_and_leaves_the_others(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    case = place("DR-1")
    alice = context(store, settings, users["alice"], now)
    alice.run(drafts.save_draft, case_id=case.id, form="contact", payload={"note": "half"})
    alice.run(drafts.save_draft, case_id=case.id, form="note", payload={"text": "kept"})

    logged = alice.run(
        drafted.log_drafted_contact,
        case_id=case.id,
        contact=ContactInput("no_answer"),
        draft_form="contact",
        expected_version=case.version,
    )

    assert count(store, Activity) == 1
    assert logged.activity_id is not None
    assert alice.run(drafts.load_draft, case_id=case.id, form="contact") is None
    assert alice.run(drafts.load_draft, case_id=case.id, form="note") == {"text": "kept"}


def test_a_refused_contact_keeps_the_draft(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    case = place("DR-2")
    alice = context(store, settings, users["alice"], now)
    alice.run(drafts.save_draft, case_id=case.id, form="contact", payload={"note": "half"})

    with pytest.raises(InvalidInput):
        alice.run(
            drafted.log_drafted_contact,
            case_id=case.id,
            contact=ContactInput("promise"),  # a promise disposition without its promise
            draft_form="contact",
        )
    with pytest.raises(StaleEdit):
        alice.run(
            drafted.log_drafted_contact,
            case_id=case.id,
            contact=ContactInput("no_answer"),
            draft_form="contact",
            expected_version=case.version - 1,
        )

    assert count(store, Activity) == 0
    assert alice.run(drafts.load_draft, case_id=case.id, form="contact") == {"note": "half"}


def test_a_note_takes_its_draft_and_an_empty_one_keeps_it(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    case = place("DR-3")
    alice = context(store, settings, users["alice"], now)
    alice.run(drafts.save_draft, case_id=case.id, form="note", payload={"text": "half"})

    with pytest.raises(InvalidInput):
        alice.run(drafted.add_drafted_note, case_id=case.id, text="  ", draft_form="note")
    assert count(store, Draft) == 1

    alice.run(
        drafted.add_drafted_note, case_id=case.id, text="Called back later", draft_form="note"
    )

    assert count(store, Activity) == 1  # a note is a timeline activity
    assert count(store, Draft) == 0
