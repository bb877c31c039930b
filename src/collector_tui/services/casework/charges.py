"""Charges added to a case after placement, and their waivers.

A placement brings principal, fees and interest; what accrues later (legal costs above all, a
late fee, interest the client adds) is a charge a supervisor adds, saying why: a `case_charge` row
(who, when, why, which component, which invoice if any) and the same amount on the balance through
its components (casework.balances), so the balance stays the sum of its components and the next
payment pays the charge in the client's allocation order. A charge changes what the debtor owes
and what the client is told, hence a supervisor's, audited, and master-owned in sync (a laptop's
charge is refused there).

A charge that should not have been made, or that the client forgives, is waived: a row of the
negative amount naming the charge (`voids_id`), at most what is left of it, never more than is
still open of its component (what a payment already took is not given back by a waiver: that is a
refund, outside this tool). A case waived down to nothing is closed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.i18n import N_, _
from collector_tui.models import CLOSED_STATUSES, Case, CaseCharge, CaseStatus, Invoice, User
from collector_tui.money import MAX_MINOR
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor, ensure_case_access, require_supervisor
from collector_tui.services.casework import balances
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    check_not_closed,
    finish_case_change,
    show_money,
)
from collector_tui.services.casework.followups import close_open_follow_ups
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import InvalidInput, NotFound

__all__ = [
    "CHARGE_COMPONENTS",
    "ChargeChange",
    "ChargeView",
    "add_charge",
    "charge_currency",
    "list_charges",
    "waive_charge",
]

# Principal is what was lent or invoiced: it is placed, never charged afterwards.
CHARGE_COMPONENTS: tuple[str, ...] = ("costs", "fees", "interest")


@dataclass(frozen=True)
class ChargeChange:
    """What adding or waiving a charge left behind."""

    charge_id: uuid.UUID
    component: str
    amount: int  # the charge (positive) or what was waived (positive)
    currency: str
    invoice: str | None
    balance: int
    components: dict[str, int]
    case_status: str
    case_version: int


@dataclass(frozen=True)
class ChargeView:
    id: uuid.UUID
    case_id: uuid.UUID
    client_ref: str
    currency: str
    component: str
    invoice: str | None
    amount: int  # positive: a charge; negative: a waiver
    waived: int  # of a charge: what its waivers took back (positive)
    reason: str
    voids_id: uuid.UUID | None
    created_by: str | None
    created_at: datetime


def _check_component(component: str) -> str:
    if component not in CHARGE_COMPONENTS:
        what = (
            _("principal is placed, never charged")
            if component == "principal"
            else _("unknown component {component!r}").format(component=str(component)[:32])
        )
        raise InvalidInput(
            _("{what}: a charge is one of {components}").format(
                what=what, components=", ".join(CHARGE_COMPONENTS)
            ),
            field="component",
        )
    return component


def _check_amount(amount: object, case: Case, *, doing: str) -> int:
    if type(amount) is not int:
        raise InvalidInput(_("the amount must be a whole number of minor units"), field="amount")
    if amount <= 0:
        raise InvalidInput(_("{doing} must be above zero").format(doing=_(doing)), field="amount")
    if amount > MAX_MINOR or case.balance + amount > MAX_MINOR:
        raise InvalidInput(
            _("{doing} of {amount} is beyond any real debt: check the amount").format(
                doing=_(doing), amount=show_money(amount, case.currency)
            ),
            field="amount",
        )
    return amount


def _change(session: Session, case: Case, charge: CaseCharge, invoice: str | None) -> ChargeChange:
    return ChargeChange(
        charge_id=charge.id,
        component=charge.component,
        amount=abs(charge.amount),
        currency=case.currency,
        invoice=invoice,
        balance=case.balance,
        components=balances.case_components(session, case).as_dict(),
        case_status=case.status,
        case_version=case.version,
    )


def _audited(charge: CaseCharge) -> dict[str, object]:
    return audit.snapshot(
        charge, ("case_id", "invoice_id", "component", "amount", "reason", "voids_id")
    )


@writes
def add_charge(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    amount: int,
    component: str,
    reason: str,
    invoice: str | None = None,
    expected_version: int | None = None,
) -> ChargeChange:
    """Add `amount` of `component` (costs, fees, interest) to the case, on one of its invoices if
    `invoice` names one; the balance rises by exactly that amount."""
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    require_supervisor(actor, "add a charge to a case")
    check_not_closed(case, N_("add a charge"))
    _check_component(component)
    wanted = _check_amount(amount, case, doing=N_("a charge"))
    text = reasons.check_reason(reason, minimum=settings.min_reason_length)
    assert text is not None
    row: Invoice | None = None
    if invoice is not None and reasons.tidy(invoice):
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

    before = case_state(case)
    with changing(session):
        charge = CaseCharge(
            case_id=case.id,
            invoice_id=row.id if row is not None else None,
            component=component,
            amount=wanted,
            reason=text,
            created_by_id=actor.user_id,
            created_at=now,
        )
        session.add(charge)
        balances.add_to_component(session, case, row, component, wanted)
        case.balance += wanted
        session.flush()
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="charge",
            entity_id=charge.id,
            action="add",
            after=_audited(charge),
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return _change(session, case, charge, row.number if row is not None else None)


def _waived(session: Session, charge_id: uuid.UUID) -> int:
    return -int(
        session.exec(
            select(func.coalesce(func.sum(CaseCharge.amount), 0)).where(
                CaseCharge.voids_id == charge_id
            )
        ).one()
        or 0
    )


@writes
def waive_charge(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    charge_id: uuid.UUID,
    reason: str,
    amount: int | None = None,
    expected_version: int | None = None,
) -> ChargeChange:
    """Waive a charge, all that is left of it (`amount` None) or an amount of it; the balance falls
    by what is waived. What a payment already took of the component stays paid."""
    charge = session.get(CaseCharge, charge_id)
    if charge is None:
        raise NotFound(_("no such charge"))
    case = case_for_change(
        session=session, case_id=charge.case_id, actor=actor, expected_version=expected_version
    )
    require_supervisor(actor, "waive a charge")
    if charge.voids_id is not None or charge.amount <= 0:
        raise InvalidInput(_("this is a waiver: a waiver cannot be waived"))
    check_not_closed(case, N_("waive a charge"))
    text = reasons.check_reason(reason, minimum=settings.min_reason_length)
    assert text is not None
    left = charge.amount - _waived(session, charge.id)
    if left <= 0:
        raise InvalidInput(_("this charge is waived already"))
    open_now = balances.open_in_component(session, case, charge.invoice_id, charge.component)
    room = min(left, open_now)
    if room <= 0:
        raise InvalidInput(
            _(
                "nothing of the {component} is open any more: payments took it (a refund is not a "
                "waiver)"
            ).format(component=charge.component)
        )
    wanted = room if amount is None else _check_amount(amount, case, doing=N_("a waiver"))
    if wanted > room:
        raise InvalidInput(
            _("a waiver of {amount} is more than the {room} left of this charge").format(
                amount=show_money(wanted, case.currency), room=show_money(room, case.currency)
            ),
            field="amount",
        )

    before = case_state(case)
    with changing(session):
        waiver = CaseCharge(
            case_id=case.id,
            invoice_id=charge.invoice_id,
            component=charge.component,
            amount=-wanted,
            reason=text,
            voids_id=charge.id,
            created_by_id=actor.user_id,
            created_at=now,
        )
        session.add(waiver)
        taken = balances.take_from_component(
            session, case, charge.invoice_id, charge.component, wanted
        )
        assert taken == wanted  # `room` was read from the same rows in this transaction
        case.balance -= taken
        if case.balance == 0 and case.status not in CLOSED_STATUSES:
            # Waived down to nothing: there is nothing left to collect.
            case.status = CaseStatus.closed.value
            close_open_follow_ups(
                session=session,
                now=now,
                case_id=case.id,
                user_id=actor.user_id,
                why="nothing left owed after a waiver",
            )
        session.flush()
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="charge",
            entity_id=waiver.id,
            action="waive",
            after=_audited(waiver),
        )
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    number = None
    if charge.invoice_id is not None:
        found = session.get(Invoice, charge.invoice_id)
        number = found.number if found is not None else None
    return _change(session, case, waiver, number)


@reads
def charge_currency(*, session: Session, charge_id: uuid.UUID) -> str | None:
    """The currency of a charge's case (a face parses a typed amount with it); None for an unknown
    id, which the service acting on it then refuses in its own words."""
    return session.exec(
        select(Case.currency)
        .join(CaseCharge, col(CaseCharge.case_id) == col(Case.id))
        .where(CaseCharge.id == charge_id)
    ).first()


@reads
def list_charges(*, session: Session, actor: Actor, case_id: uuid.UUID) -> list[ChargeView]:
    """A case's charges and waivers, oldest first (whoever may see the case)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    rows = session.exec(
        select(CaseCharge, Invoice.number, User.username)
        .outerjoin(Invoice, col(Invoice.id) == col(CaseCharge.invoice_id))
        .outerjoin(User, col(User.id) == col(CaseCharge.created_by_id))
        .where(CaseCharge.case_id == case_id)
        .order_by(col(CaseCharge.created_at), col(CaseCharge.id))
    ).all()
    waived: dict[uuid.UUID, int] = {}
    for charge, _invoice, _user in rows:
        if charge.voids_id is not None:
            waived[charge.voids_id] = waived.get(charge.voids_id, 0) - charge.amount
    return [
        ChargeView(
            id=charge.id,
            case_id=case.id,
            client_ref=case.client_ref,
            currency=case.currency,
            component=charge.component,
            invoice=number,
            amount=charge.amount,
            waived=waived.get(charge.id, 0),
            reason=charge.reason,
            voids_id=charge.voids_id,
            created_by=username,
            created_at=charge.created_at,
        )
        for charge, number, username in rows
    ]
