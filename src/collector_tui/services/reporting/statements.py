"""A client's statement: what was collected on its cases in a period, and what the agency remits.

Every payment received in the period (by `received_on`) counts, and so does every reversal
recorded in it, negatively: a statement is the money as it moved, so last month's statement is not
rewritten by this month's bounce, which shows on this month's instead. Each payment is split into
the components it paid (principal, fees, interest, costs: `payment_part`; a payment posted before
the components were kept counts as principal). The agency's commission is the client's rate
(config `commission`): flat, `{ flat = 15 }`, or by the debt's age in days past due on the day the
money was received, `{ bands = [[90, 10], [180, 15], [100000, 25]] }` (up to 90 days 10 %, up to
180 days 15 %, beyond 25 %; past the last band, its rate). The age is that of the invoice each
amount paid (a B2B payment across invoices of different ages earns each its own band); money paid
on the case itself (a consumer debt, costs charged to the case) is aged by the case's due date.
A reversal takes back the commission of the payment it reverses, at that payment's rate.
Commission is rounded half up to the minor unit per payment; net to remit = collected -
commission. Totals are per currency, never summed across.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, col, func, select

from collector_tui.config import COMPONENTS, Settings
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    CLOSED_STATUSES,
    AuditEvent,
    Case,
    CaseCharge,
    Invoice,
    InvoiceDispute,
    Payment,
    PaymentPart,
)
from collector_tui.services.accounts import Actor, require_supervisor
from collector_tui.services.context import reads
from collector_tui.services.errors import InvalidInput, NotFound

__all__ = [
    "ClosureLine",
    "Statement",
    "StatementLine",
    "client_closures",
    "client_statement",
    "commission_rule",
]


@dataclass(frozen=True)
class StatementLine:
    """One case's money in the period, or (with `client_ref` None) a currency's total."""

    client_ref: str | None
    currency: str
    payments: int  # payments received in the period (reversals not counted)
    collected: int  # net: payments less reversals recorded in the period
    reversed: int  # reversals recorded in the period (a positive amount)
    principal: int
    fees: int
    interest: int
    costs: int
    commission: int
    net_to_remit: int

    def components(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COMPONENTS}


@dataclass(frozen=True)
class Statement:
    client: str
    date_from: date
    date_to: date
    rule: str  # the commission rule in words
    cases: tuple[StatementLine, ...]
    totals: tuple[StatementLine, ...]  # one per currency


def _percent(value: Any, what: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            _("config: {what} is not a number: {value}").format(what=what, value=repr(value))
        ) from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise InvalidInput(_("config: {what} must be a percentage from 0 to 100").format(what=what))
    return rate


def _rate_function(settings: Settings, client: str) -> tuple[Any, str]:
    """(days past due -> percent, the rule in words) for the client's configured commission."""
    rule = settings.commission.get(client)
    if not rule:
        return (lambda days: Decimal(0)), _("no commission configured")
    if set(rule) == {"flat"}:
        flat = _percent(rule["flat"], f"the flat commission of {client!r}")
        return (lambda days: flat), _("flat {rate} %").format(rate=flat)
    if set(rule) == {"bands"} and isinstance(rule["bands"], list) and rule["bands"]:
        bands: list[tuple[int, Decimal]] = []
        for band in rule["bands"]:
            if not (isinstance(band, list | tuple) and len(band) == 2 and type(band[0]) is int):
                raise InvalidInput(
                    _("config: each commission band of {client} is [up to days, percent]").format(
                        client=repr(client)
                    )
                )
            bands.append((band[0], _percent(band[1], f"a commission band of {client!r}")))
        bands.sort()

        def by_age(days: int) -> Decimal:
            for upto, rate in bands:
                if days <= upto:
                    return rate
            return bands[-1][1]

        words = ", ".join(
            _("up to {days} days {rate} %").format(days=upto, rate=rate) for upto, rate in bands
        )
        return by_age, _("by days past due: {bands}").format(bands=words)
    raise InvalidInput(
        _(
            "config: the commission of {client} is {{ flat = PERCENT }} "
            "or {{ bands = [[DAYS, PERCENT], ...] }}"
        ).format(client=repr(client))
    )


def commission_rule(*, settings: Settings, client: str) -> str:
    return _rate_function(settings, client)[1]


def _commission(amount: int, rate: Decimal) -> int:
    return int((Decimal(amount) * rate / 100).quantize(Decimal(1), ROUND_HALF_UP))


def _commission_of(
    amount: int,
    paid_on: dict[uuid.UUID | None, int],
    rate_for: Callable[[uuid.UUID | None], Decimal],
) -> int:
    """A payment's commission: each amount it paid on an invoice at the rate of that invoice's
    age, the rest (on the case itself, or posted before the parts were kept) at the case's; one
    rounding per payment, so a reversal (the same parts negated, at its payment's ages) takes
    back exactly what its payment earned."""
    exact = Decimal(0)
    for invoice_id, part in paid_on.items():
        exact += Decimal(part) * rate_for(invoice_id)
    rest = amount - sum(paid_on.values())
    if rest:
        exact += Decimal(rest) * rate_for(None)
    return int((exact / 100).quantize(Decimal(1), ROUND_HALF_UP))


@reads
def client_statement(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    client: str,
    date_from: date,
    date_to: date,
) -> Statement:
    require_supervisor(actor, N_("print a client's statement"))
    if date_from > date_to:
        raise InvalidInput(
            _("the period starts ({date_from}) after it ends ({date_to})").format(
                date_from=date_from.isoformat(), date_to=date_to.isoformat()
            ),
            field="date_from",
        )
    name = (client or "").strip()
    cases = {case.id: case for case in session.exec(select(Case).where(Case.client == name)).all()}
    if not cases:
        raise NotFound(_("no cases of client {name}").format(name=repr(name[:100])))
    rate_of, rule = _rate_function(settings, name)
    moved = session.exec(
        select(Payment).where(
            col(Payment.case_id).in_(list(cases)),
            col(Payment.received_on) >= date_from,
            col(Payment.received_on) <= date_to,
        )
    ).all()
    # A reversal's commission is its payment's, at that payment's rate (its age then).
    originals = {
        payment.id: payment
        for payment in session.exec(
            select(Payment).where(
                col(Payment.id).in_([p.voids_id for p in moved if p.voids_id is not None])
            )
        ).all()
    }
    parts: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # What each payment paid on each invoice (None: on the case itself), to age it by that invoice.
    paid_on: dict[uuid.UUID, dict[uuid.UUID | None, int]] = defaultdict(lambda: defaultdict(int))
    for part in session.exec(
        select(PaymentPart).where(col(PaymentPart.payment_id).in_([p.id for p in moved]))
    ).all():
        parts[part.payment_id][part.component] += part.amount
        paid_on[part.payment_id][part.invoice_id] += part.amount
    paid_invoices = list({i for split in paid_on.values() for i in split if i is not None})
    invoice_due: dict[uuid.UUID, date] = {
        invoice_id: due
        for invoice_id, due in session.exec(
            select(col(Invoice.id), col(Invoice.due_date)).where(col(Invoice.id).in_(paid_invoices))
        ).all()
    }

    lines: dict[uuid.UUID, dict[str, int]] = {}
    for payment in sorted(moved, key=lambda p: (p.received_on, p.created_at, str(p.id))):
        case = cases[payment.case_id]
        line = lines.setdefault(case.id, defaultdict(int))
        line["collected"] += payment.amount
        if payment.voids_id is None:
            line["payments"] += 1
            priced = payment
        else:
            line["reversed"] += -payment.amount
            priced = originals.get(payment.voids_id, payment)
        split = parts.get(payment.id, {})
        for name_ in COMPONENTS:
            line[name_] += split.get(name_, 0)
        # Money of a payment posted before the components were kept: principal.
        line["principal"] += payment.amount - sum(split.values())

        def rate_for(
            invoice_id: uuid.UUID | None, on: date = priced.received_on, due: date = case.due_date
        ) -> Decimal:
            aged_from = invoice_due.get(invoice_id, due) if invoice_id is not None else due
            return Decimal(rate_of(max(0, (on - aged_from).days)))

        line["commission"] += _commission_of(payment.amount, paid_on.get(payment.id, {}), rate_for)

    def made(ref: str | None, currency: str, values: dict[str, int]) -> StatementLine:
        return StatementLine(
            client_ref=ref,
            currency=currency,
            payments=values["payments"],
            collected=values["collected"],
            reversed=values["reversed"],
            principal=values["principal"],
            fees=values["fees"],
            interest=values["interest"],
            costs=values["costs"],
            commission=values["commission"],
            net_to_remit=values["collected"] - values["commission"],
        )

    rows = [
        made(cases[case_id].client_ref, cases[case_id].currency, values)
        for case_id, values in lines.items()
    ]
    rows.sort(key=lambda r: (r.currency, r.client_ref or ""))
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case_id, values in lines.items():
        total = sums[cases[case_id].currency]
        for key, amount in values.items():
            total[key] += amount
    return Statement(
        client=name,
        date_from=date_from,
        date_to=date_to,
        rule=rule,
        cases=tuple(rows),
        totals=tuple(made(None, currency, sums[currency]) for currency in sorted(sums)),
    )


@dataclass(frozen=True)
class ClosureLine:
    """A case of the client that closed (paid, settled, written off, closed or returned) in the
    period: the recall and closure file the client reconciles its ledger with."""

    client_ref: str
    status: str
    closed_on: date
    currency: str
    placed: int  # principal + fees + interest as placed
    collected: int  # payments less reversals, ever
    credited: int  # credits from upheld disputes
    balance: int  # what is left (forgiven by a settlement or a write-off, or returned)
    charged: int = 0  # charges after placement less their waivers (casework.charges)


@reads
def client_closures(
    *,
    session: Session,
    actor: Actor,
    client: str,
    date_from: date,
    date_to: date,
) -> list[ClosureLine]:
    """The client's cases whose status became a closed one during the period (the audit trail
    says when), still closed now, oldest closure first."""
    require_supervisor(actor, N_("print a client's closures"))
    if date_from > date_to:
        raise InvalidInput(
            _("the period starts ({date_from}) after it ends ({date_to})").format(
                date_from=date_from.isoformat(), date_to=date_to.isoformat()
            ),
            field="date_from",
        )
    name = (client or "").strip()
    cases = {
        str(case.id): case for case in session.exec(select(Case).where(Case.client == name)).all()
    }
    if not cases:
        raise NotFound(_("no cases of client {name}").format(name=repr(name[:100])))
    closed = {key: case for key, case in cases.items() if case.status in CLOSED_STATUSES}
    start = datetime.combine(date_from, time(0), tzinfo=UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=UTC)
    when: dict[str, date] = {}
    for event in session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "case",
            col(AuditEvent.entity_id).in_(list(closed)),
            col(AuditEvent.at) < end,
        )
        .order_by(col(AuditEvent.at))
    ).all():
        status = (event.after or {}).get("status")
        if status in CLOSED_STATUSES:
            when[event.entity_id] = event.at.date()  # the last time it closed
    lines: list[ClosureLine] = []
    for key, day in when.items():
        if day < start.date():
            continue
        case = closed[key]
        collected = session.exec(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.case_id == case.id)
        ).one()
        credited = session.exec(
            select(func.coalesce(func.sum(InvoiceDispute.credited), 0)).where(
                InvoiceDispute.case_id == case.id
            )
        ).one()
        charged = session.exec(
            select(func.coalesce(func.sum(CaseCharge.amount), 0)).where(
                CaseCharge.case_id == case.id
            )
        ).one()
        lines.append(
            ClosureLine(
                client_ref=case.client_ref,
                status=case.status,
                closed_on=day,
                currency=case.currency,
                placed=case.principal + case.fees + case.interest,
                collected=int(collected),
                credited=int(credited),
                balance=case.balance,
                charged=int(charged),
            )
        )
    return sorted(lines, key=lambda line: (line.closed_on, line.client_ref))
