"""The laptop's outbox, read and answered (the writing is services/sync/capture.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from collector_tui.models import SyncBriefcaseCase, SyncOutboxOp
from collector_tui.services.sync.apply import ERROR, Answer, Op


@dataclass(frozen=True)
class OutboxSummary:
    pending: int
    accepted: int
    conflict: int
    rejected: int
    read_only_cases: int
    active_cases: int
    context_cases: int


@dataclass(frozen=True)
class AnsweredOp:
    op_id: uuid.UUID
    entity: str
    kind: str
    outcome: str
    message: str | None
    answered_at: datetime | None


def pending_ops(*, session: Session, limit: int | None = None) -> list[Op]:
    """The operations waiting for the master, oldest clock first."""
    statement = (
        select(SyncOutboxOp)
        .where(SyncOutboxOp.state == "pending")
        .order_by(col(SyncOutboxOp.hlc), col(SyncOutboxOp.op_id))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [
        Op(
            op_id=row.op_id,
            txn_id=row.txn_id,
            hlc=row.hlc,
            device_id=row.device_id,
            actor_id=row.actor_id,
            kind=row.kind,
            entity=row.entity,
            entity_id=row.entity_id,
            case_id=row.case_id,
            base_version=row.base_version,
            # A row damaged or edited by hand still travels, and the master refuses it
            # (answered, never sent again) rather than blocking every later push here.
            payload=row.payload if isinstance(row.payload, dict) else {"damaged": True},
        )
        for row in session.exec(statement)
    ]


def record_answers(*, session: Session, now: datetime, answers: Iterable[Answer]) -> int:
    """Store the master's answers; an `error` leaves the operation pending (sent again)."""
    count = 0
    for answer in answers:
        row = session.get(SyncOutboxOp, answer.op_id)
        if row is None or row.state != "pending":
            continue
        if answer.outcome == ERROR:
            row.answer = answer.message
        else:
            row.state = answer.outcome
            row.answer = answer.message
            row.answered_at = now
            count += 1
        session.add(row)
    session.flush()
    return count


def summary(*, session: Session) -> OutboxSummary:
    states = dict(
        session.exec(
            select(SyncOutboxOp.state, func.count()).group_by(col(SyncOutboxOp.state))
        ).all()
    )
    cases = dict(
        session.exec(
            select(SyncBriefcaseCase.state, func.count()).group_by(col(SyncBriefcaseCase.state))
        ).all()
    )
    return OutboxSummary(
        pending=int(states.get("pending", 0)),
        accepted=int(states.get("accepted", 0)),
        conflict=int(states.get("conflict", 0)),
        rejected=int(states.get("rejected", 0)),
        read_only_cases=int(cases.get("read_only", 0)),
        active_cases=int(cases.get("active", 0)),
        context_cases=int(cases.get("context", 0)),
    )


def answered(*, session: Session, limit: int = 50) -> list[AnsweredOp]:
    """The latest answers that were not a plain acceptance (conflicts and rejections first)."""
    rows = session.exec(
        select(SyncOutboxOp)
        .where(col(SyncOutboxOp.state).in_(("conflict", "rejected")))
        .order_by(col(SyncOutboxOp.answered_at).desc(), col(SyncOutboxOp.hlc))
        .limit(limit)
    )
    return [AnsweredOp(r.op_id, r.entity, r.kind, r.state, r.answer, r.answered_at) for r in rows]
