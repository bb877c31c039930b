"""Holds: reasons not to contact a case. Any active hold suspends contact (DESIGN.md §3, §5).

Some holds carry more than a pause:
- `dispute` puts the case in status 'dispute' until the last dispute hold is released;
- `deceased` and `bankruptcy` set the debtor's flag and route the case to the supervisors
  (`case.routed_reason`), because what happens next (estate, insolvency claim) is their call.

Agents may place any hold on their own cases (stopping contact is always safe) but may lift only
the ones that are part of everyday negotiation (dispute, complaint, hardship); lifting a cease,
legal, bankruptcy or deceased hold needs a supervisor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.models import CLOSED_STATUSES, Case, CaseStatus, Debtor, Hold, HoldKind
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.promises import (
    case_for_change,
    case_state,
    changing,
    finish_case_change,
    settle_status,
)

AGENT_RELEASABLE = frozenset({HoldKind.dispute, HoldKind.complaint, HoldKind.hardship})
# Hold kind -> (debtor flag, routed reason).
ROUTING_HOLDS: dict[str, tuple[str, str]] = {
    HoldKind.deceased.value: ("deceased", "deceased"),
    HoldKind.bankruptcy.value: ("bankrupt", "bankrupt"),
}
MAX_REASON = 500


@dataclass(frozen=True)
class HoldView:
    id: uuid.UUID
    kind: str
    reason: str | None
    placed_at: datetime


def check_kind(kind: str) -> str:
    if kind not in HoldKind.__members__:
        kinds = ", ".join(HoldKind.__members__)
        raise InvalidInput(f"unknown hold {str(kind)[:32]!r}: use one of {kinds}", field="kind")
    return kind


def check_reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason can be at most {MAX_REASON} characters", field="reason")
    return text or None


def _active(session: Session, case_id: uuid.UUID, kind: str | None = None) -> list[Hold]:
    statement = select(Hold).where(Hold.case_id == case_id, col(Hold.released_at).is_(None))
    if kind is not None:
        statement = statement.where(Hold.kind == kind)
    return list(session.exec(statement.order_by(col(Hold.placed_at))))


def _debtor_has_hold(session: Session, debtor_id: uuid.UUID, kind: str) -> bool:
    """Whether another case of the debtor still holds for the same reason."""
    statement = (
        select(Hold.id)
        .join(Case, col(Case.id) == col(Hold.case_id))
        .where(Case.debtor_id == debtor_id, Hold.kind == kind, col(Hold.released_at).is_(None))
    )
    return session.exec(statement.limit(1)).first() is not None


def _set_debtor_flag(
    session: Session,
    now: datetime,
    debtor_id: uuid.UUID,
    flag: str,
    value: bool,
    user_id: uuid.UUID,
) -> None:
    debtor = session.get(Debtor, debtor_id)
    if debtor is None or getattr(debtor, flag) == value:
        return
    setattr(debtor, flag, value)
    debtor.updated_at = now
    session.add(debtor)
    audit.record(
        session=session,
        now=now,
        user_id=user_id,
        entity="debtor",
        entity_id=debtor.id,
        action="update",
        before={flag: not value},
        after={flag: value},
    )


def add_hold_to_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    kind: str,
    reason: str | None,
) -> uuid.UUID:
    """Place a hold on a case already loaded and checked; an active hold of the same kind is
    kept (and its id returned) rather than doubled."""
    existing = _active(session, case.id, kind)
    if existing:
        hold_id = existing[0].id
    else:
        hold = Hold(
            case_id=case.id, kind=kind, reason=reason, placed_at=now, placed_by_id=actor.user_id
        )
        session.add(hold)
        session.flush()
        hold_id = hold.id
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="hold",
            entity_id=hold.id,
            action="place",
            after=audit.snapshot(hold, ("case_id", "kind", "reason")),
        )
    if kind == HoldKind.dispute and case.status not in CLOSED_STATUSES and case.status != "legal":
        case.status = CaseStatus.dispute.value
    if kind in ROUTING_HOLDS:
        flag, routed = ROUTING_HOLDS[kind]
        _set_debtor_flag(session, now, case.debtor_id, flag, True, actor.user_id)
        if case.status not in CLOSED_STATUSES:
            case.routed_reason = routed
    return hold_id


def place_hold(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    kind: str,
    settings: Settings,
    reason: str | None = None,
) -> uuid.UUID:
    case = case_for_change(session=session, case_id=case_id, actor=actor)
    check_kind(kind)
    text = check_reason(reason)
    before = case_state(case)
    with changing(session):
        hold_id = add_hold_to_case(
            session=session, now=now, actor=actor, case=case, kind=kind, reason=text
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return hold_id


def release_hold(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    hold_id: uuid.UUID,
    settings: Settings,
) -> None:
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound("no such hold")
    case = case_for_change(session=session, case_id=hold.case_id, actor=actor)
    if hold.released_at is not None:
        raise InvalidInput("this hold is already released")
    if hold.kind not in AGENT_RELEASABLE and not actor.is_supervisor:
        raise Forbidden(f"only a supervisor can lift a {hold.kind} hold")
    before = case_state(case)
    with changing(session):
        hold.released_at = now
        hold.released_by_id = actor.user_id
        session.add(hold)
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="hold",
            entity_id=hold.id,
            action="release",
            before={"released_at": None},
            after={"released_at": now, "kind": hold.kind},
        )
        session.flush()
        others = _active(session, case.id, hold.kind)
        if not others:
            if hold.kind == HoldKind.dispute and case.status == CaseStatus.dispute:
                # Back to whatever the promises say ('active' when none is pending).
                case.status = CaseStatus.active.value
                settle_status(session=session, case=case)
            if hold.kind in ROUTING_HOLDS:
                # Released by a supervisor: the report was wrong or the matter is over.
                flag, routed = ROUTING_HOLDS[hold.kind]
                if not _debtor_has_hold(session, case.debtor_id, hold.kind):
                    _set_debtor_flag(session, now, case.debtor_id, flag, False, actor.user_id)
                if case.routed_reason == routed:
                    case.routed_reason = None
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )


def active_holds(*, session: Session, case_id: uuid.UUID) -> list[HoldView]:
    return [HoldView(h.id, h.kind, h.reason, h.placed_at) for h in _active(session, case_id)]
