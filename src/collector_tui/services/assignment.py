"""Who works a case: moving cases between agents, with their history (DESIGN.md §3).

Every move writes an `Assignment` row (from, to, moved by, when, why) and an audit event, and
re-places the case in the queue in the same transaction, so a moved case is never in two queues
nor in none. Open follow-ups that an agent owned on a moved case go with the case: the old agent
can no longer open it, and a callback nobody can make would silently rot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.models import Assignment, Case, FollowUp, Role, User
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.promises import case_state, changing, finish_case_change

MAX_REASON = 500
_SQL_CHUNK = 500  # ids per IN (...) list, under every backend's bound-parameter limit


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), _SQL_CHUNK):
        yield list(ids[start : start + _SQL_CHUNK])


def _check_reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason can be at most {MAX_REASON} characters", field="reason")
    return text or None


def _target(session: Session, to_user_id: uuid.UUID | None) -> User | None:
    if to_user_id is None:
        return None
    user = session.get(User, to_user_id)
    if user is None:
        raise NotFound("no such user to assign to")
    if not user.active:
        raise InvalidInput(f"{user.username} is not an active user", field="to_user")
    return user


def _load_cases(session: Session, case_ids: Sequence[uuid.UUID]) -> list[Case]:
    found: dict[uuid.UUID, Case] = {}
    for batch in _chunks(case_ids):
        for case in session.exec(select(Case).where(col(Case.id).in_(batch))):
            found[case.id] = case
    missing = [case_id for case_id in case_ids if case_id not in found]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise NotFound(f"no case with id {missing[0]}{more}")
    return [found[case_id] for case_id in case_ids]


def _move_follow_ups(
    session: Session, now: datetime, actor: Actor, case: Case, target: User
) -> None:
    agent_owned = (
        select(FollowUp)
        .join(User, col(User.id) == col(FollowUp.owner_id))
        .where(
            FollowUp.case_id == case.id,
            col(FollowUp.done_at).is_(None),
            FollowUp.owner_id != target.id,
            User.role == Role.agent.value,
        )
    )
    for follow_up in session.exec(agent_owned).all():
        before = follow_up.owner_id
        follow_up.owner_id = target.id
        follow_up.updated_at = now
        session.add(follow_up)
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="follow_up",
            entity_id=follow_up.id,
            action="reassign",
            before={"owner_id": before},
            after={"owner_id": target.id},
        )


def assign_cases(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_ids: Sequence[uuid.UUID],
    to_user_id: uuid.UUID | None,
    settings: Settings,
    reason: str | None = None,
) -> int:
    """Give the cases to `to_user_id` (None: unassign them). Supervisors and admins only.

    Returns how many cases moved; a case already with that user is left alone (no history row).
    Nothing is written unless every case exists and the target user can take them.
    """
    if not actor.is_supervisor:
        raise Forbidden("only a supervisor can assign cases")
    why = _check_reason(reason)
    target = _target(session, to_user_id)
    unique = list(dict.fromkeys(case_ids))
    cases = _load_cases(session, unique)
    moved = 0
    with changing(session):
        for case in cases:
            if case.assigned_to_id == to_user_id:
                continue
            before = case_state(case)
            previous = case.assigned_to_id
            case.assigned_to_id = to_user_id
            history = Assignment(
                case_id=case.id,
                from_user_id=previous,
                to_user_id=to_user_id,
                moved_by_id=actor.user_id,
                at=now,
                reason=why,
            )
            session.add(history)
            session.flush()
            audit.record(
                session=session,
                now=now,
                user_id=actor.user_id,
                entity="case",
                entity_id=case.id,
                action="assign",
                before={"assigned_to_id": previous},
                after={"assigned_to_id": to_user_id, "reason": why, "assignment_id": history.id},
            )
            if target is not None:
                _move_follow_ups(session, now, actor, case, target)
            finish_case_change(
                session=session,
                now=now,
                settings=settings,
                case=case,
                before=before,
                user_id=actor.user_id,
            )
            moved += 1
    return moved


@dataclass(frozen=True)
class AssignmentView:
    id: uuid.UUID
    case_id: uuid.UUID
    from_user_id: uuid.UUID | None
    to_user_id: uuid.UUID | None
    moved_by_id: uuid.UUID | None
    at: datetime
    reason: str | None


def assignment_history(*, session: Session, case_id: uuid.UUID) -> list[AssignmentView]:
    """The case's moves, oldest first."""
    statement = select(Assignment).where(Assignment.case_id == case_id).order_by(col(Assignment.at))
    return [
        AssignmentView(
            row.id,
            row.case_id,
            row.from_user_id,
            row.to_user_id,
            row.moved_by_id,
            row.at,
            row.reason,
        )
        for row in session.exec(statement)
    ]
