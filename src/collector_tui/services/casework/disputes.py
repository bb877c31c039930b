"""Invoice disputes: a debtor disputes an invoice, whole or an amount of it, and the dispute is
resolved, not parked.

While a dispute is open its amount is out of the collectible balance (casework.balances): it cannot
be promised, a payment reaches it last, and the queue scores the case on what is collectible. The
rest of the case stays workable; only when the whole balance is disputed does the case get a
dispute hold (no contact). A dispute has an owner (by default the case's agent) and a resolve-by
date (by default `dispute_resolve_days` ahead); a follow-up due the day after that date brings an
unresolved dispute to its owner's queue.

Resolution, by the owner or a supervisor, with a reason: upheld credits the invoice by the disputed
amount (an audited credit that reduces the invoice and the balance), rejected puts the amount back
into the collectible balance, partly upheld credits the given amount and puts the rest back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.dates import check_day
from collector_tui.i18n import N_, _
from collector_tui.models import (
    CLOSED_STATUSES,
    Case,
    CaseStatus,
    DisputeCategory,
    DisputeStatus,
    FollowUp,
    HoldKind,
    Invoice,
    InvoiceDispute,
    User,
    outcome_label,
)
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import balances
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    check_not_closed,
    finish_case_change,
    show_money,
    utc_today,
)
from collector_tui.services.casework.followups import (
    FollowUpInput,
    add_follow_up_to_case,
    close_open_follow_ups,
    follow_up_owner,
    mark_done,
)
from collector_tui.services.casework.holds import add_hold_to_case, lift_decided_hold
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound

CATEGORIES = tuple(DisputeCategory.__members__)
OUTCOMES = ("upheld", "rejected", "partly")


@dataclass(frozen=True)
class DisputeChange:
    """What opening or resolving a dispute left behind."""

    dispute_id: uuid.UUID
    status: str
    amount: int
    credited: int
    currency: str
    case_status: str
    balance: int
    disputed: int
    collectible: int
    case_version: int


@dataclass(frozen=True)
class DisputeView:
    id: uuid.UUID
    case_id: uuid.UUID
    client: str
    client_ref: str
    currency: str
    invoice: str
    amount: int
    category: str
    reason: str
    owner: str
    resolve_by: date
    status: str
    credited: int
    opened_at: datetime
    resolved_at: datetime | None
    resolution_reason: str | None
    overdue: bool
    owner_id: uuid.UUID


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise InvalidInput(
            _("unknown category {category!r}: use one of {categories}").format(
                category=str(category)[:32], categories=", ".join(CATEGORIES)
            ),
            field="category",
        )
    return category


def _check_amount(amount: object, *, field: str = "amount") -> int:
    if type(amount) is not int:
        raise InvalidInput(_("the amount must be a whole number of minor units"), field=field)
    if amount <= 0:
        raise InvalidInput(_("a disputed amount must be above zero"), field=field)
    return amount


def _change(session: Session, case: Case, dispute: InvoiceDispute) -> DisputeChange:
    disputed = balances.disputed_total(session, case.id)
    return DisputeChange(
        dispute_id=dispute.id,
        status=dispute.status,
        amount=dispute.amount,
        credited=dispute.credited,
        currency=case.currency,
        case_status=case.status,
        balance=case.balance,
        disputed=disputed,
        collectible=max(0, case.balance - disputed),
        case_version=case.version,
    )


def _audit(dispute: InvoiceDispute) -> dict[str, object]:
    return audit.snapshot(
        dispute,
        (
            "case_id",
            "invoice_id",
            "amount",
            "category",
            "reason",
            "owner_id",
            "resolve_by",
            "status",
            "credited",
            "resolution_reason",
        ),
    )


@writes
def open_dispute(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    invoice: str,
    category: str,
    reason: str,
    amount: int | None = None,
    owner_id: uuid.UUID | None = None,
    resolve_by: date | None = None,
    expected_version: int | None = None,
) -> DisputeChange:
    """Dispute `amount` of an invoice (None: all of it that is open and not disputed yet)."""
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    check_not_closed(case, N_("dispute an invoice"))
    number = reasons.tidy(invoice)
    row = session.exec(
        select(Invoice).where(Invoice.case_id == case.id, Invoice.number == number)
    ).first()
    if row is None:
        raise InvalidInput(
            _("case {client_ref} has no invoice {invoice!r}").format(
                client_ref=case.client_ref, invoice=number[:100]
            ),
            field="invoice",
        )
    check_category(category)
    text = reasons.check_reason(reason, minimum=settings.min_reason_length)
    assert text is not None
    already = balances.disputed_by_invoice(session, case.id).get(row.id, 0)
    room = row.open_amount - already
    if room <= 0:
        raise InvalidInput(
            _("invoice {number} has nothing open left to dispute").format(number=row.number),
            field="amount",
        )
    wanted = room if amount is None else _check_amount(amount)
    if wanted > room:
        held = f" ({show_money(already, case.currency)} already disputed)" if already else ""
        raise InvalidInput(
            _(
                "a dispute of {amount} exceeds the open amount {room} of invoice {number}{held}"
            ).format(
                amount=show_money(wanted, case.currency),
                room=show_money(room, case.currency),
                number=row.number,
                held=held,
            ),
            field="amount",
        )
    owner = follow_up_owner(session=session, actor=actor, case=case, owner_id=owner_id)
    today = utc_today(now)
    by = resolve_by or today + timedelta(days=settings.dispute_resolve_days)
    try:
        check_day(by, what=N_("the resolve-by date"))
    except ValueError as bad:
        raise InvalidInput(str(bad), field="resolve_by") from None
    if by < today:
        raise InvalidInput(_("the resolve-by date cannot be in the past"), field="resolve_by")

    before = case_state(case)
    with changing(session):
        # The follow-up and the hold first, so the dispute is one insert that names them (on a
        # laptop: one operation the master admits as a fact).
        # Unresolved the day after its resolve-by date, the dispute is in its owner's queue.
        follow_up_id = add_follow_up_to_case(
            session=session,
            now=now,
            actor=actor,
            case=case,
            follow_up=FollowUpInput(
                due_at=datetime.combine(by + timedelta(days=1), time(0), tzinfo=UTC),
                reason=_("resolve the dispute of invoice {number}").format(number=row.number),
            ),
            owner_id=owner,
            reason=_("resolve the dispute of invoice {number} (due {day})").format(
                number=row.number, day=by.isoformat()
            ),
        )
        hold_id = None
        if balances.disputed_total(session, case.id) + wanted >= case.balance:
            # The debtor disputes the whole debt: no contact until it is resolved.
            hold_id = add_hold_to_case(
                session=session,
                now=now,
                actor=actor,
                case=case,
                kind=HoldKind.dispute.value,
                reason=_("the whole balance is disputed: {reason}").format(reason=text),
            )
        dispute = InvoiceDispute(
            case_id=case.id,
            invoice_id=row.id,
            amount=wanted,
            category=category,
            reason=text,
            owner_id=owner,
            resolve_by=by,
            opened_by_id=actor.user_id,
            opened_at=now,
            updated_at=now,
            follow_up_id=follow_up_id,
            hold_id=hold_id,
        )
        session.add(dispute)
        row.disputed = True
        session.add(row)
        session.flush()
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="dispute",
            entity_id=dispute.id,
            action="open",
            after=_audit(dispute),
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _change(session, case, dispute)


@writes
def resolve_dispute(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    dispute_id: uuid.UUID,
    outcome: str,
    reason: str,
    amount: int | None = None,
    expected_version: int | None = None,
) -> DisputeChange:
    """Resolve an open dispute: `upheld` (the invoice is credited by the disputed amount),
    `rejected` (the amount is collectible again) or `partly` (`amount` credited, the rest
    collectible)."""
    dispute = session.get(InvoiceDispute, dispute_id)
    if dispute is None:
        raise NotFound(_("no such dispute"))
    case = case_for_change(
        session=session,
        case_id=dispute.case_id,
        actor=actor,
        expected_version=expected_version,
    )
    if not actor.is_supervisor and actor.user_id != dispute.owner_id:
        raise Forbidden(_("only the dispute's owner or a supervisor can resolve it"))
    if dispute.status != DisputeStatus.open:
        raise InvalidInput(
            _("this dispute is already resolved ({status})").format(
                status=outcome_label(dispute.status)
            )
        )
    if outcome not in OUTCOMES:
        raise InvalidInput(
            _("unknown outcome {outcome!r}: use one of {outcomes}").format(
                outcome=str(outcome)[:32], outcomes=", ".join(OUTCOMES)
            ),
            field="outcome",
        )
    text = reasons.check_reason(reason, minimum=settings.min_reason_length)
    assert text is not None
    if outcome == "partly":
        if amount is None:
            raise InvalidInput(
                _("a partly upheld dispute needs the amount credited"), field="amount"
            )
        credit = _check_amount(amount)
        if credit >= dispute.amount:
            raise InvalidInput(
                _("a partial credit must be below the disputed {amount}: uphold it instead").format(
                    amount=show_money(dispute.amount, case.currency)
                ),
                field="amount",
            )
    elif amount is not None:
        raise InvalidInput(_("an amount goes only with a partly upheld dispute"), field="amount")
    else:
        credit = dispute.amount if outcome == "upheld" else 0
    invoice = session.get(Invoice, dispute.invoice_id)
    assert invoice is not None

    before = case_state(case)
    with changing(session):
        credited = 0
        if credit:
            open_before = invoice.open_amount
            credited = balances.credit_invoice(session, case, invoice, credit, settings)
            case.balance -= credited
            audit.record(
                session=session,
                now=now,
                user_id=actor.user_id,
                entity="invoice",
                entity_id=invoice.id,
                action="credit",
                before={"open_amount": open_before},
                after={
                    "open_amount": invoice.open_amount,
                    "credited": credited,
                    "dispute_id": dispute.id,
                    "reason": text,
                },
            )
        before_dispute = _audit(dispute)
        dispute.status = outcome
        dispute.credited = credited
        dispute.resolved_at = now
        dispute.resolved_by_id = actor.user_id
        dispute.resolution_reason = text
        dispute.updated_at = now
        session.add(dispute)
        session.flush()
        still_open = session.exec(
            select(InvoiceDispute.id).where(
                InvoiceDispute.invoice_id == invoice.id,
                InvoiceDispute.status == DisputeStatus.open,
            )
        ).first()
        invoice.disputed = still_open is not None
        session.add(invoice)
        if dispute.follow_up_id is not None:
            follow_up = session.get(FollowUp, dispute.follow_up_id)
            if follow_up is not None and follow_up.done_at is None:
                mark_done(
                    session=session,
                    now=now,
                    row=follow_up,
                    user_id=actor.user_id,
                    why=f"dispute {outcome}",
                )
        session.flush()
        _release_whole_case_hold(session, now, actor, case, text)
        if case.balance == 0 and case.status not in CLOSED_STATUSES:
            # Credited down to nothing: there is nothing left to collect.
            case.status = CaseStatus.closed.value
            close_open_follow_ups(
                session=session,
                now=now,
                case_id=case.id,
                user_id=actor.user_id,
                why="nothing left owed after a credit",
            )
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="dispute",
            entity_id=dispute.id,
            action="resolve",
            before=before_dispute,
            after=_audit(dispute),
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _change(session, case, dispute)


def _release_whole_case_hold(
    session: Session, now: datetime, actor: Actor, case: Case, reason: str
) -> None:
    """Lift the dispute holds disputes placed once the whole balance is no longer disputed."""
    disputed = balances.disputed_total(session, case.id)
    if case.balance > 0 and disputed >= case.balance:
        return
    holds = session.exec(
        select(InvoiceDispute.hold_id).where(
            InvoiceDispute.case_id == case.id, col(InvoiceDispute.hold_id).is_not(None)
        )
    ).all()
    for hold_id in set(holds):
        assert hold_id is not None
        lift_decided_hold(
            session=session,
            now=now,
            actor=actor,
            case=case,
            hold_id=hold_id,
            reason=_("the whole balance is no longer disputed: {reason}").format(reason=reason),
        )


@reads
def dispute_currency(*, session: Session, dispute_id: uuid.UUID) -> str | None:
    """The currency a dispute's amounts are in (a face parses a typed amount with it); None for
    an unknown id, which the service acting on it then refuses in its own words."""
    found = session.exec(
        select(Case.currency)
        .join(InvoiceDispute, col(InvoiceDispute.case_id) == col(Case.id))
        .where(InvoiceDispute.id == dispute_id)
    ).first()
    return found


@reads
def list_disputes(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    status: str | None = "open",
    case_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> list[DisputeView]:
    """Disputes, oldest resolve-by first; an agent sees those of their cases and their own."""
    statement = (
        select(InvoiceDispute, Case, Invoice.number, User.username)
        .join(Case, col(Case.id) == col(InvoiceDispute.case_id))
        .join(Invoice, col(Invoice.id) == col(InvoiceDispute.invoice_id))
        .join(User, col(User.id) == col(InvoiceDispute.owner_id))
    )
    if status is not None:
        statement = statement.where(InvoiceDispute.status == status)
    if case_id is not None:
        statement = statement.where(InvoiceDispute.case_id == case_id)
    if owner_id is not None:
        statement = statement.where(InvoiceDispute.owner_id == owner_id)
    if not actor.is_supervisor:
        statement = statement.where(
            (col(Case.assigned_to_id) == actor.user_id)
            | (col(InvoiceDispute.owner_id) == actor.user_id)
        )
    statement = statement.order_by(
        col(InvoiceDispute.resolve_by), col(InvoiceDispute.opened_at), col(InvoiceDispute.id)
    )
    today = utc_today(now)
    return [
        DisputeView(
            id=dispute.id,
            case_id=case.id,
            client=case.client,
            client_ref=case.client_ref,
            currency=case.currency,
            invoice=number,
            amount=dispute.amount,
            category=dispute.category,
            reason=dispute.reason,
            owner=username,
            resolve_by=dispute.resolve_by,
            status=dispute.status,
            credited=dispute.credited,
            opened_at=dispute.opened_at,
            resolved_at=dispute.resolved_at,
            resolution_reason=dispute.resolution_reason,
            overdue=dispute.status == DisputeStatus.open and dispute.resolve_by < today,
            owner_id=dispute.owner_id,
        )
        for dispute, case, number, username in session.exec(statement).all()
    ]
