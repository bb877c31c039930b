"""A debtor's contact data as the case screen and `contact list` read it: phones with their mark
and consent, postal addresses, e-mail addresses, third parties.

The read model sits in casework because the case file shows it; the changes are services/contacts
(above casework: each change is a case change through casework/change.py).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from collector_tui.models import EmailAddress, Phone, PostalAddress, ThirdParty

MAX_ADDRESS = 500


def address_key(text: str) -> str:
    """How two addresses are told to be the same: case and spacing do not count."""
    return re.sub(r"\s+", " ", text).strip().casefold()[:MAX_ADDRESS]


# Marks under which a number is never dialled (the old flags say the same: services/contacts).
NOT_CALLABLE_STATUSES = frozenset({"wrong", "disconnected", "dnc"})


def mark_phone(phone: Phone, *, status: str, at: datetime, reason: str | None) -> None:
    """Give a phone its mark and the flags that follow from it. The one place a mark is set, for
    contacts' own changes, a wrong-number attempt and the voiding of one."""
    phone.status, phone.status_at, phone.status_reason = status, at, reason
    settle_phone_flags(phone)


def settle_phone_flags(phone: Phone) -> None:
    """Set the flags older readers know (`valid`, `do_not_call`) from the mark, so compliance,
    sync and search need not know the marks. A number that cannot be dialled is never primary."""
    phone.valid = (
        phone.e164 is not None
        and phone.status not in ("wrong", "disconnected")
        and phone.retired_at is None
    )
    phone.do_not_call = phone.status == "dnc"
    if not phone.valid or phone.do_not_call:
        phone.is_primary = False


@dataclass(frozen=True)
class PhoneMark:
    """A phone's mark, source and consent (the contact panel's columns for a number)."""

    status: str  # valid | wrong | disconnected | dnc | unverified
    source: str
    retired: bool
    status_reason: str | None
    status_at: datetime | None
    call_consent_until: datetime | None  # Reg F prior consent: calls allowed until then
    call_consent_at: datetime | None
    call_consent_how: str | None
    sms_consent: bool
    sms_consent_at: datetime | None
    sms_consent_how: str | None
    dnc_at: datetime | None
    dnc_how: str | None
    third_party_id: uuid.UUID | None

    def consents(self, now: datetime) -> tuple[str, ...]:
        """The channels with consent now: "call" (while consent_until runs), "sms"."""
        found: list[str] = []
        if self.call_consent_until is not None and self.call_consent_until > now:
            found.append("call")
        if self.sms_consent:
            found.append("sms")
        return tuple(found)


@dataclass(frozen=True)
class AddressView:
    id: uuid.UUID
    text: str
    source: str
    status: str  # valid | wrong | returned | unverified
    status_reason: str | None
    status_at: datetime | None
    is_primary: bool
    retired: bool
    version: int


@dataclass(frozen=True)
class EmailView:
    id: uuid.UUID
    address: str
    source: str
    status: str  # valid | wrong | dnc | unverified
    status_reason: str | None
    opt_in: bool
    opt_in_at: datetime | None
    opt_in_how: str | None
    retired: bool
    version: int


@dataclass(frozen=True)
class ThirdPartyView:
    id: uuid.UUID
    name: str
    relation: str  # employer | relative | guarantor | reference
    phone_id: uuid.UUID | None
    phone_e164: str | None
    source: str
    note: str | None
    objected: bool
    objected_at: datetime | None
    objected_how: str | None
    recontact_requested_at: datetime | None
    retired: bool
    version: int


def phone_mark(phone: Phone, third_party_id: uuid.UUID | None = None) -> PhoneMark:
    return PhoneMark(
        status=phone.status,
        source=phone.source,
        retired=phone.retired_at is not None,
        status_reason=phone.status_reason,
        status_at=phone.status_at,
        call_consent_until=phone.consent_until,
        call_consent_at=phone.call_consent_at,
        call_consent_how=phone.call_consent_how,
        sms_consent=phone.sms_consent,
        sms_consent_at=phone.sms_consent_at,
        sms_consent_how=phone.sms_consent_how,
        dnc_at=phone.dnc_at,
        dnc_how=phone.dnc_how,
        third_party_id=third_party_id,
    )


def addresses_of(session: Session, debtor_id: uuid.UUID) -> tuple[AddressView, ...]:
    rows = session.exec(
        select(PostalAddress)
        .where(PostalAddress.debtor_id == debtor_id)
        .order_by(
            col(PostalAddress.retired_at).is_not(None),
            col(PostalAddress.is_primary).desc(),
            col(PostalAddress.created_at),
            col(PostalAddress.id),
        )
    ).all()
    return tuple(
        AddressView(
            id=a.id,
            text=a.text,
            source=a.source,
            status=a.status,
            status_reason=a.status_reason,
            status_at=a.status_at,
            is_primary=a.is_primary,
            retired=a.retired_at is not None,
            version=a.version,
        )
        for a in rows
    )


def emails_of(session: Session, debtor_id: uuid.UUID) -> tuple[EmailView, ...]:
    rows = session.exec(
        select(EmailAddress)
        .where(EmailAddress.debtor_id == debtor_id)
        .order_by(
            col(EmailAddress.retired_at).is_not(None),
            col(EmailAddress.created_at),
            col(EmailAddress.id),
        )
    ).all()
    return tuple(
        EmailView(
            id=e.id,
            address=e.address,
            source=e.source,
            status=e.status,
            status_reason=e.status_reason,
            opt_in=e.opt_in,
            opt_in_at=e.opt_in_at,
            opt_in_how=e.opt_in_how,
            retired=e.retired_at is not None,
            version=e.version,
        )
        for e in rows
    )


def third_parties_of(session: Session, debtor_id: uuid.UUID) -> tuple[ThirdPartyView, ...]:
    rows = session.exec(
        select(ThirdParty, Phone.e164)
        .join(Phone, col(Phone.id) == col(ThirdParty.phone_id), isouter=True)
        .where(ThirdParty.debtor_id == debtor_id)
        .order_by(
            col(ThirdParty.retired_at).is_not(None),
            col(ThirdParty.created_at),
            col(ThirdParty.id),
        )
    ).all()
    return tuple(
        ThirdPartyView(
            id=t.id,
            name=t.name,
            relation=t.relation,
            phone_id=t.phone_id,
            phone_e164=e164,
            source=t.source,
            note=t.note,
            objected=t.objected_at is not None,
            objected_at=t.objected_at,
            objected_how=t.objected_how,
            recontact_requested_at=t.recontact_requested_at,
            retired=t.retired_at is not None,
            version=t.version,
        )
        for t, e164 in rows
    )


def third_party_of_phones(session: Session, debtor_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """phone id -> third party id, for the debtor's third parties' numbers."""
    rows = session.exec(
        select(ThirdParty.phone_id, ThirdParty.id).where(
            ThirdParty.debtor_id == debtor_id, col(ThirdParty.phone_id).is_not(None)
        )
    ).all()
    return {phone_id: party_id for phone_id, party_id in rows if phone_id is not None}
