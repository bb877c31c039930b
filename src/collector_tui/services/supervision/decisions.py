"""Supervisors' decisions on cases and the cases routed to them.

Routed cases (`Case.routed_reason`) wait for a supervisor and are held out of the agent's queue:
`deceased` and `bankrupt` (casework.holds routes them with their hold), a legal escalation an
agent asked for, a settlement whose discount is above the agent's limit, or any reason an agent
gives when routing a case of their own. A supervisor's decision clears the routing:

- `escalate_to_legal`: status `legal` and a legal hold (no more contact from the queue);
- `write_off` / `close_case`: the case closes (`written_off` keeps the balance on record as the
  amount written off); pending promises and plans are cancelled, open follow-ups done;
- `decide_settlement`: approve (the promise to pay the agreed amount is recorded) or reject;
- `unroute_case`: nothing to decide, back to the agent's queue.

Settlements are agreed by agents and decided by supervisors in casework.settlements.

Every change is audited in the same transaction; agents never act on a case that is not theirs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    Case,
    CaseStatus,
    Hold,
    HoldKind,
)
from collector_tui.services import reasons
from collector_tui.services.accounts import Actor, require_supervisor
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    check_not_closed,
    finish_case_change,
    show_money,
)
from collector_tui.services.casework.followups import close_open_follow_ups
from collector_tui.services.casework.holds import ROUTING_HOLDS, add_hold_to_case
from collector_tui.services.casework.notes import record_note
from collector_tui.services.casework.promises import (
    cancel_commitments,
)
from collector_tui.services.casework.settlements import (
    SETTLEMENT_ROUTED,
    SettlementView,
    lapse_settlements,
    live_settlement,
    pending_settlements,
)
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import InvalidInput
from collector_tui.services.supervision.workload import BrowserFilter, BrowserPage, browse_cases

__all__ = [
    "LEGAL_REQUEST",
    "CaseDecision",
    "close_case",
    "escalate_to_legal",
    "request_legal_escalation",
    "route_case",
    "routed_cases",
    "unroute_case",
    "write_off",
]

LEGAL_REQUEST = "legal escalation requested"
MAX_REASON = reasons.MAX_REASON
MAX_ROUTED_REASON = 200  # the column's size


@dataclass(frozen=True)
class CaseDecision:
    """A case after a supervisor's action: what the screen needs to update its row."""

    case_id: uuid.UUID
    client_ref: str
    status: str
    routed_reason: str | None
    version: int


def _decision(case: Case) -> CaseDecision:
    return CaseDecision(case.id, case.client_ref, case.status, case.routed_reason, case.version)


# --- routing --------------------------------------------------------------------------------------


@writes
def route_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> CaseDecision:
    """Send a case to the supervisors (an agent, for a case of their own; or a supervisor). It
    leaves the agent's queue, held "routed to a supervisor", until a supervisor decides."""
    case = case_for_change(
        session=session, actor=actor, case_id=case_id, expected_version=expected_version
    )
    text = reasons.check_reason(reason, required=True, minimum=settings.min_reason_length)
    assert text is not None
    check_not_closed(case, N_("route it"))
    if case.routed_reason:
        raise InvalidInput(
            _("case {client_ref} is already with the supervisors: {routed_reason}").format(
                client_ref=case.client_ref, routed_reason=case.routed_reason
            )
        )
    before = case_state(case)
    with changing(session):
        case.routed_reason = text[:MAX_ROUTED_REASON]
        record_note(
            session=session, now=now, actor=actor, case=case, text=f"Routed to a supervisor: {text}"
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="route",
        )
    return _decision(case)


@writes
def request_legal_escalation(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> CaseDecision:
    """An agent asks for legal action on their case: routed, the why on the timeline."""
    case = case_for_change(
        session=session, actor=actor, case_id=case_id, expected_version=expected_version
    )
    text = reasons.check_reason(
        reason,
        required=True,
        what=N_("the grounds for legal action"),
        minimum=settings.min_reason_length,
    )
    check_not_closed(case, N_("escalate it"))
    if case.status == CaseStatus.legal:
        raise InvalidInput(
            _("case {client_ref} is already with legal").format(client_ref=case.client_ref)
        )
    if case.routed_reason:
        raise InvalidInput(
            _("case {client_ref} is already with the supervisors: {routed_reason}").format(
                client_ref=case.client_ref, routed_reason=case.routed_reason
            )
        )
    before = case_state(case)
    with changing(session):
        case.routed_reason = LEGAL_REQUEST
        record_note(
            session=session,
            now=now,
            actor=actor,
            case=case,
            text=f"Legal escalation requested: {text}",
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="route",
        )
    return _decision(case)


def _has_routing_hold(session: Session, case: Case) -> str | None:
    kinds = [kind for kind, (_, routed) in ROUTING_HOLDS.items() if routed == case.routed_reason]
    if not kinds:
        return None
    found = session.exec(
        select(Hold.kind).where(
            Hold.case_id == case.id, col(Hold.kind).in_(kinds), col(Hold.released_at).is_(None)
        )
    ).first()
    return found


@writes
def unroute_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CaseDecision:
    """Nothing for a supervisor to decide after all: back to the agent's queue."""
    require_supervisor(actor, N_("send a routed case back"))
    case = case_for_change(
        session=session, actor=actor, case_id=case_id, expected_version=expected_version
    )
    text = reasons.check_reason(reason, required=False)
    if not case.routed_reason:
        raise InvalidInput(
            _("case {client_ref} is not routed to the supervisors").format(
                client_ref=case.client_ref
            )
        )
    hold = _has_routing_hold(session, case)
    if hold is not None:
        raise InvalidInput(
            _("case {client_ref} has an active {hold} hold: release the hold instead").format(
                client_ref=case.client_ref, hold=hold
            )
        )
    if case.routed_reason == SETTLEMENT_ROUTED and live_settlement(session, case.id, ("pending",)):
        raise InvalidInput(_("a settlement waits for approval: approve or reject it instead"))
    before = case_state(case)
    with changing(session):
        previous = case.routed_reason
        case.routed_reason = None
        record_note(
            session=session,
            now=now,
            actor=actor,
            case=case,
            text=f"Back to the agent ({previous})" + (f": {text}" if text else ""),
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="unroute",
        )
    return _decision(case)


@reads
def routed_cases(*, session: Session, now: datetime, actor: Actor, limit: int = 100) -> BrowserPage:
    """Open cases waiting for a supervisor (deceased, bankrupt, legal requests, settlements...)."""
    require_supervisor(actor, N_("see the cases routed to the supervisors"))
    return browse_cases(
        session=session, now=now, actor=actor, filters=BrowserFilter(routed=True), limit=limit
    )


@dataclass(frozen=True)
class RoutedWork:
    """What waits for a supervisor, read at one moment: routed cases and settlements."""

    cases: BrowserPage
    settlements: list[SettlementView]


@reads
def routed_work(*, session: Session, now: datetime, actor: Actor, limit: int = 500) -> RoutedWork:
    return RoutedWork(
        cases=routed_cases(session=session, now=now, actor=actor, limit=limit),
        settlements=pending_settlements(session=session, actor=actor),
    )


# --- decisions ------------------------------------------------------------------------------------


def _close(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    reason: str,
    status: str,
    action: str,
    label: str,
    doing: str,
    expected_version: int | None,
) -> CaseDecision:
    case = case_for_change(
        session=session, actor=actor, case_id=case_id, expected_version=expected_version
    )
    text = reasons.check_reason(reason, required=True)
    check_not_closed(case, doing)
    before = case_state(case)
    with changing(session):
        # The status first: the promise services then leave a closed status alone.
        case.status = status
        session.flush()
        why = f"case {status.replace('_', ' ')}: {text}"
        cancel_commitments(session, now, actor, case, settings, why[:MAX_REASON])
        close_open_follow_ups(
            session=session, now=now, case_id=case.id, user_id=actor.user_id, why=status
        )
        lapse_settlements(session, now, actor.user_id, case.id, why[:MAX_REASON])
        case.routed_reason = None
        amount = show_money(case.balance, case.currency)
        record_note(
            session=session,
            now=now,
            actor=actor,
            case=case,
            text=f"{label.capitalize()} ({amount}): {text}",
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action=action,
        )
    return _decision(case)


@writes
def write_off(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> CaseDecision:
    """Stop pursuing the debt: status `written_off`; the balance stays as the amount written off."""
    require_supervisor(actor, N_("write off a case"))
    return _close(
        session=session,
        now=now,
        actor=actor,
        case_id=case_id,
        settings=settings,
        reason=reason,
        status=CaseStatus.written_off.value,
        action="write_off",
        label="written off",
        doing=N_("write it off"),
        expected_version=expected_version,
    )


@writes
def close_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> CaseDecision:
    """Close a case for any other reason (recalled by the client, sold, duplicate...)."""
    require_supervisor(actor, N_("close a case"))
    return _close(
        session=session,
        now=now,
        actor=actor,
        case_id=case_id,
        settings=settings,
        reason=reason,
        status=CaseStatus.closed.value,
        action="close",
        label="closed",
        doing=N_("close it"),
        expected_version=expected_version,
    )


@writes
def escalate_to_legal(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    settings: Settings,
    reason: str,
    expected_version: int | None = None,
) -> CaseDecision:
    """Hand the case to legal: status `legal`, a legal hold (no contact from the queue)."""
    require_supervisor(actor, N_("escalate a case to legal"))
    case = case_for_change(
        session=session, actor=actor, case_id=case_id, expected_version=expected_version
    )
    text = reasons.check_reason(reason, required=True)
    assert text is not None
    check_not_closed(case, N_("escalate it"))
    if case.status == CaseStatus.legal:
        raise InvalidInput(
            _("case {client_ref} is already with legal").format(client_ref=case.client_ref)
        )
    before = case_state(case)
    with changing(session):
        case.status = CaseStatus.legal.value
        add_hold_to_case(
            session=session, now=now, actor=actor, case=case, kind=HoldKind.legal, reason=text
        )
        case.routed_reason = None
        record_note(
            session=session, now=now, actor=actor, case=case, text=f"Escalated to legal: {text}"
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="legal",
        )
    return _decision(case)


# --- settlements ---------------------------------------------------------------------------------


# --- the audit trail of a case --------------------------------------------------------------------
