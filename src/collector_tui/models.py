"""SQLModel tables (docs/decisions.md: data model, UUID keys, append-only facts).

Keys are UUIDs because laptops create rows offline and later meet the master database. Money is in
integer minor units of the row's currency. Instants are aware UTC datetimes (stored as naive UTC on
SQLite, timestamptz on PostgreSQL); calendar dates are plain dates. Facts (activities, payments,
audit events) are append-only: a correction is a new row that voids the old one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import AutoString

# The words for statuses and outcomes live in collector_tui.labels (no database there: the TUI
# reads them); kept importable from here.
from collector_tui.labels import CASE_STATUS_LABELS as CASE_STATUS_LABELS
from collector_tui.labels import OUTCOME_LABELS as OUTCOME_LABELS
from collector_tui.labels import case_status_label as case_status_label
from collector_tui.labels import outcome_label as outcome_label


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored instant must be aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _instant(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _version_column() -> Column[int]:
    return Column("version", Integer, nullable=False, server_default="1")


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


class CaseStatus(StrEnum):
    new = "new"
    active = "active"
    promised = "promised"
    plan = "plan"
    dispute = "dispute"
    legal = "legal"
    settled = "settled"
    paid = "paid"
    written_off = "written_off"
    closed = "closed"


OPEN_STATUSES: tuple[str, ...] = ("new", "active", "promised", "plan", "dispute", "legal")
CLOSED_STATUSES: tuple[str, ...] = ("settled", "paid", "written_off", "closed")


class HoldKind(StrEnum):
    cease = "cease"
    dispute = "dispute"
    complaint = "complaint"
    hardship = "hardship"
    legal = "legal"
    bankruptcy = "bankruptcy"
    deceased = "deceased"


class Channel(StrEnum):
    call = "call"
    sms = "sms"
    letter = "letter"
    email = "email"
    visit = "visit"
    note = "note"


class PromiseStatus(StrEnum):
    pending = "pending"
    kept = "kept"
    partial = "partial"
    broken = "broken"
    cancelled = "cancelled"


# Queue tiers (docs/decisions.md, queue). Lower comes first. Closed cases carry TIER_NONE.
TIER_FOLLOW_UP = 1
TIER_BROKEN_PROMISE = 2
TIER_PROMISE_REMINDER = 3
TIER_NEW = 4
TIER_WORKABLE = 5
TIER_NONE = 9


# Optimistic concurrency (docs/decisions.md, stale edits): SQLModel needs the same Column object in
# the field and in __mapper_args__, and a Column belongs to one table, hence one per versioned
# table.
_user_version = _version_column()


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("username"),)
    __mapper_args__ = {"version_id_col": _user_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=300)
    active: bool = True
    time_zone: str = Field(default="UTC", max_length=64)
    settlement_limit_pct: int = 0
    # The interface's language (i18n.LANGUAGES: "en", "zh_CN"); None: the environment's locale.
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_user_version)


_debtor_version = _version_column()


class Debtor(SQLModel, table=True):
    __mapper_args__ = {"version_id_col": _debtor_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(default="person", max_length=16)  # person | company
    name: str = Field(max_length=300, index=True)
    country: str = Field(max_length=2)  # ISO 3166-1 alpha-2
    address: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=16)
    risk_grade: str | None = Field(default=None, max_length=2)  # A (best) .. E (worst)
    capacity_notes: str | None = Field(default=None, max_length=2000)
    deceased: bool = False
    bankrupt: bool = False
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_debtor_version)


_phone_version = _version_column()


class Phone(SQLModel, table=True):
    __mapper_args__ = {"version_id_col": _phone_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    debtor_id: uuid.UUID = Field(foreign_key="debtor.id", index=True)
    e164: str | None = Field(default=None, max_length=20, index=True)
    raw: str = Field(max_length=100)
    extension: str | None = Field(default=None, max_length=20)
    kind: str = Field(default="unknown", max_length=20)
    is_primary: bool = False
    valid: bool = True
    # Comma-separated IANA names. Unbounded on PostgreSQL: a US toll-free number has 42 zones (727
    # characters); SQLite keeps the VARCHAR(500) of 0001, which it never enforces (migration 0005).
    time_zones: str = Field(default="", sa_type=AutoString(500).with_variant(Text(), "postgresql"))
    do_not_call: bool = False
    sms_consent: bool = False
    # Regulation F: calls made with the debtor's prior consent do not count, for 7 days; calls at
    # otherwise inconvenient times are allowed while it runs (services/rules/compliance.py).
    consent_until: datetime | None = _instant(default=None)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_phone_version)
    # Contact data an agent keeps (services/contacts, migration 0008). `status` is the mark;
    # `valid` and `do_not_call` above are kept coherent with it (services/contacts/model.py), so
    # every reader of those two keeps working: valid is False for wrong, disconnected, retired or
    # unparseable numbers, do_not_call is True for status dnc.
    source: str = Field(
        default="placement", max_length=20, sa_column_kwargs={"server_default": "placement"}
    )
    status: str = Field(
        default="valid", max_length=16, sa_column_kwargs={"server_default": "valid"}
    )
    status_reason: str | None = Field(default=None, max_length=500)
    status_at: datetime | None = _instant(default=None)
    # Retired: no longer used, kept for the history (a number is never deleted).
    retired_at: datetime | None = _instant(default=None)
    call_consent_at: datetime | None = _instant(default=None)
    call_consent_how: str | None = Field(default=None, max_length=200)
    sms_consent_at: datetime | None = _instant(default=None)
    sms_consent_how: str | None = Field(default=None, max_length=200)
    # Do-not-call (also the CN guideline's "stop contacting this number"): when and how asked.
    dnc_at: datetime | None = _instant(default=None)
    dnc_how: str | None = Field(default=None, max_length=200)


class ContactStatus(StrEnum):
    valid = "valid"
    wrong = "wrong"
    disconnected = "disconnected"
    dnc = "dnc"
    unverified = "unverified"
    returned = "returned"  # postal addresses: mail came back


class ContactSource(StrEnum):
    placement = "placement"
    debtor = "debtor"
    third_party = "third party"
    skip_trace = "skip trace"
    agent = "agent"


_address_version = _version_column()


class PostalAddress(SQLModel, table=True):
    """A debtor's postal address. Never deleted: a wrong or returned one is marked, an old one
    retired. `Debtor.address` stays the placement's address as the client sent it."""

    __mapper_args__ = {"version_id_col": _address_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    debtor_id: uuid.UUID = Field(foreign_key="debtor.id", index=True)
    text: str = Field(max_length=500)
    # Lower case, spaces collapsed: how duplicates are told apart.
    match_key: str = Field(max_length=500)
    source: str = Field(default="agent", max_length=20)
    status: str = Field(default="valid", max_length=16)  # valid|wrong|returned|unverified
    status_reason: str | None = Field(default=None, max_length=500)
    status_at: datetime | None = _instant(default=None)
    is_primary: bool = False
    retired_at: datetime | None = _instant(default=None)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_address_version)


_email_version = _version_column()


class EmailAddress(SQLModel, table=True):
    __mapper_args__ = {"version_id_col": _email_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    debtor_id: uuid.UUID = Field(foreign_key="debtor.id", index=True)
    address: str = Field(max_length=320)  # normalised by email-validator
    source: str = Field(default="agent", max_length=20)
    status: str = Field(default="valid", max_length=16)  # valid|wrong|dnc|unverified
    status_reason: str | None = Field(default=None, max_length=500)
    status_at: datetime | None = _instant(default=None)
    opt_in: bool = False
    opt_in_at: datetime | None = _instant(default=None)
    opt_in_how: str | None = Field(default=None, max_length=200)
    retired_at: datetime | None = _instant(default=None)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_email_version)


class ThirdPartyRelation(StrEnum):
    employer = "employer"
    relative = "relative"
    guarantor = "guarantor"
    reference = "reference"


_third_party_version = _version_column()


class ThirdParty(SQLModel, table=True):
    """Someone who may know where the debtor is. Their number is a Phone row of the debtor with
    kind `third_party` (so the packs' third-party rules see it); an objection stops every further
    contact (services/rules/compliance.py)."""

    __mapper_args__ = {"version_id_col": _third_party_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    debtor_id: uuid.UUID = Field(foreign_key="debtor.id", index=True)
    name: str = Field(max_length=300)
    relation: str = Field(max_length=20)
    phone_id: uuid.UUID | None = Field(default=None, foreign_key="phone.id", index=True)
    source: str = Field(default="agent", max_length=20)
    note: str | None = Field(default=None, max_length=500)
    objected_at: datetime | None = _instant(default=None)
    objected_how: str | None = Field(default=None, max_length=200)
    # FDCPA 804(3): one contact to ask where the debtor is, another only when they ask for it.
    recontact_requested_at: datetime | None = _instant(default=None)
    retired_at: datetime | None = _instant(default=None)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_third_party_version)


_case_version = _version_column()


class Case(SQLModel, table=True):
    """One debt placed for collection."""

    __tablename__ = "collection_case"
    __table_args__ = (
        UniqueConstraint("client", "client_ref"),
        # The queue (docs/decisions.md: queue, stack facts): agent first, then the precomputed sort
        # key.
        Index("ix_case_queue", "assigned_to_id", "priority", "next_action_at", "status"),
        Index("ix_case_status_due", "status", "due_date"),
        # The supervisors' list of cases routed to them (deceased, bankrupt): few, among millions.
        Index("ix_case_routed", "routed_reason"),
        # Supervisors' workload view: open cases and balances per agent and currency,
        # read from this index alone instead of every case row.
        Index("ix_case_workload", "assigned_to_id", "currency", "status", "balance"),
        # The queue's count of cases waiting for a later time (next_action_at > now): a range of
        # this index instead of every open case of the agent in ix_case_queue.
        Index("ix_case_waiting", "assigned_to_id", "next_action_at", "priority"),
    )
    __mapper_args__ = {"version_id_col": _case_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client: str = Field(max_length=100)
    client_ref: str = Field(max_length=100, index=True)
    debtor_id: uuid.UUID = Field(foreign_key="debtor.id", index=True)
    currency: str = Field(max_length=3)
    principal: int = Field(default=0, sa_type=BigInteger)
    fees: int = Field(default=0, sa_type=BigInteger)
    interest: int = Field(default=0, sa_type=BigInteger)
    balance: int = Field(default=0, sa_type=BigInteger)
    due_date: date
    placed_date: date
    status: str = Field(default=CaseStatus.new.value, max_length=16)
    assigned_to_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    # Cached queue position, recomputed by services.rules.scoring whenever an input changes.
    queue_tier: int = TIER_NEW
    priority: int = Field(default=0, sa_type=BigInteger)
    score: int = 0
    score_factors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    next_action_at: datetime | None = _instant(default=None)
    last_attempt_at: datetime | None = _instant(default=None)
    last_contact_at: datetime | None = _instant(default=None)  # last right-party contact
    routed_reason: str | None = Field(default=None, max_length=200)  # sent to supervisors
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_case_version)
    # The strategy the case is treated by (services/strategies): set on the master only, at
    # placement and by `strategy apply`; the group ("champion" | "challenger") never switches
    # unless the rule that placed the case changed. `strategy_treatment` is the treatment in force
    # for it (rule, set version, queue weight, reminder sequence, settlement limit, escalations),
    # copied here so the queue, the settlement form and the reminders read it without the set.
    strategy: str | None = Field(default=None, max_length=64)
    strategy_group: str | None = Field(default=None, max_length=16)
    strategy_reason: str | None = Field(default=None, max_length=500)
    strategy_treatment: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class Invoice(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id", index=True)
    number: str = Field(max_length=100)
    issue_date: date | None = None
    due_date: date
    amount: int = Field(sa_type=BigInteger)
    open_amount: int = Field(sa_type=BigInteger)
    disputed: bool = False


class Hold(SQLModel, table=True):
    """A reason not to contact: any active hold (released_at is null) suspends contact."""

    __table_args__ = (Index("ix_hold_case_active", "case_id", "released_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    kind: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=500)
    placed_at: datetime = _instant()
    placed_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    released_at: datetime | None = _instant(default=None)
    released_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")


class Activity(SQLModel, table=True):
    """A contact attempt or a note. Append-only: a correction voids it with a new row."""

    __table_args__ = (
        Index("ix_activity_case_time", "case_id", "occurred_at"),
        # The `cn` pack caps unanswered calls per number per day, across debtors sharing a number.
        Index("ix_activity_phone_time", "phone_e164", "occurred_at"),
        # Supervisors' workload view: one agent's attempts of the day, counted from the index
        # alone.
        Index(
            "ix_activity_user_time", "user_id", "occurred_at", "channel", "disposition", "voids_id"
        ),
        # The corrections and void notes since a day began (the workload's attempts of the day):
        # a partial index, as small as the corrections are few.
        Index(
            "ix_activity_voids",
            "occurred_at",
            sqlite_where=text("voids_id IS NOT NULL"),
            postgresql_where=text("voids_id IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    occurred_at: datetime = _instant()
    channel: str = Field(max_length=16)
    direction: str = Field(default="outbound", max_length=16)  # outbound | inbound
    phone_id: uuid.UUID | None = Field(default=None, foreign_key="phone.id")
    phone_e164: str | None = Field(default=None, max_length=20)
    disposition: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, sa_type=Text)
    duration_s: int | None = None
    with_consent: bool = False  # Regulation F: prior consent calls are outside the count
    voids_id: uuid.UUID | None = Field(default=None, foreign_key="activity.id")
    created_at: datetime = _instant()


class Draft(SQLModel, table=True):
    """A form being typed, kept until saved or discarded so a crash never loses it."""

    __table_args__ = (UniqueConstraint("user_id", "case_id", "form"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id")
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    form: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = _instant()


_plan_version = _version_column()


class PaymentPlan(SQLModel, table=True):
    __mapper_args__ = {"version_id_col": _plan_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id", index=True)
    status: str = Field(default="active", max_length=16)  # active|completed|broken|cancelled
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_plan_version)


_promise_version = _version_column()


class Promise(SQLModel, table=True):
    __table_args__ = (
        Index("ix_promise_status_due", "status", "due_date"),
        # The sweep before every queue (casework.queue): pending promises past their grace, one
        # index seek per grace value, without reading a row (bench/; docs/decisions.md,
        # performance).
        Index("ix_promise_sweep", "status", "grace_days", "due_date", "case_id"),
    )
    __mapper_args__ = {"version_id_col": _promise_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id", index=True)
    plan_id: uuid.UUID | None = Field(default=None, foreign_key="paymentplan.id")
    activity_id: uuid.UUID | None = Field(default=None, foreign_key="activity.id")
    amount: int = Field(sa_type=BigInteger)
    paid_amount: int = Field(default=0, sa_type=BigInteger)
    due_date: date
    grace_days: int = 0
    status: str = Field(default=PromiseStatus.pending.value, max_length=16)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    resolved_at: datetime | None = _instant(default=None)
    version: int = Field(default=1, sa_column=_promise_version)


class Payment(SQLModel, table=True):
    """Money received. Append-only: a reversal is a new row with voids_id and a negative amount."""

    __table_args__ = (Index("ix_payment_case_received", "case_id", "received_on"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    amount: int = Field(sa_type=BigInteger)
    received_on: date
    method: str | None = Field(default=None, max_length=32)
    reference: str | None = Field(default=None, max_length=100, index=True)
    recorded_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    voids_id: uuid.UUID | None = Field(default=None, foreign_key="payment.id")
    created_at: datetime = _instant()
    # A reversal's reason (bounced | chargeback | error); None on money received.
    reversal_reason: str | None = Field(default=None, max_length=16)


class PaymentAllocation(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    payment_id: uuid.UUID = Field(foreign_key="payment.id", index=True)
    promise_id: uuid.UUID = Field(foreign_key="promise.id", index=True)
    amount: int = Field(sa_type=BigInteger)


_follow_up_version = _version_column()


class BalanceComponent(SQLModel, table=True):
    """What is still owed on a case, by invoice (None: the case itself, e.g. a consumer debt or
    legal costs) and component (principal, fees, interest, costs); the open amounts add up to the
    case's balance and, per invoice, to its open amount (casework.balances)."""

    __tablename__ = "balance_component"
    __table_args__ = (Index("ix_balance_component_case", "case_id", "invoice_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoice.id")
    component: str = Field(max_length=16)
    amount: int = Field(default=0, sa_type=BigInteger)


class PaymentPart(SQLModel, table=True):
    """Where a payment went, by invoice and component; a reversal's parts are the same, negated.
    Append-only, like the payments."""

    __tablename__ = "payment_part"
    __table_args__ = (Index("ix_payment_part_case", "case_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    payment_id: uuid.UUID = Field(foreign_key="payment.id", index=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoice.id")
    component: str = Field(max_length=16)
    amount: int = Field(sa_type=BigInteger)


class CaseCharge(SQLModel, table=True):
    """A charge a supervisor adds to a case after placement (legal costs, fees, interest), or the
    waiver of one (`voids_id` names the charge, `amount` negative). Append-only: the balance and
    its components move by it (casework.charges)."""

    __tablename__ = "case_charge"
    __table_args__ = (Index("ix_case_charge_case", "case_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoice.id")
    component: str = Field(max_length=16)
    amount: int = Field(sa_type=BigInteger)
    reason: str = Field(max_length=500)
    voids_id: uuid.UUID | None = Field(default=None, foreign_key="case_charge.id")
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()


class DisputeStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    rejected = "rejected"
    partly = "partly"


class DisputeCategory(StrEnum):
    goods_not_received = "goods_not_received"
    quality = "quality"
    price = "price"
    already_paid = "already_paid"
    not_mine = "not_mine"
    other = "other"


_dispute_version = _version_column()


class InvoiceDispute(SQLModel, table=True):
    """A debtor's dispute of an invoice, whole or in part (casework.disputes): while open its
    amount is out of the collectible balance; upheld, the invoice is credited by `credited`."""

    __tablename__ = "invoice_dispute"
    __table_args__ = (
        Index("ix_invoice_dispute_case", "case_id", "status"),
        Index("ix_invoice_dispute_open", "status", "resolve_by"),
    )
    __mapper_args__ = {"version_id_col": _dispute_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    invoice_id: uuid.UUID = Field(foreign_key="invoice.id", index=True)
    amount: int = Field(sa_type=BigInteger)
    category: str = Field(max_length=32)
    reason: str = Field(max_length=500)
    owner_id: uuid.UUID = Field(foreign_key="app_user.id")
    resolve_by: date
    status: str = Field(default=DisputeStatus.open.value, max_length=16)
    credited: int = Field(default=0, sa_type=BigInteger)
    opened_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    opened_at: datetime = _instant()
    resolved_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    resolved_at: datetime | None = _instant(default=None)
    resolution_reason: str | None = Field(default=None, max_length=500)
    follow_up_id: uuid.UUID | None = Field(default=None, foreign_key="followup.id")
    hold_id: uuid.UUID | None = Field(default=None, foreign_key="hold.id")
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_dispute_version)


class ReminderStatus(StrEnum):
    queued = "queued"  # waiting for the send run (or for its next try, `next_try_at`)
    sending = "sending"  # handed to a channel; a crash here is resolved by the next run
    sent = "sent"
    failed = "failed"  # tried `reminder_max_tries` times, or refused for good: a supervisor's list
    uncertain = "uncertain"  # a crash mid-send on a channel that cannot be asked again safely
    skipped = "skipped"  # the compliance check at send time said no (the reason says why)
    cancelled = "cancelled"


REMINDER_CHANNELS: tuple[str, ...] = ("sms", "email", "letter")
_reminder_version = _version_column()


class Reminder(SQLModel, table=True):
    """One reminder in the outbox (services/reminders/outbox.py): an SMS, e-mail or letter due on
    a case, from a sequence step or queued by hand, until it is sent (then an Activity names it)
    or skipped, failed or cancelled with a reason. `idempotency_key` makes queueing a step twice
    and delivering a message twice impossible (docs/decisions.md, reminders)."""

    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        # The send run: what is queued (or left sending) and due to be tried now.
        Index("ix_reminder_run", "status", "next_try_at"),
        Index("ix_reminder_case", "case_id", "created_at"),
        # One reminder per debtor per day: what went out to a debtor lately.
        Index("ix_reminder_debtor_sent", "debtor_id", "sent_at"),
    )
    __mapper_args__ = {"version_id_col": _reminder_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    debtor_id: uuid.UUID = Field(foreign_key="debtor.id")
    channel: str = Field(max_length=8)  # sms | email | letter
    template: str = Field(max_length=64)
    language: str = Field(default="en", max_length=16)
    # The sequence and step it comes from; both None for one queued by hand.
    sequence: str | None = Field(default=None, max_length=64)
    step: int | None = None
    due_date: date
    # Where it goes: a number (E.164), an e-mail address or a postal address, and that row's id.
    destination: str | None = Field(default=None, max_length=500)
    destination_id: uuid.UUID | None = None
    status: str = Field(
        default=ReminderStatus.queued.value,
        max_length=16,
        sa_column_kwargs={"server_default": "queued"},
    )
    reason: str | None = Field(default=None, max_length=500)
    tries: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_try_at: datetime | None = _instant(default=None)
    # What was (or is being) sent: a letter's PDF file and its SHA-256 instead of a body.
    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, sa_type=Text)
    pdf_path: str | None = Field(default=None, max_length=1000)
    pdf_sha256: str | None = Field(default=None, max_length=64)
    provider_ref: str | None = Field(default=None, max_length=200)  # the gateway's message id
    idempotency_key: str = Field(max_length=200)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    sent_at: datetime | None = _instant(default=None)
    activity_id: uuid.UUID | None = Field(default=None, foreign_key="activity.id")
    version: int = Field(default=1, sa_column=_reminder_version)


class RunLease(SQLModel, table=True):
    """Who holds a run that must not go twice at once (the reminders' send run): taken with a
    conditional write, renewed as the run goes, released at its end. A holder killed outright
    leaves it until `expires_at`; the next run waits for that or takes it over on purpose
    (services/reminders/run_lease.py)."""

    __tablename__ = "run_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)  # one run's own random id
    holder_label: str = Field(max_length=200)  # who and where, for the message to the next one
    acquired_at: datetime = _instant()
    expires_at: datetime = _instant()


class FollowUp(SQLModel, table=True):
    __table_args__ = (
        Index("ix_followup_owner_open", "owner_id", "done_at", "due_at"),
        Index("ix_followup_case", "case_id", "done_at"),
    )
    __mapper_args__ = {"version_id_col": _follow_up_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    owner_id: uuid.UUID = Field(foreign_key="app_user.id")
    due_at: datetime = _instant()
    reason: str = Field(max_length=500)
    done_at: datetime | None = _instant(default=None)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_follow_up_version)


class Assignment(SQLModel, table=True):
    """Who held a case, who moved it, and why."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id", index=True)
    from_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    to_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    moved_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    at: datetime = _instant()
    reason: str | None = Field(default=None, max_length=500)


_settlement_version = _version_column()


class Settlement(SQLModel, table=True):
    """An agreement to close a case for less than its balance ("full and final"): once the agreed
    amount is paid the case is settled and the rest forgiven (casework.settlements). A discount
    above the agent's limit (User.settlement_limit_pct) waits for a supervisor's approval."""

    __table_args__ = (Index("ix_settlement_status", "status", "requested_at"),)
    __mapper_args__ = {"version_id_col": _settlement_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id", index=True)
    amount: int = Field(sa_type=BigInteger)  # what the debtor pays, minor units of the case
    balance: int = Field(sa_type=BigInteger)  # the case balance when it was agreed
    due_date: date
    # pending (waits for a supervisor) | approved | rejected | completed | lapsed
    status: str = Field(default="pending", max_length=16)
    note: str | None = Field(default=None, max_length=500)
    requested_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    requested_at: datetime = _instant()
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = _instant(default=None)
    decision_note: str | None = Field(default=None, max_length=500)
    promise_id: uuid.UUID | None = Field(default=None, foreign_key="promise.id")
    updated_at: datetime = _instant()
    version: int = Field(default=1, sa_column=_settlement_version)


class Assessment(SQLModel, table=True):
    """One assessment of a debtor's capacity to pay, made on a case (services/assessment).

    Append-only history: each assessment is a row with its instant, author, figures, grade and
    reason; the case and its debtor show the latest. A person's figures are monthly amounts in
    minor units of the case's currency; a company's are the agent's reading of its standing.
    """

    __table_args__ = (
        Index("ix_assessment_case_time", "case_id", "assessed_at"),
        Index("ix_assessment_debtor_time", "debtor_id", "assessed_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    debtor_id: uuid.UUID = Field(foreign_key="debtor.id")
    assessed_at: datetime = _instant()
    assessed_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    kind: str = Field(max_length=16)  # person | company, as the debtor was when assessed
    currency: str | None = Field(default=None, max_length=3)
    income: int | None = Field(default=None, sa_type=BigInteger)
    housing: int | None = Field(default=None, sa_type=BigInteger)
    family: int | None = Field(default=None, sa_type=BigInteger)
    other_debts: int | None = Field(default=None, sa_type=BigInteger)
    disposable: int | None = Field(default=None, sa_type=BigInteger)
    revenue_trend: str | None = Field(default=None, max_length=16)
    other_creditors: int | None = None
    trading_status: str | None = Field(default=None, max_length=16)
    insolvency_signals: str | None = Field(default=None, max_length=500)
    judgement: str | None = Field(default=None, max_length=2000)
    grade: str | None = Field(default=None, max_length=2)
    grade_before: str | None = Field(default=None, max_length=2)
    reason: str | None = Field(default=None, max_length=500)
    review_by: date | None = None
    created_at: datetime = _instant()


class RiskModel(SQLModel, table=True):
    """A fitted probability-of-payment model (services/assessment/model.py): versioned, never
    edited; the newest is in force. Fitted on the master's own history."""

    __tablename__ = "risk_model"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = Field(unique=True)
    fitted_at: datetime = _instant()
    fitted_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    n_train: int = 0
    n_test: int = 0
    features: list[str] = Field(default_factory=list, sa_type=JSON)
    coefficients: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    auc: float | None = None
    calibration: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)


class StrategySet(SQLModel, table=True):
    """A strategy file as applied (services/strategies): versioned, never edited; the newest is in
    force. The file is only input: a bad one is refused whole and this set stays."""

    __tablename__ = "strategy_set"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = Field(unique=True)
    source: str = Field(max_length=500)  # the file's name, for messages
    text: str = Field(sa_type=Text)  # the file as applied
    rules: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # parsed, normalized
    applied_at: datetime = _instant()
    applied_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")


class AuditEvent(SQLModel, table=True):
    """Append-only (database triggers refuse UPDATE and DELETE)."""

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id", "at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = _instant()
    user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # Set when an erasure redacted the personal values in `before`/`after` (migration 0013: the
    # only update the triggers let through; the event's facts stay).
    erased_at: datetime | None = _instant(default=None)


# The nil UUID: the key of the unassigned cases in `WorkloadCounter` (a key column cannot be NULL).
UNASSIGNED_KEY = uuid.UUID(int=0)


class WorkloadCounter(SQLModel, table=True):
    """Open cases, their balance and the pending promises on them, per agent and currency: the
    supervisors' workload without reading every case. Derived data, kept by database triggers on
    `collection_case` and `promise` in the same statement as each change (migration 0017); never
    written by the app except `workload.fix_counters` after a recount, never carried by sync."""

    __tablename__ = "workload_counter"

    agent_id: uuid.UUID = Field(primary_key=True)  # UNASSIGNED_KEY: the unassigned cases
    currency: str = Field(primary_key=True, max_length=3)
    open_cases: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    open_balance: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    pending_promises: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class AttemptCounter(SQLModel, table=True):
    """A user's contact attempts (every activity but notes) and right-party contacts in one
    15-minute UTC bucket: an agent's day in any zone (its midnight is on a quarter hour) is a sum
    of at most 96 rows. Derived like `WorkloadCounter`, by triggers on `activity` (migration
    0015); corrections and voids are subtracted when read (services/supervision/workload.py)."""

    __tablename__ = "attempt_counter"

    user_id: uuid.UUID = Field(primary_key=True)
    bucket: datetime = Field(primary_key=True, sa_type=UTCDateTime)  # a quarter hour, UTC
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    contacts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


# Offline laptops and sync (services/sync). A laptop is a SQLite copy of one agent's
# briefcase; its local changes are captured in the outbox in the same transaction and pushed to the
# master, which applies each operation once.


class SyncState(SQLModel, table=True):
    """This database's place in sync, one row: a laptop of `master` (device `device_id`) or the
    master itself. Its presence with role `laptop` switches on the outbox capture."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True)
    role: str = Field(max_length=16)  # laptop | master
    device_id: uuid.UUID
    master: str | None = Field(default=None, max_length=1000)
    master_id: uuid.UUID | None = None  # the master's own device id, checked on every exchange
    agent_id: uuid.UUID | None = None  # the laptop's agent
    clock: str = Field(default="", max_length=64)  # the last hybrid logical clock issued
    # The laptop's ed25519 signing key (raw, base64): it signs every push and outbox packet; the
    # master knows the public half (SyncDevice). Never carried, never printed.
    device_key: str | None = Field(default=None, max_length=128)
    # The master: the team's recovery public key (X25519, base64), which a laptop's encrypted
    # file is also sealed to at its first pull (vault.py, migration 0013).
    recovery_key: str | None = Field(default=None, max_length=64)
    last_pull_at: datetime | None = _instant(default=None)
    last_push_at: datetime | None = _instant(default=None)
    created_at: datetime = _instant()


class SyncOutboxOp(SQLModel, table=True):
    """A local change waiting to reach the master (laptop side), then its answer."""

    __tablename__ = "sync_outbox"
    __table_args__ = (
        Index("ix_sync_outbox_state_hlc", "state", "hlc"),
        Index("ix_sync_outbox_case", "case_id", "state"),
    )

    op_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    txn_id: uuid.UUID  # the local transaction: the master applies its ops together
    hlc: str = Field(max_length=64)
    device_id: uuid.UUID
    actor_id: uuid.UUID | None = None
    kind: str = Field(max_length=16)  # insert | update | delete
    entity: str = Field(max_length=64)  # table name
    entity_id: str = Field(max_length=64)
    case_id: uuid.UUID | None = None
    base_version: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = _instant()
    state: str = Field(default="pending", max_length=16)  # pending|accepted|rejected|conflict
    answer: str | None = Field(default=None, max_length=1000)
    answered_at: datetime | None = _instant(default=None)


class SyncAppliedOp(SQLModel, table=True):
    """An operation the master has applied (or refused): each op id is applied once."""

    __tablename__ = "sync_applied_op"
    __table_args__ = (Index("ix_sync_applied_entity", "entity", "entity_id"),)

    op_id: uuid.UUID = Field(primary_key=True)
    device_id: uuid.UUID
    actor_id: uuid.UUID | None = None
    hlc: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    entity: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    case_id: uuid.UUID | None = None
    outcome: str = Field(max_length=16)  # accepted | rejected | conflict
    message: str | None = Field(default=None, max_length=1000)
    applied_at: datetime = _instant()
    # A rejected operation as it came (op and payload), kept for a supervisor's review.
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    reviewed_at: datetime | None = _instant(default=None)
    reviewed_by_id: uuid.UUID | None = None


class SyncTombstone(SQLModel, table=True):
    """A deleted row, remembered so a later insert or update of it is not resurrected."""

    __tablename__ = "sync_tombstone"
    __table_args__ = (UniqueConstraint("entity", "entity_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    entity: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    hlc: str = Field(max_length=64)
    deleted_at: datetime = _instant()
    deleted_by_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None


class SyncBriefcaseCase(SQLModel, table=True):
    """A case carried on this laptop: `active` while assigned to the laptop's agent, `read_only`
    once the master moved it away (its personal data goes once nothing of it waits to go back)."""

    __tablename__ = "sync_briefcase"

    case_id: uuid.UUID = Field(primary_key=True)
    state: str = Field(default="active", max_length=16)  # active | read_only
    owner_id: uuid.UUID | None = None  # the case's agent on the master at the last pull
    reason: str | None = Field(default=None, max_length=500)
    pulled_at: datetime = _instant()


class SyncDevice(SQLModel, table=True):
    """A laptop's signing key, registered on the master for one user at the laptop's first pull:
    pushes and outbox packets are signed with it and verified against it; a revoked device's
    packets are refused."""

    __tablename__ = "sync_device"

    id: uuid.UUID = Field(primary_key=True)  # the laptop's device id (its sync_state.device_id)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True)
    public_key: str = Field(max_length=64)  # raw ed25519 public key, base64
    label: str | None = Field(default=None, max_length=200)
    registered_at: datetime = _instant()
    last_seen_at: datetime | None = _instant(default=None)
    revoked_at: datetime | None = _instant(default=None)
    revoked_by_id: uuid.UUID | None = None


class SyncReceivedPacket(SQLModel, table=True):
    """A signed packet or push the master has taken: the same one again is a replay, refused."""

    __tablename__ = "sync_received_packet"

    packet_id: uuid.UUID = Field(primary_key=True)
    device_id: uuid.UUID = Field(index=True)
    digest: str = Field(max_length=128)
    received_at: datetime = _instant()


class VerdictChange(SQLModel, table=True):
    """What changed since a process cached its compliance verdicts (services/rules/verdicts.py):
    one row per debtor (or number) whose calls, holds, phones or third parties a write touched;
    both empty for a change that could touch anyone. Local to the file, never synced."""

    __tablename__ = "verdict_change"

    seq: int | None = Field(default=None, primary_key=True)
    debtor_id: uuid.UUID | None = None
    e164: str | None = Field(default=None, max_length=20)
