"""Operations the master refused, kept for a supervisor to look at.

A rejected operation is answered to the laptop (which stops sending it) and kept on the master as
it came, with the reason: an honest laptop's refused change can be redone by hand, a hostile one
is evidence. A supervisor lists them and marks each one reviewed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from collector_tui.i18n import gettext as _
from collector_tui.models import SyncAppliedOp, User
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound

REJECTED = "rejected"


@dataclass(frozen=True)
class RejectedOp:
    op_id: uuid.UUID
    device_id: uuid.UUID
    user: str | None  # who pushed it (the authenticated user), by name
    kind: str
    entity: str
    entity_id: str
    case_id: uuid.UUID | None
    reason: str | None
    applied_at: datetime
    reviewed_at: datetime | None
    payload: dict[str, Any] | None


def _require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise Forbidden(_("only a supervisor reviews refused sync operations"))


@reads
def rejected_ops(
    *, session: Session, actor: Actor, include_reviewed: bool = False, limit: int = 200
) -> list[RejectedOp]:
    """The refused operations, newest first (those not yet reviewed unless asked)."""
    _require_supervisor(actor)
    statement = select(SyncAppliedOp, User.username).outerjoin(
        User, col(User.id) == col(SyncAppliedOp.actor_id)
    )
    statement = statement.where(SyncAppliedOp.outcome == REJECTED)
    if not include_reviewed:
        statement = statement.where(col(SyncAppliedOp.reviewed_at).is_(None))
    statement = statement.order_by(
        col(SyncAppliedOp.applied_at).desc(), col(SyncAppliedOp.hlc).desc()
    ).limit(limit)
    return [
        RejectedOp(
            op_id=row.op_id,
            device_id=row.device_id,
            user=username,
            kind=row.kind,
            entity=row.entity,
            entity_id=row.entity_id,
            case_id=row.case_id,
            reason=row.message,
            applied_at=row.applied_at,
            reviewed_at=row.reviewed_at,
            payload=row.payload,
        )
        for row, username in session.exec(statement).all()
    ]


@writes
def mark_reviewed(*, session: Session, now: datetime, actor: Actor, op_id: uuid.UUID) -> None:
    _require_supervisor(actor)
    row = session.get(SyncAppliedOp, op_id)
    if row is None or row.outcome != REJECTED:
        raise NotFound(_("no refused operation with that id"))
    if row.reviewed_at is not None:
        raise InvalidInput(_("that operation is already reviewed"))
    row.reviewed_at = now
    row.reviewed_by_id = actor.user_id
    session.add(row)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="sync_op",
        entity_id=op_id,
        action="review",
        after={"entity": row.entity, "kind": row.kind, "reason": row.message},
    )
