"""What a case's balance is made of, what of it may be collected, and where a payment goes.

The balance is kept by invoice (None: the case itself: a consumer debt, or costs added to a
B2B case) and component (principal, fees, interest, costs) in `balance_component`; the open amounts
always add up to `Case.balance` and, per invoice, to `Invoice.open_amount`. A case placed before
the components existed gets them the first time money moves (`ensure_components`): an invoice's
open amount as principal, the rest of the balance from the case's placed fees and interest.

An invoice's open disputes (casework.disputes) take their amount out of the collectible balance:
it cannot be promised and a payment reaches it only once everything collectible is paid.
A payment pays components in the client's allocation order (config `allocation_order`), each
component on the oldest invoice first, and records every part (`payment_part`) so a reversal can
put back exactly what its payment took.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, func, select

from collector_tui.config import COMPONENTS, Settings
from collector_tui.models import (
    BalanceComponent,
    Case,
    DisputeStatus,
    Invoice,
    InvoiceDispute,
    Payment,
    PaymentPart,
)

__all__ = [
    "COMPONENTS",
    "Components",
    "add_to_component",
    "apply_payment",
    "case_components",
    "components_of_cases",
    "collectible",
    "credit_invoice",
    "disputed_by_invoice",
    "disputed_total",
    "ensure_components",
    "open_in_component",
    "take_from_component",
    "undo_payment",
]


@dataclass(frozen=True)
class Components:
    """Open amounts by component (minor units); `total` is their sum."""

    principal: int = 0
    fees: int = 0
    interest: int = 0
    costs: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.fees + self.interest + self.costs

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COMPONENTS}


def disputed_by_invoice(session: Session, case_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """The amount under open dispute on each invoice of the case, capped at what is still open
    on it (a payment may have reached a disputed part)."""
    rows = session.exec(
        select(InvoiceDispute.invoice_id, func.sum(InvoiceDispute.amount))
        .where(InvoiceDispute.case_id == case_id, InvoiceDispute.status == DisputeStatus.open)
        .group_by(col(InvoiceDispute.invoice_id))
    ).all()
    if not rows:
        return {}
    opens = dict(
        session.exec(
            select(Invoice.id, Invoice.open_amount).where(
                col(Invoice.id).in_([invoice_id for invoice_id, _ in rows])
            )
        ).all()
    )
    return {
        invoice_id: max(0, min(int(amount or 0), opens.get(invoice_id, 0)))
        for invoice_id, amount in rows
    }


def disputed_total(session: Session, case_id: uuid.UUID) -> int:
    return sum(disputed_by_invoice(session, case_id).values())


def collectible(session: Session, case: Case) -> int:
    """What may be chased and promised: the balance less what is under open dispute."""
    return max(0, case.balance - disputed_total(session, case.id))


def _split(amount: int, shares: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """`amount` taken from `shares` in their order, each at most its own size."""
    parts: list[tuple[str, int]] = []
    left = amount
    for name, size in shares:
        take = min(max(size, 0), left)
        if take:
            parts.append((name, take))
            left -= take
    if left:
        parts.append(("principal", left))
    return parts


def ensure_components(session: Session, case: Case) -> list[BalanceComponent]:
    """The case's component rows, made from its invoices and placed amounts the first time."""
    rows = list(
        session.exec(select(BalanceComponent).where(BalanceComponent.case_id == case.id)).all()
    )
    if rows:
        return rows
    invoices = list(
        session.exec(
            select(Invoice)
            .where(Invoice.case_id == case.id, Invoice.open_amount > 0)
            .order_by(col(Invoice.due_date), col(Invoice.number))
        ).all()
    )
    on_invoices = sum(invoice.open_amount for invoice in invoices)
    if on_invoices > case.balance:
        # A balance placed below its invoices' sum: the newest invoices give way.
        excess = on_invoices - case.balance
        for invoice in reversed(invoices):
            cut = min(excess, invoice.open_amount)
            invoice.open_amount -= cut
            excess -= cut
            session.add(invoice)
        on_invoices = case.balance
    made: list[BalanceComponent] = []
    for invoice in invoices:
        if invoice.open_amount > 0:
            made.append(
                BalanceComponent(
                    case_id=case.id,
                    invoice_id=invoice.id,
                    component="principal",
                    amount=invoice.open_amount,
                )
            )
    rest = case.balance - on_invoices
    if rest > 0:
        placed = [("interest", case.interest), ("fees", case.fees)]
        for name, amount in _split(rest, placed):
            made.append(BalanceComponent(case_id=case.id, component=name, amount=amount))
    for row in made:
        session.add(row)
    session.flush()
    return made


def case_components(session: Session, case: Case) -> Components:
    """The case's open amounts by component (derived from the placement if none is stored)."""
    rows = session.exec(
        select(BalanceComponent.component, func.sum(BalanceComponent.amount))
        .where(BalanceComponent.case_id == case.id)
        .group_by(col(BalanceComponent.component))
    ).all()
    if not rows:
        invoices = session.exec(
            select(func.coalesce(func.sum(Invoice.open_amount), 0)).where(
                Invoice.case_id == case.id, Invoice.open_amount > 0
            )
        ).one()
        on_invoices = min(int(invoices or 0), case.balance)
        placed = [("interest", case.interest), ("fees", case.fees)]
        derived = dict(_split(case.balance - on_invoices, placed))
        derived["principal"] = derived.get("principal", 0) + on_invoices
        return Components(**derived)
    return Components(**{name: int(amount or 0) for name, amount in rows})


def _invoice_order(
    session: Session, rows: Iterable[BalanceComponent]
) -> dict[uuid.UUID | None, tuple[int, date, str]]:
    ids = {row.invoice_id for row in rows if row.invoice_id is not None}
    order: dict[uuid.UUID | None, tuple[int, date, str]] = {None: (0, date.min, "")}
    if ids:
        for invoice_id, due, number in session.exec(
            select(col(Invoice.id), col(Invoice.due_date), col(Invoice.number)).where(
                col(Invoice.id).in_(ids)
            )
        ).all():
            order[invoice_id] = (1, due, number)
    return order


def apply_payment(
    session: Session, case: Case, payment: Payment, settings: Settings
) -> list[PaymentPart]:
    """Pay `payment.amount` into the case's components (collectible parts first) and record the
    parts; the invoices' open amounts follow. The caller changes `case.balance`."""
    rows = ensure_components(session, case)
    rank = {name: i for i, name in enumerate(settings.allocation_order_for(case.client))}
    invoices = _invoice_order(session, rows)
    rows = sorted(rows, key=lambda r: (rank[r.component], invoices[r.invoice_id], str(r.id)))
    disputed = disputed_by_invoice(session, case.id)
    # What of each invoice may be paid before its disputed part is reached.
    room: dict[uuid.UUID | None, int] = defaultdict(int)
    for row in rows:
        room[row.invoice_id] += row.amount
    for invoice_id, amount in disputed.items():
        room[invoice_id] = max(0, room[invoice_id] - amount)
    taken: dict[uuid.UUID, int] = defaultdict(int)
    left = payment.amount
    for capped in (True, False):
        for row in rows:
            if left == 0:
                break
            available = row.amount - taken[row.id]
            if capped:
                available = min(available, room[row.invoice_id])
            take = min(available, left)
            if take <= 0:
                continue
            taken[row.id] += take
            room[row.invoice_id] -= take
            left -= take
    if left:
        raise ValueError("payment above the components' sum")  # the balance check comes first
    parts = []
    by_id = {row.id: row for row in rows}
    for row_id, amount in taken.items():
        row = by_id[row_id]
        row.amount -= amount
        session.add(row)
        parts.append(
            PaymentPart(
                payment_id=payment.id,
                case_id=case.id,
                invoice_id=row.invoice_id,
                component=row.component,
                amount=amount,
            )
        )
    _add_parts(session, parts)
    return parts


def _add_parts(session: Session, parts: list[PaymentPart]) -> None:
    """Record the parts and move their invoices' open amounts by them (a part pays, a negative
    part puts back)."""
    per_invoice: dict[uuid.UUID, int] = defaultdict(int)
    for part in parts:
        session.add(part)
        if part.invoice_id is not None:
            per_invoice[part.invoice_id] += part.amount
    for invoice_id, amount in per_invoice.items():
        invoice = session.get(Invoice, invoice_id)
        if invoice is not None:
            invoice.open_amount -= amount
            session.add(invoice)


def undo_payment(
    session: Session, case: Case, original: Payment, reversal: Payment
) -> list[PaymentPart]:
    """Put back what `original` paid, as negative parts of `reversal`. The caller changes
    `case.balance`."""
    parts = list(
        session.exec(select(PaymentPart).where(PaymentPart.payment_id == original.id)).all()
    )
    rows = ensure_components(session, case)
    undone: list[PaymentPart] = []
    for part in parts:
        row = next(
            (r for r in rows if r.invoice_id == part.invoice_id and r.component == part.component),
            None,
        )
        if row is None:
            row = BalanceComponent(
                case_id=case.id, invoice_id=part.invoice_id, component=part.component, amount=0
            )
            rows.append(row)
        row.amount += part.amount
        session.add(row)
        undone.append(
            PaymentPart(
                payment_id=reversal.id,
                case_id=case.id,
                invoice_id=part.invoice_id,
                component=part.component,
                amount=-part.amount,
            )
        )
    paid_before_parts = original.amount - sum(part.amount for part in parts)
    if paid_before_parts > 0:
        # A payment posted before the components existed: its money goes back as principal, on
        # the case itself.
        row = next((r for r in rows if r.invoice_id is None and r.component == "principal"), None)
        if row is None:
            row = BalanceComponent(case_id=case.id, component="principal", amount=0)
            rows.append(row)
        row.amount += paid_before_parts
        session.add(row)
        undone.append(
            PaymentPart(
                payment_id=reversal.id,
                case_id=case.id,
                component="principal",
                amount=-paid_before_parts,
            )
        )
    _add_parts(session, undone)
    return undone


def credit_invoice(
    session: Session, case: Case, invoice: Invoice, amount: int, settings: Settings
) -> int:
    """Reduce an invoice by a credit (an upheld dispute), at most what is open on it, in the
    client's allocation order; returns what was credited. The caller changes `case.balance`."""
    rows = [row for row in ensure_components(session, case) if row.invoice_id == invoice.id]
    rank = {name: i for i, name in enumerate(settings.allocation_order_for(case.client))}
    left = min(amount, invoice.open_amount, sum(row.amount for row in rows))
    credited = 0
    for row in sorted(rows, key=lambda r: rank[r.component]):
        take = min(row.amount, left)
        if take <= 0:
            continue
        row.amount -= take
        session.add(row)
        left -= take
        credited += take
    invoice.open_amount -= credited
    session.add(invoice)
    return credited


def add_to_component(
    session: Session, case: Case, invoice: Invoice | None, component: str, amount: int
) -> BalanceComponent:
    """Raise one component (of an invoice, or of the case itself) by a charge; the invoice's open
    amount follows. The caller changes `case.balance`."""
    rows = ensure_components(session, case)
    invoice_id = invoice.id if invoice is not None else None
    row = next((r for r in rows if r.invoice_id == invoice_id and r.component == component), None)
    if row is None:
        row = BalanceComponent(case_id=case.id, invoice_id=invoice_id, component=component)
    row.amount += amount
    session.add(row)
    if invoice is not None:
        invoice.open_amount += amount
        session.add(invoice)
    session.flush()
    return row


def open_in_component(
    session: Session, case: Case, invoice_id: uuid.UUID | None, component: str
) -> int:
    """What is still open of one stored component (of an invoice, or of the case itself); a read
    only (a case with a charge has its components stored)."""
    found = session.exec(
        select(func.coalesce(func.sum(BalanceComponent.amount), 0)).where(
            BalanceComponent.case_id == case.id,
            BalanceComponent.invoice_id == invoice_id,
            BalanceComponent.component == component,
        )
    ).one()
    return int(found or 0)


def take_from_component(
    session: Session, case: Case, invoice_id: uuid.UUID | None, component: str, amount: int
) -> int:
    """Lower one component by a waiver, at most what is open of it; returns what was taken. The
    invoice's open amount follows; the caller changes `case.balance`."""
    rows = ensure_components(session, case)
    left = amount
    for row in rows:
        if row.invoice_id != invoice_id or row.component != component or left <= 0:
            continue
        take = min(row.amount, left)
        row.amount -= take
        left -= take
        session.add(row)
    taken = amount - left
    if invoice_id is not None and taken:
        invoice = session.get(Invoice, invoice_id)
        if invoice is not None:
            invoice.open_amount -= taken
            session.add(invoice)
    session.flush()
    return taken


def components_of_cases(
    session: Session, cases: Sequence[tuple[uuid.UUID, int, int, int]]
) -> dict[uuid.UUID, tuple[Components, int]]:
    """For a batch of cases `(id, balance, fees, interest)`: each one's open amounts by component
    and what of its balance is under open dispute, in three grouped queries (an export of a
    million cases asks batch by batch, never case by case)."""
    ids = [case_id for case_id, _, _, _ in cases]
    if not ids:
        return {}
    stored: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for case_id, component, amount in session.exec(
        select(
            BalanceComponent.case_id, BalanceComponent.component, func.sum(BalanceComponent.amount)
        )
        .where(col(BalanceComponent.case_id).in_(ids))
        .group_by(col(BalanceComponent.case_id), col(BalanceComponent.component))
    ).all():
        stored[case_id][component] = int(amount or 0)
    on_invoices: dict[uuid.UUID, int] = defaultdict(int)
    opens: dict[uuid.UUID, int] = {}
    for invoice_id, case_id, open_amount in session.exec(
        select(Invoice.id, Invoice.case_id, Invoice.open_amount).where(
            col(Invoice.case_id).in_(ids), Invoice.open_amount > 0
        )
    ).all():
        on_invoices[case_id] += open_amount
        opens[invoice_id] = open_amount
    disputed: dict[uuid.UUID, int] = defaultdict(int)
    for case_id, invoice_id, amount in session.exec(
        select(InvoiceDispute.case_id, InvoiceDispute.invoice_id, func.sum(InvoiceDispute.amount))
        .where(col(InvoiceDispute.case_id).in_(ids), InvoiceDispute.status == DisputeStatus.open)
        .group_by(col(InvoiceDispute.case_id), col(InvoiceDispute.invoice_id))
    ).all():
        disputed[case_id] += max(0, min(int(amount or 0), opens.get(invoice_id, 0)))
    found: dict[uuid.UUID, tuple[Components, int]] = {}
    for case_id, balance, fees, interest in cases:
        if case_id in stored:
            components = Components(**stored[case_id])
        else:  # as case_components derives them for a case no money has moved on yet
            invoiced = min(on_invoices.get(case_id, 0), balance)
            derived = dict(_split(balance - invoiced, [("interest", interest), ("fees", fees)]))
            derived["principal"] = derived.get("principal", 0) + invoiced
            components = Components(**derived)
        found[case_id] = (components, min(disputed.get(case_id, 0), max(balance, 0)))
    return found
