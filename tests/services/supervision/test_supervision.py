"""Supervisors' services: workloads, case browser, decisions, routing, settlements, audit trail."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from collector_tui import db
from collector_tui.models import Activity, AuditEvent, Case, FollowUp, Hold, Promise, Settlement
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, payments, settlements
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.followups import FollowUpInput, create_follow_up
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import Forbidden, InvalidInput, StaleEdit
from collector_tui.services.supervision import audit_trail, decisions, workload
from collector_tui.services.supervision.assignment import assign_cases
from collector_tui.services.supervision.workload import BrowserFilter


def _write(store: db.Store, fn: Any, **kw: Any) -> Any:
    with store.write() as session:
        return fn(session=session, **kw)


def _read(store: db.Store, fn: Any, **kw: Any) -> Any:
    with store.read() as session:
        return fn(session=session, **kw)


def _case(store: db.Store, case_id: uuid.UUID) -> Case:
    with store.read() as session:
        found = session.get(Case, case_id)
        assert found is not None
        return found


def _events(store: db.Store, entity: str, entity_id: Any) -> list[AuditEvent]:
    with store.read() as session:
        return list(
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id)
                )
            )
        )


def _contact(store, now, settings, actor, case_id, code="no_answer", **extra):  # noqa: ANN001, ANN202
    return _write(
        store,
        activities.log_contact,
        now=now,
        actor=actor,
        case_id=case_id,
        contact=ContactInput(disposition=code, **extra),
        settings=settings,
    )


# --- workloads -----------------------------------------------------------------------------------


@pytest.fixture
def carol(store: db.Store, now: datetime) -> Actor:
    """An agent in Shanghai: at the fixed now (14:30 UTC) it is 22:30 there, her day ends at 16:00
    UTC and began at 16:00 UTC the day before."""
    with store.write() as session:
        return accounts.create_user(
            session=session,
            now=now,
            username="carol",
            password="demo",
            role="agent",
            time_zone="Asia/Shanghai",
        )


def test_workload_counts_per_agent_in_their_own_day(
    store, now, settings, users, place, carol
) -> None:  # noqa: ANN001
    alice, sam = users["alice"], users["sam"]
    one = place("W-1", principal=100_000)
    place("W-2", principal=50_000)
    place("W-3", country="US", currency="USD", principal=7_000, phones=("+1 212 555 0123",))
    c1 = place("W-4", principal=30_000, assigned_to_id=carol.user_id)
    place("W-5", principal=999, assigned_to_id=None)
    closed = place("W-6", principal=123)
    _write(store, decisions.close_case, now=now, actor=sam, case_id=closed.id,
           settings=settings, reason="recalled")  # fmt: skip

    # Alice (UTC): one attempt today, one right-party contact with a promise, one yesterday.
    _contact(store, now - timedelta(hours=1), settings, alice, one.id)
    _contact(store, now, settings, alice, one.id, "promise",
             promise=PromiseInput(amount=10_000, due_date=date(2026, 11, 25)))  # fmt: skip
    _contact(store, now - timedelta(days=1), settings, alice, one.id)
    # Carol (Shanghai): 17:00 UTC yesterday is 01:00 today in Shanghai.
    _contact(store, now - timedelta(hours=21, minutes=30), settings, carol, c1.id, "right_party")
    # Follow-ups: due by the end of the owner's day count; later ones do not.
    for owner, case, due in (
        (alice, one, now + timedelta(hours=9)),  # 23:30 UTC: still alice's today
        (alice, one, now + timedelta(hours=10)),  # 00:30 UTC tomorrow: not today
        (carol, c1, now + timedelta(minutes=60)),  # 23:30 in Shanghai: today
        (carol, c1, now + timedelta(hours=3)),  # 01:30 tomorrow in Shanghai
    ):
        _write(store, create_follow_up, now=now, actor=owner, case_id=case.id,
               follow_up=FollowUpInput(due_at=due, reason="call back"),
               settings=settings)  # fmt: skip

    rows = _read(store, workload.agent_workloads, now=now, actor=sam)

    by_name = {row.username: row for row in rows}
    assert [row.username for row in rows] == ["alice", "bob", "carol", None]
    a = by_name["alice"]
    assert a.open_cases == 3
    assert [(b.currency, b.amount) for b in a.balances] == [("CNY", 150_000), ("USD", 7_000)]
    assert (a.follow_ups_due, a.pending_promises) == (1, 1)
    assert (a.attempts_today, a.contacts_today) == (2, 1)
    c = by_name["carol"]
    assert (c.open_cases, c.follow_ups_due, c.attempts_today, c.contacts_today) == (1, 1, 1, 1)
    assert by_name["bob"].open_cases == 0 and by_name["bob"].balances == ()
    unassigned = rows[-1]
    assert unassigned.is_unassigned and unassigned.display_name == "unassigned"
    assert (unassigned.open_cases, unassigned.balances[0].amount) == (1, 999)

    mine = _read(store, workload.agent_workloads, now=now, actor=alice)
    assert [row.username for row in mine] == ["alice"]


# --- the case browser ----------------------------------------------------------------------------


def test_browser_filters(store, now, settings, users, place) -> None:  # noqa: ANN001
    alice, bob, sam = users["alice"], users["bob"], users["sam"]
    place("B-1", principal=10_000, due_date=date(2026, 11, 20))  # current
    place("B-2", principal=20_000, due_date=date(2026, 11, 1))  # 19 days: 1-30
    place("B-3", principal=30_000, due_date=date(2026, 5, 1), assigned_to_id=bob.user_id)  # 180+
    place("B-4", principal=40_000, country="US", currency="USD", phones=("+1 212 555 0199",),
          due_date=date(2026, 9, 1), assigned_to_id=None)  # fmt: skip
    routed = place("B-5", principal=50_000, due_date=date(2026, 10, 1))
    _contact(store, now, settings, alice, routed.id, "deceased")

    def refs(actor: Actor = sam, **filters: Any) -> list[str]:
        page = _read(store, workload.browse_cases, now=now, actor=actor,
                     filters=BrowserFilter(**filters))  # fmt: skip
        assert page.total == len(page.rows)
        return [row.client_ref for row in page.rows]

    assert refs() == ["B-1", "B-2", "B-3", "B-4", "B-5"]
    assert refs(agent_id=bob.user_id) == ["B-3"]
    assert refs(unassigned=True) == ["B-4"]
    assert refs(aging="current") == ["B-1"]
    assert refs(aging="1-30") == ["B-2"]
    assert refs(aging="180+") == ["B-3"]
    assert refs(aging="61-90") == ["B-4"]  # due 2026-09-01: 80 days
    assert refs(currency="CNY", balance_min=20_000, balance_max=30_000) == ["B-2", "B-3"]
    assert refs(currency="usd", balance_min=1) == ["B-4"]
    assert refs(country="us") == ["B-4"]
    assert refs(routed=True) == ["B-5"]
    assert refs(status="dispute") == []
    assert refs(alice) == ["B-1", "B-2", "B-5"]

    row = _read(store, workload.browse_cases, now=now, actor=sam,
                filters=BrowserFilter(routed=True)).rows[0]  # fmt: skip
    assert (row.routed_reason, row.assigned_to, row.aging, row.days_past_due) == (
        "deceased",
        "alice",
        "31-60",
        50,
    )
    with pytest.raises(InvalidInput, match="needs a currency") as refused:
        refs(balance_min=1)
    assert refused.value.field == "currency"
    with pytest.raises(InvalidInput, match="aging bucket"):
        refs(aging="old")
    with pytest.raises(Forbidden):
        refs(alice, agent_id=bob.user_id)
    with pytest.raises(Forbidden):
        refs(alice, unassigned=True)


def test_browser_pages_with_a_keyset_and_counts_once(store, now, users, place) -> None:  # noqa: ANN001
    for number in range(23):
        place(f"P-{number:02d}")
    seen: list[str] = []
    cursor = None
    totals = []
    while True:
        page = _read(store, workload.browse_cases, now=now, actor=users["sam"], after=cursor,
                     limit=10)  # fmt: skip
        totals.append(page.total)
        seen.extend(row.client_ref for row in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"P-{n:02d}" for n in range(23)]
    assert totals == [23, None, None]


# --- decisions -----------------------------------------------------------------------------------


def test_escalate_to_legal_holds_and_clears_the_routing(store, now, settings, users, place) -> None:  # noqa: ANN001
    alice, sam = users["alice"], users["sam"]
    case = place("L-1")
    asked = _write(store, decisions.request_legal_escalation, now=now, actor=alice,
                   case_id=case.id, settings=settings, reason="ignores every letter")  # fmt: skip
    assert asked.routed_reason == decisions.LEGAL_REQUEST
    page = _read(store, decisions.routed_cases, now=now, actor=sam)
    assert [row.client_ref for row in page.rows] == ["L-1"]
    with pytest.raises(Forbidden):
        _read(store, decisions.routed_cases, now=now, actor=alice)
    with pytest.raises(Forbidden, match="only a supervisor"):
        _write(store, decisions.escalate_to_legal, now=now, actor=alice, case_id=case.id,
               settings=settings, reason="x")  # fmt: skip

    done = _write(store, decisions.escalate_to_legal, now=now, actor=sam, case_id=case.id,
                  settings=settings, reason="court claim",
                  expected_version=asked.version)  # fmt: skip

    assert (done.status, done.routed_reason) == ("legal", None)
    with store.read() as session:
        holds = session.exec(select(Hold).where(Hold.case_id == case.id)).all()
        notes = session.exec(select(Activity.note).where(Activity.case_id == case.id)).all()
    assert [(h.kind, h.reason) for h in holds] == [("legal", "court claim")]
    assert "Legal escalation requested: ignores every letter" in notes
    assert "Escalated to legal: court claim" in notes
    actions = {(e.action, e.user_id) for e in _events(store, "case", case.id)}
    assert ("route", alice.user_id) in actions and ("legal", sam.user_id) in actions
    legal = next(e for e in _events(store, "case", case.id) if e.action == "legal")
    assert legal.before == {"status": "new", "routed_reason": decisions.LEGAL_REQUEST}
    assert legal.after == {"status": "legal", "routed_reason": None}
    with pytest.raises(InvalidInput, match="already with legal"):
        _write(store, decisions.escalate_to_legal, now=now, actor=sam, case_id=case.id,
               settings=settings, reason="again")  # fmt: skip


def test_write_off_cancels_promises_and_follow_ups(store, now, settings, users, place) -> None:  # noqa: ANN001
    alice, sam = users["alice"], users["sam"]
    case = place("X-1", principal=80_000)
    _contact(store, now, settings, alice, case.id, "promise",
             promise=PromiseInput(amount=10_000, due_date=date(2026, 11, 30)))  # fmt: skip
    _write(store, create_follow_up, now=now, actor=alice, case_id=case.id,
           follow_up=FollowUpInput(due_at=now + timedelta(days=2), reason="check"),
           settings=settings)  # fmt: skip
    version = _case(store, case.id).version
    with pytest.raises(StaleEdit):
        _write(store, decisions.write_off, now=now, actor=sam, case_id=case.id,
               settings=settings, reason="uncollectable", expected_version=version - 1)  # fmt: skip
    with pytest.raises(InvalidInput, match="reason is required"):
        _write(store, decisions.write_off, now=now, actor=sam, case_id=case.id,
               settings=settings, reason="  ")  # fmt: skip

    done = _write(store, decisions.write_off, now=now, actor=sam, case_id=case.id,
                  settings=settings, reason="uncollectable", expected_version=version)  # fmt: skip

    assert done.status == "written_off"
    with store.read() as session:
        row = session.get(Case, case.id)
        promise_states = session.exec(select(Promise.status).where(Promise.case_id == case.id))
        open_follow_ups = session.exec(
            select(FollowUp).where(FollowUp.case_id == case.id, col(FollowUp.done_at).is_(None))
        ).all()
        assert list(promise_states) == ["cancelled"]
    assert row.balance == 80_000 and row.queue_tier == 9
    assert open_follow_ups == []
    event = next(e for e in _events(store, "case", case.id) if e.action == "write_off")
    assert (event.user_id, event.before["status"], event.after["status"]) == (
        sam.user_id,
        "promised",
        "written_off",
    )
    with pytest.raises(InvalidInput, match="already written off: cannot close it"):
        _write(store, decisions.close_case, now=now, actor=sam, case_id=case.id,
               settings=settings, reason="again")  # fmt: skip


def test_routing_and_unrouting(store, now, settings, users, place) -> None:  # noqa: ANN001
    alice, bob, sam = users["alice"], users["bob"], users["sam"]
    case = place("R-1")
    dead = place("R-2")
    _contact(store, now, settings, alice, dead.id, "deceased")
    with pytest.raises(Forbidden):
        _write(store, decisions.route_case, now=now, actor=bob, case_id=case.id,
               settings=settings, reason="help")  # fmt: skip
    routed = _write(store, decisions.route_case, now=now, actor=alice, case_id=case.id,
                    settings=settings, reason="debtor threatens a complaint")  # fmt: skip
    assert routed.routed_reason == "debtor threatens a complaint"
    with pytest.raises(Forbidden):
        _write(store, decisions.unroute_case, now=now, actor=alice, case_id=case.id,
               settings=settings)  # fmt: skip
    back = _write(store, decisions.unroute_case, now=now, actor=sam, case_id=case.id,
                  settings=settings, reason="nothing to do")  # fmt: skip
    assert back.routed_reason is None
    with pytest.raises(InvalidInput, match="release the hold"):
        _write(store, decisions.unroute_case, now=now, actor=sam, case_id=dead.id,
               settings=settings)  # fmt: skip


# --- settlements ---------------------------------------------------------------------------------


def test_settlement_above_the_limit_waits_for_approval_then_settles(
    store, now, settings, users, place
) -> None:  # noqa: ANN001
    alice, sam = users["alice"], users["sam"]
    case = place("S-1", principal=100_000)
    due = date(2026, 11, 27)
    view = _write(store, settlements.request_settlement, now=now, actor=alice, case_id=case.id,
                  amount=70_000, due_date=due, settings=settings, note="one payment")  # fmt: skip

    assert (view.status, view.discount, str(view.discount_pct), view.limit_pct) == (
        "pending",
        30_000,
        "30.0",
        0,
    )
    assert _case(store, case.id).routed_reason == decisions.SETTLEMENT_ROUTED
    waiting = _read(store, settlements.pending_settlements, actor=sam)
    assert [(s.client_ref, s.requested_by) for s in waiting] == [("S-1", "alice")]
    with pytest.raises(Forbidden):
        _write(store, settlements.decide_settlement, now=now, actor=alice,
               settlement_id=view.id, approve=True, settings=settings)  # fmt: skip
    with pytest.raises(InvalidInput, match="already has a settlement pending"):
        _write(store, settlements.request_settlement, now=now, actor=alice, case_id=case.id,
               amount=80_000, due_date=due, settings=settings)  # fmt: skip

    approved = _write(store, settlements.decide_settlement, now=now, actor=sam,
                      settlement_id=view.id, approve=True, settings=settings,
                      note="ok, client agrees")  # fmt: skip

    assert (approved.status, approved.decided_by) == ("approved", "sam")
    row = _case(store, case.id)
    assert (row.status, row.routed_reason) == ("promised", None)
    with store.read() as session:
        promise = session.get(Promise, approved.promise_id)
    assert (promise.amount, promise.due_date, promise.created_by_id) == (70_000, due, alice.user_id)
    assert _read(store, settlements.pending_settlements, actor=sam) == []

    _write(store, payments.post_payment, now=now, actor=alice, case_id=case.id, amount=70_000,
           received_on=now.date(), settings=settings)  # fmt: skip

    row = _case(store, case.id)
    assert (row.status, row.balance) == ("settled", 30_000)
    with store.read() as session:
        assert session.get(Settlement, view.id).status == "completed"
    actions = [e.action for e in _events(store, "settlement", view.id)]
    assert sorted(actions) == ["approved", "completed", "create"]


def test_settlement_within_the_limit_is_agreed_at_once_and_rejection(
    store, now, settings, users, place
) -> None:  # noqa: ANN001
    alice, sam = users["alice"], users["sam"]
    with pytest.raises(Forbidden):
        _write(store, settlements.set_settlement_limit, now=now, actor=alice,
               user_id=alice.user_id, limit_pct=50)  # fmt: skip
    _write(store, settlements.set_settlement_limit, now=now, actor=sam, user_id=alice.user_id,
           limit_pct=10)  # fmt: skip
    small = place("S-2", principal=100_000)
    big = place("S-3", principal=100_000)

    agreed = _write(store, settlements.request_settlement, now=now, actor=alice, case_id=small.id,
                    amount=90_000, due_date=date(2026, 11, 30), settings=settings)  # fmt: skip
    asked = _write(store, settlements.request_settlement, now=now, actor=alice, case_id=big.id,
                   amount=89_999, due_date=date(2026, 11, 30), settings=settings)  # fmt: skip

    assert (agreed.status, agreed.promise_id is not None, agreed.decided_by) == (
        "approved",
        True,
        None,
    )
    assert _case(store, small.id).status == "promised"
    assert asked.status == "pending"
    rejected = _write(store, settlements.decide_settlement, now=now, actor=sam,
                      settlement_id=asked.id, approve=False, settings=settings,
                      note="too low")  # fmt: skip
    assert (rejected.status, rejected.decision_note) == ("rejected", "too low")
    row = _case(store, big.id)
    assert (row.status, row.routed_reason) == ("new", None)
    with pytest.raises(InvalidInput, match="not below the balance"):
        _write(store, settlements.request_settlement, now=now, actor=alice, case_id=big.id,
               amount=100_000, due_date=date(2026, 11, 30), settings=settings)  # fmt: skip
    with pytest.raises(InvalidInput, match="already rejected"):
        _write(store, settlements.decide_settlement, now=now, actor=sam,
               settlement_id=asked.id, approve=True, settings=settings)  # fmt: skip


# --- the audit trail -----------------------------------------------------------------------------


def test_case_audit_trail_collects_every_related_change(store, now, settings, users, place) -> None:  # noqa: ANN001
    alice, bob, sam = users["alice"], users["bob"], users["sam"]
    case = place("A-1")
    later = now + timedelta(minutes=5)
    _contact(store, now, settings, alice, case.id, "promise",
             promise=PromiseInput(amount=5_000, due_date=date(2026, 11, 30)))  # fmt: skip
    _write(store, assign_cases, now=later, actor=sam, case_ids=[case.id], to_user_id=bob.user_id,
           settings=settings, reason="rebalance")  # fmt: skip

    trail = _read(store, audit_trail.case_audit_trail, actor=sam, case_id=case.id)

    assert trail[0].at == later and trail[0].action == "assign" and trail[0].user == "sam"
    changes = {c.name: (c.before, c.after) for c in trail[0].changes}
    assert changes["assigned_to_id"] == (str(alice.user_id), str(bob.user_id))
    assert changes["reason"] == (None, "rebalance")
    kinds = {(entry.entity, entry.action) for entry in trail}
    assert {("activity", "create"), ("promise", "create"), ("case", "update")} <= kinds
    assert ("case", "place") in kinds and trail[-1].at == now
    assert [e.at for e in trail] == sorted((e.at for e in trail), reverse=True)
    with pytest.raises(Forbidden):
        _read(store, audit_trail.case_audit_trail, actor=alice, case_id=case.id)
    assert _read(store, audit_trail.case_audit_trail, actor=bob, case_id=case.id)
