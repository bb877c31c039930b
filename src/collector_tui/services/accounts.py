"""Users, roles, passwords and who may touch which case."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import string
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, func, or_, select

from collector_tui.i18n import LANGUAGES, normalize
from collector_tui.i18n import gettext as _
from collector_tui.models import Case, Role, User
from collector_tui.services import audit
from collector_tui.services.context import reads, writes
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
    # The interface's language chosen for this user (i18n.LANGUAGES); None: the environment's.
    language: str | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.supervisor, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def actor_of(user: User) -> Actor:
    return Actor(
        user.id, user.username, user.display_name, user.role, user.time_zone, user.language
    )


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


USERNAME_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + "._-")
USERNAME_MAX = 64
# Letters of other scripts drawn like Latin ones, for the message that names the name a refused
# one imitates (the refusal itself needs no table: only ASCII is accepted).
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁӏԛԝвмнктοαινκρτυχεζηβ",
    "aeopcyxijsdlqwbmhktoaivkptuxezhb",
)


def username_key(text: str) -> str:
    """What two user names are compared by: NFKC-normalised (a fullwidth `ｅｖｅ` is `eve`),
    case-folded, without surrounding spaces. Logins and look-ups use it; new names are stored in
    this form, so a name has exactly one spelling in the database."""
    return unicodedata.normalize("NFKC", text.strip()).casefold()


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'a control character')}"


def _plain_username(username: str) -> str:
    """The stored form of a new user name, or InvalidInput saying exactly what is wrong.

    A user name is plain ASCII (letters, digits, '.', '_', '-'; upper case is stored as lower
    case): it is typed at every login and read in assignments, audit trails and scripts, and only
    plain ASCII has no look-alike spellings (Cyrillic `е` in `eve`, fullwidth `ｅｖｅ`, a
    zero-width space). The name shown in the app (`display_name`) may be in any script.
    """
    name = username.strip()
    rule = _("a user name is 1-{max} ASCII letters, digits, '.', '_' or '-'").format(
        max=USERNAME_MAX
    )
    if not name:
        raise InvalidInput(rule, field="username")
    hidden = [c for c in name if unicodedata.category(c) in _INVISIBLE_CATEGORIES]
    if hidden:
        raise InvalidInput(
            _("a user name may not contain invisible or control characters ({char})").format(
                char=_describe(hidden[0])
            ),
            field="username",
        )
    plain = unicodedata.normalize("NFKC", name)
    if plain != name:
        raise InvalidInput(
            _("{name} is not plain text: it reads as {plain}; type it as {plain}").format(
                name=repr(name), plain=repr(plain)
            ),
            field="username",
        )
    other = [c for c in name if not c.isascii()]
    if other:
        raise InvalidInput(
            _("{rule}: {name} has {char} (a name in any script goes in the display name)").format(
                rule=rule, name=repr(name), char=_describe(other[0])
            ),
            field="username",
        )
    key = name.lower()
    if len(key) > USERNAME_MAX or not set(key) <= USERNAME_CHARACTERS:
        raise InvalidInput(rule, field="username")
    return key


_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"))


def _check_display_name(text: str | None) -> str | None:
    """A display name may be in any script; controls and bidi/format characters (invisible, or
    reordering what follows) have no place in a name."""
    if text is None:
        return None
    name = " ".join(text.split())
    # ZWNJ and ZWJ stay: Persian and Indic names and emoji need them.
    hidden = [
        c
        for c in name
        if unicodedata.category(c) in _INVISIBLE_CATEGORIES and c not in "\u200c\u200d"
    ]
    if hidden:
        raise InvalidInput(
            _("a display name may not contain invisible or control characters ({char})").format(
                char=_describe(hidden[0])
            ),
            field="display_name",
        )
    if len(name) > 200:
        raise InvalidInput(_("a display name has at most 200 characters"), field="display_name")
    return name or None


def _users_named(session: Session, username: str) -> list[User]:
    """Every user whose name has the same `username_key` as `username` (names stored before names
    were kept in that form, in mixed case or another script, included)."""
    key = username_key(username)
    if not key:
        return []
    exact = unicodedata.normalize("NFKC", username.strip())
    found = session.exec(
        select(User).where(
            or_(User.username == key, User.username == exact, func.lower(User.username) == key)
        )
    )
    return [user for user in found if username_key(user.username) == key]


def _user_by_name(session: Session, username: str) -> User | None:
    """The user a typed name means; when two old names fold to the same key, only the exact
    spelling finds one (never a guess between two accounts)."""
    matches = _users_named(session, username)
    if len(matches) == 1:
        return matches[0]
    exact = unicodedata.normalize("NFKC", username.strip())
    return next((user for user in matches if user.username == exact), None)


def _refuse_lookalike(session: Session, username: str) -> None:
    """A new name that only looks plain: name the existing user it imitates, if there is one."""
    if username.strip().isascii():
        return  # plain already; a mere difference of case is "already exists"
    twin = _users_named(session, username)
    if not twin:
        skeleton = username_key(username).translate(_LOOKALIKES)
        if skeleton != username_key(username) and skeleton.isascii():
            twin = _users_named(session, skeleton)
    if twin:
        raise InvalidInput(
            _("{name} looks like the existing user {existing}").format(
                name=repr(username.strip()), existing=repr(twin[0].username)
            ),
            field="username",
        )


@writes
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
    language: str | None = None,
) -> Actor:
    _refuse_lookalike(session, username)
    chosen_language = check_language(language)
    name = _plain_username(username)
    display = _check_display_name(display_name)
    if role not in Role.__members__:
        raise InvalidInput(
            _("unknown role {role}: use agent, supervisor or admin").format(role=repr(role)),
            field="role",
        )
    _check_password(password)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("unknown time zone {zone}").format(zone=repr(time_zone)), field="time_zone"
        ) from None
    if by is not None and not by.is_admin:
        raise Forbidden(_("only an admin can add users"))
    existing = _users_named(session, name)
    if existing:
        typed = username.strip()
        if existing[0].username == typed:
            message = _("user {name} already exists").format(name=repr(typed))
        else:
            message = _("user {name} already exists (as {existing})").format(
                name=repr(typed), existing=repr(existing[0].username)
            )
        raise InvalidInput(message, field="username")
    user = User(
        username=name,
        display_name=display or name,
        role=role,
        password_hash=hash_password(password),
        time_zone=time_zone,
        language=chosen_language,
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
        after=audit.snapshot(user, ("username", "display_name", "role", "time_zone", "language")),
    )
    return actor_of(user)


def check_language(language: str | None) -> str | None:
    """A user's language as stored (`zh_CN`, `en`), None for "the environment's", or
    InvalidInput naming the ones there are."""
    if language is None or not language.strip():
        return None
    if language.strip().lower() in ("none", "default", "env"):
        return None
    chosen = normalize(language)
    if chosen not in LANGUAGES:
        raise InvalidInput(
            _("unknown language {language}: use {choices}").format(
                language=repr(language), choices=", ".join(LANGUAGES)
            ),
            field="language",
        )
    return chosen


@writes
def set_user_language(
    *, session: Session, now: datetime, actor: Actor, username: str, language: str | None
) -> Actor:
    """Set the interface language of `username` (None: the environment's). A user sets their
    own; an admin anyone's. The user table is the master's: a laptop refuses the change
    (services/sync/capture.py) and gets it with the next pull."""
    chosen = check_language(language)
    user = _user_by_name(session, username)
    if user is None:
        raise NotFound(_("no user named {name}").format(name=repr(username.strip())))
    if user.id != actor.user_id and not actor.is_admin:
        raise Forbidden(_("only an admin can change another user's language"))
    if user.language == chosen:
        return actor_of(user)
    before = audit.snapshot(user, ("language",))
    user.language = chosen
    user.updated_at = now
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="user",
        entity_id=user.id,
        action="update",
        before=before,
        after=audit.snapshot(user, ("language",)),
    )
    return actor_of(user)


def _check_password(password: str) -> None:
    if len(password) < 4:
        raise InvalidInput(_("a password needs at least 4 characters"), field="password")


@writes
def change_password(
    *, session: Session, now: datetime, actor: Actor, username: str, password: str
) -> Actor:
    """A user's new password: one's own, or anyone's by an admin. The audit trail says it
    changed, never what to. (An encrypted file's keys are rewrapped by the face: vault.py.)"""
    user = _user_by_name(session, username)
    if user is None:
        raise NotFound(_("no user named {username!r}").format(username=username.strip()))
    if user.id != actor.user_id and not actor.is_admin:
        raise Forbidden(_("only an admin can change another user's password"))
    _check_password(password)
    user.password_hash = hash_password(password)
    user.updated_at = now
    session.add(user)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="user",
        entity_id=user.id,
        action="password",
        after={"password": "changed"},
    )
    return actor_of(user)


@reads
def authenticate(*, session: Session, username: str, password: str) -> Actor:
    """The actor for these credentials; one message for every refusal (no user enumeration)."""
    user = _user_by_name(session, username)
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise Forbidden(_("wrong user name or password"))
    return actor_of(user)


@reads
def get_actor(*, session: Session, username: str) -> Actor:
    user = _user_by_name(session, username)
    if user is None:
        raise NotFound(_("no user named {name}").format(name=repr(username.strip())))
    return actor_of(user)


@reads
def has_users(*, session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


@reads
def list_users(*, session: Session, role: str | None = None) -> list[Actor]:
    statement = select(User).where(col(User.active)).order_by(col(User.username))
    if role is not None:
        statement = statement.where(User.role == role)
    return [actor_of(u) for u in session.exec(statement)]


def ensure_case_access(actor: Actor, case: Case) -> None:
    """Agents see and change only their own cases; supervisors and admins every case."""
    if actor.is_supervisor or case.assigned_to_id == actor.user_id:
        return
    # Reached with a case id (a case the agent was shown, since moved away, or an id from outside):
    # the refusal names nothing of the case, so an id tells an agent nothing about others' work.
    # Lookups by reference never get here with someone else's case (cases.find_case searches the
    # agent's own cases only).
    raise Forbidden(_("this case is not assigned to you"))


def require_supervisor(actor: Actor, what: str) -> None:
    if not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can {what}").format(what=_(what)))
