"""Follow-ups (callbacks): who calls the case back, when, and why.

A follow-up whose time has come puts its case at the top of its owner's queue (docs/decisions.md,
queue: tier 1) until it is done: completed by hand, by the owner logging an attempt on the case once
it is due (the callback was made), or when the case is paid in full.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import N_, _, format_day_time
from collector_tui.models import (
    Case,
    FollowUp,
    User,
)
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    finish_case_change,
)
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.rules.compliance import next_allowed_contact

# A form opened a few minutes ago may carry "now" as it was then; anything older is a mistake.
PAST_TOLERANCE = timedelta(minutes=5)
MAX_DAYS_AHEAD = 366
MAX_REASON = reasons.MAX_REASON  # the one bound (services/reasons.py)
DEFAULT_REASON = "call back"


@dataclass(frozen=True)
class FollowUpInput:
    due_at: datetime
    reason: str
    owner_id: uuid.UUID | None = None  # None: the case's assigned agent, else the actor
    # False: refuse a time outside the debtor's contact hours (OutsideContactHours) so the agent
    # sees it and can keep it or take the next allowed time; the forms ask, other callers keep it.
    outside_hours_ok: bool = True


class OutsideContactHours(InvalidInput):
    """The follow-up at `at` falls outside the debtor's contact hours; `next_allowed` is the first
    allowed instant after it (None when none is known), read in `zone`. A form asking again keeps
    `at` once the agent confirms it (`outside_hours_ok`)."""

    def __init__(
        self, message: str, *, at: datetime, next_allowed: datetime | None, zone: str
    ) -> None:
        super().__init__(message, field="due_at")
        self.at = at
        self.next_allowed = next_allowed
        self.zone = zone


@dataclass(frozen=True)
class FollowUpView:
    id: uuid.UUID
    case_id: uuid.UUID
    owner_id: uuid.UUID
    due_at: datetime
    reason: str
    done_at: datetime | None


def validate_follow_up(*, follow_up: FollowUpInput, now: datetime) -> str:
    """The cleaned reason ("call back" when none is given), or InvalidInput naming the field."""
    due = follow_up.due_at
    if not isinstance(due, datetime) or due.tzinfo is None:
        raise InvalidInput(_("the follow-up time needs a date, a time and a zone"), field="due_at")
    if due < now - PAST_TOLERANCE:
        raise InvalidInput(_("a follow-up cannot be due in the past"), field="due_at")
    if due > now + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(
            _("a follow-up can be due at most {days} days ahead").format(days=MAX_DAYS_AHEAD),
            field="due_at",
        )
    # A bare time (a dialer's "--follow-up ISO", a quick callback) still means something.
    reason = reasons.check_reason(follow_up.reason, required=False, what=N_("the reason"))
    return reason or DEFAULT_REASON


def check_contact_hours(
    *, session: Session, case: Case, due_at: datetime, settings: Settings
) -> None:
    """OutsideContactHours when `due_at` is outside the case's contact hours (its rule pack, in
    the debtor's zones); silent when inside or when the debtor's zone is unknown."""
    opens, zones = next_allowed_contact(session=session, case=case, at=due_at, settings=settings)
    if not zones or opens == due_at:
        return
    zone = zones[0]
    if opens is None:
        raise OutsideContactHours(
            _("outside contact hours in {zone}: no allowed time in the weeks after it").format(
                zone=zone
            ),
            at=due_at,
            next_allowed=None,
            zone=zone,
        )
    local = opens.astimezone(ZoneInfo(zone))
    raise OutsideContactHours(
        _("outside contact hours in {zone}: next allowed {time}").format(
            zone=zone, time=format_day_time(local)
        ),
        at=due_at,
        next_allowed=opens,
        zone=zone,
    )


def follow_up_owner(
    *, session: Session, actor: Actor, case: Case, owner_id: uuid.UUID | None
) -> uuid.UUID:
    """Who will own it: by default the case's agent (a supervisor's callback lands in the
    agent's queue), or the actor on an unassigned case. The owner must be able to open the case."""
    if owner_id is None:
        return case.assigned_to_id or actor.user_id
    if owner_id == actor.user_id:
        return owner_id
    if not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can give a follow-up to someone else"))
    owner = session.get(User, owner_id)
    if owner is None or not owner.active:
        raise InvalidInput(_("no active user to own this follow-up"), field="owner_id")
    if owner.role == "agent" and case.assigned_to_id != owner.id:
        raise InvalidInput(
            _("{username} cannot open this case: assign it to them first").format(
                username=owner.username
            ),
            field="owner_id",
        )
    return owner_id


def add_follow_up_to_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    follow_up: FollowUpInput,
    owner_id: uuid.UUID,
    reason: str,
    activity_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Insert a follow-up already validated (validate_follow_up, follow_up_owner)."""
    row = FollowUp(
        case_id=case.id,
        owner_id=owner_id,
        due_at=follow_up.due_at,
        reason=reason,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="follow_up",
        entity_id=row.id,
        action="create",
        after={
            **audit.snapshot(row, ("case_id", "owner_id", "due_at", "reason")),
            "activity_id": activity_id,
        },
    )
    return row.id


@writes
def create_follow_up(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    follow_up: FollowUpInput,
    settings: Settings,
    activity_id: uuid.UUID | None = None,
    expected_version: int | None = None,
) -> uuid.UUID:
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    reason = validate_follow_up(follow_up=follow_up, now=now)
    owner_id = follow_up_owner(session=session, actor=actor, case=case, owner_id=follow_up.owner_id)
    if not follow_up.outside_hours_ok:
        check_contact_hours(session=session, case=case, due_at=follow_up.due_at, settings=settings)
    before = case_state(case)
    with changing(session):
        follow_up_id = add_follow_up_to_case(
            session=session,
            now=now,
            actor=actor,
            case=case,
            follow_up=follow_up,
            owner_id=owner_id,
            reason=reason,
            activity_id=activity_id,
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return follow_up_id


def mark_done(
    *, session: Session, now: datetime, row: FollowUp, user_id: uuid.UUID | None, why: str
) -> None:
    row.done_at = now
    row.updated_at = now
    session.add(row)
    audit.record(
        session=session,
        now=now,
        user_id=user_id,
        entity="follow_up",
        entity_id=row.id,
        action="complete",
        before={"done_at": None},
        after={"done_at": now, "why": why},
    )


@writes
def complete_follow_up(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    follow_up_id: uuid.UUID,
    settings: Settings,
) -> None:
    row = session.get(FollowUp, follow_up_id)
    if row is None:
        raise NotFound(_("no such follow-up"))
    case = case_for_change(session=session, case_id=row.case_id, actor=actor)
    if row.done_at is not None:
        raise InvalidInput(_("this follow-up is already done"))
    before = case_state(case)
    with changing(session):
        mark_done(session=session, now=now, row=row, user_id=actor.user_id, why="completed")
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )


@reads
def open_follow_ups(*, session: Session, case_id: uuid.UUID) -> list[FollowUpView]:
    rows = session.exec(
        select(FollowUp)
        .where(FollowUp.case_id == case_id, col(FollowUp.done_at).is_(None))
        .order_by(col(FollowUp.due_at))
    )
    return [FollowUpView(r.id, r.case_id, r.owner_id, r.due_at, r.reason, r.done_at) for r in rows]


def close_open_follow_ups(
    *, session: Session, now: datetime, case_id: uuid.UUID, user_id: uuid.UUID | None, why: str
) -> int:
    rows = session.exec(
        select(FollowUp).where(FollowUp.case_id == case_id, col(FollowUp.done_at).is_(None))
    ).all()
    for row in rows:
        row.done_at = now
        row.updated_at = now
        session.add(row)
        audit.record(
            session=session,
            now=now,
            user_id=user_id,
            entity="follow_up",
            entity_id=row.id,
            action="complete",
            before={"done_at": None},
            after={"done_at": now, "why": why},
        )
    return len(rows)
