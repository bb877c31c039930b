"""A case's audit trail as supervisors read it.

`case_audit_trail` gathers the events of the case and of its rows (promises, activities, holds...)
with the same scoping as the case; `case_audit_view` is the trail as people read it (the History
screen): amounts in the case's currency instead of minor units, user ids as names, instants in the
reader's time zone; the recorded JSON stays alongside for the full entry.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from collector_tui.models import (
    Activity,
    AuditEvent,
    Case,
    FollowUp,
    Hold,
    Payment,
    PaymentPlan,
    Phone,
    Promise,
    Settlement,
    User,
)
from collector_tui.money import Money, MoneyError, format_plain
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.change import case_for_change
from collector_tui.services.context import reads

if TYPE_CHECKING:
    from collector_tui.services.accounts import Actor


@dataclass(frozen=True)
class AuditChange:
    name: str
    before: Any  # JSON values as stored
    after: Any


@dataclass(frozen=True)
class AuditEntry:
    id: uuid.UUID
    at: datetime
    user: str | None  # username; None: the system (imports, the sweep)
    entity: str
    entity_id: str
    action: str
    changes: tuple[AuditChange, ...]


def _changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[AuditChange, ...]:
    old, new = before or {}, after or {}
    names = list(dict.fromkeys([*old, *new]))
    return tuple(AuditChange(name, old.get(name), new.get(name)) for name in names)


_SQL_CHUNK = 500


@reads
def case_audit_trail(
    *, session: Session, actor: Actor, case_id: uuid.UUID, limit: int = 1000
) -> list[AuditEntry]:
    """Everything audited about a case, newest first: the case itself and the rows that belong to
    it (contacts, promises, plans, payments, holds, follow-ups, settlements, its debtor and the
    debtor's phones). Agents: their own cases only."""
    case = case_for_change(session=session, case_id=case_id, actor=actor)
    related: dict[str, list[str]] = {"case": [str(case.id)], "debtor": [str(case.debtor_id)]}
    for entity, model in (
        ("activity", Activity),
        ("promise", Promise),
        ("plan", PaymentPlan),
        ("payment", Payment),
        ("hold", Hold),
        ("follow_up", FollowUp),
        ("settlement", Settlement),
    ):
        ids = session.exec(select(model.id).where(model.case_id == case.id)).all()
        related[entity] = [str(i) for i in ids]
    related["phone"] = [
        str(i) for i in session.exec(select(Phone.id).where(Phone.debtor_id == case.debtor_id))
    ]
    events: list[AuditEvent] = []
    for entity, entity_ids in related.items():
        for start in range(0, len(entity_ids), _SQL_CHUNK):
            events.extend(
                session.exec(
                    select(AuditEvent).where(
                        AuditEvent.entity == entity,
                        col(AuditEvent.entity_id).in_(entity_ids[start : start + _SQL_CHUNK]),
                    )
                ).all()
            )
    # Events of one instant (one transaction) have no order of their own: show them by kind.
    rank = {entity: index for index, entity in enumerate(related)}
    events.sort(key=lambda e: (e.at, -rank.get(e.entity, 99), e.action, e.entity_id), reverse=True)
    events = events[: max(1, limit)]
    user_ids = {e.user_id for e in events if e.user_id is not None}
    names = (
        dict(
            session.exec(
                select(User.id, User.username).where(col(User.id).in_(list(user_ids)))
            ).all()
        )
        if user_ids
        else {}
    )
    return [
        AuditEntry(
            id=e.id,
            at=e.at,
            user=names.get(e.user_id) if e.user_id else None,
            entity=e.entity,
            entity_id=e.entity_id,
            action=e.action,
            changes=_changes(e.before, e.after),
        )
        for e in events
    ]


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


@reads
def case_audit_view(
    *, session: Session, actor: Actor, case_id: uuid.UUID, limit: int = 1000
) -> list[AuditLine]:
    """The case's audit trail (supervision.case_audit_trail, same scoping), readable."""
    from collector_tui.services.supervision.audit_trail import case_audit_trail

    entries = case_audit_trail(session=session, actor=actor, case_id=case_id, limit=limit)
    case = session.get(Case, case_id)
    currency = case.currency if case is not None else ""
    users = {str(i): name for i, name in session.exec(select(User.id, User.username))}
    raw: dict[uuid.UUID, AuditEvent] = {}
    ids = [entry.id for entry in entries]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for event in session.exec(select(AuditEvent).where(col(AuditEvent.id).in_(chunk))):
            raw[event.id] = event
    reader = _Reader(currency, users, _zone(actor.time_zone))
    lines = []
    for entry in entries:
        changes = tuple(reader.change(change) for change in entry.changes)
        recorded = raw.get(entry.id)
        lines.append(
            AuditLine(
                entry=entry,
                user=entry.user or "system",
                changes=changes,
                summary=_summary(changes),
                raw_before=_raw(recorded.before) if recorded is not None else None,
                raw_after=_raw(recorded.after) if recorded is not None else None,
            )
        )
    return lines
