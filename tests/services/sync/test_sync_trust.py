"""The master trusts nothing a laptop sends: every operation is admitted as the app would admit the
same action by the authenticated user (services/sync/admission.py), and a refused one is answered
`rejected`, kept for review and never blocks later pushes.

Each attack is sent two ways: as crafted operations applied on the master (what a packet carries)
and, where it matters, as a row hand-inserted into a laptop's outbox and pushed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

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
    Phone,
    Promise,
    Settlement,
    SyncAppliedOp,
    SyncOutboxOp,
    SyncState,
    User,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import followups, payments, promises
from collector_tui.services.errors import Forbidden
from collector_tui.services.sync import codec, engine, hlc, review
from collector_tui.services.sync.apply import Answer, Op, apply_ops

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # as tests/conftest.py
LATER = NOW + timedelta(hours=1)
DEVICE = uuid.UUID("00000000-0000-4000-8000-00000000d1ce")


class Packet:
    """Crafted operations, one laptop transaction, clocks in order."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.txn = uuid.uuid4()
        self.clock: str | None = None
        self.ops: list[Op] = []

    def add(
        self,
        kind: str,
        entity: str,
        entity_id: uuid.UUID | str,
        *,
        case_id: uuid.UUID | None = None,
        row: dict[str, Any] | None = None,
        set_: dict[str, Any] | None = None,
        actor_id: uuid.UUID | None | str = "self",
        base_version: int | None = None,
        clock: str | None = None,
    ) -> Op:
        self.clock = clock or hlc.tick(self.clock, NOW + timedelta(minutes=5), DEVICE.hex)
        payload: dict[str, Any] = {}
        if row is not None:
            payload["row"] = codec.encode_row({"id": entity_id, **row})
        if set_ is not None:
            payload["set"] = codec.encode_row(set_)
        made = Op(
            op_id=uuid.uuid4(),
            txn_id=self.txn,
            hlc=self.clock,
            device_id=DEVICE,
            actor_id=self.actor.user_id if actor_id == "self" else actor_id,  # type: ignore[arg-type]
            kind=kind,
            entity=entity,
            entity_id=str(entity_id),
            case_id=case_id,
            base_version=base_version,
            payload=payload,
        )
        self.ops.append(made)
        return made


def apply(store: db.Store, actor: Actor, packet: Packet, now: datetime = LATER) -> list[Answer]:
    with store.write() as session:
        result = apply_ops(
            session=session, now=now, actor=actor, ops=packet.ops, settings=Settings()
        )
    assert all(answer.outcome != "error" for answer in result.answers), result.answers
    return list(result.answers)


def credited_to(store: db.Store, user: Actor) -> int:
    with store.read() as session:
        return len(
            session.exec(select(AuditEvent.id).where(AuditEvent.user_id == user.user_id)).all()
        )


def one(store: db.Store, model: type, key: Any) -> Any:  # noqa: ANN401
    with store.read() as session:
        return session.get(model, key)


def kept_for_review(store: db.Store, answer: Answer) -> SyncAppliedOp:
    row = one(store, SyncAppliedOp, answer.op_id)
    assert row is not None and row.outcome == "rejected"
    assert row.payload is not None and row.payload["op_id"] == str(answer.op_id)
    return row


@pytest.fixture
def bobs(store: db.Store, users: dict[str, Actor], place) -> dict[str, Any]:  # noqa: ANN001
    """Bob's case with a promise and a follow-up of his: what alice must never touch."""
    case = place("B-1", assigned_to_id=users["bob"].user_id, phones=("+86 139 0013 9000",))
    with store.write() as session:
        promise_id = promises.create_promise(
            session=session,
            now=NOW,
            actor=users["bob"],
            case_id=case.id,
            promise=promises.PromiseInput(amount=10_000, due_date=date(2026, 12, 1)),
            settings=Settings(),
        )
        follow_up_id = followups.create_follow_up(
            session=session,
            now=NOW,
            actor=users["bob"],
            case_id=case.id,
            follow_up=followups.FollowUpInput(due_at=NOW + timedelta(days=1), reason="call back"),
            settings=Settings(),
        )
        phone = session.exec(select(Phone).join(Case, Case.debtor_id == Phone.debtor_id)).first()
        db_case = session.get(Case, case.id)
    return {
        "case": db_case,
        "promise_id": promise_id,
        "follow_up_id": follow_up_id,
        "phone_id": phone.id if phone else None,
    }


def snapshot(store: db.Store, case_id: uuid.UUID) -> tuple:
    """Everything on a case and its debtor, as rows (what another agent must not change)."""
    with store.read() as session:
        case = session.get(Case, case_id)
        parts: list[Any] = [
            codec.row_values(case),
            codec.row_values(session.get(Debtor, case.debtor_id)),
        ]
        for model in (Phone,):
            parts += [
                codec.row_values(r)
                for r in session.exec(select(model).where(model.debtor_id == case.debtor_id))
            ]
        for model in (Promise, FollowUp, Hold, Activity, Payment, Settlement):
            parts += sorted(
                (
                    codec.row_values(r)
                    for r in session.exec(select(model).where(model.case_id == case_id))
                ),
                key=lambda values: values["id"],
            )
    return tuple(repr(part) for part in parts)


# --- the write-off --------------------------------------------------------------------------------


def test_an_agent_cannot_settle_her_case_for_one_yuan(
    store: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1", principal=6_504_200)
    alice, sam = users["alice"], users["sam"]
    packet = Packet(alice)
    promise_id, settlement_id, payment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    packet.add(
        "insert",
        "promise",
        promise_id,
        case_id=case.id,
        row={
            "case_id": case.id,
            "amount": 100,
            "due_date": date(2026, 11, 25),
            "created_by_id": alice.user_id,
        },
    )
    packet.add(
        "insert",
        "settlement",
        settlement_id,
        case_id=case.id,
        row={
            "case_id": case.id,
            "amount": 100,
            "balance": 6_504_200,
            "due_date": date(2026, 11, 25),
            "status": "approved",
            "decided_by_id": sam.user_id,
            "decided_at": NOW,
            "requested_by_id": alice.user_id,
            "requested_at": NOW,
            "promise_id": promise_id,
            "updated_at": NOW,
        },
    )
    packet.add(
        "insert",
        "payment",
        payment_id,
        case_id=case.id,
        row={
            "case_id": case.id,
            "amount": 100,
            "received_on": date(2026, 11, 20),
            "created_at": NOW,
        },
    )

    sams = credited_to(store, sam)
    answers = apply(store, alice, packet)

    assert [a.outcome for a in answers] == ["accepted", "rejected", "accepted"]
    assert "another user" in (answers[1].message or "")
    kept_for_review(store, answers[1])
    assert one(store, Settlement, settlement_id) is None
    after = one(store, Case, case.id)
    assert after.status != "settled" and after.balance == 6_504_200 - 100
    assert credited_to(store, sam) == sams  # nothing in the trail credits the supervisor


def test_a_settlement_within_the_agents_own_limit_is_approved_from_a_laptop(
    store: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1", principal=100_000)
    alice = users["alice"]
    with store.write() as session:
        session.get(User, alice.user_id).settlement_limit_pct = 10
    packet = Packet(alice)
    promise_id, settlement_id = uuid.uuid4(), uuid.uuid4()
    terms = {"amount": 95_000, "due_date": date(2026, 11, 30)}
    packet.add(
        "insert",
        "settlement",
        settlement_id,
        case_id=case.id,
        row={
            "case_id": case.id,
            **terms,
            "balance": 100_000,
            "status": "approved",
            "requested_at": NOW,
            "updated_at": NOW,
        },
    )
    packet.add("insert", "promise", promise_id, case_id=case.id, row={"case_id": case.id, **terms})
    packet.add(
        "update",
        "settlement",
        settlement_id,
        case_id=case.id,
        set_={"promise_id": promise_id, "decided_at": NOW},
        base_version=1,
    )

    answers = apply(store, alice, packet)

    assert [a.outcome for a in answers][:2] == ["accepted", "accepted"], answers
    settlement = one(store, Settlement, settlement_id)
    assert settlement.status == "approved" and settlement.promise_id == promise_id
    assert settlement.decided_by_id is None and settlement.requested_by_id == alice.user_id


# --- another agent's case -------------------------------------------------------------------------


def test_updates_and_deletes_on_another_agents_case_are_refused(
    store: db.Store, users: dict[str, Actor], bobs: dict[str, Any]
) -> None:
    alice = users["alice"]
    case = bobs["case"]
    before = snapshot(store, case.id)
    packet = Packet(alice)
    attacks = [
        packet.add(
            "update",
            "promise",
            bobs["promise_id"],
            case_id=case.id,
            set_={"status": "cancelled"},
            base_version=1,
        ),
        packet.add(
            "update",
            "followup",
            bobs["follow_up_id"],
            case_id=case.id,
            set_={"due_at": NOW + timedelta(days=30)},
            base_version=1,
        ),
        packet.add(
            "update",
            "followup",
            bobs["follow_up_id"],
            case_id=case.id,
            set_={"done_at": NOW},
            base_version=1,
        ),
        packet.add("delete", "followup", bobs["follow_up_id"], case_id=case.id, base_version=1),
        packet.add("update", "debtor", case.debtor_id, set_={"name": "Mallory"}, base_version=1),
        packet.add(
            "update",
            "phone",
            bobs["phone_id"],
            set_={"e164": "+12125550123", "time_zones": "America/New_York"},
            base_version=1,
        ),
        packet.add("update", "phone", bobs["phone_id"], set_={"do_not_call": True}, base_version=1),
        packet.add(
            "update",
            "collection_case",
            case.id,
            case_id=case.id,
            set_={"routed_reason": "sent away"},
            base_version=case.version,
        ),
    ]

    answers = apply(store, alice, packet)

    assert [a.outcome for a in answers] == ["rejected"] * len(attacks), answers
    for answer in answers:
        kept_for_review(store, answer)
    assert snapshot(store, case.id) == before


def test_a_row_hand_inserted_into_the_laptop_outbox_is_refused_and_never_blocks_a_push(
    store: db.Store, users: dict[str, Actor], place, bobs: dict[str, Any], tmp_path: Path
) -> None:
    alice = users["alice"]
    mine = place("A-1")
    laptop = bootstrap.open_store(tmp_path / "laptop.db")
    try:
        engine.pull(master=store, laptop=laptop, actor=alice, now=NOW, settings=Settings())
        before = snapshot(store, bobs["case"].id)
        with laptop.write() as session:
            device = session.get(SyncState, 1).device_id
            clock = hlc.tick(None, NOW + timedelta(minutes=1), device.hex)
            for kind, entity, key, payload in (
                ("update", "promise", bobs["promise_id"], {"set": {"status": "cancelled"}}),
                ("insert", "activity", uuid.uuid4(), {"row": {"case_id": "not-a-uuid"}}),
                ("update", "followup", bobs["follow_up_id"], {"set": ["not", "a", "dict"]}),
            ):
                clock = hlc.tick(clock, NOW + timedelta(minutes=1), device.hex)
                session.add(
                    SyncOutboxOp(
                        txn_id=uuid.uuid4(),
                        hlc=clock,
                        device_id=device,
                        actor_id=alice.user_id,
                        kind=kind,
                        entity=entity,
                        entity_id=str(key),
                        case_id=mine.id,
                        base_version=1,
                        payload=payload,
                        created_at=NOW,
                    )
                )

        first = engine.push(
            laptop=laptop, master=store, actor=alice, now=LATER, settings=Settings()
        )
        assert (first.rejected, first.errors) == (3, 0), first.notes
        with laptop.read() as session:
            assert not session.exec(
                select(SyncOutboxOp).where(SyncOutboxOp.state == "pending")
            ).all()
        again = engine.push(
            laptop=laptop, master=store, actor=alice, now=LATER, settings=Settings()
        )
        assert (again.sent, again.errors) == (0, 0)
        assert snapshot(store, bobs["case"].id) == before
    finally:
        laptop.dispose()


# --- forged actors --------------------------------------------------------------------------------


def test_nothing_is_written_in_another_users_name(
    store: db.Store, users: dict[str, Actor], place
) -> None:
    alice, sam = users["alice"], users["sam"]
    case = place("A-1")
    packet = Packet(alice)
    forged_audit = packet.add(
        "insert",
        "auditevent",
        uuid.uuid4(),
        row={
            "at": NOW,
            "user_id": sam.user_id,
            "entity": "collection_case",
            "entity_id": str(case.id),
            "action": "write_off",
            "after": {"balance": 0},
        },
    )
    as_sam = packet.add(
        "insert",
        "activity",
        uuid.uuid4(),
        case_id=case.id,
        row={
            "case_id": case.id,
            "user_id": sam.user_id,
            "occurred_at": NOW,
            "channel": "call",
            "disposition": "no_answer",
            "created_at": NOW,
        },
    )
    sent_as_sam = packet.add(
        "insert",
        "activity",
        uuid.uuid4(),
        case_id=case.id,
        actor_id=sam.user_id,
        row={
            "case_id": case.id,
            "user_id": sam.user_id,
            "occurred_at": NOW,
            "channel": "call",
            "disposition": "no_answer",
            "created_at": NOW,
        },
    )
    honest = packet.add(
        "insert",
        "activity",
        uuid.uuid4(),
        case_id=case.id,
        row={
            "case_id": case.id,
            "occurred_at": NOW,
            "channel": "call",
            "disposition": "no_answer",
            "created_at": NOW,
        },
    )

    sams = credited_to(store, sam)
    answers = {a.op_id: a for a in apply(store, alice, packet)}

    for forged in (forged_audit, as_sam, sent_as_sam):
        assert answers[forged.op_id].outcome == "rejected", answers[forged.op_id]
        assert (
            one(
                store,
                AuditEvent if forged is forged_audit else Activity,
                uuid.UUID(forged.entity_id),
            )
            is None
        )
    assert answers[honest.op_id].outcome == "accepted"
    assert one(store, Activity, uuid.UUID(honest.entity_id)).user_id == alice.user_id
    with store.read() as session:
        trail = session.exec(
            select(AuditEvent).where(AuditEvent.entity_id == honest.entity_id)
        ).one()
        assert trail.user_id == alice.user_id and trail.after["via"] == "sync"
    assert credited_to(store, sam) == sams


# --- values the app would refuse ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "row", "why"),
    [
        ("promise", {"amount": 10**15, "due_date": date(2026, 12, 1)}, "more than the whole debt"),
        ("promise", {"amount": -5_000, "due_date": date(2026, 12, 1)}, "above zero"),
        ("promise", {"amount": 1_000, "due_date": date(9999, 12, 31)}, "1900"),
        (
            "activity",
            {
                "occurred_at": NOW,
                "channel": "call",
                "disposition": "no_answer",
                "note": "x" * 5_000_000,
            },
            "at most 4000 characters",
        ),
        ("activity", {"occurred_at": NOW, "channel": "pigeon"}, "unknown channel"),
        (
            "activity",
            {"occurred_at": NOW, "channel": "call", "disposition": "bribe"},
            "unknown disposition",
        ),
        (
            "activity",
            {"occurred_at": datetime(9999, 1, 1, tzinfo=UTC), "channel": "call"},
            "1900",
        ),
        ("hold", {"kind": "nonsense", "placed_at": NOW}, "unknown hold"),
        ("hold", {"kind": "cease", "reason": "r" * 100_000, "placed_at": NOW}, "at most 500"),
        ("followup", {"due_at": NOW, "reason": ""}, "reason is required"),
        ("payment", {"amount": 10**15, "received_on": date(2026, 11, 20)}, "more than the whole"),
        ("payment", {"amount": 100, "received_on": date(1, 1, 1)}, "1900"),
    ],
)
def test_values_the_app_refuses_are_refused_from_a_laptop(
    store: db.Store, users: dict[str, Actor], place, entity: str, row: dict, why: str
) -> None:
    case = place("A-1")
    packet = Packet(users["alice"])
    sent = packet.add(
        "insert", entity, uuid.uuid4(), case_id=case.id, row={"case_id": case.id, **row}
    )
    before = snapshot(store, case.id)

    (answer,) = apply(store, users["alice"], packet)

    assert answer.outcome == "rejected" and why in (answer.message or ""), answer
    kept_for_review(store, answer)
    assert snapshot(store, case.id) == before
    assert one(store, codec.model_for(entity), uuid.UUID(sent.entity_id)) is None


@pytest.mark.parametrize(
    ("entity", "row"),
    [
        ("debtor", {"kind": "alien", "name": "n" * 100_000, "country": "ZZZZ"}),
        ("collection_case", {"client": "X", "client_ref": "Y"}),
        ("app_user", {"username": "eve", "role": "admin"}),
        ("assignment", {}),
        ("phone", {"raw": "+1 212 555 0123", "e164": "+12125550123"}),
        ("sync_device", {}),
    ],
)
def test_master_owned_rows_are_never_created_from_a_laptop(
    store: db.Store, users: dict[str, Actor], place, entity: str, row: dict
) -> None:
    case = place("A-1")
    packet = Packet(users["alice"])
    packet.add("insert", entity, uuid.uuid4(), case_id=case.id, row=row)
    (answer,) = apply(store, users["alice"], packet)
    assert answer.outcome == "rejected", answer


def test_a_clock_far_ahead_is_capped_and_never_moves_the_masters_clock(
    store: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    with store.write() as session:
        follow_up_id = followups.create_follow_up(
            session=session,
            now=NOW,
            actor=users["alice"],
            case_id=case.id,
            follow_up=followups.FollowUpInput(due_at=NOW + timedelta(days=1), reason="call"),
            settings=Settings(),
        )
    packet = Packet(users["alice"])
    future = hlc.Hlc(hlc.wall_ms(datetime(2199, 1, 1, tzinfo=UTC)), 0, DEVICE.hex).text()
    sent = packet.add(
        "update",
        "followup",
        follow_up_id,
        case_id=case.id,
        set_={"due_at": NOW + timedelta(days=9)},
        base_version=1,
        clock=future,
    )

    (answer,) = apply(store, users["alice"], packet)

    assert answer.outcome == "accepted"  # her own follow-up: she may move it
    ceiling = LATER + timedelta(days=1)
    with store.read() as session:
        assert hlc.parse(session.get(SyncState, 1).clock).instant < ceiling
        assert hlc.parse(session.get(SyncAppliedOp, sent.op_id).hlc).instant < ceiling


def test_refused_operations_wait_for_a_supervisors_review(
    store: db.Store, users: dict[str, Actor], bobs: dict[str, Any]
) -> None:
    packet = Packet(users["alice"])
    packet.add(
        "update",
        "promise",
        bobs["promise_id"],
        case_id=bobs["case"].id,
        set_={"status": "cancelled"},
        base_version=1,
    )
    (answer,) = apply(store, users["alice"], packet)
    with store.read() as session:
        with pytest.raises(Forbidden):
            review.rejected_ops(session=session, actor=users["alice"])
        (waiting,) = review.rejected_ops(session=session, actor=users["sam"])
    assert waiting.op_id == answer.op_id and waiting.user == "alice"
    assert waiting.payload and waiting.payload["payload"]["set"] == {"status": "cancelled"}
    with store.write() as session:
        review.mark_reviewed(session=session, now=LATER, actor=users["sam"], op_id=answer.op_id)
    with store.read() as session:
        assert review.rejected_ops(session=session, actor=users["sam"]) == []
        assert (
            len(review.rejected_ops(session=session, actor=users["sam"], include_reviewed=True))
            == 1
        )


# --- any packet at all ----------------------------------------------------------------------------

TABLES = sorted(set(codec.BRIEFCASE_TABLES) | {"auditevent", "settlement", "sync_device", "nope"})
FIELDS = sorted(
    {column.name for name in codec.BRIEFCASE_TABLES for column in codec.table(name).columns}
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**19), max_value=10**19),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2026-11-20",
            "9999-12-31",
            "0001-01-01T00:00:00+14:00",
            "2026-11-20T10:00:00+00:00",
            "approved",
            "cancelled",
            "pending",
            "dispute",
            "+12125550123",
            "call",
            "no_answer",
        ]
    ),
)


@pytest.fixture
def world(store: db.Store, users: dict[str, Actor], place, bobs: dict[str, Any]) -> Iterator[dict]:  # noqa: ANN001
    mine = place("A-1")
    yield {"store": store, "users": users, "mine": mine, "bobs": bobs}


def protected(store: db.Store, users: dict[str, Actor], bobs: dict[str, Any]) -> tuple:
    """What alice, an agent, can never change: bob's case, the users, settlement decisions, the
    assignment history, and audit events in anyone else's name."""
    with store.read() as session:
        people = sorted(repr(codec.row_values(u)) for u in session.exec(select(User)))
        decided = sorted(
            repr(codec.row_values(s))
            for s in session.exec(select(Settlement).where(Settlement.status != "pending"))
        )
        others = session.exec(
            select(AuditEvent.id).where(AuditEvent.user_id != users["alice"].user_id)
        ).all()
    return (snapshot(store, bobs["case"].id), tuple(people), tuple(decided), len(others))


TARGETS = {
    "bob_case": "collection_case",
    "bob_promise": "promise",
    "bob_follow_up": "followup",
    "bob_phone": "phone",
    "bob_debtor": "debtor",
    "new": "activity",
    "mine": "collection_case",
}


def typed(column_type: object) -> st.SearchStrategy:
    """Values a column of that type takes, from the plausible to the hostile."""
    name = type(column_type).__name__
    if name == "UTCDateTime":
        plausible = st.sampled_from(
            ["2026-11-20T10:00:00+00:00", "2026-12-20T10:00:00+00:00", "2199-01-01T00:00:00+00:00"]
        )
    elif name == "Date":
        plausible = st.sampled_from(["2026-11-25", "2026-12-31", "9999-12-31"])
    elif name == "Boolean":
        plausible = st.booleans()
    elif name in ("Integer", "BigInteger"):
        plausible = st.sampled_from([0, 1, 100, 10**15, -5_000])
    else:
        plausible = st.sampled_from(
            ["cancelled", "approved", "dispute", "+12125550123", "Mallory", "America/New_York"]
        )
    return st.one_of(plausible, values)


@st.composite
def operations(draw: st.DrawFn) -> tuple:
    target = draw(st.sampled_from(sorted(TARGETS)))
    table = draw(st.one_of(st.just(TARGETS[target]), st.sampled_from(TABLES)))
    columns = (
        codec.table(table).columns if table in codec.BRIEFCASE_TABLES + ("auditevent",) else {}
    )
    names = sorted(columns.keys()) if columns else FIELDS
    fields = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
    payload = {name: draw(typed(columns[name].type) if columns else values) for name in fields}
    kind = draw(st.sampled_from(["update", "update", "insert", "delete", "upsert"]))
    who = draw(st.sampled_from(["alice", "alice", "bob", "sam", None]))
    return kind, table, target, who, payload


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operations(), min_size=1, max_size=8))
def test_random_packets_change_nothing_an_agent_could_not(world: dict, script: list) -> None:
    store, users, bobs = world["store"], world["users"], world["bobs"]
    keys = {
        "bob_case": bobs["case"].id,
        "bob_promise": bobs["promise_id"],
        "bob_follow_up": bobs["follow_up_id"],
        "bob_phone": bobs["phone_id"],
        "bob_debtor": bobs["case"].debtor_id,
        "mine": world["mine"].id,
    }
    before = protected(store, users, bobs)
    packet = Packet(users["alice"])
    for kind, table, target, who, fields in script:
        key = keys.get(target) or uuid.uuid4()
        case_id = bobs["case"].id if target.startswith("bob") else world["mine"].id
        packet.add(
            kind,
            table,
            key,
            case_id=case_id,
            row=fields if kind == "insert" else None,
            set_=fields if kind != "insert" else None,
            actor_id=users[who].user_id if who else None,
            base_version=1,
        )

    apply(store, users["alice"], packet)  # never an error, never an exception

    assert protected(store, users, bobs) == before


def test_a_void_from_a_laptop_follows_the_apps_rules(
    store: db.Store, users: dict[str, Actor], place
) -> None:
    from collector_tui.services.casework import activities
    from collector_tui.services.supervision import assignment

    case = place("A-1", assigned_to_id=users["bob"].user_id)
    logged: dict[str, uuid.UUID] = {}
    for name in ("bob", "alice"):
        with store.write() as session:
            if name == "alice":
                assignment.assign_cases(
                    session=session,
                    now=NOW,
                    actor=users["sam"],
                    case_ids=[case.id],
                    to_user_id=users["alice"].user_id,
                    settings=Settings(),
                )
            logged[name] = activities.log_contact(
                session=session,
                now=NOW,
                actor=users[name],
                case_id=case.id,
                contact=activities.ContactInput(disposition="no_answer"),
                settings=Settings(),
            ).activity_id
    packet = Packet(users["alice"])
    voids = {
        name: packet.add("insert", "activity", uuid.uuid4(), case_id=case.id,
                         row={"case_id": case.id, "occurred_at": NOW + timedelta(minutes=5),
                              "channel": "note", "note": "Voided: logged on the wrong case",
                              "voids_id": logged[name], "created_at": NOW})
        for name in ("bob", "alice")
    }  # fmt: skip

    answers = {a.op_id: a for a in apply(store, users["alice"], packet)}

    refused = answers[voids["bob"].op_id]
    assert refused.outcome == "rejected" and "agent who logged" in (refused.message or "")
    assert answers[voids["alice"].op_id].outcome == "accepted"


def test_a_promise_taken_offline_on_a_case_paid_meanwhile_is_kept_for_review(
    store: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1", principal=100_000)
    with store.write() as session:  # the bank pays it all on the master meanwhile
        payments.post_payment(
            session=session,
            now=NOW,
            actor=users["sam"],
            case_id=case.id,
            amount=100_000,
            received_on=NOW.date(),
            settings=Settings(),
        )
    packet = Packet(users["alice"])
    row = {"case_id": case.id, "amount": 10_000, "due_date": date(2026, 12, 1)}
    sent = packet.add("insert", "promise", uuid.uuid4(), case_id=case.id, row=row)

    (answer,) = apply(store, users["alice"], packet)

    assert answer.outcome == "conflict" and "paid" in (answer.message or "")
    assert one(store, Promise, uuid.UUID(sent.entity_id)) is not None  # a fact is never lost
    with store.read() as session:
        reviews = session.exec(select(FollowUp).where(FollowUp.case_id == case.id)).all()
    assert any("review" in row.reason for row in reviews)
