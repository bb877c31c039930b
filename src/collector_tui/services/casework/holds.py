"""Holds: reasons not to contact a case. Any active hold suspends contact
(docs/decisions.md: data model, compliance).

Some holds carry more than a pause:
- `dispute` puts the case in status 'dispute' until the last dispute hold is released;
- `deceased` and `bankruptcy` set the debtor's flag and route the case to the supervisors
  (`case.routed_reason`), because what happens next (estate, insolvency claim) is their call.

Agents may place any hold on their own cases (stopping contact is always safe) but may lift only a
hardship hold: the debtor's situation changed and they said so on the phone, which is everyday
negotiation. Every other hold ends a legal or compliance matter, so a supervisor lifts it:
- cease (FDCPA 805(c), CONC 7.9) only ends in writing from the debtor;
- dispute: collection stays suspended until the debt is verified and the verification sent (FDCPA
  809(b), Regulation F 1006.34) or the dispute is looked into (CONC 7.5/7.14); deciding that this
  happened is a compliance judgement, and resuming too early is a violation;
- complaint: a complaint is closed by its final response (FCA DISP 1.6), not by the agent it was
  about;
- legal, bankruptcy, deceased: the case is with the supervisors (or lawyers) already.

Placing and lifting a hold need a reason of at least `min_reason_length` characters
(services/reasons.py). Lifting the last dispute hold puts the case back to the status its facts
give: `new` when no contact attempt stands, else `active`, then `promised`/`plan` while a promise
or plan is pending.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    Case,
    CaseStatus,
    Debtor,
    Hold,
    HoldKind,
)
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.change import (
    STALE_MESSAGE,
    case_for_change,
    case_state,
    changing,
    finish_case_change,
    settle_status,
)
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound, StaleEdit

# The kinds an agent may lift on their own cases (the module's docstring says why only these).
AGENT_RELEASABLE = frozenset({HoldKind.hardship})
# Hold kind -> (debtor flag, routed reason).
ROUTING_HOLDS: dict[str, tuple[str, str]] = {
    HoldKind.deceased.value: ("deceased", "deceased"),
    HoldKind.bankruptcy.value: ("bankrupt", "bankrupt"),
}
MAX_REASON = reasons.MAX_REASON


@dataclass(frozen=True)
class ReleasedHolds:
    """What lifting holds did: for the command line's answer and the case screen's message."""

    case_id: uuid.UUID
    client_ref: str
    kind: str
    hold_ids: tuple[uuid.UUID, ...]
    case_status: str
    case_version: int


@dataclass(frozen=True)
class HoldView:
    id: uuid.UUID
    kind: str
    reason: str | None
    placed_at: datetime


def check_kind(kind: str) -> str:
    if kind not in HoldKind.__members__:
        kinds = ", ".join(HoldKind.__members__)
        raise InvalidInput(
            _("unknown hold {kind!r}: use one of {kinds}").format(kind=str(kind)[:32], kinds=kinds),
            field="kind",
        )
    return kind


def check_reason(reason: str | None, settings: Settings) -> str:
    """A hold's reason: required, between the configured minimum and MAX_REASON characters."""
    text = reasons.check_reason(reason, minimum=settings.min_reason_length)
    assert text is not None
    return text


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


@writes
def place_hold(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    kind: str,
    settings: Settings,
    reason: str | None = None,
    expected_version: int | None = None,
) -> uuid.UUID:
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    check_kind(kind)
    text = check_reason(reason, settings)
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


def status_from_facts(*, session: Session, case: Case) -> None:
    """The status an open case's facts give once nothing else (a dispute) sets it: `new` while no
    contact attempt stands (a voided one does not), else `active`, then `promised`/`plan` while a
    promise or plan is pending. Legal and the closed statuses are left alone."""
    if case.status not in ("new", "active", "promised", "plan", "dispute"):
        return
    voided = select(Activity.voids_id).where(
        Activity.case_id == case.id, col(Activity.voids_id).is_not(None)
    )
    attempt = session.exec(
        select(Activity.id)
        .where(
            Activity.case_id == case.id,
            Activity.channel != "note",
            col(Activity.voids_id).is_(None),
            col(Activity.id).not_in(voided),
        )
        .limit(1)
    ).first()
    case.status = CaseStatus.active.value if attempt is not None else CaseStatus.new.value
    settle_status(session=session, case=case)


def _lift(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case: Case,
    hold: Hold,
    reason: str,
    decided: bool = False,
) -> None:
    """Release one active hold already checked, and undo what it alone carried. `decided`: the
    matter the hold stood for was decided by the caller (an invoice dispute resolved)."""
    if hold.kind not in AGENT_RELEASABLE and not actor.is_supervisor and not decided:
        raise Forbidden(_("only a supervisor can lift a {kind} hold").format(kind=hold.kind))
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
        before={"released_at": None, "released_by_id": None},
        after={
            "released_at": now,
            "released_by_id": actor.user_id,
            "kind": hold.kind,
            "reason": reason,
        },
    )
    session.flush()
    if _active(session, case.id, hold.kind):
        return
    if hold.kind == HoldKind.dispute and case.status == CaseStatus.dispute:
        status_from_facts(session=session, case=case)
    if hold.kind in ROUTING_HOLDS:
        # Released by a supervisor: the report was wrong or the matter is over.
        flag, routed = ROUTING_HOLDS[hold.kind]
        if not _debtor_has_hold(session, case.debtor_id, hold.kind):
            _set_debtor_flag(session, now, case.debtor_id, flag, False, actor.user_id)
        if case.routed_reason == routed:
            case.routed_reason = None


def lift_decided_hold(
    *, session: Session, now: datetime, actor: Actor, case: Case, hold_id: uuid.UUID, reason: str
) -> bool:
    """Release a hold placed for a matter now decided (casework.disputes: the whole debt is no
    longer disputed); False when it was released already."""
    hold = session.get(Hold, hold_id)
    if hold is None or hold.released_at is not None:
        return False
    _lift(session=session, now=now, actor=actor, case=case, hold=hold, reason=reason, decided=True)
    return True


@writes
def release_hold(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    hold_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> ReleasedHolds:
    """Lift one hold; `expected_version` is the case's (a hold has no counter of its own)."""
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(_("no such hold"))
    case = case_for_change(session=session, case_id=hold.case_id, actor=actor)
    if expected_version is not None and expected_version != case.version:
        raise StaleEdit(_(STALE_MESSAGE))
    if hold.released_at is not None:
        raise InvalidInput(_("this hold is already released"))
    text = check_reason(reason, settings)
    before = case_state(case)
    with changing(session):
        _lift(session=session, now=now, actor=actor, case=case, hold=hold, reason=text)
        _note_release(session, now, actor, case, hold.kind, text)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="release_hold",
        )
    return ReleasedHolds(case.id, case.client_ref, hold.kind, (hold.id,), case.status, case.version)


@writes
def release_holds(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    kind: str,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> ReleasedHolds:
    """Lift every active hold of `kind` on the case (`hold release CASE --kind KIND`): ending a
    dispute ends all of it, not one of two dispute holds."""
    case = case_for_change(session=session, case_id=case_id, actor=actor)
    if expected_version is not None and expected_version != case.version:
        raise StaleEdit(_(STALE_MESSAGE))
    check_kind(kind)
    text = check_reason(reason, settings)
    found = _active(session, case.id, kind)
    if not found:
        raise InvalidInput(
            _("case {client_ref} has no active {kind} hold").format(
                client_ref=case.client_ref, kind=kind
            ),
            field="kind",
        )
    if kind not in AGENT_RELEASABLE and not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can lift a {kind} hold").format(kind=kind))
    before = case_state(case)
    with changing(session):
        for hold in found:
            _lift(session=session, now=now, actor=actor, case=case, hold=hold, reason=text)
        _note_release(session, now, actor, case, kind, text)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="release_hold",
        )
    return ReleasedHolds(
        case.id, case.client_ref, kind, tuple(h.id for h in found), case.status, case.version
    )


def _note_release(
    session: Session, now: datetime, actor: Actor, case: Case, kind: str, reason: str
) -> None:
    # The why on the timeline, where the next agent reads it (the audit event holds it too).
    from collector_tui.services.casework.notes import record_note

    what = "Dispute ended" if kind == HoldKind.dispute else f"{kind.capitalize()} hold lifted"
    record_note(session=session, now=now, actor=actor, case=case, text=f"{what}: {reason}")


@reads
def active_holds(*, session: Session, case_id: uuid.UUID) -> list[HoldView]:
    return [HoldView(h.id, h.kind, h.reason, h.placed_at) for h in _active(session, case_id)]
