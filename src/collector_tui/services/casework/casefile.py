"""The case screen's read model: everything an agent sees about one case, as frozen plain data.

One short read (a handful of indexed queries), no ORM object leaves it: the screen renders the
result long after the session is closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.i18n import N_, format_day
from collector_tui.i18n import gettext as _
from collector_tui.labels import CHANNELS, CHARGE_COMPONENTS, HOLD_KINDS, REVERSAL_REASONS, word
from collector_tui.models import (
    Activity,
    Case,
    CaseCharge,
    Debtor,
    FollowUp,
    Hold,
    Invoice,
    InvoiceDispute,
    Payment,
    PaymentPlan,
    Phone,
    Promise,
    Settlement,
    User,
    outcome_label,
)
from collector_tui.money import Money, format_plain
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.casework import balances
from collector_tui.services.casework.contact_book import (
    AddressView,
    EmailView,
    PhoneMark,
    ThirdPartyView,
    addresses_of,
    emails_of,
    phone_mark,
    third_parties_of,
    third_party_of_phones,
)
from collector_tui.services.context import reads
from collector_tui.services.errors import NotFound
from collector_tui.services.rules.scoring import TIER_NAMES, days_past_due

# Enough history for a phone call; older entries are in the audit trail and the CLI export.
TIMELINE_LIMIT = 300

AGING_BUCKETS: tuple[tuple[int, str], ...] = (
    (0, "current"),
    (30, "1-30"),
    (60, "31-60"),
    (90, "61-90"),
    (180, "91-180"),
)


def aging_bucket(dpd: int) -> str:
    """The aging bucket of a number of days past due (the names `report aging` uses)."""
    for upper, name in AGING_BUCKETS:
        if dpd <= upper:
            return name
    return "180+"


@dataclass(frozen=True)
class LocalTime:
    zone: str
    at: datetime  # aware, in `zone`


@dataclass(frozen=True)
class PhoneView:
    id: uuid.UUID
    e164: str | None
    raw: str
    extension: str | None
    kind: str
    is_primary: bool
    valid: bool
    do_not_call: bool
    sms_consent: bool
    time_zones: tuple[str, ...]
    local_times: tuple[LocalTime, ...]  # the debtor's clock now, per zone of the number
    zones_guessed: bool  # True when the zone comes from the debtor's country, not the number
    # The mark, source and consent (casework/contact_book.py); None only in hand-made views.
    mark: PhoneMark | None = None
    version: int = 1

    @property
    def status(self) -> str:
        return self.mark.status if self.mark is not None else ("valid" if self.valid else "wrong")

    @property
    def retired(self) -> bool:
        return self.mark is not None and self.mark.retired

    @property
    def dialable(self) -> bool:
        """May be offered in the contact form's phone picker (compliance still decides when)."""
        return bool(self.e164) and self.valid and not self.do_not_call and not self.retired


@dataclass(frozen=True)
class DebtorView:
    id: uuid.UUID
    kind: str
    name: str
    country: str
    address: str | None
    language: str | None
    risk_grade: str | None
    capacity_notes: str | None
    deceased: bool
    bankrupt: bool

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(
            name for name, on in (("deceased", self.deceased), ("bankrupt", self.bankrupt)) if on
        )


@dataclass(frozen=True)
class InvoiceView:
    number: str
    issue_date: date | None
    due_date: date
    amount: int
    open_amount: int
    disputed: bool
    days_past_due: int
    # The amount under open dispute (out of the collectible balance), capped at what is open.
    disputed_amount: int = 0


@dataclass(frozen=True)
class DisputeBrief:
    """An open invoice dispute of the case (casework.disputes), for the case screen."""

    id: uuid.UUID
    invoice: str
    amount: int
    category: str
    reason: str
    owner: str
    owner_id: uuid.UUID
    resolve_by: date
    overdue: bool


@dataclass(frozen=True)
class HoldView:
    id: uuid.UUID
    kind: str
    reason: str | None
    placed_at: datetime


@dataclass(frozen=True)
class PromiseView:
    id: uuid.UUID
    amount: int
    paid_amount: int
    due_date: date
    grace_days: int
    status: str
    plan_id: uuid.UUID | None


@dataclass(frozen=True)
class FollowUpView:
    id: uuid.UUID
    due_at: datetime
    reason: str
    owner: str


@dataclass(frozen=True)
class Factor:
    name: str
    points: int
    detail: str


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the case's history, newest first in `CaseFile.timeline`."""

    at: datetime
    # contact | note | promise | plan | payment | follow_up | hold | settlement | dispute; a plan's
    # installments are promise entries with its plan_id (the timeline shows them under it).
    kind: str
    title: str  # short summary, plain text
    user: str | None
    note: str | None  # full free text (the list shows its first line)
    ref_id: uuid.UUID
    # What the corrections (services.casework.corrections) need about the row behind the entry.
    voided: bool = False  # a contact voided later: shown struck through
    voids_id: uuid.UUID | None = None  # this entry is a void or correction of that activity
    version: int | None = None  # the row's version counter (promise, follow-up)
    # promise status; "open"/"done" for a follow-up; "reversed"/"reversal" for a payment
    status: str | None = None
    plan_id: uuid.UUID | None = None
    plan_version: int | None = None
    phone_e164: str | None = None  # a contact's number dialled (or called from), when logged


@dataclass(frozen=True)
class Verdict:
    """Whether the case may be called now (from rules.compliance), when it was asked for."""

    callable: bool
    reason: str | None
    callable_at: datetime | None


@dataclass(frozen=True)
class CaseFile:
    case_id: uuid.UUID
    version: int
    client: str
    client_ref: str
    currency: str
    principal: int
    fees: int
    interest: int
    balance: int
    due_date: date
    placed_date: date
    days_past_due: int
    aging: str
    status: str
    assigned_to: str | None
    assigned_to_id: uuid.UUID | None
    tier: int
    tier_name: str
    score: int
    factors: tuple[Factor, ...]
    next_action_at: datetime | None
    last_attempt_at: datetime | None
    last_contact_at: datetime | None
    routed_reason: str | None
    debtor: DebtorView
    phones: tuple[PhoneView, ...]
    invoices: tuple[InvoiceView, ...]
    holds: tuple[HoldView, ...]
    open_promises: tuple[PromiseView, ...]
    open_follow_ups: tuple[FollowUpView, ...]
    active_plan_id: uuid.UUID | None
    timeline: tuple[TimelineEntry, ...]
    verdict: Verdict | None
    # The debtor's date now and its zone: the "today" of every due date (promise, plan,
    # settlement), shown in the forms and checked by the services alike.
    debtor_today: date | None = None
    debtor_zone: str = "UTC"
    # The reader's settlement discount limit in percent; None: no limit (a supervisor).
    settlement_limit_pct: int | None = None
    # Contact data besides the phones (casework/contact_book.py), retired rows last.
    addresses: tuple[AddressView, ...] = ()
    emails: tuple[EmailView, ...] = ()
    third_parties: tuple[ThirdPartyView, ...] = ()
    # Open invoice disputes, oldest resolve-by first, and what they take out of the balance.
    disputes: tuple[DisputeBrief, ...] = ()
    disputed: int = 0
    # Charged after placement (legal costs, fees, interest: casework.charges) less waivers.
    charged: int = 0

    @property
    def collectible(self) -> int:
        return max(0, self.balance - self.disputed)

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)


def _local_times(zones: tuple[str, ...], now: datetime) -> tuple[LocalTime, ...]:
    found: list[LocalTime] = []
    for name in zones:
        try:
            found.append(LocalTime(name, now.astimezone(ZoneInfo(name))))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return tuple(found)


def _zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _country_zones(country: str) -> tuple[str, ...]:
    # Only a country with a single zone gives a trustworthy guess (CN has two in CLDR, US many).
    from babel.core import get_global

    zones = get_global("territory_zones").get(country.upper(), [])
    return (zones[0],) if len(zones) == 1 else ()


def _phone_view(
    phone: Phone, country: str, now: datetime, third_party_id: uuid.UUID | None = None
) -> PhoneView:
    zones = tuple(z for z in phone.time_zones.split(",") if z)
    guessed = False
    if not zones:
        zones = _country_zones(country)
        guessed = bool(zones)
    return PhoneView(
        id=phone.id,
        e164=phone.e164,
        raw=phone.raw,
        extension=phone.extension,
        kind=phone.kind,
        is_primary=phone.is_primary,
        valid=phone.valid,
        do_not_call=phone.do_not_call,
        sms_consent=phone.sms_consent,
        time_zones=zones,
        local_times=_local_times(zones, now),
        zones_guessed=guessed,
        mark=phone_mark(phone, third_party_id),
        version=phone.version,
    )


def _disposition_label(code: str | None) -> str:
    if not code:
        return ""
    try:
        from collector_tui.services.rules.dispositions import DISPOSITIONS
    except ImportError:  # pragma: no cover - activities ships with the app
        return code.replace("_", " ")
    found = DISPOSITIONS.get(code)
    return _(found.label) if found else code.replace("_", " ")


# An installment's entry; under its plan's row the timeline shows it without its first words.
PLAN_INSTALLMENT = N_("plan installment {amount} due {day}")
# The timeline's entries are worded here, in the interface's language (docs/decisions.md,
# Languages); the codes they name stay in the entries' `kind` and `status`.
_DISPUTE_CATEGORIES = {
    "goods_not_received": N_("goods not received"),
    "quality": N_("quality"),
    "price": N_("price"),
    "already_paid": N_("already paid"),
    "not_mine": N_("not mine"),
    "other": N_("other"),
}


def _user_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids)))
    return {user_id: name for user_id, name in rows}


@reads
def load_case_file(
    *,
    session: Session,
    actor: Actor,
    case_id: uuid.UUID,
    now: datetime,
    settings: Settings | None = None,
) -> CaseFile:
    """Everything about one case the actor may see; with `settings`, also whether it is callable."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    debtor = session.get(Debtor, case.debtor_id)
    if debtor is None:  # pragma: no cover - a foreign key guarantees it
        raise NotFound(_("the case has no debtor"))
    today = now.date()
    rows = _read_case_rows(session, case, debtor)
    phones, invoices, holds = rows.phones, rows.invoices, rows.holds
    promises, follow_ups, plan = rows.promises, rows.follow_ups, rows.plan
    open_disputes = [d for d in rows.disputes if d.status == "open"]
    names = _user_names(session, _user_ids(case, rows))
    party_of_phone = third_party_of_phones(session, debtor.id)
    disputed_on = balances.disputed_by_invoice(session, case.id) if open_disputes else {}
    invoice_numbers = {i.id: i.number for i in invoices}

    def who(user_id: uuid.UUID | None) -> str | None:
        return names.get(user_id) if user_id is not None else None

    def amount(minor: int) -> str:
        return format_plain(Money(minor, case.currency))

    timeline = _timeline(rows, who, amount, actor)

    verdict: Verdict | None = None
    if settings is not None:
        verdict = _verdict(session=session, case=case, now=now, settings=settings)
    from collector_tui.services.casework.settlements import settlement_limit
    from collector_tui.services.rules.compliance import debtor_today

    local_today, local_zone = debtor_today(
        session=session, case=case, now=now, settings=settings or Settings()
    )

    factors = tuple(
        Factor(str(f.get("name", "")), int(f.get("points", 0)), str(f.get("detail", "")))
        for f in (case.score_factors or [])
        if isinstance(f, dict)
    )
    dpd = days_past_due(case.due_date, today)
    return CaseFile(
        case_id=case.id,
        version=case.version,
        client=case.client,
        client_ref=case.client_ref,
        currency=case.currency,
        principal=case.principal,
        fees=case.fees,
        interest=case.interest,
        balance=case.balance,
        due_date=case.due_date,
        placed_date=case.placed_date,
        days_past_due=dpd,
        aging=aging_bucket(dpd),
        status=case.status,
        assigned_to=who(case.assigned_to_id),
        assigned_to_id=case.assigned_to_id,
        tier=case.queue_tier,
        tier_name=TIER_NAMES.get(case.queue_tier, str(case.queue_tier)),
        score=case.score,
        factors=factors,
        next_action_at=case.next_action_at,
        last_attempt_at=case.last_attempt_at,
        last_contact_at=case.last_contact_at,
        routed_reason=case.routed_reason,
        debtor=DebtorView(
            id=debtor.id,
            kind=debtor.kind,
            name=debtor.name,
            country=debtor.country,
            address=debtor.address,
            language=debtor.language,
            risk_grade=debtor.risk_grade,
            capacity_notes=debtor.capacity_notes,
            deceased=debtor.deceased,
            bankrupt=debtor.bankrupt,
        ),
        phones=tuple(_phone_view(p, debtor.country, now, party_of_phone.get(p.id)) for p in phones),
        invoices=tuple(
            InvoiceView(
                i.number,
                i.issue_date,
                i.due_date,
                i.amount,
                i.open_amount,
                i.disputed,
                days_past_due(i.due_date, today),
                disputed_on.get(i.id, 0),
            )
            for i in invoices
        ),
        holds=tuple(
            HoldView(h.id, h.kind, h.reason, h.placed_at) for h in holds if h.released_at is None
        ),
        open_promises=tuple(
            PromiseView(
                p.id, p.amount, p.paid_amount, p.due_date, p.grace_days, p.status, p.plan_id
            )
            for p in sorted(promises, key=lambda p: p.due_date)
            if p.status == "pending"
        ),
        open_follow_ups=tuple(
            FollowUpView(f.id, f.due_at, f.reason, who(f.owner_id) or "?")
            for f in sorted(follow_ups, key=lambda f: f.due_at)
            if f.done_at is None
        ),
        active_plan_id=plan.id if plan else None,
        timeline=tuple(timeline[:TIMELINE_LIMIT]),
        verdict=verdict,
        debtor_today=local_today,
        debtor_zone=local_zone,
        settlement_limit_pct=settlement_limit(session=session, actor=actor, case_id=case.id),
        addresses=addresses_of(session, debtor.id),
        emails=emails_of(session, debtor.id),
        third_parties=third_parties_of(session, debtor.id),
        disputes=tuple(
            DisputeBrief(
                id=d.id,
                invoice=invoice_numbers.get(d.invoice_id, "?"),
                amount=d.amount,
                category=d.category,
                reason=d.reason,
                owner=names.get(d.owner_id, "?"),
                owner_id=d.owner_id,
                resolve_by=d.resolve_by,
                overdue=d.resolve_by < today,
            )
            for d in open_disputes
        ),
        disputed=sum(disputed_on.values()),
        charged=int(
            session.exec(
                select(func.coalesce(func.sum(CaseCharge.amount), 0)).where(
                    CaseCharge.case_id == case.id
                )
            ).one()
        ),
    )


@dataclass(frozen=True)
class _CaseRows:
    """The rows of one case the case file is made of (each list newest first, at most
    TIMELINE_LIMIT of a kind)."""

    phones: Sequence[Phone]
    invoices: Sequence[Invoice]
    holds: Sequence[Hold]
    activities: Sequence[Activity]
    promises: Sequence[Promise]
    payments: Sequence[Payment]
    follow_ups: Sequence[FollowUp]
    settlements: Sequence[Settlement]
    plan: PaymentPlan | None  # the active one
    plans: Sequence[PaymentPlan]
    disputes: Sequence[InvoiceDispute] = ()  # invoice disputes, open and resolved
    charges: Sequence[CaseCharge] = ()  # charges after placement and their waivers


_Who = Callable[[uuid.UUID | None], str | None]
_Amount = Callable[[int], str]


def _read_case_rows(session: Session, case: Case, debtor: Debtor) -> _CaseRows:
    phones = session.exec(
        select(Phone)
        .where(Phone.debtor_id == debtor.id)
        .order_by(
            col(Phone.retired_at).is_not(None),
            col(Phone.is_primary).desc(),
            col(Phone.created_at),
            col(Phone.raw),
        )
    ).all()
    invoices = session.exec(
        select(Invoice).where(Invoice.case_id == case.id).order_by(col(Invoice.due_date))
    ).all()
    holds = session.exec(
        select(Hold).where(Hold.case_id == case.id).order_by(col(Hold.placed_at).desc())
    ).all()
    activities = session.exec(
        select(Activity)
        .where(Activity.case_id == case.id)
        .order_by(col(Activity.occurred_at).desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    promises = session.exec(
        select(Promise)
        .where(Promise.case_id == case.id)
        .order_by(col(Promise.created_at).desc(), col(Promise.due_date).desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    payments = session.exec(
        select(Payment)
        .where(Payment.case_id == case.id)
        .order_by(col(Payment.created_at).desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    follow_ups = session.exec(
        select(FollowUp)
        .where(FollowUp.case_id == case.id)
        .order_by(col(FollowUp.created_at).desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    settlements = session.exec(
        select(Settlement)
        .where(Settlement.case_id == case.id)
        .order_by(col(Settlement.requested_at).desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    plan = session.exec(
        select(PaymentPlan)
        .where(PaymentPlan.case_id == case.id, PaymentPlan.status == "active")
        .order_by(col(PaymentPlan.created_at).desc())
        .limit(1)
    ).first()
    plans = session.exec(
        select(PaymentPlan)
        .where(PaymentPlan.case_id == case.id)
        .order_by(col(PaymentPlan.created_at).desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    disputes = session.exec(
        select(InvoiceDispute)
        .where(InvoiceDispute.case_id == case.id)
        .order_by(col(InvoiceDispute.resolve_by), col(InvoiceDispute.opened_at))
        .limit(TIMELINE_LIMIT)
    ).all()
    charges = session.exec(
        select(CaseCharge)
        .where(CaseCharge.case_id == case.id)
        .order_by(col(CaseCharge.created_at).desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    return _CaseRows(
        charges=charges,
        disputes=disputes,
        phones=phones,
        invoices=invoices,
        holds=holds,
        activities=activities,
        promises=promises,
        payments=payments,
        follow_ups=follow_ups,
        settlements=settlements,
        plan=plan,
        plans=plans,
    )


def _user_ids(case: Case, rows: _CaseRows) -> set[uuid.UUID]:
    """Every user the case file names: its agent and whoever did something on the timeline."""
    return {
        i
        for i in (
            case.assigned_to_id,
            *(a.user_id for a in rows.activities),
            *(p.created_by_id for p in rows.promises),
            *(p.created_by_id for p in rows.plans),
            *(p.recorded_by_id for p in rows.payments),
            *(f.owner_id for f in rows.follow_ups),
            *(f.created_by_id for f in rows.follow_ups),
            *(h.placed_by_id for h in rows.holds),
            *(h.released_by_id for h in rows.holds),
            *(t.requested_by_id for t in rows.settlements),
            *(t.decided_by_id for t in rows.settlements),
            *(d.owner_id for d in rows.disputes),
            *(d.opened_by_id for d in rows.disputes),
            *(d.resolved_by_id for d in rows.disputes),
            *(c.created_by_id for c in rows.charges),
        )
        if i is not None
    }


def _timeline(rows: _CaseRows, who: _Who, amount: _Amount, actor: Actor) -> list[TimelineEntry]:
    """Every entry of the case's timeline, newest first."""
    timeline = [
        *_activity_entries(rows, who, amount),
        *_promise_entries(rows, who, amount),
        *_plan_entries(rows, who, amount),
        *_payment_entries(rows, who, amount),
        *_follow_up_entries(rows, who, amount, actor),
        *_hold_entries(rows, who, amount),
        *_settlement_entries(rows, who, amount),
        *_dispute_entries(rows, who, amount),
        *_charge_entries(rows, who, amount),
    ]
    # Newest first; for one instant, the consequence (promise, follow-up) above its contact.
    order = {
        "hold": 0,
        "follow_up": 1,
        "plan": 2,
        "promise": 2,
        "settlement": 3,
        "dispute": 3,
        "charge": 3,
        "payment": 4,
        "note": 5,
        "contact": 6,
    }
    timeline.sort(key=lambda e: (e.at, -order.get(e.kind, 9)), reverse=True)

    return timeline


def _activity_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """Contacts and notes, a void marked on the contact it voids."""
    timeline: list[TimelineEntry] = []
    activities = rows.activities
    voided_ids = {a.voids_id for a in activities if a.voids_id is not None}
    for activity in activities:
        if activity.channel == "note" and activity.voids_id is not None:
            title = _("void of a contact")
            kind = "note"
        elif activity.channel == "note":
            title = _("note")
            kind = "note"
        else:
            label = _disposition_label(activity.disposition)
            parts = [word(CHANNELS, activity.channel)]
            if activity.direction == "inbound":
                parts.append(_("inbound"))
            if label:
                parts.append(label)
            if activity.duration_s:
                minutes, seconds = divmod(activity.duration_s, 60)
                parts.append(f"{minutes}:{seconds:02d}")
            title = " · ".join(parts)
            kind = "contact"
        if activity.voids_id is not None and activity.channel != "note":
            title += " " + _("(correction)")
        voided = activity.id in voided_ids
        if voided:
            title += " · " + _("voided")
        timeline.append(
            TimelineEntry(
                activity.occurred_at,
                kind,
                title,
                who(activity.user_id),
                activity.note,
                activity.id,
                voided=voided,
                voids_id=activity.voids_id,
                phone_e164=activity.phone_e164,
            )
        )
    return timeline


def _promise_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """Promises and plan installments, each with its outcome."""
    timeline: list[TimelineEntry] = []
    plan_versions = {p.id: p.version for p in rows.plans}
    for promise in rows.promises:
        what = PLAN_INSTALLMENT if promise.plan_id else N_("promise {amount} due {day}")
        title = _(what).format(amount=amount(promise.amount), day=format_day(promise.due_date))
        title += f" · {outcome_label(promise.status)}"
        if promise.paid_amount and promise.status != "kept":
            title += " " + _("(paid {amount})").format(amount=amount(promise.paid_amount))
        timeline.append(
            TimelineEntry(
                promise.created_at,
                "promise",
                title,
                who(promise.created_by_id),
                None,
                promise.id,
                version=promise.version,
                status=promise.status,
                plan_id=promise.plan_id,
                plan_version=plan_versions.get(promise.plan_id) if promise.plan_id else None,
            )
        )
    return timeline


def _plan_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """One row per payment plan."""
    timeline: list[TimelineEntry] = []
    promises = rows.promises
    for plan_row in rows.plans:
        # One row for the whole plan (its installments are the promise entries with its plan_id,
        # shown under it when the agent opens it).
        installments = sorted(
            (p for p in promises if p.plan_id == plan_row.id), key=lambda p: p.due_date
        )
        total = sum(p.amount for p in installments)
        title = _("plan of {count}: {amount}").format(count=len(installments), amount=amount(total))
        if installments:
            title += " " + _("from {first} to {last}").format(
                first=format_day(installments[0].due_date),
                last=format_day(installments[-1].due_date),
            )
        outcomes = [
            f"{count} {outcome_label(status)}"
            for status in ("kept", "partial", "broken", "pending", "cancelled")
            if (count := sum(1 for p in installments if p.status == status))
        ]
        if outcomes:
            title += " · " + _(", ").join(outcomes)
        timeline.append(
            TimelineEntry(
                plan_row.created_at,
                "plan",
                title,
                who(plan_row.created_by_id),
                None,
                plan_row.id,
                version=plan_row.version,
                status=plan_row.status,
                plan_id=plan_row.id,
                plan_version=plan_row.version,
            )
        )
    return timeline


def _payment_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """Payments received (and reversals)."""
    timeline: list[TimelineEntry] = []
    payments = rows.payments
    reversed_ids = {p.voids_id for p in payments if p.voids_id is not None}
    for payment in payments:
        title = _("payment {amount} received {day}").format(
            amount=amount(payment.amount), day=format_day(payment.received_on)
        )
        if payment.method:
            title += f" · {payment.method}"
        status = None
        if payment.voids_id is not None:
            # The reason first: a narrow timeline cuts the end of the title.
            title = _("reversal ({reason}) {amount} on {day}").format(
                reason=word(REVERSAL_REASONS, payment.reversal_reason) or _("reversed"),
                amount=amount(payment.amount),
                day=format_day(payment.received_on),
            )
            status = "reversal"
        elif payment.id in reversed_ids:
            title += " · " + outcome_label("reversed")
            status = "reversed"
        timeline.append(
            TimelineEntry(
                payment.created_at,
                "payment",
                title,
                who(payment.recorded_by_id),
                payment.reference,
                payment.id,
                voids_id=payment.voids_id,
                status=status,
            )
        )
    return timeline


def _follow_up_entries(
    rows: _CaseRows, who: _Who, amount: _Amount, actor: Actor
) -> list[TimelineEntry]:
    """Follow-ups, due in the agent's time zone."""
    timeline: list[TimelineEntry] = []
    follow_ups = rows.follow_ups
    agent_zone = _zone_or_utc(actor.time_zone)
    for follow_up in follow_ups:
        state = "done" if follow_up.done_at else "open"
        due = follow_up.due_at.astimezone(agent_zone)
        title = _("follow-up {time}").format(time=f"{format_day(due.date())} {due:%H:%M}")
        title += f" · {outcome_label(state)}"
        if follow_up.owner_id != actor.user_id:
            title += " · " + _("for {user}").format(user=who(follow_up.owner_id) or "?")
        timeline.append(
            TimelineEntry(
                follow_up.created_at,
                "follow_up",
                title,
                who(follow_up.created_by_id),
                follow_up.reason,
                follow_up.id,
                version=follow_up.version,
                status=state,
            )
        )
    return timeline


def _hold_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """Holds placed, and released."""
    timeline: list[TimelineEntry] = []
    holds = rows.holds
    for hold in holds:
        timeline.append(
            TimelineEntry(
                hold.placed_at,
                "hold",
                _("{kind} hold placed").format(kind=word(HOLD_KINDS, hold.kind)),
                who(hold.placed_by_id),
                hold.reason,
                hold.id,
                status="active" if hold.released_at is None else "released",
            )
        )
        if hold.released_at is not None:
            timeline.append(
                TimelineEntry(
                    hold.released_at,
                    "hold",
                    _("{kind} hold released").format(kind=word(HOLD_KINDS, hold.kind)),
                    who(hold.released_by_id),
                    None,
                    hold.id,
                )
            )
    return timeline


def _settlement_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """Settlements asked for, and what became of them."""
    timeline: list[TimelineEntry] = []
    settlements = rows.settlements
    for settlement in settlements:
        terms = _("{amount} by {day}").format(
            amount=amount(settlement.amount), day=format_day(settlement.due_date)
        )
        requested = _("pending approval") if settlement.status == "pending" else _("requested")
        timeline.append(
            TimelineEntry(
                settlement.requested_at,
                "settlement",
                _("settlement {terms}").format(terms=terms) + f" · {requested}",
                who(settlement.requested_by_id),
                settlement.note,
                settlement.id,
                status=settlement.status,
            )
        )
        if settlement.status != "pending" and settlement.decided_at is not None:
            timeline.append(
                TimelineEntry(
                    settlement.decided_at,
                    "settlement",
                    _("settlement {terms}").format(terms=terms)
                    + f" · {outcome_label(settlement.status)}",
                    who(settlement.decided_by_id),
                    settlement.decision_note,
                    settlement.id,
                    status=settlement.status,
                )
            )
        elif settlement.status not in ("pending", "approved", "rejected"):
            timeline.append(  # completed or lapsed: no decider, the moment it ended
                TimelineEntry(
                    settlement.updated_at,
                    "settlement",
                    _("settlement {terms}").format(terms=terms)
                    + f" · {outcome_label(settlement.status)}",
                    None,
                    None,
                    settlement.id,
                    status=settlement.status,
                )
            )
    return timeline


def _dispute_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """Invoice disputes opened, and how each was resolved (the resolution first: at one instant,
    the timeline's stable sort keeps it above the opening)."""
    numbers = {invoice.id: invoice.number for invoice in rows.invoices}
    timeline: list[TimelineEntry] = []
    for dispute in rows.disputes:
        what = _("dispute of {invoice} {amount}").format(
            invoice=numbers.get(dispute.invoice_id, "?"), amount=amount(dispute.amount)
        )
        if dispute.resolved_at is not None:
            title = f"{what} · {outcome_label(dispute.status)}"
            if dispute.credited:
                credited = _("{amount} credited").format(amount=amount(dispute.credited))
                title += f" · {credited}"
            timeline.append(
                TimelineEntry(
                    dispute.resolved_at,
                    "dispute",
                    title,
                    who(dispute.resolved_by_id),
                    dispute.resolution_reason,
                    dispute.id,
                    status=dispute.status,
                )
            )
        timeline.append(
            TimelineEntry(
                dispute.opened_at,
                "dispute",
                f"{what} · {word(_DISPUTE_CATEGORIES, dispute.category)}",
                who(dispute.opened_by_id),
                dispute.reason,
                dispute.id,
                status=dispute.status,
            )
        )
    return timeline


def _charge_entries(rows: _CaseRows, who: _Who, amount: _Amount) -> list[TimelineEntry]:
    """Charges added after placement (legal costs, fees, interest) and their waivers."""
    numbers = {invoice.id: invoice.number for invoice in rows.invoices}
    timeline: list[TimelineEntry] = []
    for charge in rows.charges:
        component = word(CHARGE_COMPONENTS, charge.component)
        if charge.voids_id is None:
            title = _("{component} {amount} charged").format(
                component=component, amount=amount(charge.amount)
            )
        else:
            title = _("{component} {amount} waived").format(
                component=component, amount=amount(-charge.amount)
            )
        if charge.invoice_id:
            title += " " + _("on {invoice}").format(invoice=numbers.get(charge.invoice_id, "?"))
        timeline.append(
            TimelineEntry(
                charge.created_at,
                "charge",
                title,
                who(charge.created_by_id),
                charge.reason,
                charge.id,
                voids_id=charge.voids_id,
            )
        )
    return timeline


def _verdict(*, session: Session, case: Case, now: datetime, settings: Settings) -> Verdict | None:
    try:
        from collector_tui.services.rules.compliance import check_case
    except ImportError:  # pragma: no cover - compliance ships with the app
        return None
    found: Any = check_case(session=session, case=case, now=now, settings=settings)
    return Verdict(bool(found.callable), found.reason, found.callable_at)
