"""The context faces hand to services: one unit of work of the kind the service declares."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.clock import FixedClock
from collector_tui.config import Settings
from collector_tui.models import Activity
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import casefile, notes, queue
from collector_tui.services.context import Context, reads, unit_of, writes
from collector_tui.services.errors import StaleEdit


def context(store: db.Store, now: datetime, settings: Settings, actor: Actor | None) -> Context:
    return Context(store=store, clock=FixedClock(now), settings=settings, actor=actor)


def test_a_write_commits_with_now_actor_and_settings_given(store, now, settings, users, place):
    case = place("CTX-1")
    alice = context(store, now, settings, users["alice"])
    note_id = alice.run(notes.add_note, case_id=case.id, text="Asked for the statement again")
    with store.read() as session:
        note = session.get(Activity, note_id)
    assert note is not None and note.user_id == users["alice"].user_id
    assert note.occurred_at == now and note.note == "Asked for the statement again"


def test_a_refused_write_leaves_nothing(store, now, settings, users, place):
    case = place("CTX-2")
    alice = context(store, now, settings, users["alice"])
    with pytest.raises(StaleEdit):
        alice.run(notes.add_note, case_id=case.id, text="seen long ago", expected_version=-1)
    with store.read() as session:
        assert session.exec(select(Activity).where(Activity.case_id == case.id)).all() == []


def test_reads_and_writes_are_declared_by_the_service(store, now, settings, users, place):
    case = place("CTX-3")
    alice = context(store, now, settings, users["alice"])
    assert unit_of(queue.build_queue) == "write"  # it sweeps broken promises first
    assert unit_of(casefile.load_case_file) == "read"
    page = alice.run(queue.build_queue, agent_id=users["alice"].user_id, include_held=True)
    assert [entry.case_id for entry in (*page.entries, *page.held)] == [case.id]
    assert alice.run(casefile.load_case_file, case_id=case.id).client_ref == "CTX-3"


def test_an_undeclared_function_or_a_missing_actor_is_refused(store, now, settings, place):
    def undeclared(*, session: object) -> None: ...

    @reads
    def declared(*, session: object) -> str:
        return "read"

    @writes
    def needs_actor(*, session: object, actor: Actor) -> None: ...

    nobody = context(store, now, settings, None)
    with pytest.raises(TypeError, match="does not declare"):
        nobody.run(undeclared)
    assert nobody.run(declared) == "read"
    with pytest.raises(TypeError, match="needs an actor"):
        nobody.run(needs_actor)
