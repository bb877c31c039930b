"""Append-only audit trail: who did what, when, with the before and after state.

`case_audit_view` is the trail as people read it (the History screen): amounts in the case's
currency instead of minor units, user ids as names, instants in the reader's time zone; the
recorded JSON stays alongside for the full entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from collector_tui.models import AuditEvent

if TYPE_CHECKING:
    pass


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(row: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The audited state of a row (all columns, or the named ones)."""
    names = fields or tuple(c.name for c in row.__table__.columns)
    return {name: _jsonable(getattr(row, name)) for name in names}


def record(
    *,
    session: Session,
    now: datetime,
    user_id: uuid.UUID | None,
    entity: str,
    entity_id: uuid.UUID | str,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now,
        user_id=user_id,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    session.add(event)
    return event


def history(*, session: Session, entity: str, entity_id: uuid.UUID | str) -> list[AuditEvent]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(col(AuditEvent.at).desc())
    )
    return list(session.exec(statement))
