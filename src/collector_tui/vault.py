"""The keys of an encrypted database file: one random database key, wrapped for each user allowed
to open the file and for the team's recovery key.

The database key (32 random bytes, SQLCipher's raw key) never leaves this process in clear: it is
not in a URL, a log, an error, the environment or the process list. On disk it exists only
wrapped, in a side file next to the database (`<file>.keys`, mode 0600):

- for each user: AES-256-GCM under a key derived from the user's password with scrypt (the salt
  and cost are stored with it; the user name is the associated data, so an entry cannot be moved
  to another name). A password change rewraps one entry; the database is not re-encrypted.
- for recovery: sealed to the team's recovery public key (X25519 + HKDF-SHA256 + AES-256-GCM), so
  a laptop holds nothing that opens other laptops; the supervisor's private recovery key opens it
  when an agent has forgotten the password (`recover`).

A wrong password and an unknown user give the same refusal (`WrongPassword`), as a login does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

KEY_BYTES = 32
FORMAT = "collector-tui keys 1"
SQLITE_HEADER = b"SQLite format 3\x00"
# scrypt cost: 2**15 x 8 takes ~32 MB and ~0.1 s here, once per unlock (docs/decisions.md).
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_RECOVERY_INFO = b"collector-tui recovery v1"


class VaultError(Exception):
    """The keys file is missing, unreadable or not ours; the message names no secret."""


class WrongPassword(VaultError):
    def __init__(self) -> None:
        super().__init__("wrong user name or password")


def keys_path(database: Path) -> Path:
    return database.with_name(database.name + ".keys")


def is_encrypted(database: Path) -> bool:
    """A database file that is not plain SQLite: SQLCipher leaves no readable header."""
    try:
        with database.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return False
    return len(head) == len(SQLITE_HEADER) and head != SQLITE_HEADER


def new_database_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def pragma_key(key: bytes) -> str:
    """SQLCipher's raw-key form: no second key derivation at every connection."""
    if len(key) != KEY_BYTES:
        raise VaultError("a database key is 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


# --- the keys file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFile:
    users: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    recovery: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "users": dict(self.users), "recovery": self.recovery}


def read_keys(database: Path) -> KeyFile:
    path = keys_path(database)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VaultError(f"{database.name} is encrypted but its keys file is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise VaultError(f"the keys file of {database.name} cannot be read") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise VaultError(f"the keys file of {database.name} is not a collector-tui keys file")
    users = raw.get("users")
    recovery = raw.get("recovery")
    if not isinstance(users, dict) or not (recovery is None or isinstance(recovery, dict)):
        raise VaultError(f"the keys file of {database.name} is damaged")
    return KeyFile(users=users, recovery=recovery)


def write_keys(database: Path, keys: KeyFile) -> None:
    """Replace the keys file atomically (a crash leaves the old one or the new one)."""
    path = keys_path(database)
    temporary = path.with_name(path.name + ".tmp")
    data = json.dumps(keys.as_json(), indent=1, sort_keys=True).encode()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- wrapping for users ----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def _user_key(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )


def wrap_for_user(key: bytes, username: str, password: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    wrapping = _user_key(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    wrapped = AESGCM(wrapping).encrypt(nonce, key, username.encode("utf-8"))
    return {
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "wrapped": _b64(wrapped),
    }


def unlock(database: Path, username: str, password: str) -> bytes:
    """The database key, unwrapped with this user's password; WrongPassword otherwise."""
    keys = read_keys(database)
    name = _stored_name(keys, username)
    return unwrap_entry(keys.users.get(name), name, password, where=database.name)


def _stored_name(keys: KeyFile, typed: str) -> str:
    """The user name as stored, for a name typed as a login accepts it (spaces, case, fullwidth
    letters: the same folding as accounts.username_key); never a guess between two names."""
    if typed in keys.users:
        return typed
    folded = unicodedata.normalize("NFKC", typed.strip()).casefold()
    matches = [name for name in keys.users if name.casefold() == folded]
    return matches[0] if len(matches) == 1 else typed


def unwrap_entry(entry: Any, name: str, password: str, *, where: str) -> bytes:
    """What `wrap_for_user` wrapped for `name`; WrongPassword for a wrong password or no entry,
    VaultError when the entry is damaged (`where` names its file)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not isinstance(entry, Mapping) or entry.get("kdf") != "scrypt":
        raise WrongPassword()
    try:
        n, r, p = int(entry["n"]), int(entry["r"]), int(entry["p"])
        if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("scrypt cost out of range")
        wrapping = _user_key(password, _unb64(entry["salt"]), n, r, p)
        key = AESGCM(wrapping).decrypt(
            _unb64(entry["nonce"]), _unb64(entry["wrapped"]), name.encode("utf-8")
        )
    except InvalidTag:
        raise WrongPassword() from None
    except (KeyError, ValueError, TypeError):
        raise VaultError(f"the keys in {where} are damaged") from None
    if len(key) != KEY_BYTES:
        raise VaultError(f"the keys in {where} are damaged")
    return key


def allow_user(database: Path, key: bytes, username: str, password: str) -> None:
    """Let `username` open the file with `password` (a new user, or a new password)."""
    keys = read_keys(database)
    users = dict(keys.users)
    users[username] = wrap_for_user(key, username, password)
    write_keys(database, replace(keys, users=users))


def forget_user(database: Path, username: str) -> None:
    keys = read_keys(database)
    write_keys(
        database, replace(keys, users={k: v for k, v in keys.users.items() if k != username})
    )


# --- recovery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryKeys:
    """The team's recovery key pair, raw X25519 bytes. The private half stays with supervisors."""

    private: bytes
    public: bytes


def new_recovery_keys() -> RecoveryKeys:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    private = X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    return RecoveryKeys(
        private=private.private_bytes(
            raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        ),
        public=private.public_key().public_bytes(raw, serialization.PublicFormat.Raw),
    )


def _recovery_cipher_key(shared: bytes, ephemeral_public: bytes, public: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_public + public,
        info=_RECOVERY_INFO,
    ).derive(shared)


def seal_for_recovery(key: bytes, public: bytes) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_recovery_cipher_key(shared, ephemeral_public, public)).encrypt(
        nonce, key, None
    )
    return {
        "public": _b64(public),
        "ephemeral": _b64(ephemeral_public),
        "nonce": _b64(nonce),
        "sealed": _b64(sealed),
    }


def recover_key(database: Path, private: bytes) -> bytes:
    """The database key, opened with the team's private recovery key."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    keys = read_keys(database)
    if keys.recovery is None:
        raise VaultError(f"{database.name} was encrypted without a recovery key")
    entry = keys.recovery
    try:
        own = X25519PrivateKey.from_private_bytes(private)
        ephemeral_public = _unb64(entry["ephemeral"])
        public = _unb64(entry["public"])
        shared = own.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key = AESGCM(_recovery_cipher_key(shared, ephemeral_public, public)).decrypt(
            _unb64(entry["nonce"]), _unb64(entry["sealed"]), None
        )
    except InvalidTag:
        raise VaultError("this recovery key does not open this file") from None
    except (KeyError, ValueError, TypeError):
        raise VaultError(f"the keys file of {database.name} is damaged") from None
    return key


def recovery_public(text: str) -> bytes:
    """A recovery public key as `recovery-key new` prints it (base64 of 32 bytes)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise VaultError("not a recovery public key (44 characters of base64)")
    return raw


def new_keys(key: bytes, users: Mapping[str, str], recovery_public: bytes | None) -> KeyFile:
    """A keys file for a newly encrypted database: each user with their password."""
    return KeyFile(
        users={name: wrap_for_user(key, name, password) for name, password in users.items()},
        recovery=None if recovery_public is None else seal_for_recovery(key, recovery_public),
    )
