"""Writing one file per message, named by its idempotency key, so a rerun overwrites it."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


def key_file_name(idempotency_key: str, suffix: str) -> str:
    """A file name for the key: the key itself when it is a plain name, else its SHA-256 (a key
    with a slash or `..` must not choose where the file goes)."""
    if _SAFE_KEY.fullmatch(idempotency_key) and ".." not in idempotency_key:
        return f"{idempotency_key}{suffix}"
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest() + suffix


def write_atomically(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to folder/name through a temporary file and a rename: a crash leaves either
    the old file or the new one, never half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
