"""The audit trail as the History screen reads it: money as money, user names, local times."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from collector_tui.services.casework import activities
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import Forbidden
from collector_tui.services.supervision.assignment import assign_cases
from collector_tui.services.supervision.audit_trail import case_audit_view


def test_amounts_users_and_instants_are_readable_and_the_json_is_kept(
    store,  # noqa: ANN001
    now,  # noqa: ANN001
    settings,  # noqa: ANN001
    users,  # noqa: ANN001
    place,  # noqa: ANN001
) -> None:
    alice, bob, sam = users["alice"], users["bob"], users["sam"]
    case = place(
        "A-1", country="US", currency="USD", principal=123_456, phones=("+1 212 736 5000",)
    )
    later = now + timedelta(minutes=5)
    with store.write() as session:
        activities.log_contact(
            session=session, now=now, actor=alice, case_id=case.id, settings=settings,
            contact=ContactInput(disposition="promise",
                                 promise=PromiseInput(amount=5_000, due_date=date(2026, 11, 30))),
        )  # fmt: skip
    with store.write() as session:
        assign_cases(session=session, now=later, actor=sam, case_ids=[case.id],
                     to_user_id=bob.user_id, settings=settings, reason="rebalance")  # fmt: skip

    with store.read() as session:
        lines = case_audit_view(session=session, actor=sam, case_id=case.id)

    assign = lines[0]
    assert assign.entry.action == "assign" and assign.user == "sam"
    shown = {c.name: (c.before, c.after) for c in assign.changes}
    assert shown["assigned_to_id"] == ("alice", "bob")
    assert "assigned_to_id: alice→bob" in assign.summary
    assert str(alice.user_id) not in assign.summary
    # The recorded JSON is kept as it was: ids, not names.
    assert json.loads(assign.raw_after or "{}")["assigned_to_id"] == str(bob.user_id)

    promise = next(line for line in lines if line.entry.entity == "promise")
    shown = {c.name: (c.before, c.after) for c in promise.changes}
    assert shown["amount"] == (None, "50.00 USD")
    assert shown["due_date"] == (None, "2026-11-30")
    assert json.loads(promise.raw_after or "{}")["amount"] == 5_000

    placed = next(line for line in lines if line.entry.action == "place")
    shown = {c.name: (c.before, c.after) for c in placed.changes}
    assert shown["balance"] == (None, "1,234.56 USD")
    contact = next(line for line in lines if line.entry.entity == "activity")
    shown = {c.name: (c.before, c.after) for c in contact.changes}
    local = now.astimezone(ZoneInfo(sam.time_zone)).strftime("%Y-%m-%d %H:%M")
    assert shown["occurred_at"] == (None, local)  # in the reader's zone, not ISO UTC
    every = " ".join(line.summary for line in lines)
    assert "123456" not in every and "5000" not in every
    assert str(alice.user_id) not in every and str(bob.user_id) not in every


def test_the_view_keeps_the_trails_scoping(store, users, place) -> None:  # noqa: ANN001
    case = place("A-2")
    with store.read() as session, pytest.raises(Forbidden):
        case_audit_view(session=session, actor=users["bob"], case_id=case.id)
    with store.read() as session:
        assert case_audit_view(session=session, actor=users["alice"], case_id=case.id)
