"""Offline laptops and sync: pull, the outbox, push, conflict rules, packets.

A master (the `store` fixture) and laptops in temporary SQLite files, all in this process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import (
    Activity,
    AuditEvent,
    Case,
    Debtor,
    FollowUp,
    Hold,
    Payment,
    PaymentAllocation,
    Phone,
    Promise,
    SyncAppliedOp,
    SyncBriefcaseCase,
    SyncOutboxOp,
    SyncState,
    SyncTombstone,
)
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import (
    activities,
    followups,
    holds,
    notes,
    payments,
    promises,
    queue,
)
from collector_tui.services.errors import Forbidden, InvalidInput, ServiceError
from collector_tui.services.rules import compliance
from collector_tui.services.supervision import assignment
from collector_tui.services.sync import briefcase, engine, hlc, packet
from collector_tui.services.sync.apply import apply_ops
from collector_tui.services.sync.outbox import pending_ops

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # as tests/conftest.py

LATER = NOW + timedelta(hours=1)
MUCH_LATER = NOW + timedelta(hours=3)


@pytest.fixture
def laptop_path(tmp_path: Path) -> Path:
    return tmp_path / "laptop.db"


@pytest.fixture
def laptop(laptop_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(laptop_path)
    yield store
    store.dispose()


def pull(master: db.Store, laptop: db.Store, actor: Actor, now: datetime = NOW, **kw: object):  # noqa: ANN201
    return engine.pull(
        master=master, laptop=laptop, actor=actor, now=now, settings=Settings(), **kw
    )


def push(laptop: db.Store, master: db.Store, actor: Actor, now: datetime = LATER):  # noqa: ANN201
    return engine.push(laptop=laptop, master=master, actor=actor, now=now, settings=Settings())


def contact(store: db.Store, actor: Actor, case_id: uuid.UUID, code: str = "no_answer", **kw):  # noqa: ANN003, ANN201
    with store.write() as session:
        return activities.log_contact(
            session=session,
            now=kw.pop("now", NOW + timedelta(minutes=30)),
            actor=actor,
            case_id=case_id,
            contact=activities.ContactInput(disposition=code, **kw),
            settings=Settings(),
        )


def rows(store: db.Store, model: type, *where: object) -> list:  # noqa: ANN401
    with store.read() as session:
        return list(session.exec(select(model).where(*where)).all())


def outbox(store: db.Store) -> list[SyncOutboxOp]:
    with store.read() as session:
        return list(session.exec(select(SyncOutboxOp).order_by(col(SyncOutboxOp.hlc))).all())


def converged(master: db.Store, laptop: db.Store, agent: Actor) -> bool:
    """The laptop's active briefcase rows equal the master's rows of the agent's cases."""
    with master.read() as session:
        mine = set(session.exec(select(Case.id).where(Case.assigned_to_id == agent.user_id)))
        on_master = briefcase.case_rows(session.connection(), mine)
    with laptop.read() as session:
        on_laptop = briefcase.laptop_rows(session.connection())
    return on_master == on_laptop


# --- hybrid logical clocks -------------------------------------------------------------------


def test_hlc_orders_as_text_and_never_goes_back() -> None:
    first = hlc.tick(None, NOW, "a")
    same_ms = hlc.tick(first, NOW, "a")
    clock_behind = hlc.tick(same_ms, NOW - timedelta(hours=1), "a")
    assert first < same_ms < clock_behind
    assert hlc.parse(first) < hlc.parse(same_ms) < hlc.parse(clock_behind)
    seen = hlc.tick(None, NOW + timedelta(days=1), "b")
    assert hlc.tick(hlc.receive(clock_behind, seen), NOW, "a") > seen
    assert hlc.parse("garbage") == hlc.parse(None)


# --- pull ---------------------------------------------------------------------------------------


def test_first_pull_creates_the_laptop_with_the_agents_briefcase_and_credentials(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    mine = place("A-1")
    place("A-2")
    theirs = place("B-1", assigned_to_id=users["bob"].user_id)
    with store.write() as session:
        followups.create_follow_up(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=mine.id,
            follow_up=followups.FollowUpInput(due_at=NOW + timedelta(days=1), reason="call back"),
            settings=Settings(),
        )

    result = pull(store, laptop, users["alice"], master_location="master.db")

    assert result.created and result.cases == 2 and result.refreshed == 2
    assert db.current_revision(laptop) == db.head_revision(laptop)
    with laptop.read() as session:
        state = session.get(SyncState, 1)
        assert state is not None and state.role == "laptop" and state.master == "master.db"
        assert state.agent_id == users["alice"].user_id
        refs = set(session.exec(select(Case.client_ref)))
        assert refs == {"A-1", "A-2"}
        assert session.get(Case, theirs.id) is None
        assert session.get(Debtor, theirs.debtor_id) is None
        # The agent logs in offline; nobody else can (their hashes never leave the master).
        assert accounts.authenticate(session=session, username="alice", password="demo")
        with pytest.raises(Forbidden):
            accounts.authenticate(session=session, username="bob", password="demo")
        assert len(session.exec(select(FollowUp)).all()) == 1
    assert converged(store, laptop, users["alice"])
    assert outbox(laptop) == []  # a pull is never captured as local change


def test_pull_refuses_another_agents_laptop_and_a_master_as_laptop(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    place("A-1")
    pull(store, laptop, users["alice"])
    with pytest.raises(Forbidden, match="another agent"):
        pull(store, laptop, users["bob"])
    with pytest.raises(InvalidInput, match="laptop, not a master"):
        pull(laptop, store, users["alice"])


# --- the outbox ----------------------------------------------------------------------------------


def test_every_local_change_lands_in_the_outbox_in_the_same_transaction(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    pull(store, laptop, users["alice"])
    logged = contact(
        laptop,
        users["alice"],
        case.id,
        "promise",
        phone_e164="+8613800138000",
        promise=promises.PromiseInput(amount=20_000, due_date=date(2026, 12, 1)),
    )
    ops = outbox(laptop)
    kinds = {(op.kind, op.entity) for op in ops}
    assert ("insert", "activity") in kinds and ("insert", "promise") in kinds
    assert ("insert", "auditevent") in kinds and ("update", "collection_case") in kinds
    assert {op.entity_id for op in ops} >= {str(logged.activity_id), str(logged.promise_ids[0])}
    assert all(op.case_id == case.id for op in ops)
    assert all(op.actor_id == users["alice"].user_id and op.state == "pending" for op in ops)
    assert len({op.txn_id for op in ops}) == 1
    assert [op.hlc for op in ops] == sorted({op.hlc for op in ops})  # strictly increasing
    update = next(op for op in ops if op.entity == "collection_case")
    assert update.base_version == case.version and "status" in update.payload["set"]

    # A refused change leaves nothing behind, and a rolled-back unit takes its operations along.
    before = len(ops)
    with pytest.raises(ServiceError):
        contact(laptop, users["alice"], case.id, "promise")  # a promise disposition needs one
    with pytest.raises(RuntimeError), laptop.write() as session:
        notes.add_note(
            session=session,
            now=LATER,
            actor=users["alice"],
            case_id=case.id,
            text="x",
            settings=Settings(),
        )
        raise RuntimeError("crash before commit")
    assert len(outbox(laptop)) == before
    with laptop.read() as session:
        assert len(session.exec(select(Activity)).all()) == 1


def test_a_master_database_records_no_operations(
    store: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    contact(store, users["alice"], case.id)
    assert outbox(store) == []


def test_laptop_refuses_placements_and_other_cases(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, settings: Settings
) -> None:
    from collector_tui.services.casework.cases import PlacementInput, add_placement

    place("A-1")
    pull(store, laptop, users["alice"])
    with pytest.raises(Forbidden, match="done on the master"), laptop.write() as session:
        add_placement(
            session=session,
            now=NOW,
            settings=settings,
            placement=PlacementInput(
                client="ACME",
                client_ref="NEW",
                debtor_name="X",
                country="CN",
                currency="CNY",
                principal=1,
                due_date=date(2026, 1, 1),
                placed_date=date(2026, 1, 1),
            ),
        )


# --- push -----------------------------------------------------------------------------------------


def test_push_applies_each_operation_once_and_a_replay_is_harmless(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    pull(store, laptop, users["alice"])
    logged = contact(laptop, users["alice"], case.id, "right_party", note="said next week")
    with laptop.read() as session:
        sent = pending_ops(session=session)

    result = push(laptop, store, users["alice"])

    assert result.sent == len(sent) and result.accepted == len(sent) and result.errors == 0
    assert all(op.state == "accepted" for op in outbox(laptop))
    with store.read() as session:
        activity = session.get(Activity, logged.activity_id)
        assert activity is not None and activity.note == "said next week"
        master_case = session.get(Case, case.id)
        assert master_case.status == "active" and master_case.last_contact_at is not None
        assert len(session.exec(select(SyncAppliedOp)).all()) == len(sent)
        audit_count = len(session.exec(select(AuditEvent)).all())
        before = briefcase.case_rows(session.connection(), {case.id})

    # The same operations again (a lost answer, a packet carried twice): answered, no change.
    with store.write() as session:
        again = apply_ops(
            session=session, now=MUCH_LATER, actor=users["alice"], ops=sent, settings=Settings()
        )
    assert {a.outcome for a in again.answers} == {"accepted"}
    with store.read() as session:
        assert briefcase.case_rows(session.connection(), {case.id}) == before
        assert len(session.exec(select(AuditEvent)).all()) == audit_count
    assert push(laptop, store, users["alice"]).sent == 0

    pull(store, laptop, users["alice"], now=LATER)
    assert converged(store, laptop, users["alice"])
    assert outbox(laptop) == []  # answered and settled by the pull


def test_an_offline_payment_is_posted_on_the_master_with_its_id_and_allocated_there(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    with store.write() as session:
        promise_id = promises.create_promise(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            promise=promises.PromiseInput(amount=30_000, due_date=date(2026, 12, 1)),
            settings=Settings(),
        )
    pull(store, laptop, users["alice"])
    with laptop.write() as session:
        posted = payments.post_payment(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            amount=30_000,
            received_on=NOW.date(),
            settings=Settings(),
            reference="cash-1",
        )
    # Meanwhile the master took a bank payment: the master's allocation must decide.
    with store.write() as session:
        payments.post_payment(
            session=session,
            now=NOW,
            actor=users["sam"],
            case_id=case.id,
            amount=10_000,
            received_on=NOW.date(),
            settings=Settings(),
            reference="bank-1",
        )

    result = push(laptop, store, users["alice"])

    assert result.errors == 0 and result.rejected == 0
    with store.read() as session:
        payment = session.get(Payment, posted.payment_id)
        assert payment is not None and payment.amount == 30_000
        assert payment.recorded_by_id == users["alice"].user_id
        master_case = session.get(Case, case.id)
        assert master_case.balance == 100_000 - 40_000  # derived on the master, not copied
        promise = session.get(Promise, promise_id)
        assert promise.status == "kept" and promise.paid_amount == 30_000
        allocated = session.exec(
            select(PaymentAllocation.amount).where(PaymentAllocation.payment_id == payment.id)
        ).all()
        assert sum(allocated) == 20_000  # the bank payment had paid 10,000 of it first
    pull(store, laptop, users["alice"], now=LATER)
    assert converged(store, laptop, users["alice"])


def test_a_payment_the_master_cannot_take_is_kept_with_a_reversal_and_a_review(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    pull(store, laptop, users["alice"])
    with laptop.write() as session:
        posted = payments.post_payment(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            amount=80_000,
            received_on=NOW.date(),
            settings=Settings(),
        )
    with store.write() as session:
        payments.post_payment(
            session=session,
            now=NOW,
            actor=users["sam"],
            case_id=case.id,
            amount=50_000,
            received_on=NOW.date(),
            settings=Settings(),
        )

    result = push(laptop, store, users["alice"])

    assert result.conflict >= 1 and result.reviews == 1
    with store.read() as session:
        kept = session.get(Payment, posted.payment_id)
        assert kept is not None  # the fact is kept...
        reversal = session.exec(select(Payment).where(Payment.voids_id == kept.id)).one()
        assert reversal.amount == -80_000  # ...and nets to nothing
        assert session.get(Case, case.id).balance == 50_000
        review = session.exec(select(FollowUp).where(FollowUp.owner_id == users["sam"].user_id))
        assert "reported offline by alice" in review.one().reason


def test_a_promise_on_a_case_reassigned_meanwhile_is_kept_credited_and_reviewed(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    pull(store, laptop, users["alice"])
    logged = contact(
        laptop,
        users["alice"],
        case.id,
        "promise",
        phone_e164="+8613800138000",
        promise=promises.PromiseInput(amount=25_000, due_date=date(2026, 12, 5)),
    )
    with store.write() as session:
        assignment.assign_cases(
            session=session,
            now=NOW + timedelta(minutes=40),
            actor=users["sam"],
            case_ids=[case.id],
            to_user_id=users["bob"].user_id,
            settings=Settings(),
        )

    result = push(laptop, store, users["alice"])

    assert result.conflict == 1 and result.reviews == 2
    assert any("moved to bob" in note for note in result.notes)
    with store.read() as session:
        promise = session.get(Promise, logged.promise_ids[0])
        assert promise is not None and promise.created_by_id == users["alice"].user_id
        assert promise.status == "pending"
        master_case = session.get(Case, case.id)
        assert master_case.assigned_to_id == users["bob"].user_id  # assignment: master wins
        assert master_case.status == "promised"
        reviews = session.exec(
            select(FollowUp).where(FollowUp.case_id == case.id, col(FollowUp.done_at).is_(None))
        ).all()
        owners = {row.owner_id for row in reviews if row.reason.startswith("review promise")}
        assert owners == {users["bob"].user_id, users["sam"].user_id}
        assert all("taken offline by alice" in row.reason for row in reviews)
    answers = {op.entity: op for op in outbox(laptop)}
    assert answers["promise"].state == "conflict"


def test_a_case_moved_away_is_read_only_until_its_changes_are_pushed_then_dropped(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1", debtor_name="王小明")
    place("A-2")
    pull(store, laptop, users["alice"])
    contact(laptop, users["alice"], case.id, "right_party", note="offline talk")
    with store.write() as session:
        assignment.assign_cases(
            session=session,
            now=NOW + timedelta(minutes=40),
            actor=users["sam"],
            case_ids=[case.id],
            to_user_id=users["bob"].user_id,
            settings=Settings(),
        )

    first = pull(store, laptop, users["alice"], now=LATER)

    assert first.read_only == 1 and first.purged == 0
    assert [
        b.state for b in rows(laptop, SyncBriefcaseCase, SyncBriefcaseCase.case_id == case.id)
    ] == ["read_only"]
    assert rows(laptop, Debtor, Debtor.name == "王小明")  # kept: its change has not gone back
    with pytest.raises(Forbidden):
        contact(laptop, users["alice"], case.id, "no_answer", now=LATER)
    with laptop.write() as session:
        page = queue.build_queue(
            session=session,
            now=LATER,
            agent_id=users["alice"].user_id,
            settings=Settings(),
            include_held=True,
        )
    assert case.id not in {entry.case_id for entry in (*page.entries, *page.held)}

    push(laptop, store, users["alice"], now=LATER)
    second = pull(store, laptop, users["alice"], now=MUCH_LATER)

    assert second.purged == 1
    assert rows(laptop, Case, Case.id == case.id) == []
    assert rows(laptop, Debtor, Debtor.name == "王小明") == []
    assert rows(laptop, Activity, Activity.case_id == case.id) == []
    assert rows(laptop, AuditEvent, AuditEvent.entity_id == str(case.id)) == []
    assert converged(store, laptop, users["alice"])
    with store.read() as session:  # and the offline talk reached the master
        assert session.exec(select(Activity).where(Activity.note == "offline talk")).one()
    raw = Path(str(laptop.engine.url.database)).read_bytes()
    assert "王小明".encode() not in raw  # secure_delete: not left in free pages either


def test_master_owned_fields_win_and_tightening_stands(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1", phones=("+86 138 0013 8000", "+86 139 0013 9000"))
    with store.write() as session:
        hold_id = holds.place_hold(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            kind="hardship",
            settings=Settings(),
            reason="lost his job last month",
        )
    pull(store, laptop, users["alice"])
    # Lifting a hold is the master's call, even one the agent may lift there (hardship).
    with laptop.write() as session:
        holds.release_hold(
            session=session,
            now=NOW,
            actor=users["alice"],
            hold_id=hold_id,
            settings=Settings(),
            reason="found a new job on Monday",
        )
        assert holds.active_holds(session=session, case_id=case.id) == []
    contact(laptop, users["alice"], case.id, "wrong_number", phone_e164="+8613900139000")

    result = push(laptop, store, users["alice"])

    assert any("holds are lifted on the master" in note for note in result.notes)
    with store.read() as session:
        assert session.get(Hold, hold_id).released_at is None
        wrong = session.exec(select(Phone).where(Phone.e164 == "+8613900139000")).one()
        assert wrong.valid is False  # a wrong number found offline stands
    pull(store, laptop, users["alice"], now=LATER)
    with laptop.read() as session:
        assert session.get(Hold, hold_id).released_at is None  # master's value came back
    assert converged(store, laptop, users["alice"])


def test_agent_editable_fields_apply_unless_the_master_changed_them_later(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    with store.write() as session:
        first = followups.create_follow_up(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            follow_up=followups.FollowUpInput(due_at=NOW + timedelta(days=1), reason="one"),
            settings=Settings(),
        )
        second = followups.create_follow_up(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            follow_up=followups.FollowUpInput(due_at=NOW + timedelta(days=2), reason="two"),
            settings=Settings(),
        )
    pull(store, laptop, users["alice"])
    with laptop.write() as session:
        for follow_up_id in (first, second):
            followups.complete_follow_up(
                session=session,
                now=NOW + timedelta(minutes=10),
                actor=users["alice"],
                follow_up_id=follow_up_id,
                settings=Settings(),
            )
    # The master edits the second one after the laptop's change (a supervisor reschedules it).
    with store.write() as session:
        row = session.get(FollowUp, second)
        row.due_at = NOW + timedelta(days=5)
        row.done_at = None
        row.updated_at = NOW + timedelta(minutes=50)
        session.add(row)

    result = push(laptop, store, users["alice"])

    with store.read() as session:
        assert session.get(FollowUp, first).done_at is not None  # untouched on master: applied
        assert session.get(FollowUp, second).done_at is None  # master's later change won
    assert result.conflict == 1
    assert any("changed done_at" in note for note in result.notes)


def test_deletions_are_tombstones(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    with store.write() as session:
        follow_up_id = followups.create_follow_up(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            follow_up=followups.FollowUpInput(due_at=NOW + timedelta(days=1), reason="x"),
            settings=Settings(),
        )
    pull(store, laptop, users["alice"])
    with laptop.write() as session:
        session.delete(session.get(FollowUp, follow_up_id))
    with laptop.read() as session:
        ops = pending_ops(session=session)
    assert [(op.kind, op.entity) for op in ops] == [("delete", "followup")]

    push(laptop, store, users["alice"])

    with store.read() as session:
        assert session.get(FollowUp, follow_up_id) is None
        assert session.exec(select(SyncTombstone)).one().entity_id == str(follow_up_id)
    # A late change to the deleted row (another device) is refused, never resurrected.
    late = ops[0].__class__(
        **{
            **ops[0].__dict__,
            "op_id": uuid.uuid4(),
            "kind": "update",
            "payload": {"set": {"reason": "y"}, "was": {}},
        }
    )
    with store.write() as session:
        answer = apply_ops(
            session=session, now=LATER, actor=users["alice"], ops=[late], settings=Settings()
        ).answers[0]
    assert answer.outcome == "rejected" and "deleted" in (answer.message or "")


def test_facts_are_never_edited_from_a_laptop(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    pull(store, laptop, users["alice"])
    logged = contact(laptop, users["alice"], case.id, "right_party", note="first words")
    push(laptop, store, users["alice"])
    with laptop.write() as session:  # no service does this; a tampered laptop might
        row = session.get(Activity, logged.activity_id)
        row.note = "other words"
        session.add(row)
    result = push(laptop, store, users["alice"], now=MUCH_LATER)
    assert result.rejected == 1
    with store.read() as session:
        assert session.get(Activity, logged.activity_id).note == "first words"


# --- compliance ----------------------------------------------------------------------------------


def test_a_laptop_cannot_exceed_a_cap_the_master_would_enforce(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    """cn: at most 3 connected calls a day to one debtor, across all the debtor's debts. Bob
    called the debtor twice on his own case (on the master); Alice calls once offline: the
    laptop holds the case exactly as the master does."""
    morning = datetime.fromisoformat("2026-11-20T02:00:00+00:00")  # 10:00 in Shanghai
    mine = place("A-1")
    theirs = place("B-1", assigned_to_id=users["bob"].user_id)
    with store.write() as session:  # one debtor, two debts
        other = session.get(Case, theirs.id)
        other.debtor_id = mine.debtor_id
        session.add(other)
    for minutes in (0, 10):
        contact(
            store, users["bob"], theirs.id, "right_party", now=morning + timedelta(minutes=minutes)
        )
    pull(store, laptop, users["alice"], now=morning + timedelta(minutes=15))
    with laptop.read() as session:
        assert rows(laptop, SyncBriefcaseCase, SyncBriefcaseCase.state == "context")
        assert session.exec(select(Case).where(Case.id == theirs.id)).one().client_ref != "B-1"
        notes = session.exec(select(Activity.note).where(Activity.case_id == theirs.id)).all()
        assert notes and all(note is None for note in notes)  # context carries no notes

    def verdict(store_: db.Store, at: datetime) -> compliance.Verdict:
        with store_.read() as session:
            return compliance.check_case(
                session=session, case=session.get(Case, mine.id), now=at, settings=Settings()
            )

    at = morning + timedelta(minutes=20)
    assert verdict(laptop, at).callable and verdict(store, at).callable
    contact(laptop, users["alice"], mine.id, "right_party", now=at)
    later = at + timedelta(minutes=5)
    offline = verdict(laptop, later)
    assert not offline.callable and "connected" in (offline.reason or "")
    with laptop.write() as session:
        page = queue.build_queue(
            session=session, now=later, agent_id=users["alice"].user_id, settings=Settings()
        )
    assert mine.id not in {entry.case_id for entry in page.entries}
    push(laptop, store, users["alice"], now=later)
    assert verdict(store, later).callable is False  # the master agrees once it knows


def test_the_briefcase_window_covers_the_longest_pack_rule() -> None:
    days = briefcase.history_window_days(Settings())
    assert days >= 8  # us: 7 calls in 7 days, 7 quiet days; plus the local-calendar day


# --- packets -------------------------------------------------------------------------------------


def test_a_packet_file_carries_the_briefcase_and_the_outbox_between_two_sqlite_files(
    store: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    case = place("A-1")
    stick = tmp_path / "stick"
    out_file = stick / "alice-briefcase.jsonl"
    written = engine.export_briefcase_packet(
        master=store, agent=users["alice"], path=out_file, now=NOW, settings=Settings()
    )
    assert written.cases == 1 and out_file.exists()
    carried = packet.read_briefcase(out_file)
    laptop = bootstrap.open_store(tmp_path / "far-away.db")
    try:
        agent = engine.briefcase_login(carried, "alice", "demo")
        with pytest.raises(Forbidden):
            engine.briefcase_login(carried, "alice", "wrong")
        engine.apply_briefcase_packet(laptop=laptop, briefcase=carried, actor=agent, now=NOW)
        engine.apply_briefcase_packet(laptop=laptop, briefcase=carried, actor=agent, now=NOW)
        assert converged(store, laptop, users["alice"])

        logged = contact(laptop, agent, case.id, "right_party", note="via the stick")
        back = stick / "alice-outbox.jsonl"
        assert engine.export_outbox_packet(laptop=laptop, path=back, now=LATER).cases > 0
        outbox_packet = packet.read_outbox(back)
        pushed = engine.apply_outbox_packet(
            master=store, outbox=outbox_packet, actor=users["alice"], now=LATER,
            settings=Settings(),
        )  # fmt: skip
        assert pushed.errors == 0 and pushed.rejected == 0
        # Carried twice: the same signed packet again is a replay, refused; applied once.
        with pytest.raises(Forbidden, match="replay"):
            engine.apply_outbox_packet(
                master=store, outbox=outbox_packet, actor=users["alice"], now=LATER,
                settings=Settings(),
            )  # fmt: skip
        with store.read() as session:
            assert session.get(Activity, logged.activity_id).note == "via the stick"
            assert len(session.exec(select(Activity)).all()) == 1

        engine.export_briefcase_packet(
            master=store, agent=users["alice"], path=out_file, now=MUCH_LATER, settings=Settings()
        )
        result = engine.apply_briefcase_packet(
            laptop=laptop, briefcase=packet.read_briefcase(out_file), actor=agent, now=MUCH_LATER
        )
        assert result.answers > 0 and result.kept_local == 0
        assert converged(store, laptop, users["alice"])
        assert all(op.state != "pending" for op in outbox(laptop))
    finally:
        laptop.dispose()


def test_a_damaged_or_misdirected_packet_is_refused(
    store: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    place("A-1")
    path = tmp_path / "p.jsonl"
    engine.export_briefcase_packet(
        master=store, agent=users["alice"], path=path, now=NOW, settings=Settings()
    )
    text = path.read_text(encoding="utf-8")
    with pytest.raises(InvalidInput, match="outbox packet|briefcase packet"):
        packet.read_outbox(path)
    path.write_text(text.replace("A-1", "A-9"), encoding="utf-8")
    with pytest.raises(InvalidInput, match="damaged"):
        packet.read_briefcase(path)
    path.write_text("\n".join(text.splitlines()[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="incomplete|damaged"):
        packet.read_briefcase(path)
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a collector-tui packet"):
        packet.read_briefcase(path)


def test_a_request_to_the_supervisors_made_offline_reaches_them(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    from collector_tui.models import Settlement
    from collector_tui.services.casework import settlements
    from collector_tui.services.supervision import decisions

    settled = place("A-1")
    routed = place("A-2")
    pull(store, laptop, users["alice"])
    with laptop.write() as session:  # above alice's limit (0%): waits for a supervisor
        view = settlements.request_settlement(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=settled.id,
            amount=60_000,
            due_date=date(2026, 12, 10),
            settings=Settings(),
            note="full and final",
        )
        decisions.route_case(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=routed.id,
            settings=Settings(),
            reason="debtor asks for a manager",
        )

    result = push(laptop, store, users["alice"])

    assert result.rejected == 0 and result.errors == 0
    with store.read() as session:
        settlement = session.get(Settlement, view.id)
        assert settlement is not None and settlement.status == "pending"
        assert settlement.requested_by_id == users["alice"].user_id
        assert session.get(Case, settled.id).routed_reason == decisions.SETTLEMENT_ROUTED
        assert session.get(Case, routed.id).routed_reason == "debtor asks for a manager"
    pull(store, laptop, users["alice"], now=LATER)
    assert converged(store, laptop, users["alice"])
