"""This database's place in sync: laptop of a master, or the master itself (`sync_state`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from collector_tui.models import SyncState
from collector_tui.services.sync import hlc

LAPTOP = "laptop"
MASTER = "master"


@dataclass(frozen=True)
class SyncInfo:
    role: str
    device_id: uuid.UUID
    master: str | None
    master_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    clock: str
    last_pull_at: datetime | None
    last_push_at: datetime | None

    @property
    def is_laptop(self) -> bool:
        return self.role == LAPTOP

    @property
    def node(self) -> str:
        return self.device_id.hex


def _info(row: SyncState) -> SyncInfo:
    return SyncInfo(
        role=row.role,
        device_id=row.device_id,
        master=row.master,
        master_id=row.master_id,
        agent_id=row.agent_id,
        clock=row.clock,
        last_pull_at=row.last_pull_at,
        last_push_at=row.last_push_at,
    )


def read_state(*, session: Session) -> SyncInfo | None:
    row = session.get(SyncState, 1)
    return _info(row) if row is not None else None


def master_state(*, session: Session, now: datetime) -> SyncState:
    """The master's own row (its identity and clock), created on first use."""
    row = session.get(SyncState, 1)
    if row is None:
        row = SyncState(id=1, role=MASTER, device_id=uuid.uuid4(), clock=hlc.ZERO, created_at=now)
        session.add(row)
        session.flush()
    return row


def advance_clock(row: SyncState, seen: str | None) -> None:
    row.clock = hlc.receive(row.clock, seen)
