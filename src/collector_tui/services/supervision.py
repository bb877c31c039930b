"""Supervisors' decisions on cases, the cases routed to them, settlements, and a case's audit trail.

Routed cases (`Case.routed_reason`) wait for a supervisor and are held out of the agent's queue:
`deceased` and `bankrupt` (services.holds routes them with their hold), a legal escalation an
agent asked for, a settlement whose discount is above the agent's limit, or any reason an agent
gives when routing a case of their own. A supervisor's decision clears the routing:

- `escalate_to_legal`: status `legal` and a legal hold (no more contact from the queue);
- `write_off` / `close_case`: the case closes (`written_off` keeps the balance on record as the
  amount written off); pending promises and plans are cancelled, open follow-ups done;
- `decide_settlement`: approve (the promise to pay the agreed amount is recorded) or reject;
- `unroute_case`: nothing to decide, back to the agent's queue.

Settlements: an agent may agree to close a case for less than its balance ("full and final")
when the discount (balance - amount, in percent of the balance) is within their limit
(`User.settlement_limit_pct`, 0 by default: every discount needs approval). Within the limit the
promise is recorded at once; above it the settlement waits, routed to the supervisors. Once its
promise is kept (paid in full, services.promises.post_payment calls `settlement_after_payment`)
the case is `settled` and the rest of the balance forgiven; a broken or cancelled promise lapses
it. Supervisors and admins settle without a limit, and set agents' limits.

Every change is audited in the same transaction; agents never act on a case that is not theirs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    AuditEvent,
    Case,
    CaseStatus,
    Debtor,
    FollowUp,
    Hold,
    HoldKind,
    Payment,
    PaymentPlan,
    Phone,
    Promise,
    PromiseStatus,
    Settlement,
    User,
)
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor
from collector_tui.services.activities import record_note
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound, StaleEdit
from collector_tui.services.holds import ROUTING_HOLDS, add_hold_to_case
from collector_tui.services.promises import (
    STALE_MESSAGE,
    PromiseInput,
    add_promise_to_case,
    cancel_plan,
    cancel_promise,
    case_for_change,
    case_state,
    changing,
    close_open_follow_ups,
    debtor_today,
    finish_case_change,
    pending_committed,
    settle_status,
    show_money,
    validate_promise,
)
from collector_tui.services.workload import BrowserFilter, BrowserPage, browse_cases

__all__ = [
    "LEGAL_REQUEST",
    "SETTLEMENT_ROUTED",
    "AuditChange",
    "AuditEntry",
    "CaseDecision",
    "SettlementView",
    "case_audit_trail",
    "case_settlements",
    "close_case",
    "decide_settlement",
    "escalate_to_legal",
    "pending_settlements",
    "request_legal_escalation",
    "request_settlement",
    "route_case",
    "routed_cases",
    "set_settlement_limit",
    "settlement_after_payment",
    "unroute_case",
    "write_off",
]

LEGAL_REQUEST = "legal escalation requested"
SETTLEMENT_ROUTED = "settlement approval"
MAX_REASON = reasons.MAX_REASON
MAX_ROUTED_REASON = 200  # the column's size
# Settlements still in play; one case has at most one.
LIVE_SETTLEMENT = ("pending", "approved")


@dataclass(frozen=True)
class CaseDecision:
    """A case after a supervisor's action: what the screen needs to update its row."""

    case_id: uuid.UUID
    client_ref: str
    status: str
    routed_reason: str | None
    version: int


def _require_supervisor(actor: Actor, what: str) -> None:
    if not actor.is_supervisor:
        raise Forbidden(f"only a supervisor can {what}")


def _reason(
    text: str | None, *, required: bool, what: str = "a reason", minimum: int = 0
) -> str | None:
    # The shared check (services/reasons.py); escalations pass the configured minimum.
    return reasons.check_reason(text, minimum=minimum, required=required, what=what)


def _load(session: Session, actor: Actor, case_id: uuid.UUID, expected_version: int | None) -> Case:
    case = case_for_change(session=session, case_id=case_id, actor=actor)
    if expected_version is not None and expected_version != case.version:
        raise StaleEdit(STALE_MESSAGE)
    return case


def _decision(case: Case) -> CaseDecision:
    return CaseDecision(case.id, case.client_ref, case.status, case.routed_reason, case.version)


def _check_open(case: Case, doing: str) -> None:
    if case.status in CLOSED_STATUSES:
        raise InvalidInput(f"case {case.client_ref} is already {case.status}: cannot {doing}")


# --- routing --------------------------------------------------------------------------------------


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
    case = _load(session, actor, case_id, expected_version)
    text = _reason(reason, required=True, minimum=settings.min_reason_length)
    assert text is not None
    _check_open(case, "route it")
    if case.routed_reason:
        raise InvalidInput(
            f"case {case.client_ref} is already with the supervisors: {case.routed_reason}"
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
    case = _load(session, actor, case_id, expected_version)
    text = _reason(
        reason,
        required=True,
        what="the grounds for legal action",
        minimum=settings.min_reason_length,
    )
    _check_open(case, "escalate it")
    if case.status == CaseStatus.legal:
        raise InvalidInput(f"case {case.client_ref} is already with legal")
    if case.routed_reason:
        raise InvalidInput(
            f"case {case.client_ref} is already with the supervisors: {case.routed_reason}"
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
    _require_supervisor(actor, "send a routed case back")
    case = _load(session, actor, case_id, expected_version)
    text = _reason(reason, required=False)
    if not case.routed_reason:
        raise InvalidInput(f"case {case.client_ref} is not routed to the supervisors")
    hold = _has_routing_hold(session, case)
    if hold is not None:
        raise InvalidInput(
            f"case {case.client_ref} has an active {hold} hold: release the hold instead"
        )
    if case.routed_reason == SETTLEMENT_ROUTED and _live(session, case.id, ("pending",)):
        raise InvalidInput("a settlement waits for approval: approve or reject it instead")
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


def routed_cases(*, session: Session, now: datetime, actor: Actor, limit: int = 100) -> BrowserPage:
    """Open cases waiting for a supervisor (deceased, bankrupt, legal requests, settlements...)."""
    _require_supervisor(actor, "see the cases routed to the supervisors")
    return browse_cases(
        session=session, now=now, actor=actor, filters=BrowserFilter(routed=True), limit=limit
    )


# --- decisions ------------------------------------------------------------------------------------


def _cancel_commitments(
    session: Session, now: datetime, actor: Actor, case: Case, settings: Settings, why: str
) -> None:
    """Pending promises and active plans end with the case (cancelled, with the reason)."""
    plans = session.exec(
        select(PaymentPlan.id).where(PaymentPlan.case_id == case.id, PaymentPlan.status == "active")
    ).all()
    for plan_id in plans:
        cancel_plan(
            session=session, now=now, actor=actor, plan_id=plan_id, settings=settings, reason=why
        )
    promises = session.exec(
        select(Promise.id).where(
            Promise.case_id == case.id,
            Promise.status == PromiseStatus.pending,
            col(Promise.plan_id).is_(None),
        )
    ).all()
    for promise_id in promises:
        cancel_promise(
            session=session,
            now=now,
            actor=actor,
            promise_id=promise_id,
            settings=settings,
            reason=why,
        )


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
    expected_version: int | None,
) -> CaseDecision:
    case = _load(session, actor, case_id, expected_version)
    text = _reason(reason, required=True)
    _check_open(case, label)
    before = case_state(case)
    with changing(session):
        # The status first: the promise services then leave a closed status alone.
        case.status = status
        session.flush()
        why = f"case {status.replace('_', ' ')}: {text}"
        _cancel_commitments(session, now, actor, case, settings, why[:MAX_REASON])
        close_open_follow_ups(
            session=session, now=now, case_id=case.id, user_id=actor.user_id, why=status
        )
        _lapse_settlements(session, now, actor.user_id, case.id, why[:MAX_REASON])
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
    _require_supervisor(actor, "write off a case")
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
        expected_version=expected_version,
    )


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
    _require_supervisor(actor, "close a case")
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
        expected_version=expected_version,
    )


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
    _require_supervisor(actor, "escalate a case to legal")
    case = _load(session, actor, case_id, expected_version)
    text = _reason(reason, required=True)
    assert text is not None
    _check_open(case, "escalate it")
    if case.status == CaseStatus.legal:
        raise InvalidInput(f"case {case.client_ref} is already with legal")
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


@dataclass(frozen=True)
class SettlementView:
    id: uuid.UUID
    case_id: uuid.UUID
    client_ref: str
    debtor: str
    currency: str
    amount: int  # what the debtor pays
    balance: int  # the balance when it was agreed
    due_date: date
    status: str  # pending | approved | rejected | completed | lapsed
    note: str | None
    requested_by: str | None  # username
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    promise_id: uuid.UUID | None
    limit_pct: int | None  # the requesting agent's limit (None: a supervisor's own)

    @property
    def discount(self) -> int:
        return self.balance - self.amount

    @property
    def discount_pct(self) -> Decimal:
        """The discount in percent of the balance, to one decimal."""
        if self.balance <= 0:
            return Decimal(0)
        exact = Decimal(self.discount * 100) / Decimal(self.balance)
        return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _limit_of(session: Session, actor: Actor) -> int | None:
    """The actor's settlement limit in percent; None: no limit (supervisors, admins)."""
    if actor.is_supervisor:
        return None
    user = session.get(User, actor.user_id)
    return int(user.settlement_limit_pct) if user is not None else 0


def settlement_limit(*, session: Session, actor: Actor) -> int | None:
    """The discount, in percent of the balance, the actor may agree without a supervisor."""
    return _limit_of(session, actor)


def _within(discount: int, balance: int, limit_pct: int | None) -> bool:
    return limit_pct is None or discount * 100 <= limit_pct * balance


def _live(
    session: Session, case_id: uuid.UUID, statuses: Sequence[str] = LIVE_SETTLEMENT
) -> Settlement | None:
    return session.exec(
        select(Settlement).where(
            Settlement.case_id == case_id, col(Settlement.status).in_(list(statuses))
        )
    ).first()


def _set_settlement(
    session: Session,
    now: datetime,
    settlement: Settlement,
    status: str,
    user_id: uuid.UUID | None,
    extra: dict[str, Any] | None = None,
) -> None:
    before = settlement.status
    settlement.status = status
    settlement.updated_at = now
    session.add(settlement)
    audit.record(
        session=session,
        now=now,
        user_id=user_id,
        entity="settlement",
        entity_id=settlement.id,
        action=status,
        before={"status": before},
        after={"status": status, **(extra or {})},
    )


def _lapse_settlements(
    session: Session, now: datetime, user_id: uuid.UUID | None, case_id: uuid.UUID, why: str
) -> None:
    for settlement in session.exec(
        select(Settlement).where(
            Settlement.case_id == case_id, col(Settlement.status).in_(list(LIVE_SETTLEMENT))
        )
    ).all():
        _set_settlement(session, now, settlement, "lapsed", user_id, {"reason": why})


def _lapse_if_dead(session: Session, now: datetime, settlement: Settlement) -> bool:
    """An approved settlement whose promise was broken or cancelled is over."""
    if settlement.status != "approved" or settlement.promise_id is None:
        return False
    promise = session.get(Promise, settlement.promise_id)
    if promise is None or promise.status in (PromiseStatus.broken, PromiseStatus.cancelled):
        why = f"promise {promise.status}" if promise is not None else "promise gone"
        _set_settlement(session, now, settlement, "lapsed", None, {"reason": why})
        return True
    return False


def _record_promise(
    session: Session,
    now: datetime,
    settlement: Settlement,
    case: Case,
    settings: Settings,
    by: Actor,
) -> uuid.UUID:
    """The promise to pay the agreed amount: recorded (and audited) by `by`, credited to the
    agent who agreed it with the debtor."""
    promise_id = add_promise_to_case(
        session=session,
        now=now,
        actor=by,
        case=case,
        promise=PromiseInput(amount=settlement.amount, due_date=settlement.due_date),
        settings=settings,
    )
    if settlement.requested_by_id is not None and settlement.requested_by_id != by.user_id:
        promise = session.get(Promise, promise_id)
        if promise is not None:
            promise.created_by_id = settlement.requested_by_id
            session.add(promise)
    return promise_id


def request_settlement(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    amount: int,
    due_date: date,
    settings: Settings,
    note: str | None = None,
    expected_version: int | None = None,
) -> SettlementView:
    """Agree to close the case for `amount` (minor units) paid by `due_date`. Within the actor's
    limit the promise is recorded now (status `approved`); above it the settlement waits for a
    supervisor (status `pending`, the case routed to them)."""
    case = _load(session, actor, case_id, expected_version)
    text = _reason(note, required=False, what="the note")
    _check_open(case, "settle it")
    if type(amount) is not int or amount <= 0:
        raise InvalidInput("a settlement needs an amount above zero", field="amount")
    if amount >= case.balance:
        raise InvalidInput(
            f"{show_money(amount, case.currency)} is not below the balance "
            f"{show_money(case.balance, case.currency)}: record a promise instead",
            field="amount",
        )
    existing = _live(session, case.id)
    if existing is not None and not _lapse_if_dead(session, now, existing):
        raise InvalidInput(
            f"case {case.client_ref} already has a settlement {existing.status}"
            + (" (waiting for approval)" if existing.status == "pending" else "")
        )
    today, today_zone = debtor_today(session=session, case=case, now=now, settings=settings)
    validate_promise(
        case=case,
        promise=PromiseInput(amount=amount, due_date=due_date),
        today=today,
        today_zone=today_zone,
        committed=_committed(session, case.id),
    )
    limit = _limit_of(session, actor)
    within = _within(case.balance - amount, case.balance, limit)
    before = case_state(case)
    with changing(session):
        settlement = Settlement(
            case_id=case.id,
            amount=amount,
            balance=case.balance,
            due_date=due_date,
            status="approved" if within else "pending",
            note=text,
            requested_by_id=actor.user_id,
            requested_at=now,
            updated_at=now,
        )
        session.add(settlement)
        session.flush()
        if within:
            settlement.promise_id = _record_promise(session, now, settlement, case, settings, actor)
            settlement.decided_at = now
            settlement.decided_by_id = actor.user_id if actor.is_supervisor else None
            settle_status(session=session, case=case)
        elif not case.routed_reason:
            case.routed_reason = SETTLEMENT_ROUTED
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="settlement",
            entity_id=settlement.id,
            action="create",
            after={
                **audit.snapshot(
                    settlement, ("case_id", "amount", "balance", "due_date", "status", "note")
                ),
                "limit_pct": limit,
                "promise_id": settlement.promise_id,
            },
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _view(session, settlement)


def _committed(session: Session, case_id: uuid.UUID) -> int:
    return pending_committed(session=session, case_id=case_id)


def decide_settlement(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settlement_id: uuid.UUID,
    approve: bool,
    settings: Settings,
    note: str | None = None,
) -> SettlementView:
    """A supervisor approves (the promise is recorded for the agent) or rejects a settlement."""
    _require_supervisor(actor, "approve or reject a settlement")
    settlement = session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound("no such settlement")
    case = case_for_change(session=session, case_id=settlement.case_id, actor=actor)
    text = _reason(note, required=False, what="the note")
    if settlement.status != "pending":
        raise InvalidInput(f"this settlement is already {settlement.status}")
    if approve:
        _check_open(case, "settle it")
        today, today_zone = debtor_today(session=session, case=case, now=now, settings=settings)
        if settlement.due_date < today:
            raise InvalidInput(
                f"the agreed date {settlement.due_date.isoformat()} has passed: reject it and "
                "agree a new date",
                field="due_date",
            )
        validate_promise(
            case=case,
            promise=PromiseInput(amount=settlement.amount, due_date=settlement.due_date),
            today=today,
            today_zone=today_zone,
            committed=_committed(session, case.id),
        )
    before = case_state(case)
    with changing(session):
        settlement.decided_by_id = actor.user_id
        settlement.decided_at = now
        settlement.decision_note = text
        extra: dict[str, Any] = {"note": text}
        if approve:
            settlement.promise_id = _record_promise(session, now, settlement, case, settings, actor)
            extra["promise_id"] = settlement.promise_id
        _set_settlement(
            session, now, settlement, "approved" if approve else "rejected", actor.user_id, extra
        )
        if case.routed_reason == SETTLEMENT_ROUTED:
            case.routed_reason = None
        settle_status(session=session, case=case)
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
            action="settlement",
        )
    return _view(session, settlement)


def settlement_after_payment(
    *, session: Session, now: datetime, actor: Actor, case: Case, settings: Settings
) -> bool:
    """Called by post_payment once the payment is allocated: an approved settlement whose promise
    is now kept settles the case (the rest of the balance is forgiven). True when it did."""
    settlement = _live(session, case.id, ("approved",))
    if settlement is None or settlement.promise_id is None or case.status in CLOSED_STATUSES:
        return False
    promise = session.get(Promise, settlement.promise_id)
    if promise is None or promise.status != PromiseStatus.kept:
        return False
    forgiven = case.balance
    case.status = CaseStatus.settled.value
    session.flush()
    why = "settled"
    _cancel_commitments(session, now, actor, case, settings, why)
    close_open_follow_ups(session=session, now=now, case_id=case.id, user_id=actor.user_id, why=why)
    _set_settlement(session, now, settlement, "completed", actor.user_id, {"forgiven": forgiven})
    if case.routed_reason == SETTLEMENT_ROUTED:
        case.routed_reason = None
    return True


def _view(session: Session, settlement: Settlement) -> SettlementView:
    return _views(session, [settlement])[0]


def _views(session: Session, rows: Sequence[Settlement]) -> list[SettlementView]:
    case_ids = {row.case_id for row in rows}
    cases = {
        case.id: (case.client_ref, case.currency, name)
        for case, name in session.exec(
            select(Case, Debtor.name)
            .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
            .where(col(Case.id).in_(list(case_ids)))
        ).all()
    } if case_ids else {}  # fmt: skip
    user_ids = {u for row in rows for u in (row.requested_by_id, row.decided_by_id) if u}
    users = (
        {u.id: u for u in session.exec(select(User).where(col(User.id).in_(list(user_ids))))}
        if user_ids
        else {}
    )

    def name(user_id: uuid.UUID | None) -> str | None:
        return users[user_id].username if user_id in users else None

    views = []
    for row in rows:
        ref, currency, debtor = cases[row.case_id]
        requester = users.get(row.requested_by_id) if row.requested_by_id else None
        limit = (
            int(requester.settlement_limit_pct)
            if requester is not None and requester.role == "agent"
            else None
        )
        views.append(
            SettlementView(
                id=row.id,
                case_id=row.case_id,
                client_ref=ref,
                debtor=debtor,
                currency=currency,
                amount=row.amount,
                balance=row.balance,
                due_date=row.due_date,
                status=row.status,
                note=row.note,
                requested_by=name(row.requested_by_id),
                requested_at=row.requested_at,
                decided_by=name(row.decided_by_id),
                decided_at=row.decided_at,
                decision_note=row.decision_note,
                promise_id=row.promise_id,
                limit_pct=limit,
            )
        )
    return views


def pending_settlements(
    *, session: Session, actor: Actor, limit: int = 200
) -> list[SettlementView]:
    """Settlements waiting for a supervisor, oldest request first."""
    _require_supervisor(actor, "see settlements waiting for approval")
    rows = session.exec(
        select(Settlement)
        .where(Settlement.status == "pending")
        .order_by(col(Settlement.requested_at), col(Settlement.id))
        .limit(max(1, limit))
    ).all()
    return _views(session, rows)


def case_settlements(*, session: Session, actor: Actor, case_id: uuid.UUID) -> list[SettlementView]:
    """A case's settlements, newest first (agents: their own cases only)."""
    case_for_change(session=session, case_id=case_id, actor=actor)
    rows = session.exec(
        select(Settlement)
        .where(Settlement.case_id == case_id)
        .order_by(col(Settlement.requested_at).desc(), col(Settlement.id))
    ).all()
    return _views(session, rows)


def set_settlement_limit(
    *, session: Session, now: datetime, actor: Actor, user_id: uuid.UUID, limit_pct: int
) -> None:
    """The discount (percent of the balance) an agent may agree without approval."""
    _require_supervisor(actor, "set a settlement limit")
    if type(limit_pct) is not int or not 0 <= limit_pct <= 100:
        raise InvalidInput("a settlement limit is a whole percent from 0 to 100", field="limit")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if user.settlement_limit_pct == limit_pct:
        return
    before = user.settlement_limit_pct
    user.settlement_limit_pct = limit_pct
    user.updated_at = now
    session.add(user)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="user",
        entity_id=user.id,
        action="update",
        before={"settlement_limit_pct": before},
        after={"settlement_limit_pct": limit_pct},
    )
    session.flush()


# --- the audit trail of a case --------------------------------------------------------------------


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
