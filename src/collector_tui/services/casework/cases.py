"""Placing a single case (debtor, phones, debt) and reading cases by reference."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.models import Case, CaseStatus, Debtor, Invoice, Phone, PostalAddress
from collector_tui.phones import parse_phone
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.casework.contact_book import address_key
from collector_tui.services.context import reads
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.rules import scoring


@dataclass(frozen=True)
class InvoiceInput:
    number: str
    due_date: date
    amount: int
    open_amount: int | None = None
    issue_date: date | None = None


@dataclass(frozen=True)
class PlacementInput:
    """A debt as a client places it; amounts in minor units of `currency`."""

    client: str
    client_ref: str
    debtor_name: str
    country: str
    currency: str
    principal: int
    due_date: date
    placed_date: date
    fees: int = 0
    interest: int = 0
    balance: int | None = None
    debtor_kind: str = "person"
    phones: tuple[str, ...] = ()
    address: str | None = None
    language: str | None = None
    risk_grade: str | None = None
    invoices: tuple[InvoiceInput, ...] = field(default_factory=tuple)
    assigned_to_id: uuid.UUID | None = None


def add_placement(
    *,
    session: Session,
    now: datetime,
    placement: PlacementInput,
    settings: Settings,
    actor: Actor | None = None,
) -> Case:
    """Create debtor, phones, case (and invoices) in the caller's transaction."""
    if not placement.client.strip() or not placement.client_ref.strip():
        raise InvalidInput(_("client and client reference are required"), field="client_ref")
    if not placement.debtor_name.strip():
        raise InvalidInput(_("the debtor needs a name"), field="debtor_name")
    existing = session.exec(
        select(Case).where(Case.client == placement.client, Case.client_ref == placement.client_ref)
    ).first()
    if existing is not None:
        raise InvalidInput(
            _("case {client}/{client_ref} already exists").format(
                client=placement.client, client_ref=placement.client_ref
            ),
            field="client_ref",
        )
    debtor = Debtor(
        kind=placement.debtor_kind,
        name=placement.debtor_name.strip(),
        country=placement.country.upper(),
        address=placement.address,
        language=placement.language,
        risk_grade=placement.risk_grade,
        created_at=now,
        updated_at=now,
    )
    session.add(debtor)
    # No relationship() links the tables, so the unit of work would insert in class-name order
    # (Case before Debtor) and break the foreign key: write the debtor first.
    session.flush()
    if placement.address and placement.address.strip():
        # The placement's address as a contact row too, so an agent can mark it returned.
        session.add(
            PostalAddress(
                debtor_id=debtor.id,
                text=placement.address,
                match_key=address_key(placement.address),
                source="placement",
                is_primary=True,
                created_by_id=actor.user_id if actor is not None else None,
                created_at=now,
                updated_at=now,
            )
        )
    for position, text in enumerate(placement.phones):
        parsed = parse_phone(text, placement.country.upper())
        session.add(
            Phone(
                debtor_id=debtor.id,
                e164=parsed.e164,
                raw=text,
                extension=parsed.extension,
                kind=parsed.kind,
                is_primary=position == 0,
                valid=parsed.valid,
                time_zones=",".join(parsed.time_zones),
                # A number that cannot exist is kept as sent, marked wrong (never dialled).
                status="valid" if parsed.valid else "wrong",
                status_reason=None if parsed.valid else parsed.error,
                created_at=now,
                updated_at=now,
            )
        )
    invoice_open = sum(
        (i.open_amount if i.open_amount is not None else i.amount) for i in placement.invoices
    )
    balance = (
        placement.balance
        if placement.balance is not None
        else (
            invoice_open
            if placement.invoices
            else placement.principal + placement.fees + placement.interest
        )
    )
    case = Case(
        client=placement.client.strip(),
        client_ref=placement.client_ref.strip(),
        debtor_id=debtor.id,
        currency=placement.currency.upper(),
        principal=placement.principal,
        fees=placement.fees,
        interest=placement.interest,
        balance=balance,
        due_date=placement.due_date,
        placed_date=placement.placed_date,
        status=CaseStatus.new,
        assigned_to_id=placement.assigned_to_id,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    for invoice in placement.invoices:
        session.add(
            Invoice(
                case_id=case.id,
                number=invoice.number,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                amount=invoice.amount,
                open_amount=invoice.open_amount
                if invoice.open_amount is not None
                else invoice.amount,
            )
        )
    session.flush()
    scoring.refresh_case(session=session, case=case, now=now, settings=settings)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id if actor else None,
        entity="case",
        entity_id=case.id,
        action="place",
        after=audit.snapshot(case, ("client", "client_ref", "currency", "balance", "status")),
    )
    return case


def find_case(*, session: Session, reference: str, actor: Actor | None = None) -> Case:
    """A case by client reference, `client/ref`, or id; scoped to what the actor may see.

    An agent's lookup searches only the agent's own cases, so a reference that does not exist and
    one that is someone else's get the same refusal (Forbidden, with the same words): the command
    line is no oracle for which references exist, nor for which clients share one.
    """
    text = reference.strip()
    statement = select(Case)
    scoped = False
    if actor is not None and not actor.is_supervisor:
        scoped = True
        statement = statement.where(Case.assigned_to_id == actor.user_id)
    if "/" in text:
        client, ref = text.split("/", 1)
        matches = list(session.exec(statement.where(Case.client == client, Case.client_ref == ref)))
    else:
        matches = list(session.exec(statement.where(Case.client_ref == text)))
        if not matches:
            try:
                case_id = uuid.UUID(text)
            except ValueError:
                case_id = None
            if case_id is not None:
                matches = list(session.exec(statement.where(Case.id == case_id)))
    if not matches:
        if scoped:
            raise Forbidden(_("no case {text!r} among your cases").format(text=text))
        raise NotFound(_("no case {text!r}").format(text=text))
    if len(matches) > 1:
        clients = ", ".join(sorted(m.client for m in matches))
        raise InvalidInput(
            _("{text!r} is a reference of several clients ({clients}): use CLIENT/REF").format(
                text=text, clients=clients
            )
        )
    case = matches[0]
    if actor is not None:
        ensure_case_access(actor, case)
    return case


def get_case(*, session: Session, case_id: uuid.UUID, actor: Actor | None = None) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    if actor is not None:
        ensure_case_access(actor, case)
    return case


@dataclass(frozen=True)
class CaseRef:
    """A case as a face names it: what to pass to a service and what to print."""

    case_id: uuid.UUID
    client: str
    client_ref: str
    currency: str


@reads
def resolve_case(*, session: Session, reference: str, actor: Actor | None = None) -> CaseRef:
    """`find_case` for a face that names a case by reference (the command line), in a read unit
    of its own: the service then acting on `case_id` checks access (and the version) again in
    its own unit, so nothing is decided on what this read saw."""
    case = find_case(session=session, reference=reference, actor=actor)
    return CaseRef(
        case_id=case.id, client=case.client, client_ref=case.client_ref, currency=case.currency
    )
