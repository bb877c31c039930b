"""Append-only audit trail: who did what, when, with the before and after state.

`case_audit_view` is the trail as people read it (the History screen): amounts in the case's
currency instead of minor units, user ids as names, instants in the reader's time zone; the
recorded JSON stays alongside for the full entry.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from collector_tui.models import AuditEvent, Case, User
from collector_tui.money import Money, MoneyError, format_plain

if TYPE_CHECKING:
    from collector_tui.services.accounts import Actor
    from collector_tui.services.supervision import AuditChange, AuditEntry


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


# Recorded values in minor units of the case's currency (cases, invoices, promises, plans,
# payments, allocations, settlements all share the case's currency).
MONEY_FIELDS = frozenset(
    {"principal", "fees", "interest", "balance", "amount", "open_amount", "paid_amount"}
)
# Left out of the one-line summary (the list is about one case); the full entry shows them.
SUMMARY_SKIPS = frozenset({"case_id"})


@dataclass(frozen=True)
class ShownChange:
    name: str
    before: str | None  # None: the field had no recorded value before (a creation)
    after: str


@dataclass(frozen=True)
class AuditLine:
    """One audit event as the History screen shows it."""

    entry: AuditEntry  # as recorded, values untouched
    user: str  # who, by user name; "system" for imports and the sweep
    changes: tuple[ShownChange, ...]
    summary: str  # "balance: 1,000.00 CNY→0.00 CNY; assigned_to_id=Alice Wang"
    raw_before: str | None  # the recorded JSON
    raw_after: str | None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class _Reader:
    def __init__(self, currency: str, users: dict[str, str], zone: ZoneInfo) -> None:
        self.currency = currency
        self.users = users
        self.zone = zone

    def value(self, name: str, value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int) and name in MONEY_FIELDS:
            try:
                return format_plain(Money(value, self.currency))
            except MoneyError:
                return str(value)
        if isinstance(value, str):
            if value in self.users and (name.endswith("_id") or name == "user"):
                return self.users[value]
            return self._instant(value) or value
        return json.dumps(value, ensure_ascii=False)

    def _instant(self, text: str) -> str | None:
        # Instants were recorded as ISO text in UTC ("2026-11-15T06:00:00+00:00"); plain dates
        # ("2026-11-15") already read as dates.
        if len(text) < 16 or text[10:11] != "T":
            return None
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            return None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def change(self, change: AuditChange) -> ShownChange:
        before = None if change.before is None else self.value(change.name, change.before)
        return ShownChange(change.name, before, self.value(change.name, change.after))


def _summary(changes: tuple[ShownChange, ...]) -> str:
    parts = []
    for change in changes:
        if change.name in SUMMARY_SKIPS:
            continue
        if change.before is None:
            parts.append(f"{change.name}={change.after}")
        else:
            parts.append(f"{change.name}: {change.before}→{change.after}")
    return "; ".join(parts)


def _raw(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, indent=2)


def case_audit_view(
    *, session: Session, actor: Actor, case_id: uuid.UUID, limit: int = 1000
) -> list[AuditLine]:
    """The case's audit trail (supervision.case_audit_trail, same scoping), readable."""
    from collector_tui.services.supervision import case_audit_trail  # it records through us

    entries = case_audit_trail(session=session, actor=actor, case_id=case_id, limit=limit)
    case = session.get(Case, case_id)
    currency = case.currency if case is not None else ""
    users = {str(i): name for i, name in session.exec(select(User.id, User.username))}
    raw: dict[uuid.UUID, AuditEvent] = {}
    ids = [entry.id for entry in entries]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for found in session.exec(select(AuditEvent).where(col(AuditEvent.id).in_(chunk))):
            raw[found.id] = found
    reader = _Reader(currency, users, _zone(actor.time_zone))
    lines = []
    for entry in entries:
        changes = tuple(reader.change(change) for change in entry.changes)
        event = raw.get(entry.id)
        lines.append(
            AuditLine(
                entry=entry,
                user=entry.user or "system",
                changes=changes,
                summary=_summary(changes),
                raw_before=_raw(event.before) if event is not None else None,
                raw_after=_raw(event.after) if event is not None else None,
            )
        )
    return lines
