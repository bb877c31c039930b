"""Corrections: lifting holds and ending disputes, voiding a contact, withdrawing a promise,
cancelling and rescheduling a plan, moving a follow-up, and the one reason check (min and max)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    TIER_FOLLOW_UP,
    Activity,
    AuditEvent,
    Case,
    FollowUp,
    Hold,
    PaymentPlan,
    Phone,
    Promise,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, corrections, holds, promises, queue
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.services.contacts import book as contacts_book
from collector_tui.services.errors import Forbidden, InvalidInput, StaleEdit
from collector_tui.services.reasons import check_reason
from collector_tui.services.supervision import decisions

WHY = "debtor sent the bank statement"


@pytest.fixture
def work(store: db.Store, settings: Settings, now: datetime):  # noqa: ANN201
    def _work(function: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("now", now)
        kwargs.setdefault("settings", settings)
        with store.write() as session:
            return function(session=session, **kwargs)

    return _work


def read(store: db.Store, model: type, row_id: uuid.UUID) -> Any:
    with store.read() as session:
        row = session.get(model, row_id)
        session.expunge(row)
        return row


def audit_actions(store: db.Store, entity: str, entity_id: uuid.UUID) -> list[str]:
    with store.read() as session:
        return list(
            session.exec(
                select(AuditEvent.action).where(
                    AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id)
                )
            )
        )


def log(work: Any, actor: Actor, case_id: uuid.UUID, code: str, **kw: Any) -> Any:
    extra = {key: kw.pop(key) for key in ("now", "settings") if key in kw}
    return work(
        activities.log_contact,
        actor=actor,
        case_id=case_id,
        contact=ContactInput(disposition=code, **kw),
        **extra,
    )


# --- the reason check ----------------------------------------------------------------------------


def test_one_reason_check_holds_both_limits() -> None:
    assert check_reason("  two   words here ", minimum=10) == "two words here"
    with pytest.raises(InvalidInput, match="at least 10 characters") as short:
        check_reason("too short", minimum=10)
    assert short.value.field == "reason"
    with pytest.raises(InvalidInput, match="at most 500"):
        check_reason("x" * 501)
    with pytest.raises(InvalidInput, match="is required"):
        check_reason("   ")
    assert check_reason("", required=False) is None


def test_short_reasons_are_refused_for_holds_disputes_and_escalations(
    store, place, users, work, settings
) -> None:
    case = place("R-1")
    alice = users["alice"]
    for kind in ("dispute", "hardship"):
        with pytest.raises(InvalidInput, match="at least 10"):
            work(holds.place_hold, actor=alice, case_id=case.id, kind=kind, reason="nope")
    with pytest.raises(InvalidInput, match="at least 10"):
        work(decisions.route_case, actor=alice, case_id=case.id, reason="look")
    with pytest.raises(InvalidInput, match="at least 10"):
        work(decisions.request_legal_escalation, actor=alice, case_id=case.id, reason="sue")
    # The minimum is a setting.
    lenient = replace(settings, min_reason_length=3)
    work(decisions.route_case, actor=alice, case_id=case.id, reason="look", settings=lenient)
    with store.read() as session:
        assert session.exec(select(Hold)).all() == []
    assert read(store, Case, case.id).routed_reason == "look"


# --- holds ---------------------------------------------------------------------------------------


def test_ending_a_dispute_needs_a_supervisor_and_restores_the_status(
    store, place, users, work, now
) -> None:
    case = place("D-1")
    alice, sam = users["alice"], users["sam"]
    log(work, alice, case.id, "no_answer", now=now - timedelta(hours=2))
    work(
        promises.create_promise,
        actor=alice,
        case_id=case.id,
        promise=PromiseInput(10_000, date(2026, 12, 1)),
    )
    work(holds.place_hold, actor=alice, case_id=case.id, kind="dispute", reason=WHY)
    assert read(store, Case, case.id).status == "dispute"
    with pytest.raises(Forbidden, match="only a supervisor can lift a dispute"):
        work(holds.release_holds, actor=alice, case_id=case.id, kind="dispute", reason=WHY)
    with pytest.raises(InvalidInput, match="at least 10"):
        work(holds.release_holds, actor=sam, case_id=case.id, kind="dispute", reason="ok")
    version = read(store, Case, case.id).version
    with pytest.raises(StaleEdit):
        work(
            holds.release_holds,
            actor=sam,
            case_id=case.id,
            kind="dispute",
            reason=WHY,
            expected_version=version - 1,
        )
    done = work(
        holds.release_holds,
        actor=sam,
        case_id=case.id,
        kind="dispute",
        reason="verification sent, debtor accepts",
        expected_version=version,
    )
    assert done.case_status == "promised"  # the promise is still pending
    assert read(store, Case, case.id).status == "promised"
    (hold_id,) = done.hold_ids
    hold = read(store, Hold, hold_id)
    assert hold.released_by_id == sam.user_id and hold.released_at == now
    with store.read() as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(hold_id), AuditEvent.action == "release"
            )
        ).one()
        notes = session.exec(select(Activity.note).where(Activity.case_id == case.id)).all()
    assert event.before == {"released_at": None, "released_by_id": None}
    assert event.after and event.after["reason"] == "verification sent, debtor accepts"
    assert "Dispute ended: verification sent, debtor accepts" in notes
    with pytest.raises(InvalidInput, match="no active dispute hold"):
        work(holds.release_holds, actor=sam, case_id=case.id, kind="dispute", reason=WHY)


def test_a_dispute_on_a_never_called_case_ends_as_new(store, place, users, work) -> None:
    case = place("D-2")
    work(holds.place_hold, actor=users["alice"], case_id=case.id, kind="dispute", reason=WHY)
    work(holds.release_holds, actor=users["sam"], case_id=case.id, kind="dispute", reason=WHY)
    assert read(store, Case, case.id).status == "new"


@pytest.mark.parametrize(
    ("kind", "agent_may"),
    [
        ("hardship", True),
        ("dispute", False),
        ("complaint", False),
        ("cease", False),
        ("legal", False),
        ("bankruptcy", False),
        ("deceased", False),
    ],
)
def test_which_holds_an_agent_may_lift(store, place, users, work, kind, agent_may) -> None:
    case = place(f"K-{kind}")
    work(holds.place_hold, actor=users["alice"], case_id=case.id, kind=kind, reason=WHY)
    lifter = users["alice"] if agent_may else users["sam"]
    if not agent_may:
        with pytest.raises(Forbidden):
            work(holds.release_holds, actor=users["alice"], case_id=case.id, kind=kind, reason=WHY)
    work(holds.release_holds, actor=lifter, case_id=case.id, kind=kind, reason=WHY)
    with store.read() as session:
        assert holds.active_holds(session=session, case_id=case.id) == []
    # Another agent never touches alice's case.
    work(holds.place_hold, actor=users["alice"], case_id=case.id, kind=kind, reason=WHY)
    with pytest.raises(Forbidden, match="not assigned to you"):
        work(holds.release_holds, actor=users["bob"], case_id=case.id, kind=kind, reason=WHY)


def test_a_lifted_hold_puts_the_case_back_in_the_queue_at_once(
    store, place, users, work, settings, now
) -> None:
    case = place("Q-1")
    alice = users["alice"]
    morning = now - timedelta(hours=8)  # 14:30 in Shanghai: within the calling hours
    work(holds.place_hold, actor=alice, case_id=case.id, kind="hardship", reason=WHY, now=morning)

    def callable_ids() -> set[uuid.UUID]:
        with store.write() as session:
            page = queue.build_queue(
                session=session, now=morning, agent_id=alice.user_id, settings=settings
            )
        return {e.case_id for e in page.entries}

    assert case.id not in callable_ids()
    work(
        holds.release_holds, actor=alice, case_id=case.id, kind="hardship", reason=WHY, now=morning
    )
    assert case.id in callable_ids()


# --- voiding a contact ---------------------------------------------------------------------------


def test_voiding_a_contact_keeps_it_and_undoes_its_own_consequences(
    store, place, users, work, now
) -> None:
    case = place("V-1", phones=("+86 138 0013 8000", "+86 139 1234 5678"))
    alice = users["alice"]
    earlier = log(work, alice, case.id, "no_answer", now=now - timedelta(hours=3))
    with store.read() as session:
        wrong_phone = session.exec(
            select(Phone).where(Phone.debtor_id == case.debtor_id, Phone.e164 == "+8613912345678")
        ).one()
    logged = log(
        work,
        alice,
        case.id,
        "wrong_number",
        phone_e164="+8613912345678",
        now=now - timedelta(hours=1),
    )
    assert read(store, Phone, wrong_phone.id).valid is False
    assert read(store, Case, case.id).last_attempt_at == now - timedelta(hours=1)

    with pytest.raises(InvalidInput, match="at least 10"):
        work(corrections.void_contact, actor=alice, activity_id=logged.activity_id, reason="oops")
    done = work(
        corrections.void_contact,
        actor=alice,
        activity_id=logged.activity_id,
        reason="logged on the wrong number",
    )
    case_now = read(store, Case, case.id)
    assert case_now.last_attempt_at == now - timedelta(hours=3)
    assert read(store, Phone, wrong_phone.id).valid is True
    void = read(store, Activity, done.row_id)
    assert void.voids_id == logged.activity_id and void.channel == "note"
    assert (void.note or "").startswith("Voided call · ")
    assert (void.note or "").endswith(": logged on the wrong number")
    assert read(store, Activity, logged.activity_id).disposition == "wrong_number"  # kept
    assert "void" in audit_actions(store, "activity", logged.activity_id)
    # A void of a void, and a second void, are refused.
    with pytest.raises(InvalidInput, match="a void cannot be voided"):
        work(corrections.void_contact, actor=alice, activity_id=done.row_id, reason=WHY)
    with pytest.raises(InvalidInput, match="already voided"):
        work(corrections.void_contact, actor=alice, activity_id=logged.activity_id, reason=WHY)
    # The last attempt voided: the case is new again. The note is written in the language of
    # whoever voids (docs/decisions.md, Languages), the reason as typed.
    from collector_tui.i18n import language

    with language("zh_CN"):
        done = work(
            corrections.void_contact, actor=alice, activity_id=earlier.activity_id, reason=WHY
        )
    note = read(store, Activity, done.row_id).note or ""
    assert note.startswith("已作废 ") and note.endswith("：" + WHY), note
    assert "call" not in note.removesuffix(WHY) and "no_answer" not in note
    case_now = read(store, Case, case.id)
    assert case_now.last_attempt_at is None and case_now.status == "new"


def test_voiding_a_wrong_number_keeps_a_mark_given_since(store, place, users, work, now) -> None:
    """The void undoes only its own mark: a number marked disconnected afterwards stays so."""
    case = place("V-9", phones=("+86 138 0013 8000", "+86 139 1234 5678"))
    alice = users["alice"]
    logged = log(
        work,
        alice,
        case.id,
        "wrong_number",
        phone_e164="+8613912345678",
        now=now - timedelta(hours=1),
    )
    with store.read() as session:
        phone = session.exec(select(Phone).where(Phone.e164 == "+8613912345678")).one()
    assert (phone.status, phone.valid, phone.is_primary) == ("wrong", False, False)
    work(
        contacts_book.set_contact_status,
        actor=alice,
        case_id=case.id,
        value="+86 139 1234 5678",
        status="disconnected",
        reason="operator says the line is closed",
    )
    work(
        corrections.void_contact,
        actor=alice,
        activity_id=logged.activity_id,
        reason="logged on the wrong number",
    )
    after = read(store, Phone, phone.id)
    assert (after.status, after.valid) == ("disconnected", False)


def test_voiding_a_callback_reopens_and_closes_its_follow_ups(
    store, place, users, work, now
) -> None:
    case = place("V-2")
    alice = users["alice"]
    first = log(
        work,
        alice,
        case.id,
        "callback",
        follow_up=FollowUpInput(due_at=now - timedelta(hours=1), reason="call back after lunch"),
        now=now - timedelta(hours=2),
    )
    second = log(
        work,
        alice,
        case.id,
        "callback",
        follow_up=FollowUpInput(due_at=now + timedelta(days=1), reason="call back tomorrow"),
    )
    assert read(store, FollowUp, first.follow_up_id).done_at == now  # the callback was made
    work(corrections.void_contact, actor=alice, activity_id=second.activity_id, reason=WHY)
    assert read(store, FollowUp, first.follow_up_id).done_at is None
    assert read(store, FollowUp, second.follow_up_id).done_at == now
    assert read(store, Case, case.id).queue_tier == TIER_FOLLOW_UP


def test_who_may_void_and_when(store, place, users, work, now) -> None:
    case = place("V-3")
    alice, sam = users["alice"], users["sam"]
    yesterday = log(work, alice, case.id, "no_answer", now=now - timedelta(days=1))
    by_sam = log(work, sam, case.id, "busy", now=now - timedelta(minutes=30))
    with pytest.raises(Forbidden, match="only on the day it was logged"):
        work(corrections.void_contact, actor=alice, activity_id=yesterday.activity_id, reason=WHY)
    with pytest.raises(Forbidden, match="only the agent who logged"):
        work(corrections.void_contact, actor=alice, activity_id=by_sam.activity_id, reason=WHY)
    with pytest.raises(Forbidden):
        work(corrections.void_contact, actor=users["bob"], activity_id=by_sam.activity_id,
             reason=WHY)  # fmt: skip
    work(corrections.void_contact, actor=sam, activity_id=yesterday.activity_id, reason=WHY)
    promised = log(work, alice, case.id, "promise", promise=PromiseInput(5_000, date(2026, 11, 25)))
    with pytest.raises(InvalidInput, match="promise taken in this contact is still pending"):
        work(corrections.void_contact, actor=alice, activity_id=promised.activity_id, reason=WHY)
    (promise_id,) = promised.promise_ids
    work(corrections.withdraw_promise, actor=alice, promise_id=promise_id, reason=WHY)
    work(corrections.void_contact, actor=alice, activity_id=promised.activity_id, reason=WHY)
    version = read(store, Case, case.id).version
    with pytest.raises(StaleEdit):
        work(
            corrections.void_contact,
            actor=sam,
            activity_id=by_sam.activity_id,
            reason=WHY,
            expected_version=version - 1,
        )


def _us_settings(tmp_path: Path, settings: Settings, *, count: bool) -> Settings:
    folder = tmp_path / "packs"
    folder.mkdir(exist_ok=True)
    (folder / "us.toml").write_text(
        f"[frequency]\nvoided_attempts_count = {'true' if count else 'false'}\n"
    )
    from collector_tui.services.rules.compliance import clear_pack_cache

    clear_pack_cache()
    return replace(settings, packs_dir=str(folder))


@pytest.mark.parametrize("count", [True, False])
def test_a_voided_attempt_counts_toward_the_cap_as_the_pack_says(
    store, place, users, work, settings, tmp_path, count
) -> None:
    from collector_tui.services.rules.compliance import check_case

    pack_settings = _us_settings(tmp_path, settings, count=count)
    case = place("V-US", country="US", currency="USD", phones=("+1 212 555 0123",))
    alice = users["alice"]
    friday_3pm_ny = datetime.fromisoformat("2026-11-20T15:00:00-05:00")
    logged = [
        log(
            work,
            alice,
            case.id,
            "no_answer",
            now=datetime.fromisoformat(f"2026-11-{day}T09:00:00-05:00"),
            settings=pack_settings,
        )
        for day in range(14, 21)
    ]

    def callable_now() -> bool:
        with store.read() as session:
            row = session.get(Case, case.id)
            return check_case(
                session=session, case=row, now=friday_3pm_ny, settings=pack_settings
            ).callable

    assert not callable_now()
    work(
        corrections.void_contact,
        actor=users["sam"],
        activity_id=logged[-1].activity_id,
        reason="logged on the wrong case",
        now=friday_3pm_ny,
        settings=pack_settings,
    )
    assert callable_now() is (not count)


def test_the_shipped_packs_choose_whether_voided_attempts_count() -> None:
    from collector_tui.services.rules.compliance import load_pack

    chosen = {n: load_pack(n, Settings()).voided_attempts_count for n in ("default", "us", "cn")}
    assert chosen == {"default": True, "us": True, "cn": True}
    assert load_pack("uk", Settings()).voided_attempts_count is False


# --- promises, plans, follow-ups -----------------------------------------------------------------


def test_withdrawing_a_promise(store, place, users, work) -> None:
    case = place("P-1")
    alice = users["alice"]
    promise_id = work(
        promises.create_promise,
        actor=alice,
        case_id=case.id,
        promise=PromiseInput(10_000, date(2026, 12, 1)),
    )
    assert read(store, Case, case.id).status == "promised"
    with pytest.raises(StaleEdit):
        work(
            corrections.withdraw_promise,
            actor=alice,
            promise_id=promise_id,
            reason=WHY,
            expected_version=0,
        )
    with pytest.raises(Forbidden):
        work(corrections.withdraw_promise, actor=users["bob"], promise_id=promise_id, reason=WHY)
    version = read(store, Promise, promise_id).version
    work(
        corrections.withdraw_promise,
        actor=alice,
        promise_id=promise_id,
        reason="debtor lost the job",
        expected_version=version,
    )
    assert read(store, Promise, promise_id).status == "cancelled"
    assert read(store, Case, case.id).status == "new"  # never contacted: its facts say new
    assert "cancelled" in audit_actions(store, "promise", promise_id)
    with pytest.raises(InvalidInput, match="already cancelled"):
        work(corrections.withdraw_promise, actor=alice, promise_id=promise_id, reason=WHY)


def _plan(first: date, count: int = 3, amount: int = 10_000) -> PlanInput:
    return PlanInput(
        tuple(PromiseInput(amount, first + timedelta(days=30 * i)) for i in range(count))
    )


def test_cancelling_and_rescheduling_a_plan(store, place, users, work) -> None:
    case = place("PL-1")
    alice = users["alice"]
    plan_id = work(
        promises.create_plan, actor=alice, case_id=case.id, plan=_plan(date(2026, 12, 1))
    )
    with store.read() as session:
        first = session.exec(
            select(Promise).where(Promise.plan_id == plan_id).order_by(Promise.due_date)
        ).first()
    with pytest.raises(InvalidInput, match="installment of a payment plan"):
        work(corrections.withdraw_promise, actor=alice, promise_id=first.id, reason=WHY)
    with store.read() as session:
        assert (
            corrections.plan_to_reschedule(session=session, actor=alice, plan_id=plan_id).remainder
            == 30_000
        )
    done = work(
        corrections.reschedule_plan,
        actor=alice,
        plan_id=plan_id,
        plan=_plan(date(2026, 12, 15), count=6, amount=5_000),
        reason="paid monthly after the new job",
        expected_version=read(store, PaymentPlan, plan_id).version,
    )
    assert read(store, PaymentPlan, plan_id).status == "cancelled"
    assert read(store, PaymentPlan, done.row_id).status == "active"
    assert done.case_status == "plan"
    with store.read() as session:
        link = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(plan_id), AuditEvent.action == "reschedule"
            )
        ).one()
        pending = session.exec(
            select(Promise.plan_id).where(Promise.case_id == case.id, Promise.status == "pending")
        ).all()
        notes = session.exec(select(Activity.note).where(Activity.case_id == case.id)).all()
    assert link.after and link.after["replaced_by"] == str(done.row_id)
    assert set(pending) == {done.row_id} and len(pending) == 6
    assert any(str(plan_id) in (n or "") and "rescheduled" in (n or "") for n in notes)
    with pytest.raises(InvalidInput, match="already cancelled"):
        work(corrections.cancel_plan, actor=alice, plan_id=plan_id, reason=WHY)
    work(corrections.cancel_plan, actor=alice, plan_id=done.row_id, reason=WHY)
    assert read(store, Case, case.id).status == "new"


def test_moving_a_follow_up(store, place, users, work, now) -> None:
    from collector_tui.services.casework.followups import create_follow_up

    case = place("F-1")
    alice = users["alice"]
    follow_up_id = work(
        create_follow_up,
        actor=alice,
        case_id=case.id,
        follow_up=FollowUpInput(due_at=now + timedelta(hours=2), reason="call back later"),
    )
    with pytest.raises(InvalidInput, match="into the past") as past:
        work(
            corrections.move_follow_up,
            actor=alice,
            follow_up_id=follow_up_id,
            due_at=now - timedelta(days=1),
        )
    assert past.value.field == "due_at"
    with pytest.raises(StaleEdit):
        work(
            corrections.move_follow_up,
            actor=alice,
            follow_up_id=follow_up_id,
            due_at=now + timedelta(days=1),
            expected_version=0,
        )
    work(
        corrections.move_follow_up,
        actor=alice,
        follow_up_id=follow_up_id,
        due_at=now + timedelta(days=3),
        reason="debtor travels",
        expected_version=read(store, FollowUp, follow_up_id).version,
    )
    assert read(store, FollowUp, follow_up_id).due_at == now + timedelta(days=3)
    with store.read() as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(follow_up_id), AuditEvent.action == "move"
            )
        ).one()
    assert event.before == {"due_at": (now + timedelta(hours=2)).isoformat()}
