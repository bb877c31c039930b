"""Laptops' signing keys (ed25519): made, registered on the master, checked, listed, revoked.

Every laptop holds a private key (`sync_state.device_key`) and signs what it sends; the master
keeps the public half in `sync_device`, under the laptop's device id and the one user it belongs
to. A key is only ever registered over a trusted path:

- a live `sync pull` (or `sync push`): the laptop makes the pair and the agent, logged in on the
  master with their password, registers the public half there directly;
- a briefcase packet: the master makes the pair at `packet export --agent`, registers the public
  half at once and writes the private half into the packet (which already holds the agent's
  password hash and debtors' data: it is as sensitive as the laptop). A laptop made from the
  packet adopts that key; a laptop that has one keeps its own.

No key ever arrives unauthenticated from a laptop. The master takes a push or an outbox packet
only when its device is registered, not revoked, registered to the agent it names, the signature
matches, and its packet id was never received before (a replay). The changes are then applied as
the device's registered user, never as whoever carries the packet or a name written in it.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from collector_tui.i18n import gettext as _
from collector_tui.models import SyncDevice, SyncReceivedPacket, SyncState, User
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, actor_of
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# What is signed starts with what it is, so a signature over one can never pass as the other.
PUSH_CONTEXT = b"collector-tui signed push v1\n"
PACKET_CONTEXT = b"collector-tui signed outbox packet v1\n"
MAX_REASON = 500
MIN_PREFIX = 8


@dataclass(frozen=True)
class IssuedKey:
    """A key pair the master made for a laptop it cannot reach (carried in a briefcase packet)."""

    device_id: uuid.UUID
    private_key: str  # raw ed25519 private key, base64


@dataclass(frozen=True)
class Signed:
    """What a laptop sent, as the master checks it: `message` is exactly the bytes signed."""

    what: str  # "packet" or "push", for the messages
    packet_id: uuid.UUID
    device_id: uuid.UUID
    agent_id: uuid.UUID | None
    master_id: uuid.UUID | None
    message: bytes
    signature: str | None
    digest: str  # a SHA-256 of what was sent, kept with the packet id


@dataclass(frozen=True)
class Device:
    id: uuid.UUID
    user_id: uuid.UUID
    username: str
    label: str | None
    registered_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


# --- keys ---------------------------------------------------------------------------------------


def new_private_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return base64.b64encode(raw).decode()


def _private(private_key: str) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key, validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInput(_("this laptop's device key is damaged: make a new laptop")) from None


def public_key_of(private_key: str) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = _private(private_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(private_key: str, message: bytes) -> str:
    return base64.b64encode(_private(private_key).sign(message)).decode()


def _valid(public_key: str, signature: str, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


# --- registration -----------------------------------------------------------------------------


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _revoked(row: SyncDevice) -> Forbidden:
    when = _when(row.revoked_at) if row.revoked_at is not None else "?"
    return Forbidden(
        _(
            "this laptop (device {id}) was revoked on the master on "
            "{when}: nothing it sends is taken; make a new laptop file"
        ).format(id=row.id, when=when)
    )


def register(
    *,
    session: Session,
    now: datetime,
    device_id: uuid.UUID,
    user_id: uuid.UUID,
    public_key: str,
    label: str | None,
    by: uuid.UUID | None,
    seen: bool = True,
) -> None:
    """Register a laptop's public key for `user_id`, whom the caller has authenticated on the
    master (`seen`: the laptop is on the line now). Registering the same key again only marks
    the device seen; a revoked device, or one registered with another key or to another user, is
    refused."""
    row = session.get(SyncDevice, device_id)
    if row is not None:
        if row.revoked_at is not None:
            raise _revoked(row)
        if row.user_id != user_id or row.public_key != public_key:
            raise Forbidden(
                _(
                    "this laptop's device {device_id} is registered on the "
                    "master with another key or user: make a new laptop file"
                ).format(device_id=device_id)
            )
        row.last_seen_at = now
        session.add(row)
        session.flush()
        return
    session.add(
        SyncDevice(
            id=device_id,
            user_id=user_id,
            public_key=public_key,
            label=(label or "")[:200] or None,
            registered_at=now,
            last_seen_at=now if seen else None,
        )
    )
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=by,
        entity="sync_device",
        entity_id=device_id,
        action="register",
        after={"user_id": user_id, "label": label, "public_key": public_key},
    )


def issue(
    *, session: Session, now: datetime, user_id: uuid.UUID, label: str, by: uuid.UUID | None
) -> IssuedKey:
    """A new device key pair for a laptop to be made from a packet, registered on the master."""
    device_id = uuid.uuid4()
    private_key = new_private_key()
    register(
        session=session,
        now=now,
        device_id=device_id,
        user_id=user_id,
        public_key=public_key_of(private_key),
        label=label,
        by=by,
        seen=False,
    )
    return IssuedKey(device_id, private_key)


# --- what a laptop sends ------------------------------------------------------------------------


def accept(*, session: Session, now: datetime, signed: Signed, courier: Actor) -> Actor:
    """Check a signed push or packet and record it as received; the actor to apply it as (the
    device's registered user). Refusals raise with one line; the caller's transaction then
    applies nothing."""
    what = signed.what
    if not signed.signature:
        raise Forbidden(_("the {what} is not signed by its laptop: refused").format(what=_(what)))
    row = session.get(SyncDevice, signed.device_id)
    if row is None:
        raise Forbidden(
            _(
                "the {what} comes from device {device_id}, which is not "
                "registered on this master: refused"
            ).format(what=_(what), device_id=signed.device_id)
        )
    if row.revoked_at is not None:
        raise Forbidden(
            _("the {what} comes from device {device_id}, revoked on {revoked_at}: refused").format(
                what=_(what), device_id=signed.device_id, revoked_at=_when(row.revoked_at)
            )
        )
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Forbidden(
            _("the {what}'s device belongs to a user who is no longer active: refused").format(
                what=_(what)
            )
        )
    if signed.agent_id != row.user_id:
        raise Forbidden(
            _(
                "the {what} names another agent than its device is "
                "registered to ({username}): refused"
            ).format(what=_(what), username=user.username)
        )
    if not _valid(row.public_key, signed.signature, signed.message):
        raise Forbidden(
            _(
                "the {what}'s signature does not match its device's key "
                "(altered or forged): refused"
            ).format(what=_(what))
        )
    if courier.user_id != row.user_id and not courier.is_supervisor:
        raise Forbidden(
            _("only {username} or a supervisor may apply {username}'s changes").format(
                username=user.username
            )
        )
    seen = session.get(SyncReceivedPacket, signed.packet_id)
    if seen is not None:
        raise Forbidden(
            _(
                "the {what} {packet_id} was already received on {received_at}: a replay, refused"
            ).format(what=_(what), packet_id=signed.packet_id, received_at=_when(seen.received_at))
        )
    session.add(
        SyncReceivedPacket(
            packet_id=signed.packet_id,
            device_id=signed.device_id,
            digest=signed.digest,
            received_at=now,
        )
    )
    row.last_seen_at = now
    session.add(row)
    session.flush()
    return actor_of(user)


# --- supervisors' management --------------------------------------------------------------------


def _require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise Forbidden(_("only a supervisor or an admin manages laptops' devices"))


def _device(row: SyncDevice, names: dict[uuid.UUID, str]) -> Device:
    return Device(
        id=row.id,
        user_id=row.user_id,
        username=names.get(row.user_id, str(row.user_id)),
        label=row.label,
        registered_at=row.registered_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
        revoked_by=names.get(row.revoked_by_id) if row.revoked_by_id else None,
    )


def _names(session: Session) -> dict[uuid.UUID, str]:
    return {user_id: name for user_id, name in session.exec(select(User.id, User.username)).all()}


@reads
def list_devices(*, session: Session, actor: Actor, username: str | None = None) -> list[Device]:
    _require_supervisor(actor)
    statement = select(SyncDevice).order_by(col(SyncDevice.registered_at), col(SyncDevice.id))
    if username is not None:
        user = session.exec(select(User).where(User.username == username.strip())).first()
        if user is None:
            raise NotFound(_("no user named {username}").format(username=repr(username)))
        statement = statement.where(SyncDevice.user_id == user.id)
    names = _names(session)
    return [_device(row, names) for row in session.exec(statement).all()]


def find(*, session: Session, text: str) -> SyncDevice:
    """A device by its id or a unique prefix of at least 8 characters (as `device list` shows)."""
    wanted = text.strip().lower()
    try:
        key: uuid.UUID | None = uuid.UUID(wanted)
    except ValueError:
        key = None
    if key is not None:
        row = session.get(SyncDevice, key)
    else:
        row = None
        if len(wanted.replace("-", "")) >= MIN_PREFIX:
            matches = [
                device
                for device in session.exec(select(SyncDevice)).all()
                if str(device.id).startswith(wanted) or device.id.hex.startswith(wanted)
            ]
            if len(matches) > 1:
                raise InvalidInput(
                    _("{text} names more than one device: give more of its id").format(
                        text=repr(text)
                    )
                )
            row = matches[0] if matches else None
    if row is None:
        raise NotFound(_("no device {text}").format(text=repr(text)))
    return row


@writes
def revoke(
    *, session: Session, now: datetime, actor: Actor, device: str, reason: str | None = None
) -> Device:
    """Revoke a laptop's device: from now on its pushes, packets and pulls are refused."""
    _require_supervisor(actor)
    row = find(session=session, text=device)
    if row.revoked_at is not None:
        raise InvalidInput(
            _("device {id} was already revoked on {revoked_at}").format(
                id=row.id, revoked_at=_when(row.revoked_at)
            )
        )
    why = (reason or "").strip()
    if len(why) > MAX_REASON:
        raise InvalidInput(
            _("the reason is too long (at most {limit} characters)").format(limit=MAX_REASON)
        )
    row.revoked_at = now
    row.revoked_by_id = actor.user_id
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="sync_device",
        entity_id=row.id,
        action="revoke",
        before={"revoked_at": None},
        after={"revoked_at": now, "user_id": row.user_id, "reason": why or None},
    )
    return _device(row, _names(session))


# --- the team's recovery key ---------------------------------------------------------------


@writes
def set_recovery_key(*, session: Session, now: datetime, actor: Actor, public_key: str) -> str:
    """Keep the team's recovery public key on the master: laptop files made by `sync pull` from
    then on are sealed to it too (vault.py). Supervisors; audited (a public key is no secret)."""
    from collector_tui import vault
    from collector_tui.services.sync.state import LAPTOP, master_state

    _require_supervisor(actor)
    try:
        vault.recovery_public(public_key)
    except vault.VaultError as error:
        raise InvalidInput(str(error), field="public_key") from None
    existing = session.get(SyncState, 1)
    if existing is not None and existing.role == LAPTOP:
        raise InvalidInput(_("the recovery key is set on the master"))
    row = master_state(session=session, now=now)
    before = row.recovery_key
    row.recovery_key = public_key.strip()
    session.add(row)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="sync_state",
        entity_id=str(row.id),
        action="recovery_key",
        before={"recovery_key": before},
        after={"recovery_key": row.recovery_key},
    )
    return row.recovery_key


@reads
def recovery_key(*, session: Session) -> str | None:
    row = session.get(SyncState, 1)
    return row.recovery_key if row is not None else None
