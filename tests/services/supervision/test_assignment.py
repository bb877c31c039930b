"""Moving cases between agents: history, audit, queue places, follow-ups, refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from collector_tui.models import Assignment, AuditEvent, Case, FollowUp, User
from collector_tui.services.casework import queue
from collector_tui.services.casework.followups import FollowUpInput, create_follow_up
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.supervision.assignment import assign_cases, assignment_history


def _assign(store, now, settings, actor, case_ids, to, reason=None):  # noqa: ANN001, ANN202
    with store.write() as session:
        return assign_cases(
            session=session,
            now=now,
            actor=actor,
            case_ids=case_ids,
            to_user_id=to,
            settings=settings,
            reason=reason,
        )


def test_supervisor_moves_a_case_with_history_audit_and_queue_place(
    store, now, settings, users, place
) -> None:
    case = place("A-1")
    sam, alice, bob = users["sam"], users["alice"], users["bob"]

    moved = _assign(store, now, settings, sam, [case.id], bob.user_id, "alice on leave")

    assert moved == 1
    with store.read() as session:
        row = session.get(Case, case.id)
        assert row.assigned_to_id == bob.user_id
        assert row.version == case.version + 1
        history = assignment_history(session=session, case_id=case.id)
        events = session.exec(select(AuditEvent).where(AuditEvent.entity_id == str(case.id))).all()
    assert [(h.from_user_id, h.to_user_id, h.moved_by_id, h.at, h.reason) for h in history] == [
        (alice.user_id, bob.user_id, sam.user_id, now, "alice on leave")
    ]
    assign_events = [e for e in events if e.action == "assign"]
    assert len(assign_events) == 1
    assert assign_events[0].user_id == sam.user_id
    assert assign_events[0].before == {"assigned_to_id": str(alice.user_id)}
    assert assign_events[0].after["assigned_to_id"] == str(bob.user_id)

    with store.write() as session:
        bob_queue = queue.build_queue(
            session=session, now=now, agent_id=bob.user_id, settings=settings, include_held=True
        )
        alice_queue = queue.build_queue(
            session=session, now=now, agent_id=alice.user_id, settings=settings, include_held=True
        )
    seen_by_bob = {e.case_id for e in bob_queue.entries + bob_queue.held}
    seen_by_alice = {e.case_id for e in alice_queue.entries + alice_queue.held}
    assert case.id in seen_by_bob
    assert case.id not in seen_by_alice


def test_many_cases_at_once_and_unchanged_ones_are_not_counted(
    store, now, settings, users, place
) -> None:
    first, second, third = place("M-1"), place("M-2"), place("M-3", assigned_to_id=None)
    sam, bob = users["sam"], users["bob"]
    _assign(store, now, settings, sam, [first.id], bob.user_id)

    moved = _assign(
        store, now, settings, sam, [first.id, second.id, third.id, second.id], bob.user_id
    )

    assert moved == 2  # first was bob's already; the duplicate counts once
    with store.read() as session:
        owners = {c.id: c.assigned_to_id for c in session.exec(select(Case))}
        rows = session.exec(select(Assignment)).all()
    assert owners == {first.id: bob.user_id, second.id: bob.user_id, third.id: bob.user_id}
    assert len(rows) == 3
    assert {r.from_user_id for r in rows if r.case_id == third.id} == {None}


def test_unassigning_sends_the_case_to_the_supervisors_list(
    store, now, settings, users, place
) -> None:
    case = place("U-1")

    assert _assign(store, now, settings, users["sam"], [case.id], None, "back to pool") == 1

    with store.read() as session:
        assert session.get(Case, case.id).assigned_to_id is None
        unassigned = queue.unassigned_cases(session=session, settings=settings)
    assert case.id in {entry.case_id for entry in unassigned}


def test_an_agent_may_not_assign(store, now, settings, users, place) -> None:
    case = place("F-1")

    with pytest.raises(Forbidden):
        _assign(store, now, settings, users["alice"], [case.id], users["bob"].user_id)

    with store.read() as session:
        assert session.get(Case, case.id).assigned_to_id == users["alice"].user_id
        assert session.exec(select(Assignment)).all() == []


def test_unknown_case_refuses_the_whole_batch(store, now, settings, users, place) -> None:
    case = place("N-1")

    with pytest.raises(NotFound):
        _assign(store, now, settings, users["sam"], [case.id, uuid.uuid4()], users["bob"].user_id)

    with store.read() as session:
        assert session.get(Case, case.id).assigned_to_id == users["alice"].user_id
        assert session.exec(select(Assignment)).all() == []


def test_target_must_be_an_active_user(store, now, settings, users, place) -> None:
    case = place("I-1")
    with store.write() as session:
        bob = session.get(User, users["bob"].user_id)
        bob.active = False
        session.add(bob)

    with pytest.raises(InvalidInput):
        _assign(store, now, settings, users["sam"], [case.id], users["bob"].user_id)
    with pytest.raises(NotFound):
        _assign(store, now, settings, users["sam"], [case.id], uuid.uuid4())


def test_reason_has_a_limit(store, now, settings, users, place) -> None:
    case = place("R-1")
    with pytest.raises(InvalidInput) as refused:
        _assign(store, now, settings, users["sam"], [case.id], users["bob"].user_id, "x" * 501)
    assert refused.value.field == "reason"


def test_open_follow_ups_of_the_old_agent_go_with_the_case(
    store, now, settings, users, place
) -> None:
    case = place("FU-1")
    alice, bob = users["alice"], users["bob"]
    with store.write() as session:
        follow_up_id = create_follow_up(
            session=session,
            now=now,
            actor=alice,
            case_id=case.id,
            follow_up=FollowUpInput(due_at=now + timedelta(hours=2), reason="call back"),
            settings=settings,
        )

    _assign(store, now, settings, users["sam"], [case.id], bob.user_id)

    with store.read() as session:
        assert session.get(FollowUp, follow_up_id).owner_id == bob.user_id
