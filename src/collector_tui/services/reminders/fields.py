"""What a reminder template may show about a case: `ReminderFields`, text already formatted.

Every value is plain data (names, amounts in the case's currency written the debtor's way, dates
in the debtor's language); a template reads it and never evaluates it, so a debtor named
`{{ 7*7 }}` is printed as those characters (services/reminders/templates.py). The names of these
dataclasses' fields are the whole vocabulary of a template: one naming anything else is refused
when it is loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from sqlmodel import Session, col, func, select

from collector_tui.clock import as_utc
from collector_tui.config import Settings
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    Case,
    Debtor,
    DisputeStatus,
    Invoice,
    InvoiceDispute,
    Payment,
    PaymentPart,
    PostalAddress,
    Promise,
    PromiseStatus,
    User,
)
from collector_tui.money import Money, format_money
from collector_tui.services.casework.balances import (
    case_components,
    collectible,
    disputed_by_invoice,
)
from collector_tui.services.context import reads
from collector_tui.services.errors import NotFound
from collector_tui.services.rules import compliance

__all__ = [
    "InvoiceLine",
    "Itemization",
    "PromiseDue",
    "ReminderFields",
    "business_days_after",
    "us_legal_holidays",
    "debtor_locale",
    "reminder_fields",
]

# Reg F §1006.34(b)(5): the validation period ends 30 days after the consumer receives the notice,
# and a notice is assumed received 5 days after it is sent, not counting Saturdays, Sundays and
# the legal public holidays of 5 U.S.C. 6103(a).
RECEIPT_BUSINESS_DAYS = 5
VALIDATION_DAYS = 30


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    due: str
    open: str
    disputed: bool


@dataclass(frozen=True)
class PromiseDue:
    amount: str
    due: str


@dataclass(frozen=True)
class Itemization:
    """The US validation notice's figures (Reg F §1006.34(c)(2)): owed on the itemization date
    (the placement date), interest and fees charged since, payments and credits since, owed now.
    `amount_then + interest + fees - payments_credits == amount_now` always holds."""

    date: str
    amount_then: str
    interest: str
    fees: str
    payments_credits: str
    amount_now: str
    dispute_by: str


@dataclass(frozen=True)
class ReminderFields:
    debtor_name: str
    debtor_address: str  # lines separated by "\n"; the letter's address block
    debtor_language: str  # "en", "zh", ... ("en" when the case does not say)
    debtor_country: str
    client: str
    client_ref: str
    currency: str
    balance: str
    collectible: str
    disputed: str
    invoices: tuple[InvoiceLine, ...]
    promise: PromiseDue | None  # the next pending promise
    agent: str  # the assigned agent's display name, else the agency's name
    agency_name: str
    agency_address: str
    agency_address_lines: tuple[str, ...]
    agency_phone: str
    agency_email: str
    payment_details: str  # on one line; `payment_lines` keeps the configured lines
    payment_lines: tuple[str, ...]
    payment_url: str
    today: str  # the sending date, written the debtor's way
    itemization: Itemization
    locale: str


def debtor_locale(language: str | None, country: str, default: str) -> str:
    """The babel locale amounts and dates are written in: the debtor's language in their country
    ("zh" in CN: zh_CN), else the language alone, else the team's locale."""
    for candidate in (
        f"{language}_{country}" if language else None,
        language,
        default,
    ):
        if not candidate:
            continue
        try:
            return str(Locale.parse(candidate.replace("-", "_")))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return "en_US"


def business_days_after(day: date, count: int, closed: Container[date] = ()) -> date:
    """`count` business days after `day`: Saturdays, Sundays and the `closed` days do not count."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            count -= 1
    return day


def us_legal_holidays(start: date) -> frozenset[date]:
    """The US federal legal public holidays (5 U.S.C. 6103(a)) of `start`'s year and the next,
    with the days they are observed on when they fall on a weekend: Reg F's receipt days skip
    them. Counting an observed day too can only move the validation period's end later, which
    is the consumer's side of any doubt."""
    return frozenset(holidays.country_holidays("US", years=(start.year, start.year + 1)))


def _language(language: str | None) -> str:
    if not language:
        return "en"
    return language.replace("_", "-").split("-")[0].lower() or "en"


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _address(session: Session, debtor: Debtor) -> str:
    rows = session.exec(
        select(PostalAddress)
        .where(
            PostalAddress.debtor_id == debtor.id,
            col(PostalAddress.retired_at).is_(None),
            col(PostalAddress.status).in_(("valid", "unverified")),
        )
        .order_by(col(PostalAddress.is_primary).desc(), col(PostalAddress.created_at))
    ).all()
    text = rows[0].text if rows else (debtor.address or "")
    # One line per part: a placement writes "1 Main St, Springfield"; a letter wants lines.
    lines = [part.strip() for part in text.replace("\r", "\n").split("\n") if part.strip()]
    return "\n".join(lines)


def _paid_since(session: Session, case: Case) -> tuple[int, int, int]:
    """(payments net of reversals, interest paid, fees and costs paid) since placement."""
    net = session.exec(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.case_id == case.id, Payment.received_on >= case.placed_date
        )
    ).one()
    parts = dict(
        session.exec(
            select(PaymentPart.component, func.sum(PaymentPart.amount))
            .where(PaymentPart.case_id == case.id)
            .group_by(col(PaymentPart.component))
        ).all()
    )
    interest = int(parts.get("interest") or 0)
    fees = int(parts.get("fees") or 0) + int(parts.get("costs") or 0)
    return int(net or 0), interest, fees


def _itemization(
    session: Session, case: Case, money: Money, today: date, locale: str
) -> Itemization:
    def shown(minor: int) -> str:
        return format_money(Money(minor, money.currency), locale)

    then = case.principal + case.fees + case.interest
    now_owed = case.balance
    components = case_components(session, case)
    payments, paid_interest, paid_fees = _paid_since(session, case)
    credits = session.exec(
        select(func.coalesce(func.sum(InvoiceDispute.credited), 0)).where(
            InvoiceDispute.case_id == case.id, InvoiceDispute.status == DisputeStatus.upheld
        )
    ).one()
    interest = max(0, components.interest + paid_interest - case.interest)
    fees = max(0, components.fees + components.costs + paid_fees - case.fees)
    paid = payments + int(credits or 0)
    # Whatever the parts do not explain (an adjustment, a placement whose balance was not its
    # parts' sum) goes where the total stays true: the form's five figures must add up.
    rest = now_owed - (then + interest + fees - paid)
    if rest > 0:
        fees += rest
    elif rest < 0:
        paid -= rest
    received = business_days_after(today, RECEIPT_BUSINESS_DAYS, us_legal_holidays(today))
    return Itemization(
        date=format_date(case.placed_date, "long", locale=locale),
        amount_then=shown(then),
        interest=shown(interest),
        fees=shown(fees),
        payments_credits=shown(paid),
        amount_now=shown(now_owed),
        dispute_by=format_date(received + timedelta(days=VALIDATION_DAYS), "long", locale=locale),
    )


@reads
def reminder_fields(
    *, session: Session, case_id: uuid.UUID, now: datetime, settings: Settings
) -> ReminderFields:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("case {case_id} not found").format(case_id=case_id))
    debtor = session.get(Debtor, case.debtor_id)
    if debtor is None:
        raise NotFound(
            _("debtor of case {client_ref} not found").format(client_ref=case.client_ref)
        )
    locale = debtor_locale(debtor.language, debtor.country, settings.locale)
    # The debtor's day, as the outbox dates the letter: a notice sent at 21:00 in New York is
    # dated that day, not the next (UTC), and its receipt days count from it.
    _verdict, zones = compliance.case_contact_zones(session=session, case=case, settings=settings)
    today = as_utc(now).astimezone(ZoneInfo(zones[0]) if zones else UTC).date()

    def shown(minor: int) -> str:
        return format_money(Money(minor, case.currency), locale)

    def day(value: date) -> str:
        return format_date(value, "medium", locale=locale)

    disputed = disputed_by_invoice(session, case.id)
    invoices = session.exec(
        select(Invoice)
        .where(Invoice.case_id == case.id)
        .order_by(col(Invoice.due_date), col(Invoice.number))
    ).all()
    promise = session.exec(
        select(Promise)
        .where(Promise.case_id == case.id, Promise.status == PromiseStatus.pending)
        .order_by(col(Promise.due_date))
        .limit(1)
    ).first()
    agent = session.get(User, case.assigned_to_id) if case.assigned_to_id else None
    delivery = settings.delivery
    return ReminderFields(
        debtor_name=debtor.name,
        debtor_address=_address(session, debtor),
        debtor_language=_language(debtor.language),
        debtor_country=debtor.country,
        client=case.client,
        client_ref=case.client_ref,
        currency=case.currency,
        balance=shown(case.balance),
        collectible=shown(collectible(session, case)),
        disputed=shown(sum(disputed.values())),
        invoices=tuple(
            InvoiceLine(
                number=invoice.number,
                due=day(invoice.due_date),
                open=shown(invoice.open_amount),
                disputed=invoice.id in disputed or invoice.disputed,
            )
            for invoice in invoices
        ),
        promise=(
            PromiseDue(
                amount=shown(promise.amount - promise.paid_amount), due=day(promise.due_date)
            )
            if promise is not None
            else None
        ),
        agent=agent.display_name if agent is not None else delivery.agency_name,
        agency_name=delivery.agency_name,
        agency_address=", ".join(_lines(delivery.agency_address)),
        agency_address_lines=_lines(delivery.agency_address),
        agency_phone=delivery.agency_phone,
        agency_email=delivery.agency_email,
        payment_details=" ".join(_lines(delivery.payment_details)),
        payment_lines=_lines(delivery.payment_details),
        payment_url=delivery.payment_url,
        today=format_date(today, "long", locale=locale),
        itemization=_itemization(session, case, Money(0, case.currency), today, locale),
        locale=locale,
    )
