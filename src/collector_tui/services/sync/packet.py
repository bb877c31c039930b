"""Packet files: a briefcase or an outbox carried on a USB stick when no network joins them.

A packet is UTF-8 JSON Lines:

    {"format": "collector-tui-packet", "version": 1, "kind": "briefcase" | "outbox", ...}
    {"record": "row", "section": "rows" | "context", "table": "...", "row": {...}}   (briefcase)
    {"record": "answer", "op_id": "...", "outcome": "...", "message": ...}           (briefcase)
    {"record": "op", "op": {...}}                                                     (outbox)
    {"record": "end", "records": N, "sha256": "<hex of every byte before this line>"}

The first line describes the packet (kind, master, agent or device, when, format version); the
last line makes a truncated or altered file fail loudly. A packet is written to a temporary file
and renamed into place, so a half-written packet never exists under its name. Applying a packet
twice changes nothing: a briefcase replaces what it carries, an outbox's operations are applied
once each (by op id).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from collector_tui.services.errors import InvalidInput
from collector_tui.services.sync.apply import Op
from collector_tui.services.sync.briefcase import Briefcase

FORMAT = "collector-tui-packet"
VERSION = 1
KINDS = ("briefcase", "outbox")


@dataclass(frozen=True)
class OutboxPacket:
    device_id: uuid.UUID
    agent_id: uuid.UUID | None
    master_id: uuid.UUID | None
    created_at: datetime
    ops: tuple[Op, ...]


def _line(value: dict[str, Any]) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return (text + "\n").encode()


def _write(path: Path, header: dict[str, Any], records: Iterable[dict[str, Any]]) -> int:
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
            out.write(_line({"record": "end", "records": count, "sha256": digest.hexdigest()}))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    name = Path(path).name
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"no packet file {name}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{name} is a folder, not a packet file") from None
    lines = raw.splitlines(keepends=True)
    if not lines:
        raise InvalidInput(f"{name} is empty: not a packet")
    try:
        header = json.loads(lines[0])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput(f"{name} is not a collector-tui packet") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InvalidInput(f"{name} is not a collector-tui packet")
    if header.get("version") != VERSION:
        raise InvalidInput(
            f"{name} is a packet of format version {header.get('version')}; this program reads "
            f"version {VERSION}"
        )
    if header.get("kind") not in KINDS:
        raise InvalidInput(f"{name}: unknown packet kind {str(header.get('kind'))[:20]!r}")
    try:
        end = json.loads(lines[-1]) if len(lines) > 1 else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        end = None
    if not isinstance(end, dict) or end.get("record") != "end":
        raise InvalidInput(f"{name} is incomplete (cut short?): carry it again")
    digest = hashlib.sha256(b"".join(lines[:-1])).hexdigest()
    if digest != end.get("sha256") or end.get("records") != len(lines) - 2:
        raise InvalidInput(f"{name} is damaged (checksum mismatch): carry it again")
    try:
        records = [json.loads(line) for line in lines[1:-1]]
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput(f"{name} is damaged: carry it again") from None
    return header, records


def packet_kind(path: Path) -> str:
    """The kind of a packet (reads and checks the whole file)."""
    header, _ = _read(path)
    return str(header["kind"])


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

    def records() -> Iterator[dict[str, Any]]:
        for section, tables in (("rows", briefcase.rows), ("context", briefcase.context)):
            for table, rows in tables.items():
                for row in rows:
                    yield {"record": "row", "section": section, "table": table, "row": row}
        for answer in briefcase.answers:
            yield {"record": "answer", **answer}

    return _write(path, header, records())


def read_briefcase(path: Path) -> Briefcase:
    header, records = _read(path)
    if header["kind"] != "briefcase":
        raise InvalidInput(f"{Path(path).name} is an outbox packet: apply it on the master")
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
        )
    except (KeyError, ValueError, TypeError, AttributeError) as bad:
        raise InvalidInput(f"{Path(path).name} is not a valid briefcase packet ({bad})") from None


def write_outbox(path: Path, packet: OutboxPacket) -> int:
    header = {
        "kind": "outbox",
        "device_id": str(packet.device_id),
        "agent_id": str(packet.agent_id) if packet.agent_id else None,
        "master_id": str(packet.master_id) if packet.master_id else None,
        "created_at": packet.created_at.isoformat(),
    }
    return _write(path, header, ({"record": "op", "op": op.to_json()} for op in packet.ops))


def read_outbox(path: Path) -> OutboxPacket:
    header, records = _read(path)
    if header["kind"] != "outbox":
        raise InvalidInput(f"{Path(path).name} is a briefcase packet: apply it on the laptop")
    try:
        return OutboxPacket(
            device_id=uuid.UUID(header["device_id"]),
            agent_id=uuid.UUID(header["agent_id"]) if header.get("agent_id") else None,
            master_id=uuid.UUID(header["master_id"]) if header.get("master_id") else None,
            created_at=datetime.fromisoformat(header["created_at"]),
            ops=tuple(Op.from_json(r["op"]) for r in records if r.get("record") == "op"),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as bad:
        raise InvalidInput(f"{Path(path).name} is not a valid outbox packet ({bad})") from None
