"""Settlements ("full and final", for less than the balance): agents agree, supervisors decide.

An agent may agree to close a case for less than its balance when the discount (balance - amount,
in percent of the balance) is within their limit (`User.settlement_limit_pct`, 0 by default: every
discount needs approval). Within the limit the promise is recorded at once; above it the settlement
waits, routed to the supervisors. Once its promise is kept (paid in full: casework.payments calls
`settlement_after_payment`) the case is `settled` and the rest of the balance forgiven; a broken or
cancelled promise lapses it. Supervisors and admins settle without a limit, and set agents' limits.
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
from collector_tui.i18n import N_, _
from collector_tui.models import (
    CLOSED_STATUSES,
    Case,
    CaseStatus,
    Debtor,
    Promise,
    PromiseStatus,
    Settlement,
    User,
    outcome_label,
)
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor, require_supervisor
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    check_not_closed,
    debtor_today,
    finish_case_change,
    settle_status,
    show_money,
)
from collector_tui.services.casework.followups import close_open_follow_ups
from collector_tui.services.casework.promises import (
    PromiseInput,
    add_promise_to_case,
    cancel_commitments,
    pending_committed,
    validate_promise,
)
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import InvalidInput, NotFound

# Settlements still in play; one case has at most one.
LIVE_SETTLEMENT = ("pending", "approved")


SETTLEMENT_ROUTED = "settlement approval"


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


def limit_of(session: Session, actor: Actor, case: Case | None = None) -> int | None:
    """The actor's settlement limit in percent; None: no limit (supervisors, admins). Given the
    case, an agent's limit is capped by the case's strategy (services/strategies: its treatment's
    `settlement_limit_pct`): above it the settlement waits for a supervisor."""
    if actor.is_supervisor:
        return None
    user = session.get(User, actor.user_id)
    own = int(user.settlement_limit_pct) if user is not None else 0
    cap = strategy_limit(case) if case is not None else None
    return own if cap is None else min(own, cap)


def strategy_limit(case: Case) -> int | None:
    """The settlement limit the case's strategy sets, in percent (None: the strategy sets none)."""
    treatment = case.strategy_treatment or {}
    cap = treatment.get("settlement_limit_pct")
    return cap if type(cap) is int and 0 <= cap <= 100 else None


@reads
def settlement_limit(
    *, session: Session, actor: Actor, case_id: uuid.UUID | None = None
) -> int | None:
    """The discount, in percent of the balance, the actor may agree without a supervisor (on the
    case, when given: its strategy may cap it)."""
    case = session.get(Case, case_id) if case_id is not None else None
    return limit_of(session, actor, case)


def within_limit(discount: int, balance: int, limit_pct: int | None) -> bool:
    return limit_pct is None or discount * 100 <= limit_pct * balance


def live_settlement(
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


def lapse_settlements(
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
        settles_disputes=True,
    )
    if settlement.requested_by_id is not None and settlement.requested_by_id != by.user_id:
        promise = session.get(Promise, promise_id)
        if promise is not None:
            promise.created_by_id = settlement.requested_by_id
            session.add(promise)
    return promise_id


@writes
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
    case = case_for_change(
        session=session, actor=actor, case_id=case_id, expected_version=expected_version
    )
    text = reasons.check_reason(note, required=False, what=N_("the note"))
    check_not_closed(case, N_("settle it"))
    if type(amount) is not int or amount <= 0:
        raise InvalidInput(_("a settlement needs an amount above zero"), field="amount")
    if amount >= case.balance:
        raise InvalidInput(
            _("{amount} is not below the balance {balance}: record a promise instead").format(
                amount=show_money(amount, case.currency),
                balance=show_money(case.balance, case.currency),
            ),
            field="amount",
        )
    existing = live_settlement(session, case.id)
    if existing is not None and not _lapse_if_dead(session, now, existing):
        raise InvalidInput(
            _("case {client_ref} already has a settlement pending (waiting for approval)").format(
                client_ref=case.client_ref
            )
            if existing.status == "pending"
            else _("case {client_ref} already has a settlement {status}").format(
                client_ref=case.client_ref, status=outcome_label(existing.status)
            )
        )
    today, today_zone = debtor_today(session=session, case=case, now=now, settings=settings)
    validate_promise(
        case=case,
        promise=PromiseInput(amount=amount, due_date=due_date),
        today=today,
        today_zone=today_zone,
        committed=_committed(session, case.id),
    )
    limit = limit_of(session, actor, case)
    within = within_limit(case.balance - amount, case.balance, limit)
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


@writes
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
    require_supervisor(actor, "approve or reject a settlement")
    settlement = session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound(_("no such settlement"))
    case = case_for_change(session=session, case_id=settlement.case_id, actor=actor)
    text = reasons.check_reason(note, required=False, what=N_("the note"))
    if settlement.status != "pending":
        raise InvalidInput(
            _("this settlement is already {status}").format(status=outcome_label(settlement.status))
        )
    if approve:
        check_not_closed(case, N_("settle it"))
        today, today_zone = debtor_today(session=session, case=case, now=now, settings=settings)
        if settlement.due_date < today:
            raise InvalidInput(
                _("the agreed date {day} has passed: reject it and agree a new date").format(
                    day=settlement.due_date.isoformat()
                ),
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
    settlement = live_settlement(session, case.id, ("approved",))
    if settlement is None or settlement.promise_id is None or case.status in CLOSED_STATUSES:
        return False
    promise = session.get(Promise, settlement.promise_id)
    if promise is None or promise.status != PromiseStatus.kept:
        return False
    forgiven = case.balance
    case.status = CaseStatus.settled.value
    session.flush()
    why = "settled"
    cancel_commitments(session, now, actor, case, settings, why)
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


@reads
def pending_settlements(
    *, session: Session, actor: Actor, limit: int = 200
) -> list[SettlementView]:
    """Settlements waiting for a supervisor, oldest request first."""
    require_supervisor(actor, "see settlements waiting for approval")
    rows = session.exec(
        select(Settlement)
        .where(Settlement.status == "pending")
        .order_by(col(Settlement.requested_at), col(Settlement.id))
        .limit(max(1, limit))
    ).all()
    return _views(session, rows)


@reads
def case_settlements(*, session: Session, actor: Actor, case_id: uuid.UUID) -> list[SettlementView]:
    """A case's settlements, newest first (agents: their own cases only)."""
    case_for_change(session=session, case_id=case_id, actor=actor)
    rows = session.exec(
        select(Settlement)
        .where(Settlement.case_id == case_id)
        .order_by(col(Settlement.requested_at).desc(), col(Settlement.id))
    ).all()
    return _views(session, rows)


@writes
def set_settlement_limit(
    *, session: Session, now: datetime, actor: Actor, user_id: uuid.UUID, limit_pct: int
) -> None:
    """The discount (percent of the balance) an agent may agree without approval."""
    require_supervisor(actor, "set a settlement limit")
    if type(limit_pct) is not int or not 0 <= limit_pct <= 100:
        raise InvalidInput(_("a settlement limit is a whole percent from 0 to 100"), field="limit")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such user"))
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
