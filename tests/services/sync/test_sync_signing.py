"""What a laptop sends is signed with its device key; the master takes it only from a registered,
unrevoked device of the agent it names, once, and applies it as that device's user.

A master (the `store` fixture) and laptops in temporary SQLite files; the packets are real files,
altered the way an attacker would alter them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, delete, func, select, update

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import (
    Activity,
    AuditEvent,
    SyncAppliedOp,
    SyncDevice,
    SyncOutboxOp,
    SyncReceivedPacket,
    SyncState,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.sync import devices, engine, packet

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
MUCH_LATER = NOW + timedelta(hours=3)


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


def contact(laptop: db.Store, agent: Actor, case_id: uuid.UUID, note: str = "offline") -> uuid.UUID:
    with laptop.write() as session:
        return activities.log_contact(
            session=session,
            now=NOW + timedelta(minutes=30),
            actor=agent,
            case_id=case_id,
            contact=activities.ContactInput(disposition="right_party", note=note),
            settings=Settings(),
        ).activity_id


def count(store: db.Store, model: type, *where: object) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def laptop_state(laptop: db.Store) -> SyncState:
    with laptop.read() as session:
        row = session.get(SyncState, 1)
        assert row is not None
        session.expunge(row)
        return row


def packet_laptop(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], tmp_path: Path
) -> Actor:
    """A laptop made from a briefcase packet that sam exported for alice."""
    briefcase_file = tmp_path / "stick" / "alice.jsonl"
    engine.export_briefcase_packet(
        master=store,
        agent=users["alice"],
        path=briefcase_file,
        now=NOW,
        settings=Settings(),
        by=users["sam"],
    )
    carried = packet.read_briefcase(briefcase_file)
    agent = engine.briefcase_login(carried, "alice", "demo")
    engine.apply_briefcase_packet(laptop=laptop, briefcase=carried, actor=agent, now=NOW)
    return agent


def outbox_file(laptop: db.Store, tmp_path: Path, name: str = "outbox.jsonl") -> Path:
    path = tmp_path / "stick" / name
    engine.export_outbox_packet(laptop=laptop, path=path, now=LATER)
    return path


def apply_file(store: db.Store, path: Path, courier: Actor) -> engine.PushResult:
    return engine.apply_outbox_packet(
        master=store, outbox=packet.read_outbox(path), actor=courier, now=LATER, settings=Settings()
    )


def rewrite(path: Path, change: object, *, resign_with: str | None = None) -> None:
    """Change a packet's header and records as `change(lines)` does, then fix its checksum (and
    signature, when given the key) so that only what is left to check can catch it."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    end = lines.pop()
    change(lines)  # type: ignore[operator]
    raw = [
        (json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode()
        for v in lines
    ]
    digest = hashlib.sha256(b"".join(raw)).hexdigest()
    end["sha256"] = digest
    end["records"] = len(raw) - 1
    if resign_with is not None:
        end["signature"] = devices.sign(resign_with, packet.signed_message(raw[0], digest))
    path.write_bytes(b"".join(raw) + (json.dumps(end) + "\n").encode())


def nothing_applied(store: db.Store) -> None:
    assert count(store, Activity) == 0
    assert count(store, SyncAppliedOp) == 0
    assert count(store, SyncReceivedPacket) == 0


# --- keys ---------------------------------------------------------------------------------------


def test_a_first_pull_makes_a_key_on_the_laptop_and_registers_its_public_half(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    place("A-1")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings())

    state = laptop_state(laptop)
    assert state.device_key is not None
    with store.read() as session:
        device = session.get(SyncDevice, state.device_id)
        assert device is not None and device.user_id == users["alice"].user_id
        assert device.public_key == devices.public_key_of(state.device_key)
        assert device.revoked_at is None
        assert session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "sync_device", AuditEvent.action == "register"
            )
        ).one()
        # The master never holds the private half.
        stored = [d.model_dump(mode="json") for d in session.exec(select(SyncDevice)).all()]
        assert state.device_key not in json.dumps(stored)

    # A second pull keeps the key and the registration.
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=LATER, settings=Settings())
    assert laptop_state(laptop).device_key == state.device_key
    assert count(store, SyncDevice) == 1


def test_a_briefcase_packet_carries_a_key_registered_at_export(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    place("A-1")
    packet_laptop(store, laptop, users, tmp_path)

    state = laptop_state(laptop)
    assert state.device_key is not None
    with store.read() as session:
        device = session.get(SyncDevice, state.device_id)
        assert device is not None and device.user_id == users["alice"].user_id
        assert device.public_key == devices.public_key_of(state.device_key)
        registered = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "sync_device")
        ).one()
        assert registered.user_id == users["sam"].user_id  # who exported it

    # A later packet carries another key; the laptop keeps its own.
    later_file = tmp_path / "stick" / "alice-2.jsonl"
    engine.export_briefcase_packet(
        master=store, agent=users["alice"], path=later_file, now=LATER, settings=Settings()
    )
    carried = packet.read_briefcase(later_file)
    assert carried.device is not None and carried.device.device_id != state.device_id
    agent = engine.briefcase_login(carried, "alice", "demo")
    engine.apply_briefcase_packet(laptop=laptop, briefcase=carried, actor=agent, now=LATER)
    assert laptop_state(laptop).device_key == state.device_key
    assert laptop_state(laptop).device_id == state.device_id


def test_a_laptop_made_before_keys_registers_one_when_its_agent_pushes(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings())
    with laptop.write() as session:
        session.exec(update(SyncState).values(device_key=None))  # type: ignore[call-overload]
    with store.write() as session:
        session.exec(delete(SyncDevice))  # type: ignore[call-overload]
    contact(laptop, users["alice"], case.id)

    # Carried by a supervisor, it cannot register a key for alice: refused, nothing applied.
    with pytest.raises(InvalidInput, match="no device key"):
        engine.push(laptop=laptop, master=store, actor=users["sam"], now=LATER, settings=Settings())
    assert count(store, Activity) == 0

    result = engine.push(
        laptop=laptop, master=store, actor=users["alice"], now=LATER, settings=Settings()
    )
    assert result.accepted == result.sent > 0
    assert count(store, SyncDevice, SyncDevice.id == laptop_state(laptop).device_id) == 1


def test_a_laptop_made_before_keys_takes_the_key_of_its_next_briefcase_packet(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    case = place("A-1")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings())
    old_device = laptop_state(laptop).device_id
    with laptop.write() as session:
        session.exec(update(SyncState).values(device_key=None))  # type: ignore[call-overload]
    with store.write() as session:
        session.exec(delete(SyncDevice))  # type: ignore[call-overload]
    contact(laptop, users["alice"], case.id, note="waited for a key")
    with pytest.raises(InvalidInput, match="no device key"):
        outbox_file(laptop, tmp_path)

    agent = packet_laptop(store, laptop, users, tmp_path)

    state = laptop_state(laptop)
    assert state.device_key is not None and state.device_id != old_device
    with laptop.read() as session:
        waiting = session.exec(select(SyncOutboxOp).where(SyncOutboxOp.state == "pending")).all()
        assert waiting and {op.device_id for op in waiting} == {state.device_id}
    result = apply_file(store, outbox_file(laptop, tmp_path), agent)
    assert result.accepted == result.sent > 0
    assert count(store, Activity, Activity.note == "waited for a key") == 1


def test_a_pull_from_another_master_registers_nothing_there(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    place("A-1")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings())
    other = bootstrap.open_store(tmp_path / "other-master.db")
    try:
        db.upgrade(other)
        with pytest.raises(Forbidden, match="another master database"):
            engine.pull(
                master=other, laptop=laptop, actor=users["alice"], now=LATER, settings=Settings()
            )
        assert count(other, SyncDevice) == 0
    finally:
        other.dispose()


# --- live pushes --------------------------------------------------------------------------------


def test_a_push_carried_by_a_supervisor_is_applied_as_the_laptops_agent(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings())
    activity_id = contact(laptop, users["alice"], case.id)

    result = engine.push(
        laptop=laptop, master=store, actor=users["sam"], now=LATER, settings=Settings()
    )

    assert result.accepted == result.sent > 0
    with store.read() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None and activity.user_id == users["alice"].user_id
        applied = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "sync", AuditEvent.action == "apply")
        ).one()
        assert applied.user_id == users["alice"].user_id
        assert not session.exec(
            select(AuditEvent).where(
                AuditEvent.user_id == users["sam"].user_id, AuditEvent.at == LATER
            )
        ).all()
        device = session.get(SyncDevice, laptop_state(laptop).device_id)
        assert device is not None and device.last_seen_at == LATER
        assert session.exec(select(func.count()).select_from(SyncReceivedPacket)).one() == 1


def test_a_push_is_checked_against_its_signature_and_never_taken_twice(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings())
    contact(laptop, users["alice"], case.id, note="the real note")
    state = laptop_state(laptop)
    assert state.device_key is not None
    with laptop.read() as session:
        from collector_tui.services.sync.outbox import pending_ops

        ops = pending_ops(session=session)
    message = engine.push_message(
        device_id=state.device_id, agent_id=state.agent_id, master_id=state.master_id, now=LATER,
        ops=ops,
    )  # fmt: skip
    signature = devices.sign(state.device_key, message)

    def receive(body: bytes, signed: str | None) -> object:
        with store.write() as session:
            return engine.receive_push(
                session=session, now=LATER, message=body, signature=signed,
                courier=users["alice"], settings=Settings(),
            )  # fmt: skip

    forged = message.replace(b"the real note", b"a forged note")
    with pytest.raises(Forbidden, match="signature does not match"):
        receive(forged, signature)
    stranger = devices.sign(devices.new_private_key(), message)
    with pytest.raises(Forbidden, match="signature does not match"):
        receive(message, stranger)
    with pytest.raises(Forbidden, match="not signed"):
        receive(message, None)
    nothing_applied(store)

    receive(message, signature)
    assert count(store, Activity, Activity.note == "the real note") == 1
    applied = count(store, SyncAppliedOp)
    with pytest.raises(Forbidden, match="replay"):
        receive(message, signature)
    assert count(store, SyncAppliedOp) == applied


def test_a_revoked_laptop_can_neither_push_nor_pull(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    case = place("A-1")
    engine.pull(master=store, laptop=laptop, actor=users["alice"], now=NOW, settings=Settings())
    contact(laptop, users["alice"], case.id)
    device_id = laptop_state(laptop).device_id
    with store.write() as session:
        with pytest.raises(Forbidden, match="supervisor"):
            devices.revoke(session=session, now=NOW, actor=users["alice"], device=str(device_id))
    with store.write() as session:
        revoked = devices.revoke(
            session=session, now=NOW, actor=users["sam"], device=str(device_id)[:8],
            reason="laptop stolen",
        )  # fmt: skip
    assert revoked.revoked_at == NOW and revoked.revoked_by == "sam"

    for actor in (users["alice"], users["sam"]):
        with pytest.raises(Forbidden, match="revoked"):
            engine.push(laptop=laptop, master=store, actor=actor, now=LATER, settings=Settings())
    with pytest.raises(Forbidden, match="revoked"):
        engine.pull(
            master=store, laptop=laptop, actor=users["alice"], now=LATER, settings=Settings()
        )
    nothing_applied(store)
    with store.read() as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "sync_device", AuditEvent.action == "revoke"
            )
        ).one()
        assert event.user_id == users["sam"].user_id
        assert event.after is not None and event.after["reason"] == "laptop stolen"
    # The outbox waits on the laptop, untouched.
    assert count(laptop, SyncOutboxOp, SyncOutboxOp.state == "pending") > 0


# --- outbox packets -------------------------------------------------------------------------------


def test_a_packet_applied_by_a_supervisor_is_applied_as_the_agent_once(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    case = place("A-1")
    agent = packet_laptop(store, laptop, users, tmp_path)
    activity_id = contact(laptop, agent, case.id)
    path = outbox_file(laptop, tmp_path)

    with pytest.raises(Forbidden, match="only alice or a supervisor"):
        apply_file(store, path, users["bob"])
    nothing_applied(store)

    result = apply_file(store, path, users["sam"])
    assert result.accepted == result.sent > 0 and result.rejected == 0
    with store.read() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None and activity.user_id == users["alice"].user_id
        applied = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "sync", AuditEvent.action == "apply")
        ).one()
        assert applied.user_id == users["alice"].user_id
        assert {row.actor_id for row in session.exec(select(SyncAppliedOp))} == {
            users["alice"].user_id
        }
    audit_events = count(store, AuditEvent)

    with pytest.raises(Forbidden, match="replay"):
        apply_file(store, path, users["sam"])
    assert count(store, AuditEvent) == audit_events
    assert count(store, Activity) == 1


def test_unsigned_and_wrongly_signed_packets_are_refused_with_nothing_applied(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    case = place("A-1")
    agent = packet_laptop(store, laptop, users, tmp_path)
    contact(laptop, agent, case.id, note="the real note")
    path = outbox_file(laptop, tmp_path)
    original = path.read_bytes()
    lines = original.decode().splitlines()
    end = json.loads(lines[-1])

    # Unsigned: the end line without its signature.
    unsigned = {k: v for k, v in end.items() if k != "signature"}
    path.write_text("\n".join([*lines[:-1], json.dumps(unsigned)]) + "\n", encoding="utf-8")
    with pytest.raises(Forbidden, match="not signed"):
        apply_file(store, path, users["alice"])

    # One byte of the signature flipped.
    raw = bytearray(base64.b64decode(end["signature"]))
    raw[10] ^= 0x01
    flipped = {**end, "signature": base64.b64encode(bytes(raw)).decode()}
    path.write_text("\n".join([*lines[:-1], json.dumps(flipped)]) + "\n", encoding="utf-8")
    with pytest.raises(Forbidden, match="signature does not match"):
        apply_file(store, path, users["alice"])

    # An operation changed after signing, the checksum fixed: only the signature catches it.
    path.write_bytes(original)

    def forge(records: list[dict]) -> None:
        for record in records[1:]:
            row = record["op"]["payload"].get("row") or {}
            if row.get("note") == "the real note":
                row["note"] = "a forged note"

    rewrite(path, forge)
    assert b"a forged note" in path.read_bytes()
    packet.read_outbox(path)  # the checksum is right
    with pytest.raises(Forbidden, match="signature does not match"):
        apply_file(store, path, users["alice"])

    nothing_applied(store)


def test_packets_from_unknown_or_misnamed_devices_are_refused(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    case = place("A-1")
    agent = packet_laptop(store, laptop, users, tmp_path)
    contact(laptop, agent, case.id)
    path = outbox_file(laptop, tmp_path)
    original = path.read_bytes()
    key = laptop_state(laptop).device_key
    assert key is not None

    # A device the master never registered, even signed by its own (unregistered) key.
    stranger = uuid.uuid4()

    def unknown(records: list[dict]) -> None:
        records[0]["device_id"] = str(stranger)
        for record in records[1:]:
            record["op"]["device_id"] = str(stranger)

    rewrite(path, unknown, resign_with=devices.new_private_key())
    with pytest.raises(Forbidden, match="not registered"):
        apply_file(store, path, users["alice"])

    # The right device naming another agent (re-signed by the device itself).
    path.write_bytes(original)
    rewrite(path, lambda r: r[0].update(agent_id=str(users["bob"].user_id)), resign_with=key)
    with pytest.raises(Forbidden, match="another agent"):
        apply_file(store, path, users["sam"])

    # Operations of another device inside a properly signed packet.
    path.write_bytes(original)

    def foreign(records: list[dict]) -> None:
        records[1]["op"]["device_id"] = str(stranger)

    rewrite(path, foreign, resign_with=key)
    with pytest.raises(Forbidden, match="another device"):
        apply_file(store, path, users["alice"])

    nothing_applied(store)


def test_a_packet_from_a_revoked_device_is_refused(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    case = place("A-1")
    agent = packet_laptop(store, laptop, users, tmp_path)
    contact(laptop, agent, case.id)
    path = outbox_file(laptop, tmp_path)
    device_id = str(laptop_state(laptop).device_id)
    with store.write() as session:
        devices.revoke(session=session, now=NOW, actor=users["root"], device=device_id)
    with pytest.raises(Forbidden, match="revoked"):
        apply_file(store, path, users["sam"])
    nothing_applied(store)
    with store.read() as session:
        listed = devices.list_devices(session=session, actor=users["sam"], username="alice")
    assert [d.revoked_by for d in listed] == ["root"]


def test_operations_claiming_to_be_a_supervisors_are_never_applied_as_the_supervisor(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    """alice's own laptop (her key) signs operations that claim to be sam's; sam carries it."""
    case = place("A-1")
    agent = packet_laptop(store, laptop, users, tmp_path)
    contact(laptop, agent, case.id, note="claims to be sam")
    path = outbox_file(laptop, tmp_path)
    key = laptop_state(laptop).device_key
    assert key is not None
    sam, alice = str(users["sam"].user_id), str(users["alice"].user_id)

    def as_sam(records: list[dict]) -> None:
        for record in records[1:]:
            op = record["op"]
            op["actor_id"] = sam
            row = op["payload"].get("row") or {}
            for field in ("user_id", "created_by_id"):
                if row.get(field) == alice:
                    row[field] = sam

    rewrite(path, as_sam, resign_with=key)
    result = apply_file(store, path, users["sam"])

    with store.read() as session:
        by_sam = session.exec(
            select(Activity).where(Activity.user_id == users["sam"].user_id)
        ).all()
        assert by_sam == []
        assert not session.exec(
            select(AuditEvent).where(
                AuditEvent.user_id == users["sam"].user_id, AuditEvent.at == LATER
            )
        ).all()
        # Applied as alice, or (the master's rule for a change not the device owner's) rejected.
        activity = session.exec(select(Activity)).first()
        assert activity is None or activity.user_id == users["alice"].user_id
    assert result.rejected > 0 or activity is not None


# --- defensive parsing ----------------------------------------------------------------------------


def _packet_with(tmp_path: Path, record: bytes) -> Path:
    """An outbox packet whose second line is `record` (checksum right)."""
    header = (
        json.dumps(
            {"format": packet.FORMAT, "version": packet.VERSION, "kind": "outbox",
             "device_id": str(uuid.uuid4()), "created_at": NOW.isoformat()}
        ).encode() + b"\n"
    )  # fmt: skip
    body = header + record + b"\n"
    end = {"record": "end", "records": 1, "sha256": hashlib.sha256(body).hexdigest()}
    path = tmp_path / "crafted.jsonl"
    path.write_bytes(body + json.dumps(end).encode() + b"\n")
    return path


def test_deeply_nested_and_huge_lines_are_refused_with_their_line_number(tmp_path: Path) -> None:
    deep = b'{"record":"op","op":' + b"[" * 100 + b"]" * 100 + b"}"
    with pytest.raises(InvalidInput, match=r"crafted.jsonl line 2: nested deeper than 32"):
        packet.read_outbox(_packet_with(tmp_path, deep))

    very_deep = b"[" * 200_000 + b"]" * 200_000  # over the 1 MiB limit too: refused by size
    with pytest.raises(InvalidInput, match="line 2"):
        packet.read_outbox(_packet_with(tmp_path, very_deep))

    huge = b'{"record":"op","note":"' + b"x" * (5 * 1024 * 1024) + b'"}'
    with pytest.raises(InvalidInput, match=r"line 2: longer than 1 MiB"):
        packet.read_outbox(_packet_with(tmp_path, huge))

    # Brackets inside strings are text, not nesting; an escaped backslash ends before the quote.
    texty = json.dumps({"record": "note", "text": "[" * 100 + "{" * 100 + '\\"['}).encode()
    assert packet.read_outbox(_packet_with(tmp_path, texty)).ops == ()
    after_string = b'{"record":"note","text":"a\\\\","n":' + b"[" * 40 + b"]" * 40 + b"}"
    assert json.loads(after_string)["text"] == "a\\"
    with pytest.raises(InvalidInput, match="line 2: nested deeper"):
        packet.read_outbox(_packet_with(tmp_path, after_string))

    for bad, why in (
        (b'{"record": 1' + b"1" * 5000 + b"}", "not valid JSON"),
        (b'{"record": NaN}', "not valid JSON"),
        (b"[1, 2]", "not a packet record"),
    ):
        with pytest.raises(InvalidInput, match=f"line 2: {why}"):
            packet.read_outbox(_packet_with(tmp_path, bad))

    header = tmp_path / "header.jsonl"
    header.write_bytes(b'{"format": ' + b"[" * 50 + b"]" * 50 + b"}\n")
    with pytest.raises(InvalidInput, match="line 1: nested deeper.*not a collector-tui packet"):
        packet.read_outbox(header)


def test_the_limits_leave_a_real_briefcase_alone(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place, tmp_path: Path
) -> None:
    for number in range(5):
        place(f"A-{number}")
    packet_laptop(store, laptop, users, tmp_path)
    assert count(laptop, SyncState) == 1
    with laptop.read() as session:
        assert len(session.exec(select(col(SyncOutboxOp.op_id))).all()) == 0
