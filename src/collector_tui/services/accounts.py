"""Users, roles, passwords and who may touch which case."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from collector_tui.models import Case, Role, User
from collector_tui.services import audit
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound

# scrypt from the standard library: memory-hard, no native dependency to install. n=2**14, r=8
# costs ~16 MiB and ~50 ms per check here, fine for a login and harsh for a guesser.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class Actor:
    """The logged-in user, as services need it: identity and role, no ORM state."""

    user_id: uuid.UUID
    username: str
    display_name: str
    role: str
    time_zone: str

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.supervisor, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, user.display_name, user.role, user.time_zone)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise InvalidInput("a username is 1-64 letters, digits, '.', '_' or '-'", field="username")
    return name


def create_user(
    *,
    session: Session,
    now: datetime,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    time_zone: str = "UTC",
    by: Actor | None = None,
) -> Actor:
    name = _check_username(username)
    if role not in Role.__members__:
        raise InvalidInput(f"unknown role {role!r}: use agent, supervisor or admin", field="role")
    if len(password) < 4:
        raise InvalidInput("a password needs at least 4 characters", field="password")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {time_zone!r}", field="time_zone") from None
    if by is not None and not by.is_admin:
        raise Forbidden("only an admin can add users")
    if session.exec(select(User).where(User.username == name)).first() is not None:
        raise InvalidInput(f"user {name!r} already exists", field="username")
    user = User(
        username=name,
        display_name=display_name or name,
        role=role,
        password_hash=hash_password(password),
        time_zone=time_zone,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=by.user_id if by else user.id,
        entity="user",
        entity_id=user.id,
        action="create",
        after=audit.snapshot(user, ("username", "display_name", "role", "time_zone")),
    )
    return actor_of(user)


def authenticate(*, session: Session, username: str, password: str) -> Actor:
    """The actor for these credentials; one message for every refusal (no user enumeration)."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise Forbidden("wrong user name or password")
    return actor_of(user)


def get_actor(*, session: Session, username: str) -> Actor:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return actor_of(user)


def has_users(*, session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def list_users(*, session: Session, role: str | None = None) -> list[Actor]:
    statement = select(User).where(col(User.active)).order_by(col(User.username))
    if role is not None:
        statement = statement.where(User.role == role)
    return [actor_of(u) for u in session.exec(statement)]


def ensure_case_access(actor: Actor, case: Case) -> None:
    """Agents see and change only their own cases; supervisors and admins every case."""
    if actor.is_supervisor or case.assigned_to_id == actor.user_id:
        return
    # Same message whether the case exists or not: an agent learns nothing about others' work.
    raise Forbidden(f"case {case.client_ref} is not assigned to you")
