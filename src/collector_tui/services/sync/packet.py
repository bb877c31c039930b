"""Packet files: a briefcase or an outbox carried on a USB stick when no network joins them.

A packet is UTF-8 JSON Lines:

    {"format": "collector-tui-packet", "version": 1, "kind": "briefcase" | "outbox", ...}
    {"record": "row", "section": "rows" | "context", "table": "...", "row": {...}}   (briefcase)
    {"record": "answer", "op_id": "...", "outcome": "...", "message": ...}           (briefcase)
    {"record": "op", "op": {...}}                                                     (outbox)
    {"record": "end", "records": N, "sha256": "<hex of every byte before this line>",
     "signature": "<outbox: ed25519 over the header and that digest, base64>"}

The first line describes the packet (kind, master, agent or device, packet id, when, format
version; a briefcase also the device key the master made for a new laptop); the last line makes
a truncated or damaged file fail loudly, and an outbox's signature makes a forged one fail: the
master checks it against the device's registered key (services/sync/devices.py). A packet is
written to a temporary file and renamed into place, so a half-written packet never exists under
its name. Applying a briefcase twice changes nothing; an outbox packet is taken once (its packet
id), its operations applied once each (by op id). Reading checks the size of every line and the
nesting of its JSON before parsing it (MAX_LINE, MAX_HEADER, MAX_DEPTH).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import InvalidInput
from collector_tui.services.sync import devices
from collector_tui.services.sync.apply import Op
from collector_tui.services.sync.briefcase import Briefcase

FORMAT = "collector-tui-packet"
VERSION = 1
KINDS = ("briefcase", "outbox")
# Limits checked before any JSON is parsed, so a crafted packet is refused with one line instead
# of exhausting memory or the stack. A record (a row or an operation) is at most 1 MiB: the
# longest row a laptop writes (a note of 4,000 characters with its audit copy) is a few KiB. The
# header is at most 16 MiB: a briefcase header lists every case id it carries (about 100,000
# cases in 4 MiB). JSON nests at most 32 levels deep: a packet's own records nest 4 or 5.
MAX_LINE = 1 << 20
MAX_HEADER = 16 << 20
MAX_DEPTH = 32

_SPECIAL = re.compile(rb'["\\\[\]{}]')
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENING, _CLOSING = frozenset(b"[{"), frozenset(b"]}")


@dataclass(frozen=True)
class OutboxPacket:
    device_id: uuid.UUID
    agent_id: uuid.UUID | None
    master_id: uuid.UUID | None
    created_at: datetime
    ops: tuple[Op, ...]
    packet_id: uuid.UUID | None = None
    # Read from a file: the signature in its end line and the bytes it must sign.
    signature: str | None = None
    signed: bytes = b""
    digest: str = ""

    def signed_by(self) -> devices.Signed:
        """What the master checks before applying it (services/sync/devices.accept)."""
        return devices.Signed(
            what=N_("packet"),
            packet_id=self.packet_id or uuid.UUID(int=0),
            device_id=self.device_id,
            agent_id=self.agent_id,
            master_id=self.master_id,
            message=self.signed,
            signature=self.signature if self.packet_id is not None else None,
            digest=self.digest,
        )


@dataclass(frozen=True)
class _Packet:
    header: dict[str, Any]
    header_line: bytes
    records: list[dict[str, Any]]
    digest: str
    end: dict[str, Any]


def _line(value: dict[str, Any]) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return (text + "\n").encode()


def signed_message(header_line: bytes, digest: str) -> bytes:
    """What an outbox packet's signature covers: its header and the digest of every line before
    the end line (the header and all the operations)."""
    return devices.PACKET_CONTEXT + header_line + digest.encode()


def _write(
    path: Path,
    header: dict[str, Any],
    records: Iterable[dict[str, Any]],
    *,
    key: str | None = None,
) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    count = 0
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            first = _line({"format": FORMAT, "version": VERSION, **header})
            digest.update(first)
            out.write(first)
            for record in records:
                line = _line(record)
                digest.update(line)
                out.write(line)
                count += 1
            end: dict[str, Any] = {"record": "end", "records": count, "sha256": digest.hexdigest()}
            if key is not None:
                end["signature"] = devices.sign(key, signed_message(first, digest.hexdigest()))
            out.write(_line(end))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _too_deep(line: bytes) -> bool:
    """Whether the JSON on `line` nests deeper than MAX_DEPTH, found without recursion in one
    pass over its quotes, backslashes and brackets (a bracket inside a string is text)."""
    if line.count(b"[") + line.count(b"{") <= MAX_DEPTH:
        return False  # most lines: too few brackets to nest that deep, whatever they are
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _SPECIAL.finditer(line):
        at = match.start()
        if at == escaped_at:
            continue
        char = line[at]
        if in_string:
            if char == _BACKSLASH:
                escaped_at = at + 1
            elif char == _QUOTE:
                in_string = False
        elif char == _QUOTE:
            in_string = True
        elif char in _OPENING:
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in _CLOSING:
            depth -= 1
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a packet carries")


def _parse(line: bytes, where: str) -> dict[str, Any]:
    if _too_deep(line):
        raise InvalidInput(
            _("{where}: nested deeper than {limit} levels: refused").format(
                where=where, limit=MAX_DEPTH
            )
        )
    try:
        value = json.loads(line, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidInput(_("{where}: nested too deep: refused").format(where=where)) from None
    except ValueError as bad:  # JSONDecodeError, UnicodeDecodeError, huge integers
        raise InvalidInput(
            _("{where}: not valid JSON ({bad})").format(where=where, bad=str(bad)[:80])
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(_("{where}: not a packet record").format(where=where))
    return value


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB"


def _read(path: Path) -> _Packet:
    name = Path(path).name
    try:
        handle = Path(path).open("rb")
    except FileNotFoundError:
        raise InvalidInput(_("no packet file {name}").format(name=name)) from None
    except IsADirectoryError:
        raise InvalidInput(_("{name} is a folder, not a packet file").format(name=name)) from None
    with handle:
        first = handle.readline(MAX_HEADER + 1)
        if not first:
            raise InvalidInput(_("{name} is empty: not a packet").format(name=name))
        if len(first) > MAX_HEADER:
            raise InvalidInput(
                _(
                    "{name} line 1: longer than {limit} (the most a packet "
                    "header may hold): not a collector-tui packet"
                ).format(name=name, limit=_size(MAX_HEADER))
            )
        lines: list[bytes] = []
        while line := handle.readline(MAX_LINE + 1):
            if len(line) > MAX_LINE:
                raise InvalidInput(
                    _(
                        "{name} line {line}: longer than {limit} (the most a "
                        "packet line may hold): refused"
                    ).format(name=name, line=len(lines) + 2, limit=_size(MAX_LINE))
                )
            lines.append(line)
    try:
        header = _parse(first, f"{name} line 1")
    except InvalidInput as bad:
        raise InvalidInput(
            _("{message}: not a collector-tui packet").format(message=bad.message)
        ) from None
    if header.get("format") != FORMAT:
        raise InvalidInput(_("{name} is not a collector-tui packet").format(name=name))
    if header.get("version") != VERSION:
        raise InvalidInput(
            _(
                "{name} is a packet of format version {found}; this program reads version {version}"
            ).format(name=name, found=str(header.get("version"))[:20], version=VERSION)
        )
    if header.get("kind") not in KINDS:
        raise InvalidInput(
            _("{name}: unknown packet kind {kind}").format(
                name=name, kind=repr(str(header.get("kind"))[:20])
            )
        )
    try:
        end = _parse(lines[-1], f"{name} line {len(lines) + 1}") if lines else None
    except InvalidInput:
        end = None
    if end is None or end.get("record") != "end":
        raise InvalidInput(_("{name} is incomplete (cut short?): carry it again").format(name=name))
    digest = hashlib.sha256(first)
    for line in lines[:-1]:
        digest.update(line)
    hexdigest = digest.hexdigest()
    if hexdigest != end.get("sha256") or end.get("records") != len(lines) - 1:
        raise InvalidInput(
            _("{name} is damaged (checksum mismatch): carry it again").format(name=name)
        )
    records = [
        _parse(line, f"{name} line {number}") for number, line in enumerate(lines[:-1], start=2)
    ]
    return _Packet(header, first, records, hexdigest, end)


def packet_kind(path: Path) -> str:
    """The kind of a packet (reads and checks the whole file)."""
    return str(_read(path).header["kind"])


def write_briefcase(path: Path, briefcase: Briefcase) -> int:
    header = {
        "kind": "briefcase",
        "master_id": str(briefcase.master_id),
        "master_clock": briefcase.master_clock,
        "agent_id": str(briefcase.agent_id),
        "agent": briefcase.agent_username,
        "created_at": briefcase.created_at.isoformat(),
        "case_ids": [str(case_id) for case_id in briefcase.case_ids],
        "moved": {str(k): (str(v) if v else None) for k, v in briefcase.moved.items()},
        "window_days": briefcase.window_days,
    }
    if briefcase.device is not None:
        # The key pair the master made and registered for a laptop made from this packet.
        header["device_id"] = str(briefcase.device.device_id)
        header["device_key"] = briefcase.device.private_key

    def records() -> Iterator[dict[str, Any]]:
        for section, tables in (("rows", briefcase.rows), ("context", briefcase.context)):
            for table, rows in tables.items():
                for row in rows:
                    yield {"record": "row", "section": section, "table": table, "row": row}
        for answer in briefcase.answers:
            yield {"record": "answer", **answer}

    return _write(path, header, records())


def read_briefcase(path: Path) -> Briefcase:
    read = _read(path)
    header, records = read.header, read.records
    if header["kind"] != "briefcase":
        raise InvalidInput(
            _("{name} is an outbox packet: apply it on the master").format(name=Path(path).name)
        )
    rows: dict[str, list[dict[str, Any]]] = {}
    context: dict[str, list[dict[str, Any]]] = {}
    answers: list[dict[str, Any]] = []
    try:
        for record in records:
            if record.get("record") == "row":
                target = rows if record.get("section") == "rows" else context
                target.setdefault(str(record["table"]), []).append(dict(record["row"]))
            elif record.get("record") == "answer":
                answers.append({k: record.get(k) for k in ("op_id", "outcome", "message")})
        device = None
        if header.get("device_id") and header.get("device_key"):
            device = devices.IssuedKey(
                uuid.UUID(str(header["device_id"])), str(header["device_key"])
            )
        return Briefcase(
            master_id=uuid.UUID(header["master_id"]),
            master_clock=str(header.get("master_clock") or ""),
            agent_id=uuid.UUID(header["agent_id"]),
            agent_username=str(header.get("agent") or ""),
            created_at=datetime.fromisoformat(header["created_at"]),
            case_ids=tuple(uuid.UUID(value) for value in header.get("case_ids", [])),
            rows=rows,
            context=context,
            moved={
                uuid.UUID(k): (uuid.UUID(v) if v else None)
                for k, v in (header.get("moved") or {}).items()
            },
            answers=tuple(answers),
            window_days=int(header.get("window_days") or 0),
            device=device,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as bad:
        raise InvalidInput(
            _("{name} is not a valid briefcase packet ({bad})").format(
                name=Path(path).name, bad=bad
            )
        ) from None


def write_outbox(path: Path, packet: OutboxPacket, *, key: str) -> int:
    """Write the laptop's outbox, signed with the laptop's device key."""
    header = {
        "kind": "outbox",
        "packet_id": str(packet.packet_id or uuid.uuid4()),
        "device_id": str(packet.device_id),
        "agent_id": str(packet.agent_id) if packet.agent_id else None,
        "master_id": str(packet.master_id) if packet.master_id else None,
        "created_at": packet.created_at.isoformat(),
    }
    return _write(
        path, header, ({"record": "op", "op": op.to_json()} for op in packet.ops), key=key
    )


def read_outbox(path: Path) -> OutboxPacket:
    read = _read(path)
    header, records = read.header, read.records
    if header["kind"] != "outbox":
        raise InvalidInput(
            _("{name} is a briefcase packet: apply it on the laptop").format(name=Path(path).name)
        )
    try:
        signature = read.end.get("signature")
        return OutboxPacket(
            device_id=uuid.UUID(header["device_id"]),
            agent_id=uuid.UUID(header["agent_id"]) if header.get("agent_id") else None,
            master_id=uuid.UUID(header["master_id"]) if header.get("master_id") else None,
            created_at=datetime.fromisoformat(header["created_at"]),
            ops=tuple(Op.from_json(r["op"]) for r in records if r.get("record") == "op"),
            packet_id=uuid.UUID(header["packet_id"]) if header.get("packet_id") else None,
            signature=signature if isinstance(signature, str) else None,
            signed=signed_message(read.header_line, read.digest),
            digest=read.digest,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as bad:
        raise InvalidInput(
            _("{name} is not a valid outbox packet ({bad})").format(name=Path(path).name, bad=bad)
        ) from None
