"""Logging contacts and notes: every disposition's consequence, refusals that write nothing,
stale edits, access; and drafts of the contact form."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, col, func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    TIER_FOLLOW_UP,
    TIER_NEW,
    TIER_PROMISE_REMINDER,
    TIER_WORKABLE,
    Activity,
    AuditEvent,
    Case,
    Debtor,
    Draft,
    FollowUp,
    Hold,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    Phone,
    Promise,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, drafts, followups, notes
from collector_tui.services.casework.activities import ContactInput, LoggedContact
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.services.errors import Forbidden, InvalidInput, ServiceError, StaleEdit
from collector_tui.services.rules.dispositions import DISPOSITIONS

PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"
COUNTED = (
    Activity,
    Promise,
    PaymentPlan,
    Payment,
    PaymentAllocation,
    FollowUp,
    Hold,
    AuditEvent,
    Draft,
)


def footprint(store: db.Store, case_id: uuid.UUID) -> dict[str, Any]:
    """Everything a refused call could have touched: row counts and the versions of mutable rows."""
    with store.read() as session:
        state: dict[str, Any] = {
            m.__name__: session.exec(select(func.count()).select_from(m)).one() for m in COUNTED
        }
        case = session.get(Case, case_id)
        assert case is not None
        state["case"] = (case.version, case.status, case.updated_at, case.last_attempt_at)
        state["debtor"] = session.exec(select(func.sum(Debtor.version))).one()
        state["phones"] = session.exec(select(func.sum(Phone.version))).one()
        return state


def refused(store: db.Store, call: Callable[[Session], object]) -> ServiceError:
    """Run a call that must be refused, then COMMIT the session anyway: a caller that shows the
    error and carries on must not save half of what the service began."""
    with store.write() as session:
        try:
            call(session)
        except ServiceError as error:
            return error
    raise AssertionError("the call was not refused")


@pytest.fixture
def log(store: db.Store, settings: Settings, now: datetime):
    def _log(
        actor: Actor, case_id: uuid.UUID, at: datetime | None = None, **contact: Any
    ) -> LoggedContact:
        with store.write() as session:
            return activities.log_contact(
                session=session,
                now=at or now,
                actor=actor,
                case_id=case_id,
                contact=ContactInput(**contact),
                settings=settings,
            )

    return _log


def read_case(store: db.Store, case_id: uuid.UUID) -> Case:
    with store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def rows(store: db.Store, model: type, *where: Any) -> list[Any]:
    with store.read() as session:
        return list(session.exec(select(model).where(*where)))


# --- the catalogue -----------------------------------------------------------------------------


def test_dispositions_follow_the_design() -> None:
    groups = {
        "no_contact": ["no_answer", "busy", "voicemail", "disconnected", "wrong_number"],
        "contact": ["right_party", "third_party"],
        "result": [
            "promise",
            "plan",
            "refused",
            "dispute",
            "callback",
            "paid",
            "hardship",
            "deceased",
            "bankrupt",
            "cease",
        ],
    }
    for group, codes in groups.items():
        assert [d.code for d in DISPOSITIONS.values() if d.group == group] == codes
    assert {c: d.needs for c, d in DISPOSITIONS.items() if d.needs} == {
        "promise": "promise",
        "plan": "plan",
        "callback": "follow_up",
    }
    right_party = {c for c, d in DISPOSITIONS.items() if d.right_party}
    assert right_party == {
        "right_party",
        "promise",
        "plan",
        "refused",
        "dispute",
        "callback",
        "paid",
        "hardship",
        "cease",
    }
    assert not any(DISPOSITIONS[c].connected for c in ("no_answer", "busy", "disconnected"))
    assert all(d.label for d in DISPOSITIONS.values())


# --- attempts and their consequences -----------------------------------------------------------


def test_first_attempt_activates_the_case_and_moves_it_in_the_queue(
    store: db.Store, place, log, users, now: datetime
) -> None:
    case = place("A-1")
    assert read_case(store, case.id).queue_tier == TIER_NEW
    logged = log(users["alice"], case.id, disposition="no_answer", phone_e164="+86 138 0013 8000")
    after = read_case(store, case.id)
    assert logged.case_status == after.status == "active"
    assert after.last_attempt_at == now and after.last_contact_at is None
    assert after.queue_tier == TIER_WORKABLE
    assert logged.case_version == after.version
    (activity,) = rows(store, Activity, Activity.case_id == case.id)
    assert (activity.channel, activity.disposition, activity.phone_e164) == (
        "call",
        "no_answer",
        PHONE,
    )
    assert activity.user_id == users["alice"].user_id
    assert rows(store, AuditEvent, AuditEvent.entity == "activity", AuditEvent.action == "create")


def test_right_party_contact_is_remembered_and_backdating_does_not_rewind(
    store: db.Store, place, log, users, now: datetime
) -> None:
    case = place("A-2")
    log(users["alice"], case.id, disposition="right_party", note="talked about the debt")
    log(users["alice"], case.id, disposition="no_answer", occurred_at=now - timedelta(hours=3))
    after = read_case(store, case.id)
    assert after.last_contact_at == now and after.last_attempt_at == now
    assert len(rows(store, Activity, Activity.case_id == case.id)) == 2


def test_promise_disposition_creates_the_promise_in_the_same_transaction(
    store: db.Store, place, log, users, settings: Settings
) -> None:
    case = place("A-3")
    logged = log(
        users["alice"],
        case.id,
        disposition="promise",
        promise=PromiseInput(amount=40_000, due_date=date(2026, 11, 27)),
        note="will pay on payday",
    )
    (promise,) = rows(store, Promise, Promise.case_id == case.id)
    assert logged.promise_ids == (promise.id,)
    assert promise.activity_id == logged.activity_id
    assert (promise.amount, promise.status, promise.grace_days) == (
        40_000,
        "pending",
        settings.promise_grace_days,
    )
    after = read_case(store, case.id)
    assert logged.case_status == after.status == "promised"
    assert after.queue_tier == TIER_PROMISE_REMINDER


def test_a_save_writes_the_case_row_once(
    store: db.Store, place, log, users, now: datetime, settings: Settings
) -> None:
    # Each UPDATE of a case rewrites its row and indexes and fires the workload counters'
    # trigger: the contact, its promise, the status and the queue place go out in one.
    case = place("A-3b")
    with store.write() as session:
        followups.create_follow_up(
            session=session,
            now=now - timedelta(hours=2),
            actor=users["alice"],
            case_id=case.id,
            follow_up=FollowUpInput(due_at=now - timedelta(hours=1), reason="call back"),
            settings=settings,
        )
    updates: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE COLLECTION_CASE"):
            updates.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        logged = log(
            users["alice"],
            case.id,
            disposition="promise",
            promise=PromiseInput(amount=40_000, due_date=date(2026, 11, 27)),
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert len(updates) == 1
    after = read_case(store, case.id)
    assert (after.status, after.queue_tier, after.last_attempt_at) == (
        "promised",
        TIER_PROMISE_REMINDER,
        now,
    )
    assert logged.case_version == after.version
    (follow_up,) = rows(store, FollowUp, FollowUp.case_id == case.id)
    assert follow_up.done_at == now  # the callback was made


def test_a_save_writes_its_audit_trail_in_one_flush_of_rows(
    store: db.Store, place, log, users, now: datetime, settings: Settings
) -> None:
    # The save's rows go out together (one flush before the case is re-placed, one with the
    # case): the audit trail is the one the save always wrote, event for event and in order.
    case = place("A-3c")
    alice = users["alice"]
    with store.write() as session:
        follow_up_id = followups.create_follow_up(
            session=session,
            now=now - timedelta(hours=2),
            actor=alice,
            case_id=case.id,
            follow_up=FollowUpInput(due_at=now - timedelta(hours=1), reason="call back"),
            settings=settings,
        )
    before = read_case(store, case.id)
    audit_inserts: list[int] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool):
        if statement.lstrip().upper().startswith("INSERT INTO AUDITEVENT"):
            audit_inserts.append(len(parameters) if many else 1)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        logged = log(
            alice,
            case.id,
            disposition="promise",
            promise=PromiseInput(amount=40_000, due_date=date(2026, 11, 27)),
            duration_s=90,
            note="will pay",
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert sum(audit_inserts) == 4
    assert len(audit_inserts) <= 2  # the rows' events in one executemany, the case's with it
    stamp = now.isoformat()
    (promise_id,) = logged.promise_ids
    expected = [
        (
            "activity",
            str(logged.activity_id),
            "create",
            None,
            {
                "case_id": str(case.id),
                "occurred_at": stamp,
                "channel": "call",
                "direction": "outbound",
                "phone_id": None,
                "disposition": "promise",
                "duration_s": 90,
                "note_length": len("will pay"),
            },
        ),
        (
            "follow_up",
            str(follow_up_id),
            "complete",
            {"done_at": None},
            {"done_at": stamp, "why": "attempt logged"},
        ),
        (
            "promise",
            str(promise_id),
            "create",
            None,
            {
                "case_id": str(case.id),
                "plan_id": None,
                "amount": 40_000,
                "paid_amount": 0,
                "due_date": "2026-11-27",
                "grace_days": settings.promise_grace_days,
                "status": "pending",
                "activity_id": str(logged.activity_id),
            },
        ),
        (
            "case",
            str(case.id),
            "update",
            {"status": before.status, "last_attempt_at": None, "last_contact_at": None},
            {"status": "promised", "last_attempt_at": stamp, "last_contact_at": stamp},
        ),
    ]
    with store.read() as session:
        order = [col(AuditEvent.at)]
        if store.is_sqlite:
            order.append(text("auditevent.rowid"))
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.at == now, col(AuditEvent.action) != "place")
            .where(col(AuditEvent.entity) != "user")
            .order_by(*order)
        ).all()
    assert all(e.user_id == alice.user_id and e.erased_at is None for e in events)
    found = [(e.entity, e.entity_id, e.action, e.before, e.after) for e in events]
    if store.is_sqlite:
        assert found == expected
    else:  # no insertion order to read back on PostgreSQL
        assert sorted(found, key=repr) == sorted(expected, key=repr)


def test_promise_disposition_without_a_promise_is_refused_and_writes_nothing(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    case = place("A-4")
    before = footprint(store, case.id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput("promise"),
            settings=settings,
        ),
    )
    assert isinstance(error, InvalidInput) and error.field == "promise"
    assert str(error) == "a promise disposition needs a promise: amount and date"
    assert footprint(store, case.id) == before


def test_a_bad_promise_refuses_the_whole_contact(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    case = place("A-5")
    before = footprint(store, case.id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput(
                "promise",
                note="promised too much",
                promise=PromiseInput(amount=100_001, due_date=date(2026, 11, 27)),
            ),
            settings=settings,
        ),
    )
    assert error.field == "amount" and "exceeds the open balance 1,000.00 CNY" in str(error)
    assert footprint(store, case.id) == before


def test_plan_disposition_creates_plan_and_installments(store: db.Store, place, log, users) -> None:
    case = place("A-6")
    logged = log(
        users["alice"],
        case.id,
        disposition="plan",
        plan=PlanInput(
            (
                PromiseInput(30_000, date(2026, 12, 1)),
                PromiseInput(30_000, date(2027, 1, 1)),
                PromiseInput(40_000, date(2027, 2, 1)),
            )
        ),
    )
    assert logged.plan_id is not None and logged.case_status == "plan"
    installments = rows(store, Promise, Promise.plan_id == logged.plan_id)
    assert sorted(p.id for p in installments) == sorted(logged.promise_ids)
    assert {p.activity_id for p in installments} == {logged.activity_id}
    assert [p.amount for p in sorted(installments, key=lambda p: p.due_date)] == [
        30_000,
        30_000,
        40_000,
    ]
    (plan,) = rows(store, PaymentPlan, PaymentPlan.case_id == case.id)
    assert plan.status == "active"


def test_callback_needs_a_follow_up_and_creates_it_for_the_cases_agent(
    store: db.Store, place, log, users, settings: Settings, now: datetime
) -> None:
    case = place("A-7")
    before = footprint(store, case.id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput("callback"),
            settings=settings,
        ),
    )
    assert error.field == "follow_up"
    assert footprint(store, case.id) == before

    due = now + timedelta(hours=2)
    # A supervisor takes the call; the callback lands in the agent's queue.
    logged = log(
        users["sam"],
        case.id,
        disposition="callback",
        follow_up=FollowUpInput(due_at=due, reason="call after the meeting"),
    )
    (follow_up,) = rows(store, FollowUp, FollowUp.case_id == case.id)
    assert logged.follow_up_id == follow_up.id
    assert (follow_up.owner_id, follow_up.due_at, follow_up.reason) == (
        users["alice"].user_id,
        due,
        "call after the meeting",
    )
    after = read_case(store, case.id)
    assert after.queue_tier == TIER_FOLLOW_UP and after.next_action_at == due


def test_a_follow_up_can_go_with_any_disposition(store: db.Store, place, log, users, now) -> None:
    case = place("A-8")
    logged = log(
        users["alice"],
        case.id,
        disposition="no_answer",
        follow_up=FollowUpInput(due_at=now + timedelta(days=1), reason="try the evening"),
    )
    assert logged.follow_up_id is not None
    assert len(rows(store, FollowUp, FollowUp.case_id == case.id)) == 1


def test_dispute_places_a_hold_and_sets_the_status(store: db.Store, place, log, users) -> None:
    case = place("A-9")
    logged = log(users["alice"], case.id, disposition="dispute", note="says the loan was repaid")
    (hold,) = rows(store, Hold, Hold.case_id == case.id)
    assert logged.hold_ids == (hold.id,)
    assert hold.kind == "dispute" and hold.released_at is None
    assert hold.reason == "Disputes the debt: says the loan was repaid"
    assert logged.case_status == read_case(store, case.id).status == "dispute"
    # A second dispute call does not stack a second hold.
    again = log(users["alice"], case.id, disposition="dispute")
    assert again.hold_ids == (hold.id,)
    assert len(rows(store, Hold, Hold.case_id == case.id)) == 1


def test_wrong_number_marks_that_phone_invalid(store: db.Store, place, log, users) -> None:
    case = place("A-10", phones=(PHONE, OTHER_PHONE))
    log(users["alice"], case.id, disposition="wrong_number", phone_e164="138 0013 8000")
    phones = {p.e164: p.valid for p in rows(store, Phone, Phone.debtor_id == case.debtor_id)}
    assert phones == {PHONE: False, OTHER_PHONE: True}
    assert rows(store, AuditEvent, AuditEvent.entity == "phone")


def test_wrong_number_without_saying_which_is_refused_when_ambiguous(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    case = place("A-11", phones=(PHONE, OTHER_PHONE))
    before = footprint(store, case.id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput("wrong_number"),
            settings=settings,
        ),
    )
    assert error.field == "phone"
    assert footprint(store, case.id) == before


def test_wrong_number_on_a_debtor_with_one_phone_needs_no_number(
    store: db.Store, place, log, users
) -> None:
    case = place("A-12")
    log(users["alice"], case.id, disposition="wrong_number")
    (phone,) = rows(store, Phone, Phone.debtor_id == case.debtor_id)
    assert phone.valid is False


@pytest.mark.parametrize(
    ("code", "kind"),
    [("cease", "cease"), ("hardship", "hardship")],
)
def test_cease_and_hardship_place_their_hold(
    store: db.Store, place, log, users, code, kind
) -> None:
    case = place(f"A-{code}")
    logged = log(users["alice"], case.id, disposition=code)
    (hold,) = rows(store, Hold, Hold.case_id == case.id)
    assert hold.kind == kind and logged.hold_ids == (hold.id,)
    after = read_case(store, case.id)
    assert after.status == "active" and after.routed_reason is None
    assert after.last_contact_at is not None


@pytest.mark.parametrize(
    ("code", "kind", "flag"),
    [("deceased", "deceased", "deceased"), ("bankrupt", "bankruptcy", "bankrupt")],
)
def test_deceased_and_bankrupt_flag_the_debtor_and_route_to_supervisors(
    store: db.Store, place, log, users, code, kind, flag
) -> None:
    case = place(f"A-{code}")
    logged = log(users["alice"], case.id, disposition=code, note="told by the daughter")
    (hold,) = rows(store, Hold, Hold.case_id == case.id)
    assert hold.kind == kind and logged.hold_ids == (hold.id,)
    after = read_case(store, case.id)
    assert after.routed_reason == flag
    assert after.last_contact_at is None  # not the debtor on the line
    with store.read() as session:
        debtor = session.get(Debtor, case.debtor_id)
        assert debtor is not None and getattr(debtor, flag) is True


def test_paid_claim_schedules_a_payment_check_for_tomorrow(
    store: db.Store, place, log, users, now: datetime
) -> None:
    case = place("A-13")
    logged = log(users["alice"], case.id, disposition="paid", note="paid by bank transfer")
    (follow_up,) = rows(store, FollowUp, FollowUp.case_id == case.id)
    assert logged.follow_up_id == follow_up.id
    assert follow_up.reason == "verify payment" and follow_up.due_at == now + timedelta(days=1)
    assert follow_up.owner_id == users["alice"].user_id
    # An explicit follow-up wins over the default.
    other = place("A-14")
    log(
        users["alice"],
        other.id,
        disposition="paid",
        follow_up=FollowUpInput(due_at=now + timedelta(days=3), reason="bank says 3 days"),
    )
    (explicit,) = rows(store, FollowUp, FollowUp.case_id == other.id)
    assert explicit.reason == "bank says 3 days"


def test_an_attempt_completes_only_the_actors_due_follow_ups(
    store: db.Store, place, log, users, settings: Settings, now: datetime
) -> None:
    case = place("A-15")
    earlier = now - timedelta(hours=3)
    with store.write() as session:
        make = lambda due, owner, why: followups.create_follow_up(  # noqa: E731
            session=session,
            now=earlier,
            actor=users["sam"],
            case_id=case.id,
            follow_up=FollowUpInput(due_at=due, reason=why, owner_id=owner),
            settings=settings,
        )
        due_alice = make(now - timedelta(hours=1), users["alice"].user_id, "due")
        future_alice = make(now + timedelta(hours=1), users["alice"].user_id, "later")
        due_sam = make(now - timedelta(hours=1), users["sam"].user_id, "sam's own")
    log(users["alice"], case.id, disposition="no_answer")
    done = {f.id: f.done_at for f in rows(store, FollowUp, FollowUp.case_id == case.id)}
    assert done == {due_alice: now, future_alice: None, due_sam: None}


def test_a_note_only_is_not_an_attempt(store: db.Store, place, users, settings, now) -> None:
    case = place("A-16")
    with store.write() as session:
        note_id = notes.add_note(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            text="  debtor's employer: 北京某公司  ",
            settings=settings,
        )
    (note,) = rows(store, Activity, Activity.id == note_id)
    assert (note.channel, note.note, note.disposition) == (
        "note",
        "debtor's employer: 北京某公司",
        None,
    )
    after = read_case(store, case.id)
    assert after.status == "new" and after.last_attempt_at is None
    assert after.updated_at == now
    for bad, field in (("   ", "note"), ("x" * (settings.max_note_length + 1), "note")):
        before = footprint(store, case.id)
        error = refused(
            store,
            lambda s, bad=bad: notes.add_note(
                session=s,
                now=now,
                actor=users["alice"],
                case_id=case.id,
                text=bad,
                settings=settings,
            ),
        )
        assert error.field == field
        assert footprint(store, case.id) == before


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        (ContactInput("hung_up_angrily"), "disposition"),
        (ContactInput("no_answer", channel="pigeon"), "channel"),
        (ContactInput("no_answer", channel="note"), "channel"),
        (ContactInput("no_answer", direction="sideways"), "direction"),
        (ContactInput("no_answer", phone_e164="+8613700137000"), "phone"),
        (ContactInput("no_answer", phone_id=uuid.uuid4()), "phone"),
        (ContactInput("no_answer", duration_s=-1), "duration_s"),
        (ContactInput("no_answer", note="x" * 4001), "note"),
        (ContactInput("right_party", promise=PromiseInput(100, date(2026, 11, 27))), "disposition"),
        (ContactInput("promise", promise=PromiseInput(0, date(2026, 11, 27))), "amount"),
        (ContactInput("promise", promise=PromiseInput(100, date(2026, 11, 19))), "due_date"),
        (
            ContactInput("plan", plan=PlanInput((PromiseInput(100, date(2026, 12, 1)),))),
            "installments",
        ),
        (ContactInput("plan"), "plan"),
        (
            ContactInput(
                "no_answer",
                follow_up=FollowUpInput(
                    datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None), "x"
                ),
            ),
            "due_at",
        ),
    ],
)
def test_bad_contacts_are_refused_next_to_their_field_and_write_nothing(
    store: db.Store, place, users, settings: Settings, now: datetime, contact, field
) -> None:
    case = place("R-1")
    before = footprint(store, case.id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=contact,
            settings=settings,
        ),
    )
    assert isinstance(error, InvalidInput)
    assert error.field == field, str(error)
    assert len(str(error)) < 200
    assert footprint(store, case.id) == before


def test_contacts_in_the_future_are_refused(store: db.Store, place, users, settings, now) -> None:
    case = place("R-2")
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput("no_answer", occurred_at=now + timedelta(minutes=1)),
            settings=settings,
        ),
    )
    assert error.field == "occurred_at"


def test_a_phone_of_another_debtor_is_refused(store: db.Store, place, users, settings, now) -> None:
    case = place("R-3")
    other = place("R-4", phones=(OTHER_PHONE,))
    (foreign,) = rows(store, Phone, Phone.debtor_id == other.debtor_id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput("no_answer", phone_id=foreign.id),
            settings=settings,
        ),
    )
    assert error.field == "phone"


def test_a_stale_form_is_refused_and_writes_nothing(
    store: db.Store, place, log, users, settings: Settings, now: datetime
) -> None:
    case = place("R-5")
    opened_version = read_case(store, case.id).version
    log(users["sam"], case.id, disposition="right_party")  # someone else, meanwhile
    before = footprint(store, case.id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput("promise", promise=PromiseInput(100, date(2026, 11, 27))),
            settings=settings,
            expected_version=opened_version,
        ),
    )
    assert isinstance(error, StaleEdit)
    assert str(error) == "this case was changed by someone else since you opened it; reload it"
    assert footprint(store, case.id) == before
    # With the current version the same contact goes through, and tells the form the next one.
    current = read_case(store, case.id).version
    with store.write() as session:
        logged = activities.log_contact(
            session=session,
            now=now + timedelta(minutes=1),
            actor=users["alice"],
            case_id=case.id,
            contact=ContactInput("no_answer"),
            settings=settings,
            expected_version=current,
        )
    assert logged.case_version == read_case(store, case.id).version > current


def test_an_agent_cannot_log_on_another_agents_case(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    case = place("R-6")  # alice's
    before = footprint(store, case.id)
    error = refused(
        store,
        lambda s: activities.log_contact(
            session=s,
            now=now,
            actor=users["bob"],
            case_id=case.id,
            contact=ContactInput("right_party"),
            settings=settings,
        ),
    )
    assert isinstance(error, Forbidden)
    error = refused(
        store,
        lambda s: notes.add_note(
            session=s, now=now, actor=users["bob"], case_id=case.id, text="hi", settings=settings
        ),
    )
    assert isinstance(error, Forbidden)
    assert footprint(store, case.id) == before


def test_every_change_of_a_contact_is_audited(store: db.Store, place, log, users, now) -> None:
    case = place("R-7")
    log(
        users["alice"],
        case.id,
        disposition="promise",
        promise=PromiseInput(10_000, date(2026, 11, 30)),
        follow_up=FollowUpInput(now + timedelta(days=9), "remind"),
    )
    with store.read() as session:
        events = session.exec(
            select(AuditEvent.entity, AuditEvent.action).where(
                AuditEvent.at == now, col(AuditEvent.user_id) == users["alice"].user_id
            )
        ).all()
    assert {("activity", "create"), ("promise", "create"), ("follow_up", "create")} <= set(events)
    assert ("case", "update") in set(events)


# --- drafts ------------------------------------------------------------------------------------


def test_drafts_keep_a_form_until_saved_or_discarded(store: db.Store, place, users, now) -> None:
    case = place("D-1")
    alice, sam = users["alice"], users["sam"]
    with store.write() as session:
        assert (
            drafts.load_draft(session=session, actor=alice, case_id=case.id, form="contact") is None
        )
        drafts.save_draft(
            session=session,
            now=now,
            actor=alice,
            case_id=case.id,
            form="contact",
            payload={"disposition": "promise", "note": "half-typed 备注"},
        )
    with store.write() as session:
        drafts.save_draft(
            session=session,
            now=now,
            actor=alice,
            case_id=case.id,
            form="contact",
            payload={"disposition": "promise", "note": "half-typed 备注, more", "amount": "500"},
        )
        drafts.save_draft(
            session=session, now=now, actor=sam, case_id=case.id, form="contact", payload={"a": 1}
        )
    with store.read() as session:
        assert drafts.load_draft(session=session, actor=alice, case_id=case.id, form="contact") == {
            "disposition": "promise",
            "note": "half-typed 备注, more",
            "amount": "500",
        }
        assert drafts.load_draft(session=session, actor=sam, case_id=case.id, form="contact") == {
            "a": 1
        }
        assert drafts.load_draft(session=session, actor=alice, case_id=case.id, form="note") is None
    assert len(rows(store, Draft)) == 2
    with store.write() as session:
        drafts.discard_draft(session=session, actor=alice, case_id=case.id, form="contact")
        drafts.discard_draft(session=session, actor=alice, case_id=case.id, form="contact")
    with store.read() as session:
        assert (
            drafts.load_draft(session=session, actor=alice, case_id=case.id, form="contact") is None
        )
    assert len(rows(store, Draft)) == 1


def test_drafts_follow_case_access_and_hold_only_plain_data(
    store: db.Store, place, users, now
) -> None:
    case = place("D-2")
    with store.write() as session, pytest.raises(Forbidden):
        drafts.save_draft(
            session=session, now=now, actor=users["bob"], case_id=case.id, form="x", payload={}
        )
    with store.write() as session, pytest.raises(InvalidInput) as error:
        drafts.save_draft(
            session=session,
            now=now,
            actor=users["alice"],
            case_id=case.id,
            form="contact",
            payload={"when": now},
        )
    assert error.value.field == "payload"
    assert rows(store, Draft) == []


def test_a_write_race_lost_at_flush_is_a_stale_edit_too(
    store: db.Store, place, users, settings: Settings, now: datetime
) -> None:
    """Where writers do not queue up front (PostgreSQL), the version check happens at UPDATE
    time; losing that race must read like a stale form, not a traceback, and write nothing."""
    case = place("R-8")
    with store.write() as session:
        loaded = session.get(Case, case.id)
        assert loaded is not None
        # Another writer commits in between: the row's version moves under our loaded copy.
        session.connection().execute(
            text("UPDATE collection_case SET version = version + 1 WHERE id = :id"),
            {"id": case.id.hex},
        )
        activities_before = session.exec(select(func.count()).select_from(Activity)).one()
        with pytest.raises(StaleEdit):
            activities.log_contact(
                session=session,
                now=now,
                actor=users["alice"],
                case_id=case.id,
                contact=ContactInput("right_party"),
                settings=settings,
            )
        assert session.exec(select(func.count()).select_from(Activity)).one() == activities_before
