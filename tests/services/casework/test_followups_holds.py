"""Follow-ups (owner, validation, completion, queue tier) and holds (place, release, who may)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import TIER_FOLLOW_UP, TIER_NEW, AuditEvent, Case, Debtor, FollowUp, Hold
from collector_tui.services.casework import followups, holds, promises
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound


@pytest.fixture
def work(store: db.Store, settings: Settings, now: datetime):
    """Run one service call in its own unit of work: work(followups.create_follow_up, ...)."""

    def _work(function: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("now", now)
        kwargs.setdefault("settings", settings)
        with store.write() as session:
            return function(session=session, **kwargs)

    return _work


def read(store: db.Store, model: type, row_id: uuid.UUID) -> Any:
    with store.read() as session:
        return session.get(model, row_id)


# --- follow-ups --------------------------------------------------------------------------------


def test_a_follow_up_belongs_to_the_cases_agent_and_leads_her_queue(
    store: db.Store, place, users, work, now: datetime
) -> None:
    case = place("F-1")
    due = now + timedelta(hours=4)
    follow_up_id = work(
        followups.create_follow_up,
        actor=users["sam"],
        case_id=case.id,
        follow_up=FollowUpInput(due, "  ask about the salary date  "),
    )
    row = read(store, FollowUp, follow_up_id)
    assert (row.owner_id, row.due_at, row.reason, row.done_at) == (
        users["alice"].user_id,
        due,
        "ask about the salary date",
        None,
    )
    assert row.created_by_id == users["sam"].user_id
    placed = read(store, Case, case.id)
    assert (placed.queue_tier, placed.next_action_at, placed.updated_at) == (
        TIER_FOLLOW_UP,
        due,
        now,
    )
    with store.read() as session:
        (view,) = followups.open_follow_ups(session=session, case_id=case.id)
    assert view.id == follow_up_id


def test_a_follow_up_on_an_unassigned_case_is_the_actors(store, place, users, work, now) -> None:
    case = place("F-2", assigned_to_id=None)
    follow_up_id = work(
        followups.create_follow_up,
        actor=users["sam"],
        case_id=case.id,
        follow_up=FollowUpInput(now + timedelta(days=1), "  "),
    )
    row = read(store, FollowUp, follow_up_id)
    assert (row.owner_id, row.reason) == (users["sam"].user_id, "call back")


def test_who_may_own_a_follow_up(store, place, users, work, now) -> None:
    case = place("F-3")
    soon = now + timedelta(days=1)
    with pytest.raises(Forbidden):  # an agent does not hand work to a colleague
        work(
            followups.create_follow_up,
            actor=users["alice"],
            case_id=case.id,
            follow_up=FollowUpInput(soon, "x", owner_id=users["bob"].user_id),
        )
    with pytest.raises(InvalidInput) as error:  # bob cannot open alice's case
        work(
            followups.create_follow_up,
            actor=users["sam"],
            case_id=case.id,
            follow_up=FollowUpInput(soon, "x", owner_id=users["bob"].user_id),
        )
    assert error.value.field == "owner_id"
    with pytest.raises(Forbidden):
        work(
            followups.create_follow_up,
            actor=users["bob"],
            case_id=case.id,
            follow_up=FollowUpInput(soon, "x"),
        )
    work(
        followups.create_follow_up,
        actor=users["sam"],
        case_id=case.id,
        follow_up=FollowUpInput(soon, "mine", owner_id=users["sam"].user_id),
    )
    with store.read() as session:
        owners = session.exec(select(FollowUp.owner_id)).all()
    assert owners == [users["sam"].user_id]


@pytest.mark.parametrize(
    ("due", "reason", "field"),
    [
        (timedelta(minutes=-10), "late", "due_at"),
        (timedelta(days=400), "far", "due_at"),
        (None, "naive", "due_at"),
        (timedelta(hours=1), "x" * 501, "reason"),
    ],
)
def test_bad_follow_ups_are_refused(store, place, users, work, now, due, reason, field) -> None:
    case = place("F-4")
    due_at = now.replace(tzinfo=None) if due is None else now + due
    with pytest.raises(InvalidInput) as error:
        work(
            followups.create_follow_up,
            actor=users["alice"],
            case_id=case.id,
            follow_up=FollowUpInput(due_at, reason),
        )
    assert error.value.field == field
    with store.read() as session:
        assert session.exec(select(FollowUp)).all() == []
    assert read(store, Case, case.id).queue_tier == TIER_NEW


def test_completing_a_follow_up(store, place, users, work, now) -> None:
    case = place("F-5")
    follow_up_id = work(
        followups.create_follow_up,
        actor=users["alice"],
        case_id=case.id,
        follow_up=FollowUpInput(now + timedelta(hours=1), "call back"),
    )
    with pytest.raises(Forbidden):
        work(followups.complete_follow_up, actor=users["bob"], follow_up_id=follow_up_id)
    later = now + timedelta(hours=2)
    work(followups.complete_follow_up, actor=users["alice"], follow_up_id=follow_up_id, now=later)
    assert read(store, FollowUp, follow_up_id).done_at == later
    assert read(store, Case, case.id).queue_tier == TIER_NEW
    with pytest.raises(InvalidInput, match="already done"):
        work(followups.complete_follow_up, actor=users["alice"], follow_up_id=follow_up_id)
    with pytest.raises(NotFound):
        work(followups.complete_follow_up, actor=users["alice"], follow_up_id=uuid.uuid4())
    with store.read() as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.entity_id == str(follow_up_id))
        ).all()
    assert sorted(actions) == ["complete", "create"]


# --- holds -------------------------------------------------------------------------------------


def test_placing_and_listing_holds(store, place, users, work, now) -> None:
    case = place("H-1")
    hold_id = work(
        holds.place_hold,
        actor=users["alice"],
        case_id=case.id,
        kind="complaint",
        reason=" complained about tone ",
    )
    again = work(
        holds.place_hold,
        actor=users["alice"],
        case_id=case.id,
        kind="complaint",
        reason="debtor called about it",
    )
    assert again == hold_id
    with store.read() as session:
        (view,) = holds.active_holds(session=session, case_id=case.id)
    assert (view.id, view.kind, view.reason, view.placed_at) == (
        hold_id,
        "complaint",
        "complained about tone",
        now,
    )
    with pytest.raises(InvalidInput) as error:
        work(
            holds.place_hold,
            actor=users["alice"],
            case_id=case.id,
            kind="vacation",
            reason="debtor called about it",
        )
    assert error.value.field == "kind"
    with pytest.raises(Forbidden):
        work(
            holds.place_hold,
            actor=users["bob"],
            case_id=case.id,
            kind="cease",
            reason="debtor called about it",
        )
    with store.read() as session:
        assert len(session.exec(select(Hold)).all()) == 1


def test_a_dispute_hold_sets_and_its_release_restores_the_status(
    store, place, users, work, now
) -> None:
    case = place("H-2")
    work(
        promises.create_promise,
        actor=users["alice"],
        case_id=case.id,
        promise=promises.PromiseInput(10_000, date(2026, 12, 1)),
    )
    hold_id = work(
        holds.place_hold,
        actor=users["alice"],
        case_id=case.id,
        kind="dispute",
        reason="debtor called about it",
    )
    assert read(store, Case, case.id).status == "dispute"
    # Ending a dispute is a supervisor's call (services/casework/holds.py says why).
    with pytest.raises(Forbidden, match="only a supervisor"):
        work(
            holds.release_hold,
            actor=users["alice"],
            hold_id=hold_id,
            reason="debtor called about it",
        )
    work(
        holds.release_hold,
        actor=users["sam"],
        hold_id=hold_id,
        now=now + timedelta(days=1),
        reason="debtor called about it",
    )
    assert read(store, Hold, hold_id).released_at == now + timedelta(days=1)
    assert read(store, Case, case.id).status == "promised"  # the promise is still pending
    with pytest.raises(InvalidInput, match="already released"):
        work(
            holds.release_hold, actor=users["sam"], hold_id=hold_id, reason="debtor called about it"
        )
    with store.read() as session:
        assert holds.active_holds(session=session, case_id=case.id) == []


@pytest.mark.parametrize(
    "kind", ["cease", "legal", "deceased", "bankruptcy", "dispute", "complaint"]
)
def test_only_a_supervisor_lifts_the_serious_holds(store, place, users, work, kind) -> None:
    case = place(f"H-{kind}")
    hold_id = work(
        holds.place_hold,
        actor=users["alice"],
        case_id=case.id,
        kind=kind,
        reason="debtor called about it",
    )
    with pytest.raises(Forbidden, match="only a supervisor"):
        work(
            holds.release_hold,
            actor=users["alice"],
            hold_id=hold_id,
            reason="debtor called about it",
        )
    assert read(store, Hold, hold_id).released_at is None
    work(holds.release_hold, actor=users["sam"], hold_id=hold_id, reason="debtor called about it")
    assert read(store, Hold, hold_id).released_by_id == users["sam"].user_id


def test_a_deceased_hold_routes_the_case_and_its_release_undoes_it(
    store, place, users, work
) -> None:
    case = place("H-3")
    hold_id = work(
        holds.place_hold,
        actor=users["alice"],
        case_id=case.id,
        kind="deceased",
        reason="obituary in the paper",
    )
    assert read(store, Case, case.id).routed_reason == "deceased"
    assert read(store, Debtor, case.debtor_id).deceased is True
    work(holds.release_hold, actor=users["sam"], hold_id=hold_id, reason="debtor called about it")
    assert read(store, Case, case.id).routed_reason is None
    assert read(store, Debtor, case.debtor_id).deceased is False
    with store.read() as session:
        entities = {
            (e.entity, e.action)
            for e in session.exec(select(AuditEvent).where(AuditEvent.entity != "user"))
        }
    assert {("hold", "place"), ("hold", "release"), ("debtor", "update"), ("case", "update")} <= (
        entities
    )
