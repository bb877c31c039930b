"""Sync between stores: pull, push, both, status, and packet files — what the CLI and the sync
screen call. Each step is its own short unit of work on each database, so a failure half-way
leaves both consistent: a push whose answers never reached the laptop is sent again and answered
from the master's record of applied operations.

What a laptop sends is signed with its device key (services/sync/devices.py): each push batch
(`push_message`, checked by `receive_push`) and each outbox packet. The master applies it as the
device's registered user; the actor logged in on the master is only who carries it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, update
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import SyncBriefcaseCase, SyncOutboxOp, SyncState
from collector_tui.services.accounts import Actor, actor_of, verify_password
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.sync import capture, codec, devices, locations, packet
from collector_tui.services.sync.apply import ERROR, Answer, ApplyResult, Op, apply_ops
from collector_tui.services.sync.briefcase import (
    Briefcase,
    PullResult,
    apply_briefcase,
    export_briefcase,
)
from collector_tui.services.sync.outbox import (
    AnsweredOp,
    OutboxSummary,
    answered,
    pending_ops,
    record_answers,
    summary,
)
from collector_tui.services.sync.state import SyncInfo, master_state, read_state

Progress = Callable[[str, float], None]
PUSH_BATCH = 500  # operations per master transaction (whole laptop transactions only)


@dataclass(frozen=True)
class PushResult:
    sent: int
    accepted: int
    conflict: int
    rejected: int
    errors: int
    reviews: int
    notes: tuple[str, ...]  # one line per operation that was not simply accepted


@dataclass(frozen=True)
class SyncResult:
    push: PushResult
    pull: PullResult


@dataclass(frozen=True)
class LaptopStatus:
    info: SyncInfo
    outbox: OutboxSummary
    answers: tuple[AnsweredOp, ...]


def _quiet(_text: str, _done: float) -> None:
    return None


def open_master(
    target: str, *, password: str | None = None, ask: Callable[[], str] | None = None
) -> db.Store:
    """The master database named by `target` (a path or URL; its password from the field, the
    environment or `ask`). A SQLite master must exist: syncing never creates one by mistake."""
    url = make_url(db.database_url(target))
    if url.get_backend_name() == "sqlite" and not Path(str(url.database)).exists():
        raise FileNotFoundError(f"no master database at {url.database}")
    engine = db.make_engine(locations.with_password(target, given=password, ask=ask))
    capture.watch(engine)  # as bootstrap does for every engine (the master is never a laptop)
    return db.Store(engine)


def ensure_schema(store: db.Store) -> None:
    if db.current_revision(store) != db.head_revision(store):
        db.upgrade(store)


def laptop_info(store: db.Store) -> SyncInfo | None:
    """The store's sync identity, or None (not initialised, or neither laptop nor master)."""
    if db.current_revision(store) != db.head_revision(store):
        return None
    with store.read() as session:
        return read_state(session=session)


def _require_laptop(store: db.Store) -> SyncInfo:
    info = laptop_info(store)
    if info is None or not info.is_laptop:
        raise InvalidInput(
            _("this database is not a laptop: make one with `sync pull --from MASTER`")
        )
    return info


def _require_master(store: db.Store) -> None:
    if db.current_revision(store) is None:
        raise InvalidInput(_("the master database is not initialised"))
    if db.current_revision(store) != db.head_revision(store):
        raise InvalidInput(_("the master database needs `collector-tui init` (schema out of date)"))
    info = laptop_info(store)
    if info is not None and info.is_laptop:
        raise InvalidInput(_("that database is a laptop, not a master"))


def _master_id(store: db.Store) -> uuid.UUID | None:
    with store.read() as session:
        row = session.get(SyncState, 1)
        return row.device_id if row is not None else None


# --- the laptop's device key ----------------------------------------------------------------------


def _device_key(laptop: db.Store) -> tuple[uuid.UUID, uuid.UUID | None, str | None]:
    """(device id, agent id, private key or None) of a laptop."""
    with laptop.read() as session:
        row = session.get(SyncState, 1)
        if row is None:
            raise InvalidInput(_("this database is not a laptop"))
        return row.device_id, row.agent_id, row.device_key


def _made_key(laptop: db.Store) -> str:
    """The laptop's private key, made on first use (Core: the outbox listener never sees it)."""
    _device, _agent, key = _device_key(laptop)
    if key is not None:
        return key
    key = devices.new_private_key()
    state = codec.table("sync_state")
    with laptop.write() as session:
        session.connection().execute(
            update(state)
            .where(state.c.id == 1, state.c.device_key.is_(None))
            .values(device_key=key)
        )
    _device, _agent, stored = _device_key(laptop)
    return stored or key


def _register(laptop: db.Store, master: db.Store, actor: Actor, now: datetime, how: str) -> None:
    """Register the laptop's key on the master for its agent, who is `actor`, logged in on the
    master just now: the key travels over the live link only."""
    device_id, agent_id, _key = _device_key(laptop)
    if agent_id != actor.user_id:
        return
    public_key = devices.public_key_of(_made_key(laptop))
    label = f"{how} into {Path(str(laptop.engine.url.database or 'laptop')).name}"
    with master.write() as session:
        devices.register(
            session=session,
            now=now,
            device_id=device_id,
            user_id=actor.user_id,
            public_key=public_key,
            label=label,
            by=actor.user_id,
        )


def _adopt(connection: Connection, issued: devices.IssuedKey | None) -> None:
    """A laptop without a key takes the one its briefcase packet carries (made and registered
    on the master at export) with its device id; changes still waiting move to that device."""
    if issued is None:
        return
    state = codec.table("sync_state")
    row = connection.execute(select(state.c.device_id, state.c.device_key)).first()
    if row is None or row.device_key is not None:
        return
    connection.execute(
        update(state)
        .where(state.c.id == 1)
        .values(device_id=issued.device_id, device_key=issued.private_key)
    )
    outbox = codec.table("sync_outbox")
    connection.execute(
        update(outbox)
        .where(outbox.c.state == "pending", outbox.c.device_id == row.device_id)
        .values(device_id=issued.device_id)
    )


def _signing_key(laptop: db.Store) -> tuple[uuid.UUID, str]:
    device_id, _agent, key = _device_key(laptop)
    if key is None:
        raise InvalidInput(
            _(
                "this laptop has no device key yet: its agent registers it "
                "with `sync pull` (or a briefcase packet made on the master)"
            )
        )
    return device_id, key


def _take(
    *,
    session: Session,
    now: datetime,
    signed: devices.Signed,
    ops: Sequence[Op],
    courier: Actor,
) -> Actor:
    """On the master: check what a laptop sent; the actor to apply it as (its device's user)."""
    own = master_state(session=session, now=now).device_id
    if signed.master_id is not None and signed.master_id != own:
        raise Forbidden(
            _("this {what} comes from a laptop of another master database").format(
                what=_(signed.what)
            )
        )
    actor = devices.accept(session=session, now=now, signed=signed, courier=courier)
    if any(op.device_id != signed.device_id for op in ops):
        raise Forbidden(
            _("the {what} carries changes of another device: refused").format(what=_(signed.what))
        )
    return actor


# --- pull ---------------------------------------------------------------------------------------


def _laptop_cases(store: db.Store) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """(cases the laptop carries, ids of its operations awaiting an answer)."""
    with store.read() as session:
        cases = set(
            session.exec(
                select(SyncBriefcaseCase.case_id).where(SyncBriefcaseCase.state != "context")
            ).all()
        )
        waiting = set(
            session.exec(select(SyncOutboxOp.op_id).where(SyncOutboxOp.state == "pending")).all()
        )
    return cases, waiting


def apply_briefcase_to(
    *,
    laptop: db.Store,
    briefcase: Briefcase,
    now: datetime,
    master_location: str | None,
    progress: Progress | None = None,
) -> PullResult:
    ensure_schema(laptop)
    if not laptop.is_sqlite:
        raise InvalidInput(_("a laptop is a SQLite file, not a server database"))
    with laptop.write() as session:
        result = apply_briefcase(
            connection=session.connection(),
            now=now,
            briefcase=briefcase,
            # Never with its password: that comes from the user or the environment each time.
            master=locations.masked(master_location) if master_location else None,
            progress=progress,
        )
        _adopt(session.connection(), briefcase.device)
    capture.forget(laptop.engine)
    return result


def pull(
    *,
    master: db.Store,
    laptop: db.Store,
    actor: Actor,
    now: datetime,
    settings: Settings,
    master_location: str | None = None,
    progress: Progress | None = None,
) -> PullResult:
    """Bring the actor's briefcase from the master into the laptop (created on the first pull)."""
    tell = progress or _quiet
    _require_master(master)
    ensure_schema(laptop)
    info = laptop_info(laptop)
    if info is not None and info.agent_id != actor.user_id:
        raise Forbidden(_("this laptop is another agent's: each agent pulls into their own file"))
    if info is not None:
        if info.master_id is not None and _master_id(master) != info.master_id:
            raise Forbidden(_("this laptop belongs to another master database"))
        # Before anything moves: a revoked laptop is refused, an older one gets its key.
        _register(laptop, master, actor, now, "sync pull")
    laptop_cases, waiting = _laptop_cases(laptop) if info is not None else (set(), set())
    tell(_("reading the briefcase on the master"), 0.05)
    with master.write() as session:
        briefcase = export_briefcase(
            session=session,
            now=now,
            agent_id=actor.user_id,
            settings=settings,
            laptop_cases=laptop_cases,
            waiting_ops=waiting,
        )
    tell(_("writing {count} cases to the laptop").format(count=len(briefcase.case_ids)), 0.3)

    def scaled(text: str, done: float) -> None:
        tell(text, 0.3 + 0.7 * done)

    result = apply_briefcase_to(
        laptop=laptop,
        briefcase=briefcase,
        now=now,
        master_location=master_location,
        progress=scaled,
    )
    if info is None:
        _register(laptop, master, actor, now, "first sync pull")
    return result


# --- push ---------------------------------------------------------------------------------------


def _batches(ops: Sequence[Op]) -> list[list[Op]]:
    """Operations in batches that never split one laptop transaction."""
    batches: list[list[Op]] = []
    current: list[Op] = []
    txn: uuid.UUID | None = None
    for op in ops:
        if current and len(current) >= PUSH_BATCH and op.txn_id != txn:
            batches.append(current)
            current = []
        current.append(op)
        txn = op.txn_id
    if current:
        batches.append(current)
    return batches


def _notes(ops: Sequence[Op], answers: Sequence[Answer]) -> list[str]:
    by_id = {op.op_id: op for op in ops}
    lines: list[str] = []
    for answer in answers:
        if answer.outcome == "accepted":
            continue
        op = by_id.get(answer.op_id)
        what = f"{op.kind} {op.entity}" if op else str(answer.op_id)
        lines.append(f"{answer.outcome}: {what}: {answer.message or ''}".rstrip(": "))
    return lines


def _result(ops: Sequence[Op], results: Sequence[ApplyResult]) -> PushResult:
    answers = [answer for result in results for answer in result.answers]

    def count(outcome: str) -> int:
        return sum(1 for answer in answers if answer.outcome == outcome)

    return PushResult(
        sent=len(ops),
        accepted=count("accepted"),
        conflict=count("conflict"),
        rejected=count("rejected"),
        errors=count(ERROR),
        reviews=sum(result.reviews for result in results),
        notes=tuple(_notes(ops, answers)),
    )


def push(
    *,
    laptop: db.Store,
    master: db.Store,
    actor: Actor,
    now: datetime,
    settings: Settings,
    progress: Progress | None = None,
) -> PushResult:
    """Send the laptop's waiting operations to the master and record its answers."""
    tell = progress or _quiet
    info = _require_laptop(laptop)
    _require_master(master)
    if info.master_id is not None and _master_id(master) != info.master_id:
        raise Forbidden(_("this laptop belongs to another master database"))
    if actor.user_id != info.agent_id and not actor.is_supervisor:
        raise Forbidden(_("only the laptop's agent (or a supervisor) can push its changes"))
    _register(laptop, master, actor, now, "sync push")
    device_id, key = _signing_key(laptop)
    with laptop.read() as session:
        ops = pending_ops(session=session)
    results: list[ApplyResult] = []
    batches = _batches(ops)
    for number, batch in enumerate(batches, start=1):
        tell(
            _("sending {count} changes ({number}/{total})").format(
                count=len(batch), number=number, total=len(batches)
            ),
            0.1 + 0.8 * (number - 1) / len(batches),
        )
        message = push_message(
            device_id=device_id, agent_id=info.agent_id, master_id=info.master_id, now=now,
            ops=batch,
        )  # fmt: skip
        signature = devices.sign(key, message)
        with master.write() as session:
            result = receive_push(
                session=session,
                now=now,
                message=message,
                signature=signature,
                courier=actor,
                settings=settings,
            )
        with laptop.write() as session:
            record_answers(session=session, now=now, answers=result.answers)
        results.append(result)
    with laptop.write() as session:
        row = session.get(SyncState, 1)
        if row is not None:
            row.last_push_at = now
            session.add(row)
    tell(_("sent"), 1.0)
    return _result(ops, results)


def push_message(
    *,
    device_id: uuid.UUID,
    agent_id: uuid.UUID | None,
    master_id: uuid.UUID | None,
    now: datetime,
    ops: Sequence[Op],
) -> bytes:
    """One batch of a live push as the laptop signs it: a fresh packet id (a replay is refused)
    and the operations, as canonical JSON."""
    body = {
        "packet_id": str(uuid.uuid4()),
        "device_id": str(device_id),
        "agent_id": str(agent_id) if agent_id else None,
        "master_id": str(master_id) if master_id else None,
        "created_at": now.isoformat(),
        "ops": [op.to_json() for op in ops],
    }
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return devices.PUSH_CONTEXT + text.encode()


def receive_push(
    *,
    session: Session,
    now: datetime,
    message: bytes,
    signature: str | None,
    courier: Actor,
    settings: Settings,
) -> ApplyResult:
    """On the master: check one signed batch and apply the operations it carries, exactly those
    signed, as the device's registered user."""
    if not message.startswith(devices.PUSH_CONTEXT):
        raise InvalidInput(_("not a signed push"))
    try:
        body = json.loads(message[len(devices.PUSH_CONTEXT) :])
        ops = [Op.from_json(data) for data in body["ops"]]
        signed = devices.Signed(
            what=N_("push"),
            packet_id=uuid.UUID(str(body["packet_id"])),
            device_id=uuid.UUID(str(body["device_id"])),
            agent_id=uuid.UUID(str(body["agent_id"])) if body.get("agent_id") else None,
            master_id=uuid.UUID(str(body["master_id"])) if body.get("master_id") else None,
            message=message,
            signature=signature,
            digest=hashlib.sha256(message).hexdigest(),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as bad:
        raise InvalidInput(_("not a valid push ({bad})").format(bad=bad)) from None
    actor = _take(session=session, now=now, signed=signed, ops=ops, courier=courier)
    return apply_ops(session=session, now=now, actor=actor, ops=ops, settings=settings)


def sync_now(
    *,
    laptop: db.Store,
    master: db.Store,
    actor: Actor,
    now: datetime,
    settings: Settings,
    master_location: str | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Push, then pull: the laptop's changes reach the master and the briefcase comes back.
    `master_location` (what the agent typed) is remembered as the laptop's master."""
    tell = progress or _quiet
    info = _require_laptop(laptop)

    def first(text: str, done: float) -> None:
        tell(_("push: {step}").format(step=text), 0.5 * done)

    def second(text: str, done: float) -> None:
        tell(_("pull: {step}").format(step=text), 0.5 + 0.5 * done)

    pushed = push(
        laptop=laptop, master=master, actor=actor, now=now, settings=settings, progress=first
    )
    pulled = pull(
        master=master,
        laptop=laptop,
        actor=actor,
        now=now,
        settings=settings,
        master_location=master_location or info.master,
        progress=second,
    )
    return SyncResult(push=pushed, pull=pulled)


def status(*, laptop: db.Store) -> LaptopStatus:
    info = _require_laptop(laptop)
    shown = dataclasses.replace(info, master=locations.masked(info.master) or None)
    with laptop.read() as session:
        return LaptopStatus(
            info=shown,
            outbox=summary(session=session),
            answers=tuple(answered(session=session)),
        )


# --- packets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PacketWritten:
    kind: str
    path: Path
    records: int
    cases: int  # briefcase: cases carried; outbox: operations carried


def export_briefcase_packet(
    *,
    master: db.Store,
    agent: Actor,
    path: Path,
    now: datetime,
    settings: Settings,
    by: Actor | None = None,
) -> PacketWritten:
    """Write `agent`'s briefcase to a packet, with a device key made and registered for the
    agent here (a laptop made from the packet cannot reach the master to register one)."""
    _require_master(master)
    with master.write() as session:
        briefcase = export_briefcase(
            session=session, now=now, agent_id=agent.user_id, settings=settings
        )
        issued = devices.issue(
            session=session,
            now=now,
            user_id=agent.user_id,
            label=f"briefcase packet {Path(path).name}",
            by=(by or agent).user_id,
        )
    records = packet.write_briefcase(path, dataclasses.replace(briefcase, device=issued))
    return PacketWritten("briefcase", Path(path), records, len(briefcase.case_ids))


def export_outbox_packet(*, laptop: db.Store, path: Path, now: datetime) -> PacketWritten:
    info = _require_laptop(laptop)
    device_id, key = _signing_key(laptop)
    with laptop.read() as session:
        ops = pending_ops(session=session)
    records = packet.write_outbox(
        path,
        packet.OutboxPacket(
            device_id=device_id,
            agent_id=info.agent_id,
            master_id=info.master_id,
            created_at=now,
            ops=tuple(ops),
            packet_id=uuid.uuid4(),
        ),
        key=key,
    )
    return PacketWritten("outbox", Path(path), records, len(ops))


def briefcase_login(briefcase: Briefcase, username: str, password: str) -> Actor:
    """Log in against the credentials a briefcase carries (a laptop made from a packet)."""
    for row in briefcase.rows.get("app_user", []):
        if row.get("username") == username.strip() and row.get("active", True):
            if verify_password(password, str(row.get("password_hash") or "")):
                from collector_tui.models import User
                from collector_tui.services.sync import codec

                return actor_of(User(**codec.decode_row("app_user", row)))
            break
    raise Forbidden(_("wrong user name or password"))


def apply_briefcase_packet(
    *, laptop: db.Store, briefcase: Briefcase, actor: Actor, now: datetime
) -> PullResult:
    if actor.user_id != briefcase.agent_id:
        raise Forbidden(
            _("this packet is {agent_username}'s briefcase").format(
                agent_username=briefcase.agent_username
            )
        )
    info = laptop_info(laptop)
    return apply_briefcase_to(
        laptop=laptop,
        briefcase=briefcase,
        now=now,
        master_location=info.master if info is not None else None,
    )


def apply_outbox_packet(
    *,
    master: db.Store,
    outbox: packet.OutboxPacket,
    actor: Actor,
    now: datetime,
    settings: Settings,
) -> PushResult:
    """Check an outbox packet's signature and apply it as its device's registered user; `actor`
    is who carries it (that user, or a supervisor), logged in on the master."""
    _require_master(master)
    ops = list(outbox.ops)
    results = []
    owner: Actor | None = None
    # The packet is taken (and recorded against replays) with its first batch.
    for batch in _batches(ops) or [[]]:
        with master.write() as session:
            if owner is None:
                owner = _take(
                    session=session, now=now, signed=outbox.signed_by(), ops=ops, courier=actor
                )
            if batch:
                results.append(
                    apply_ops(session=session, now=now, actor=owner, ops=batch, settings=settings)
                )
    return _result(ops, results)
