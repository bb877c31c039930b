"""A promise or plan taken on the case screen is a contact; the debtor's calendar and hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Activity, Case, FollowUp, Promise
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, casefile, followups, settlements
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.services.errors import InvalidInput
from collector_tui.services.rules import compliance


def _callback_due(
    store: db.Store, settings: Settings, actor: Actor, case_id, now: datetime
) -> None:  # noqa: ANN001
    with store.write() as session:
        followups.create_follow_up(
            session=session,
            now=now - timedelta(days=1),
            actor=actor,
            case_id=case_id,
            follow_up=FollowUpInput(due_at=now - timedelta(hours=1), reason="call back"),
            settings=settings,
        )


@pytest.mark.parametrize("kind", ["promise", "plan"])
def test_an_agreement_is_a_right_party_contact_that_closes_the_due_callback(
    store: db.Store, settings: Settings, place, users, now: datetime, kind: str
) -> None:
    alice = users["alice"]
    case = place("AG-1")
    _callback_due(store, settings, alice, case.id, now)
    agreement: dict[str, object] = (
        {"promise": PromiseInput(50_000, date(2026, 11, 25))}
        if kind == "promise"
        else {
            "plan": PlanInput(
                (PromiseInput(50_000, date(2026, 11, 25)), PromiseInput(50_000, date(2026, 12, 25)))
            )
        }
    )
    with store.write() as session:
        logged = activities.record_agreement(
            session=session, now=now, actor=alice, case_id=case.id, settings=settings, **agreement
        )
    with store.read() as session:
        row = session.get(Case, case.id)
        assert row is not None and row.last_contact_at == now
        activity = session.get(Activity, logged.activity_id)
        assert activity is not None and activity.disposition == kind
        assert activity.channel == "call"
        (follow_up,) = session.exec(select(FollowUp).where(FollowUp.case_id == case.id)).all()
        assert follow_up.done_at == now
        promises = session.exec(select(Promise).where(Promise.case_id == case.id)).all()
        assert {p.activity_id for p in promises} == {logged.activity_id}


def test_a_refused_agreement_writes_no_contact(
    store: db.Store, settings: Settings, place, users, now: datetime
) -> None:
    alice = users["alice"]
    case = place("AG-2")
    _callback_due(store, settings, alice, case.id, now)
    with store.write() as session, pytest.raises(InvalidInput):
        activities.record_agreement(
            session=session,
            now=now,
            actor=alice,
            case_id=case.id,
            settings=settings,
            promise=PromiseInput(10_000_000, date(2026, 11, 25)),  # above the balance
        )
    with store.read() as session:
        assert session.exec(select(Activity).where(Activity.case_id == case.id)).all() == []
        (follow_up,) = session.exec(select(FollowUp).where(FollowUp.case_id == case.id)).all()
        assert follow_up.done_at is None


def test_a_due_date_is_a_day_in_the_debtors_calendar(
    store: db.Store, settings: Settings, place, users
) -> None:
    # 16:30 UTC on the 20th is 00:30 on the 21st in Shanghai: the 20th has passed there.
    late = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
    case = place("AG-3")
    with store.read() as session:
        row = session.get(Case, case.id)
        assert row is not None
        assert compliance.debtor_today(session=session, case=row, now=late, settings=settings) == (
            date(2026, 11, 21),
            "Asia/Shanghai",
        )
    with store.write() as session, pytest.raises(InvalidInput) as refused:
        activities.record_agreement(
            session=session,
            now=late,
            actor=users["alice"],
            case_id=case.id,
            settings=settings,
            promise=PromiseInput(10_000, date(2026, 11, 20)),
        )
    assert "today is 2026-11-21 in Asia/Shanghai" in refused.value.message


def test_next_allowed_contact_follows_the_debtors_hours(
    store: db.Store, settings: Settings, place, now: datetime
) -> None:
    case = place("AG-4")  # CN: 08:00-22:00 in Asia/Shanghai
    with store.read() as session:
        row = session.get(Case, case.id)
        assert row is not None
        # 14:30 UTC is 22:30 in Shanghai: the next allowed time is 08:00 there the next morning.
        late, zones = compliance.next_allowed_contact(
            session=session, case=row, at=now, settings=settings
        )
        assert zones == ("Asia/Shanghai",)
        assert late == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
        inside = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
        assert (
            compliance.next_allowed_contact(
                session=session, case=row, at=inside, settings=settings
            )[0]
            == inside
        )


def test_a_follow_up_outside_the_hours_is_refused_only_when_asked_to_check(
    store: db.Store, settings: Settings, place, users, now: datetime
) -> None:
    alice = users["alice"]
    case = place("AG-5")
    late = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai

    def create(due_at: datetime, *, ok: bool) -> None:
        with store.write() as session:
            followups.create_follow_up(
                session=session,
                now=now,
                actor=alice,
                case_id=case.id,
                follow_up=FollowUpInput(due_at=due_at, reason="x", outside_hours_ok=ok),
                settings=settings,
            )

    with pytest.raises(followups.OutsideContactHours) as warned:
        create(late, ok=False)
    assert warned.value.field == "due_at"
    assert warned.value.next_allowed == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert warned.value.message == (
        "outside contact hours in Asia/Shanghai: next allowed 2026-11-22 08:00"
    )
    with store.read() as session:
        assert session.exec(select(FollowUp).where(FollowUp.case_id == case.id)).all() == []
    create(datetime(2026, 11, 21, 3, 0, tzinfo=UTC), ok=False)  # 11:00 there: inside
    create(late, ok=True)  # the agent kept it
    with store.read() as session:
        assert len(session.exec(select(FollowUp).where(FollowUp.case_id == case.id)).all()) == 2


@pytest.mark.parametrize("approve", [True, False])
def test_a_settlement_is_on_the_timeline_while_pending_and_once_decided(
    store: db.Store, settings: Settings, place, users, now: datetime, approve: bool
) -> None:
    alice, sam = users["alice"], users["sam"]
    case = place("AG-6")  # balance 1,000.00 CNY; alice's limit is 0%
    with store.write() as session:
        view = settlements.request_settlement(
            session=session,
            now=now,
            actor=alice,
            case_id=case.id,
            amount=80_000,
            due_date=date(2026, 11, 30),
            settings=settings,
        )
    with store.read() as session:
        pending = casefile.load_case_file(session=session, actor=alice, case_id=case.id, now=now)
    assert pending.settlement_limit_pct == 0
    assert [e.title for e in pending.timeline if e.kind == "settlement"] == [
        "settlement 800.00 CNY by 2026-11-30 · pending approval"
    ]
    later = now + timedelta(hours=1)
    with store.write() as session:
        settlements.decide_settlement(
            session=session,
            now=later,
            actor=sam,
            settlement_id=view.id,
            approve=approve,
            settings=settings,
            note="ok" if approve else "too low",
        )
    with store.read() as session:
        decided = casefile.load_case_file(session=session, actor=alice, case_id=case.id, now=later)
    outcome = "approved" if approve else "rejected"
    assert [e.title for e in decided.timeline if e.kind == "settlement"] == [
        f"settlement 800.00 CNY by 2026-11-30 · {outcome}",
        "settlement 800.00 CNY by 2026-11-30 · requested",
    ]
