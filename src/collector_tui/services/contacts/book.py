"""Changing a debtor's contact data: phones, postal addresses, e-mail addresses, consent, third
parties (docs/decisions.md, contact data).

Every change is a change of the case it was made from: `change.case_for_change` (the agent's own
case, the version the form was opened on), the writes inside `change.changing`, an audit event per
row, then `change.finish_case_change`, which re-places the case in the queue in the same
transaction. The debtor's other open cases are re-placed too: their numbers are the same.

Nothing is ever deleted: a wrong number is marked, an old one retired, and both stay in the
history. A phone's mark (`status`) and the older flags every reader knows (`valid`,
`do_not_call`) are set together (`casework.contact_book.mark_phone`), so compliance, sync and
search need not know the marks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import N_, _
from collector_tui.models import (
    OPEN_STATUSES,
    Case,
    ContactSource,
    Debtor,
    EmailAddress,
    Phone,
    PostalAddress,
    ThirdParty,
    ThirdPartyRelation,
)
from collector_tui.phones import PHONE_KINDS, mask_phone, parse_phone, zones_for
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.casework import change, contact_book
from collector_tui.services.casework.contact_book import (
    AddressView,
    EmailView,
    ThirdPartyView,
    addresses_of,
    emails_of,
    third_parties_of,
)
from collector_tui.services.casework.contact_book import (
    address_key as address_key,  # the services and sync use it from here
)
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.rules import compliance, scoring

PHONE_STATUSES = ("valid", "wrong", "disconnected", "dnc", "unverified")
ADDRESS_STATUSES = ("valid", "wrong", "returned", "unverified")
EMAIL_STATUSES = ("valid", "wrong", "dnc", "unverified")
SOURCES = tuple(source.value for source in ContactSource)
RELATIONS = tuple(relation.value for relation in ThirdPartyRelation)
# What an agent may call a number's type; phonenumbers' own kinds are kept when none is given.
PHONE_TYPES = ("mobile", "home", "work", *(kind for kind in PHONE_KINDS if kind != "mobile"))
CONSENT_CHANNELS = ("call", "sms", "email")
# Regulation F 1006.14(b)(3)(i): prior consent covers the seven days after it is given.
DEFAULT_CALL_CONSENT = timedelta(days=7)
KINDS = ("phone", "address", "email", "third_party")

MAX_ADDRESS = 500
MAX_NAME = 300
MAX_HOW = 200
MAX_REASON = 500
MAX_NOTE = 500


@dataclass(frozen=True)
class QueueEffect:
    """The case's place in the queue right after the change (same transaction)."""

    callable: bool
    reason: str | None  # why not callable (or a caveat when callable); None: nothing to say
    callable_at: datetime | None  # None when callable now or when only a person can lift it
    tier: int
    next_action_at: datetime | None


@dataclass(frozen=True)
class ContactSaved:
    kind: str  # phone | address | email | third_party
    contact_id: uuid.UUID
    value: str  # E.164 for a phone, the normalised e-mail, the address text, a third party's name
    status: str
    case_id: uuid.UUID
    case_version: int  # the case's version after the change: the next form's expected_version
    queue: QueueEffect
    changed: bool = True  # False: the change asked for was already so (nothing written)


@dataclass(frozen=True)
class ContactEntry:
    """One line of `contact list`: every kind of contact in one shape."""

    kind: str  # phone | address | email | third_party
    id: uuid.UUID
    value: str  # E.164 (or the number as written when it never parsed), e-mail, address, name
    status: str  # third parties: "objected" or "valid"
    consent: tuple[str, ...]  # channels with consent now: call, sms, email
    source: str
    time_zones: tuple[str, ...]  # phones only
    retired: bool
    detail: str | None  # a phone's type; a third party's relation and number
    version: int
    masked: bool = False  # a number shown masked to a role that does not need it in full


@dataclass(frozen=True)
class ContactList:
    case_id: uuid.UUID
    case_version: int
    debtor_id: uuid.UUID
    debtor_name: str
    country: str
    entries: tuple[ContactEntry, ...]
    addresses: tuple[AddressView, ...]
    emails: tuple[EmailView, ...]
    third_parties: tuple[ThirdPartyView, ...]


# --- Reading --------------------------------------------------------------------------------------


@reads
def list_contacts(
    *, session: Session, actor: Actor, settings: Settings, case_id: uuid.UUID, now: datetime
) -> ContactList:
    """Every contact of the case's debtor, retired ones last (`contact list`); phone numbers
    masked for roles not in `settings.unmasked_roles` (`reveal_contacts` shows them, audited)."""
    return _contacts(session, actor, case_id, now, masked=actor.role not in settings.unmasked_roles)


@writes
def reveal_contacts(
    *, session: Session, actor: Actor, settings: Settings, case_id: uuid.UUID, now: datetime
) -> ContactList:
    """The contacts with every number in full, for a role that sees them masked: each number
    revealed is an audit event (who, when, which number; not the number itself)."""
    listed = _contacts(session, actor, case_id, now, masked=False)
    if actor.role in settings.unmasked_roles:
        return listed
    for entry in listed.entries:
        if entry.kind == "phone":
            audit.record(
                session=session,
                now=now,
                user_id=actor.user_id,
                entity="phone",
                entity_id=entry.id,
                action="reveal",
                after={"case_id": str(case_id)},
            )
    return listed


def _contacts(
    session: Session, actor: Actor, case_id: uuid.UUID, now: datetime, *, masked: bool
) -> ContactList:
    case = _case(session, actor, case_id)
    debtor = _debtor(session, case)
    phones = session.exec(
        select(Phone)
        .where(Phone.debtor_id == debtor.id)
        .order_by(
            col(Phone.retired_at).is_not(None),
            col(Phone.is_primary).desc(),
            col(Phone.created_at),
            col(Phone.id),
        )
    ).all()
    addresses = addresses_of(session, debtor.id)
    emails = emails_of(session, debtor.id)
    parties = third_parties_of(session, debtor.id)
    party_phone = {p.phone_id: p for p in parties if p.phone_id is not None}
    entries: list[ContactEntry] = []
    for phone in phones:
        consent: list[str] = []
        if phone.consent_until is not None and phone.consent_until > now:
            consent.append("call")
        if phone.sms_consent:
            consent.append("sms")
        party = party_phone.get(phone.id)
        detail = phone.kind if party is None else f"{party.relation}: {party.name}"
        entries.append(
            ContactEntry(
                kind="phone",
                id=phone.id,
                value=mask_phone(phone.e164 or phone.raw) if masked else phone.e164 or phone.raw,
                status=phone.status,
                consent=tuple(consent),
                source=phone.source,
                time_zones=tuple(zone for zone in phone.time_zones.split(",") if zone),
                retired=phone.retired_at is not None,
                detail=detail,
                version=phone.version,
                masked=masked,
            )
        )
    for address in addresses:
        entries.append(
            ContactEntry(
                "address",
                address.id,
                address.text,
                address.status,
                (),
                address.source,
                (),
                address.retired,
                "primary" if address.is_primary else None,
                address.version,
            )
        )
    for email in emails:
        entries.append(
            ContactEntry(
                "email",
                email.id,
                email.address,
                email.status,
                ("email",) if email.opt_in else (),
                email.source,
                (),
                email.retired,
                None,
                email.version,
            )
        )
    for party in parties:
        entries.append(
            ContactEntry(
                "third_party",
                party.id,
                party.name,
                "objected" if party.objected else "valid",
                (),
                party.source,
                (),
                party.retired,
                party.relation + (f" {party.phone_e164}" if party.phone_e164 else ""),
                party.version,
            )
        )
    entries.sort(key=lambda entry: entry.retired)  # stable: kinds keep their order
    return ContactList(
        case_id=case.id,
        case_version=case.version,
        debtor_id=debtor.id,
        debtor_name=debtor.name,
        country=debtor.country,
        entries=tuple(entries),
        addresses=addresses,
        emails=emails,
        third_parties=parties,
    )


# --- Phones ---------------------------------------------------------------------------------------


@writes
def add_phone(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    number: str,
    phone_type: str | None = None,
    source: str = "agent",
    consent: Sequence[str] = (),
    consent_until: datetime | None = None,
    consent_how: str | None = None,
    primary: bool = False,
    expected_version: int | None = None,
) -> ContactSaved:
    """A number for the debtor, parsed as the placement import does (E.164, type, zones). With
    `consent` "call" the debtor's prior consent runs until `consent_until` (default seven days);
    "sms" records SMS consent. A number already on file is refused."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    debtor = _debtor(session, case)
    parsed, kind = _parsed_phone(number, phone_type, debtor.country)
    source = _source(source)
    channels = _consent_channels(consent, allowed=("call", "sms"))
    until = _consent_until(channels, consent_until, now)
    how = _how(consent_how, "consent_how")
    assert parsed.e164 is not None
    _refuse_duplicate_phone(session, debtor.id, parsed.e164)
    before = change.case_state(case)
    with change.changing(session):
        phone = _new_phone(debtor.id, parsed.e164, number, parsed, kind, source, now)
        if primary or not _has_primary(session, debtor.id):
            _make_primary(session, debtor.id, phone)
        if "call" in channels:
            phone.consent_until, phone.call_consent_at, phone.call_consent_how = until, now, how
        if "sms" in channels:
            phone.sms_consent, phone.sms_consent_at, phone.sms_consent_how = True, now, how
        session.add(phone)
        session.flush()
        _audit(session, now, actor, "phone", phone.id, "create", None, _phone_state(phone))
    return _finish(session, now, settings, actor, case, before, "phone", phone.id, phone.e164 or "")


@writes
def edit_phone(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    phone_id: uuid.UUID,
    phone_type: str | None = None,
    primary: bool | None = None,
    source: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """Change a number's type, primary flag or source (the number itself never changes: add the
    new one and retire the old)."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    phone = _phone(session, case, phone_id)
    kind = _phone_type(phone_type) if phone_type is not None else None
    new_source = _source(source) if source is not None else None
    if primary and (phone.retired_at is not None or not phone.valid):
        raise InvalidInput(
            _("a retired or wrong number cannot be the primary one"), field="primary"
        )
    before = change.case_state(case)
    state = _phone_state(phone)
    with change.changing(session):
        if kind is not None:
            phone.kind = kind
        if new_source is not None:
            phone.source = new_source
        if primary:
            _make_primary(session, phone.debtor_id, phone)
        elif primary is False:
            phone.is_primary = False
        _touch_and_audit(session, now, actor, "phone", phone, state, _phone_state(phone))
    return _finish(session, now, settings, actor, case, before, "phone", phone.id, _value(phone))


@writes
def set_phone_consent(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    phone_id: uuid.UUID,
    channel: str,
    given: bool = True,
    until: datetime | None = None,
    how: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """Record (or withdraw, `given=False`) consent on a number: "call" is Regulation F's prior
    consent to call at otherwise inconvenient times and outside the frequency presumption, until
    `until` (default seven days, never in the past); "sms" is consent to text messages."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    phone = _phone(session, case, phone_id)
    channels = _consent_channels((channel,), allowed=("call", "sms"))
    how_text = _how(how, "how")
    consent_until = _consent_until(channels, until, now) if given else None
    if given and not _dialable(phone):
        raise InvalidInput(
            _("{phone} is {status}: consent cannot be recorded on it").format(
                phone=_value(phone), status=_status_words(phone)
            ),
            field="consent",
        )
    before = change.case_state(case)
    state = _phone_state(phone)
    with change.changing(session):
        if channels == ("call",):
            phone.consent_until = consent_until
            phone.call_consent_at = now if given else phone.call_consent_at
            phone.call_consent_how = how_text if given else phone.call_consent_how
        else:
            phone.sms_consent = given
            phone.sms_consent_at = now
            phone.sms_consent_how = how_text
        _touch_and_audit(session, now, actor, "phone", phone, state, _phone_state(phone))
    return _finish(session, now, settings, actor, case, before, "phone", phone.id, _value(phone))


# --- Marks and retirement, any kind ---------------------------------------------------------------


@writes
def mark_contact(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    kind: str,
    contact_id: uuid.UUID,
    status: str,
    reason: str | None = None,
    how: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """Mark a phone (valid, wrong, disconnected, dnc, unverified), an address (valid, wrong,
    returned, unverified) or an e-mail (valid, wrong, dnc, unverified). `how` says how a
    do-not-call request was made (the CN guideline's "stop contacting this number" included).
    Lifting do-not-call is a supervisor's decision."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    row = _contact(session, case, kind, contact_id)
    allowed = {"phone": PHONE_STATUSES, "address": ADDRESS_STATUSES, "email": EMAIL_STATUSES}
    if kind not in allowed:
        raise InvalidInput(_("a third party is not marked: record their objection"), field="status")
    wanted = (status or "").strip().lower()
    if wanted not in allowed[kind]:
        raise InvalidInput(
            _("status must be one of: {allowed}").format(allowed=", ".join(allowed[kind])),
            field="status",
        )
    reason_text = _text(reason, "reason", MAX_REASON)
    how_text = _how(how, "how")
    if row.retired_at is not None:
        raise InvalidInput(_("this contact is retired: add it again instead"), field="status")
    if isinstance(row, Phone) and row.e164 is None and wanted in ("valid", "unverified"):
        raise InvalidInput(
            _("this number cannot exist as written: add the right one instead"), field="status"
        )
    if row.status == "dnc" and wanted != "dnc" and not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can lift a do-not-call request"))
    if row.status == wanted and (reason_text is None or reason_text == row.status_reason):
        return _unchanged(session, settings, now, case, kind, row)
    before = change.case_state(case)
    state = _state_of(kind, row)
    with change.changing(session):
        if isinstance(row, Phone):
            if wanted == "dnc":
                row.dnc_at, row.dnc_how = now, how_text
            contact_book.mark_phone(row, status=wanted, at=now, reason=reason_text)
        else:
            row.status, row.status_reason, row.status_at = wanted, reason_text, now
        _touch_and_audit(session, now, actor, kind, row, state, _state_of(kind, row))
    return _finish(session, now, settings, actor, case, before, kind, row.id, _value(row))


@writes
def retire_contact(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    kind: str,
    contact_id: uuid.UUID,
    reason: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """Stop using a contact; it stays in the history, never deleted."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    row = _contact(session, case, kind, contact_id)
    reason_text = _text(reason, "reason", MAX_REASON)
    if row.retired_at is not None:
        return _unchanged(session, settings, now, case, kind, row)
    before = change.case_state(case)
    state = _state_of(kind, row)
    with change.changing(session):
        row.retired_at = now
        if not isinstance(row, ThirdParty):
            row.status_reason = reason_text or row.status_reason
        if isinstance(row, Phone | PostalAddress):
            row.is_primary = False
        if isinstance(row, Phone):
            contact_book.settle_phone_flags(row)
        _touch_and_audit(session, now, actor, kind, row, state, _state_of(kind, row))
    return _finish(session, now, settings, actor, case, before, kind, row.id, _value(row))


@writes
def set_contact_status(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    value: str,
    status: str,
    reason: str | None = None,
    how: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """`contact set CASE NUMBER|ADDR --status ...`: find the contact by what it is (a number as
    typed, an e-mail, an address's text) and mark it."""
    case = _case(session, actor, case_id)
    kind, contact_id = find_contact(session=session, case=case, value=value)
    return mark_contact(
        session=session,
        now=now,
        actor=actor,
        settings=settings,
        case_id=case_id,
        kind=kind,
        contact_id=contact_id,
        status=status,
        reason=reason,
        how=how,
        expected_version=expected_version,
    )


@writes
def retire_contact_by_value(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    value: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """`contact retire CASE NUMBER|ADDR`: find the contact by what it is, then retire it, in one
    unit."""
    case = _case(session, actor, case_id)
    kind, contact_id = find_contact(session=session, case=case, value=value)
    return retire_contact(
        session=session,
        now=now,
        actor=actor,
        settings=settings,
        case_id=case_id,
        kind=kind,
        contact_id=contact_id,
        reason=reason,
        expected_version=expected_version,
    )


# --- Postal addresses -----------------------------------------------------------------------------


@writes
def add_address(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    text: str,
    source: str = "agent",
    primary: bool = False,
    expected_version: int | None = None,
) -> ContactSaved:
    """A postal address for the debtor (as written; the same address twice is refused)."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    debtor = _debtor(session, case)
    cleaned = _address_text(text)
    key = address_key(cleaned)
    source = _source(source)
    if session.exec(
        select(PostalAddress.id).where(
            PostalAddress.debtor_id == debtor.id, PostalAddress.match_key == key
        )
    ).first():
        raise InvalidInput(_("this address is already on file"), field="address")
    before = change.case_state(case)
    with change.changing(session):
        first = not session.exec(
            select(PostalAddress.id).where(
                PostalAddress.debtor_id == debtor.id,
                col(PostalAddress.retired_at).is_(None),
                col(PostalAddress.is_primary),
            )
        ).first()
        if primary and not first:
            for other in session.exec(
                select(PostalAddress).where(
                    PostalAddress.debtor_id == debtor.id, col(PostalAddress.is_primary)
                )
            ):
                other.is_primary = False
                other.updated_at = now
                session.add(other)
        address = PostalAddress(
            debtor_id=debtor.id,
            text=cleaned,
            match_key=key,
            source=source,
            status="valid",
            is_primary=primary or first,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(address)
        session.flush()
        _audit(
            session,
            now,
            actor,
            "address",
            address.id,
            "create",
            None,
            _state_of("address", address),
        )
    return _finish(session, now, settings, actor, case, before, "address", address.id, cleaned)


# --- E-mail ---------------------------------------------------------------------------------------


def normalise_email(text: str) -> str:
    """The e-mail address as stored, or InvalidInput(field="email") when it does not parse."""
    from email_validator import EmailNotValidError, validate_email

    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput(_("an e-mail address is needed"), field="email")
    if len(cleaned) > 320:
        raise InvalidInput(_("an e-mail address is at most 320 characters"), field="email")
    try:
        # Syntax only: whether the domain takes mail is not ours to ask while the debtor waits.
        found = validate_email(cleaned, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(
            _("not an e-mail address: {error}").format(error=error), field="email"
        ) from None
    return str(found.normalized)


@writes
def add_email(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    address: str,
    source: str = "agent",
    opt_in: bool = False,
    opt_in_how: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """An e-mail address for the debtor (syntax checked; the same address twice is refused);
    `opt_in` records the debtor's e-mail consent now, `opt_in_how` how it was given."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    debtor = _debtor(session, case)
    normalised = normalise_email(address)
    source = _source(source)
    how = _how(opt_in_how, "opt_in_how")
    if session.exec(
        select(EmailAddress.id).where(
            EmailAddress.debtor_id == debtor.id,
            EmailAddress.address == normalised,
        )
    ).first():
        raise InvalidInput(_("this e-mail address is already on file"), field="email")
    before = change.case_state(case)
    with change.changing(session):
        email = EmailAddress(
            debtor_id=debtor.id,
            address=normalised,
            source=source,
            status="valid",
            opt_in=opt_in,
            opt_in_at=now if opt_in else None,
            opt_in_how=how if opt_in else None,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(email)
        session.flush()
        _audit(session, now, actor, "email", email.id, "create", None, _state_of("email", email))
    return _finish(session, now, settings, actor, case, before, "email", email.id, normalised)


@writes
def set_email_opt_in(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    email_id: uuid.UUID,
    opt_in: bool,
    how: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    email = _contact(session, case, "email", email_id)
    assert isinstance(email, EmailAddress)
    how_text = _how(how, "how")
    if opt_in and (email.retired_at is not None or email.status in ("wrong", "dnc")):
        raise InvalidInput(
            _("{address} is {status}: no opt-in on it").format(
                address=email.address, status=_status_words(email)
            ),
            field="consent",
        )
    before = change.case_state(case)
    state = _state_of("email", email)
    with change.changing(session):
        email.opt_in = opt_in
        email.opt_in_at = now
        email.opt_in_how = how_text
        _touch_and_audit(session, now, actor, "email", email, state, _state_of("email", email))
    return _finish(session, now, settings, actor, case, before, "email", email.id, email.address)


# --- Third parties --------------------------------------------------------------------------------


@writes
def add_third_party(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    name: str,
    relation: str,
    phone: str | None = None,
    source: str = "agent",
    note: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """Someone who may help locate the debtor (employer, relative, guarantor, reference). Their
    number becomes a phone of kind `third_party`, which the packs' third-party rules govern."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    debtor = _debtor(session, case)
    name_text = _text(name, "name", MAX_NAME)
    if name_text is None:
        raise InvalidInput(_("a name is needed"), field="name")
    relation_text = (relation or "").strip().lower()
    if relation_text not in RELATIONS:
        raise InvalidInput(
            _("relation must be one of: {relations}").format(relations=", ".join(RELATIONS)),
            field="relation",
        )
    source = _source(source)
    note_text = _text(note, "note", MAX_NOTE)
    parsed = None
    if phone is not None and phone.strip():
        parsed, _kind = _parsed_phone(phone, None, debtor.country)
        assert parsed.e164 is not None
        _refuse_duplicate_phone(session, debtor.id, parsed.e164)
    before = change.case_state(case)
    with change.changing(session):
        party = ThirdParty(
            debtor_id=debtor.id,
            name=name_text,
            relation=relation_text,
            source=source,
            note=note_text,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        if parsed is not None and parsed.e164 is not None:
            number = _new_phone(
                debtor.id, parsed.e164, phone or "", parsed, "third_party", source, now
            )
            session.add(number)
            session.flush()
            party.phone_id = number.id
            _audit(session, now, actor, "phone", number.id, "create", None, _phone_state(number))
        session.add(party)
        session.flush()
        _audit(
            session,
            now,
            actor,
            "third_party",
            party.id,
            "create",
            None,
            _state_of("third_party", party),
        )
    return _finish(session, now, settings, actor, case, before, "third_party", party.id, name_text)


@writes
def edit_third_party(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    party_id: uuid.UUID,
    name: str | None = None,
    relation: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    party = _contact(session, case, "third_party", party_id)
    assert isinstance(party, ThirdParty)
    name_text = _text(name, "name", MAX_NAME) if name is not None else None
    if name is not None and name_text is None:
        raise InvalidInput(_("a name is needed"), field="name")
    relation_text = relation.strip().lower() if relation is not None else None
    if relation_text is not None and relation_text not in RELATIONS:
        raise InvalidInput(
            _("relation must be one of: {relations}").format(relations=", ".join(RELATIONS)),
            field="relation",
        )
    note_text = _text(note, "note", MAX_NOTE) if note is not None else None
    before = change.case_state(case)
    state = _state_of("third_party", party)
    with change.changing(session):
        if name_text is not None:
            party.name = name_text
        if relation_text is not None:
            party.relation = relation_text
        if note is not None:
            party.note = note_text
        _touch_and_audit(
            session, now, actor, "third_party", party, state, _state_of("third_party", party)
        )
    return _finish(session, now, settings, actor, case, before, "third_party", party.id, party.name)


@writes
def record_objection(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    party_id: uuid.UUID,
    how: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """The third party asked not to be contacted again: never offered again (compliance reads
    the objection), and their number is marked do-not-call too."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    party = _contact(session, case, "third_party", party_id)
    assert isinstance(party, ThirdParty)
    how_text = _how(how, "how")
    if party.objected_at is not None:
        return _unchanged(session, settings, now, case, "third_party", party)
    before = change.case_state(case)
    state = _state_of("third_party", party)
    with change.changing(session):
        party.objected_at = now
        party.objected_how = how_text
        _touch_and_audit(
            session, now, actor, "third_party", party, state, _state_of("third_party", party)
        )
        number = session.get(Phone, party.phone_id) if party.phone_id else None
        if number is not None and number.status != "dnc":
            phone_before = _phone_state(number)
            number.dnc_at, number.dnc_how = now, how_text
            contact_book.mark_phone(number, status="dnc", at=now, reason="third party objected")
            _touch_and_audit(
                session, now, actor, "phone", number, phone_before, _phone_state(number)
            )
    return _finish(session, now, settings, actor, case, before, "third_party", party.id, party.name)


@writes
def record_recontact_request(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    party_id: uuid.UUID,
    expected_version: int | None = None,
) -> ContactSaved:
    """The third party asked to be called again (FDCPA 804(3): one more contact is then allowed
    by the `us` pack's location rule)."""
    case = change.case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    party = _contact(session, case, "third_party", party_id)
    assert isinstance(party, ThirdParty)
    if party.objected_at is not None:
        raise InvalidInput(
            _("this third party objected: they are not contacted again"), field="party"
        )
    before = change.case_state(case)
    state = _state_of("third_party", party)
    with change.changing(session):
        party.recontact_requested_at = now
        _touch_and_audit(
            session, now, actor, "third_party", party, state, _state_of("third_party", party)
        )
    return _finish(session, now, settings, actor, case, before, "third_party", party.id, party.name)


THIRD_PARTY_REQUESTS = ("objected", "call-again")


@writes
def record_third_party_request(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    name: str,
    request: str,
    how: str | None = None,
    expected_version: int | None = None,
) -> ContactSaved:
    """`contact objected|call-again CASE NAME`: find the third party by name and record what
    they asked (no more contact, or one more call), in one unit."""
    if request not in THIRD_PARTY_REQUESTS:
        raise InvalidInput(
            _("a third party's request is {requests}").format(
                requests=" or ".join(THIRD_PARTY_REQUESTS)
            )
        )
    case = _case(session, actor, case_id)
    kind, party_id = find_contact(session=session, case=case, value=name)
    if kind != "third_party":
        raise NotFound(
            _("{name!r} is not a third party of this debtor").format(name=name.strip()[:40])
        )
    common: dict[str, Any] = {
        "session": session,
        "now": now,
        "actor": actor,
        "settings": settings,
        "case_id": case_id,
        "party_id": party_id,
        "expected_version": expected_version,
    }
    if request == "objected":
        return record_objection(**common, how=how)
    if how is not None:
        raise InvalidInput(_("--how goes with an objection"), field="how")
    return record_recontact_request(**common)


# --- Helpers --------------------------------------------------------------------------------------


def _dialable(phone: Phone) -> bool:
    return phone.valid and not phone.do_not_call and phone.retired_at is None


# A contact's state inside a refusal ("+86 ... is do-not-call: ..."), in the reader's language.
_STATUS_WORDS = {
    "retired": N_("retired"),
    "dnc": N_("do-not-call"),
    "wrong": N_("a wrong number"),
    "disconnected": N_("disconnected"),
    "returned": N_("returned"),
    "unverified": N_("unverified"),
    "valid": N_("valid"),
}


def _status_words(row: Any) -> str:
    status = "retired" if row.retired_at is not None else str(row.status)
    if status == "wrong" and not isinstance(row, Phone):
        return _("a wrong address")
    found = _STATUS_WORDS.get(status)
    return _(found) if found is not None else status


def _case(session: Session, actor: Actor, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    return case


def _debtor(session: Session, case: Case) -> Debtor:
    debtor = session.get(Debtor, case.debtor_id)
    if debtor is None:  # pragma: no cover - a foreign key guarantees it
        raise NotFound(_("the case has no debtor"))
    return debtor


def _phone(session: Session, case: Case, phone_id: uuid.UUID) -> Phone:
    phone = session.get(Phone, phone_id)
    if phone is None or phone.debtor_id != case.debtor_id:
        raise NotFound(_("that phone is not one of this debtor's numbers"))
    return phone


_MODELS: dict[str, Any] = {
    "phone": Phone,
    "address": PostalAddress,
    "email": EmailAddress,
    "third_party": ThirdParty,
}


def _contact(session: Session, case: Case, kind: str, contact_id: uuid.UUID) -> Any:
    model = _MODELS.get(kind)
    if model is None:
        raise InvalidInput(
            _("kind must be one of: {kinds}").format(kinds=", ".join(KINDS)), field="kind"
        )
    row = session.get(model, contact_id)
    if row is None or row.debtor_id != case.debtor_id:
        raise NotFound(
            _("that {kind} is not one of this debtor's contacts").format(
                kind=kind.replace("_", " ")
            )
        )
    return row


def find_contact(*, session: Session, case: Case, value: str) -> tuple[str, uuid.UUID]:
    """(kind, id) of the debtor's contact written as `value`: an e-mail, a number as typed, an
    address's text, a third party's name. NotFound when none is."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(
            _("say which contact: a number, an e-mail or an address"), field="contact"
        )
    debtor = _debtor(session, case)
    if "@" in text:
        found = session.exec(
            select(EmailAddress.id).where(
                EmailAddress.debtor_id == debtor.id,
                col(EmailAddress.address).in_({text, _quiet_email(text)}),
            )
        ).first()
        if found is not None:
            return "email", found
    parsed = parse_phone(text, debtor.country)
    if parsed.valid and parsed.e164:
        found = session.exec(
            select(Phone.id).where(Phone.debtor_id == debtor.id, Phone.e164 == parsed.e164)
        ).first()
        if found is not None:
            return "phone", found
    found = session.exec(
        select(PostalAddress.id).where(
            PostalAddress.debtor_id == debtor.id, PostalAddress.match_key == address_key(text)
        )
    ).first()
    if found is not None:
        return "address", found
    found = session.exec(
        select(ThirdParty.id).where(ThirdParty.debtor_id == debtor.id, ThirdParty.name == text)
    ).first()
    if found is not None:
        return "third_party", found
    raise NotFound(_("{text!r} is not a contact of this debtor").format(text=text[:40]))


def _quiet_email(text: str) -> str:
    try:
        return normalise_email(text)
    except InvalidInput:
        return text


def _parsed_phone(number: str, phone_type: str | None, country: str) -> tuple[Any, str]:
    text = (number or "").strip()
    if not text:
        raise InvalidInput(_("a phone number is needed"), field="phone")
    if len(text) > 100:
        raise InvalidInput(_("a phone number is at most 100 characters"), field="phone")
    parsed = parse_phone(text, country)
    if not parsed.valid or parsed.e164 is None:
        raise InvalidInput(parsed.error or _("not a valid phone number"), field="phone")
    kind = _phone_type(phone_type) if phone_type is not None else parsed.kind
    return parsed, kind


def _phone_type(value: str) -> str:
    kind = (value or "").strip().lower()
    if kind not in PHONE_TYPES:
        raise InvalidInput(
            _("type must be one of: {types}").format(types=", ".join(PHONE_TYPES[:3])), field="type"
        )
    return kind


def _refuse_duplicate_phone(session: Session, debtor_id: uuid.UUID, e164: str) -> None:
    existing = session.exec(
        select(Phone).where(Phone.debtor_id == debtor_id, Phone.e164 == e164)
    ).first()
    if existing is not None:
        raise InvalidInput(
            _("{e164} is already on file (retired)").format(e164=e164)
            if existing.retired_at is not None
            else _("{e164} is already on file").format(e164=e164),
            field="phone",
        )


def _new_phone(
    debtor_id: uuid.UUID, e164: str, raw: str, parsed: Any, kind: str, source: str, now: datetime
) -> Phone:
    zones = tuple(parsed.time_zones) or zones_for(e164)
    return Phone(
        debtor_id=debtor_id,
        e164=e164,
        raw=raw.strip()[:100],
        extension=parsed.extension,
        kind=kind,
        is_primary=False,
        valid=True,
        time_zones=",".join(zones),
        source=source,
        status="valid",
        created_at=now,
        updated_at=now,
    )


def _has_primary(session: Session, debtor_id: uuid.UUID) -> bool:
    return (
        session.exec(
            select(Phone.id).where(
                Phone.debtor_id == debtor_id,
                col(Phone.is_primary),
                col(Phone.valid),
                ~col(Phone.do_not_call),
            )
        ).first()
        is not None
    )


def _make_primary(session: Session, debtor_id: uuid.UUID, phone: Phone) -> None:
    for other in session.exec(
        select(Phone).where(Phone.debtor_id == debtor_id, col(Phone.is_primary))
    ):
        if other.id != phone.id:
            other.is_primary = False
            session.add(other)
    phone.is_primary = True


def _source(value: str | None) -> str:
    text = (value or "").strip().lower().replace("_", " ")
    if text not in SOURCES:
        raise InvalidInput(
            _("source must be one of: {sources}").format(sources=", ".join(SOURCES)), field="source"
        )
    return text


def _consent_channels(values: Sequence[str], *, allowed: Sequence[str]) -> tuple[str, ...]:
    channels: list[str] = []
    for value in values:
        channel = (value or "").strip().lower()
        if channel not in allowed:
            raise InvalidInput(
                _("consent on this contact is one of: {allowed}").format(
                    allowed=", ".join(allowed)
                ),
                field="consent",
            )
        if channel not in channels:
            channels.append(channel)
    return tuple(channels)


def _consent_until(
    channels: Sequence[str], until: datetime | None, now: datetime
) -> datetime | None:
    if "call" not in channels:
        if until is not None:
            raise InvalidInput(_("an end date goes with consent to call"), field="consent_until")
        return None
    if until is None:
        return now + DEFAULT_CALL_CONSENT
    if until.tzinfo is None:
        raise InvalidInput(_("the consent's end needs a time zone"), field="consent_until")
    if until <= now:
        raise InvalidInput(_("the consent's end is in the past"), field="consent_until")
    if until > now + timedelta(days=366):
        raise InvalidInput(_("consent to call lasts at most a year"), field="consent_until")
    return until.astimezone(UTC)


def _how(value: str | None, field: str) -> str | None:
    return _text(value, field, MAX_HOW)


def _text(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > limit:
        raise InvalidInput(_("at most {limit} characters").format(limit=limit), field=field)
    return text


def _address_text(value: str) -> str:
    text = _text(value, "address", MAX_ADDRESS)
    if text is None:
        raise InvalidInput(_("an address is needed"), field="address")
    return text


def _value(row: Any) -> str:
    if isinstance(row, Phone):
        return row.e164 or row.raw
    if isinstance(row, PostalAddress):
        return row.text
    if isinstance(row, EmailAddress):
        return row.address
    return str(row.name)


def _status(row: Any) -> str:
    if isinstance(row, ThirdParty):
        return "objected" if row.objected_at is not None else "valid"
    return str(row.status)


_PHONE_AUDIT = (
    "e164",
    "kind",
    "is_primary",
    "valid",
    "do_not_call",
    "status",
    "status_reason",
    "source",
    "retired_at",
    "consent_until",
    "call_consent_how",
    "sms_consent",
    "sms_consent_how",
    "dnc_how",
)


def _phone_state(phone: Phone) -> dict[str, Any]:
    return audit.snapshot(phone, _PHONE_AUDIT)


def _state_of(kind: str, row: Any) -> dict[str, Any]:
    if kind == "phone":
        return _phone_state(row)
    skip = {"id", "debtor_id", "created_at", "updated_at", "version", "created_by_id"}
    names = tuple(c.name for c in row.__table__.columns if c.name not in skip)
    return audit.snapshot(row, names)


def _audit(
    session: Session,
    now: datetime,
    actor: Actor,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
    )


def _touch_and_audit(
    session: Session,
    now: datetime,
    actor: Actor,
    entity: str,
    row: Any,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    changed = [name for name in after if before.get(name) != after.get(name)]
    if not changed:
        return
    row.updated_at = now
    session.add(row)
    session.flush()
    _audit(
        session,
        now,
        actor,
        entity,
        row.id,
        "update",
        {name: before.get(name) for name in changed},
        {name: after[name] for name in changed},
    )


def _effect(session: Session, settings: Settings, now: datetime, case: Case) -> QueueEffect:
    verdict = compliance.check_case(session=session, case=case, now=now, settings=settings)
    return QueueEffect(
        callable=verdict.callable,
        reason=verdict.reason,
        callable_at=verdict.callable_at,
        tier=case.queue_tier,
        next_action_at=case.next_action_at,
    )


def _finish(
    session: Session,
    now: datetime,
    settings: Settings,
    actor: Actor,
    case: Case,
    before: dict[str, Any],
    kind: str,
    contact_id: uuid.UUID,
    value: str,
) -> ContactSaved:
    change.finish_case_change(
        session=session,
        now=now,
        settings=settings,
        case=case,
        before=before,
        user_id=actor.user_id,
    )
    # The debtor's other open cases dial the same numbers: their places move too.
    for other in session.exec(
        select(Case).where(
            Case.debtor_id == case.debtor_id,
            Case.id != case.id,
            col(Case.status).in_(OPEN_STATUSES),
        )
    ):
        scoring.refresh_case(session=session, case=other, now=now, settings=settings)
    session.flush()
    row = session.get(_MODELS[kind], contact_id)
    return ContactSaved(
        kind=kind,
        contact_id=contact_id,
        value=value,
        status=_status(row),
        case_id=case.id,
        case_version=case.version,
        queue=_effect(session, settings, now, case),
    )


def _unchanged(
    session: Session, settings: Settings, now: datetime, case: Case, kind: str, row: Any
) -> ContactSaved:
    return ContactSaved(
        kind=kind,
        contact_id=row.id,
        value=_value(row),
        status=_status(row),
        case_id=case.id,
        case_version=case.version,
        queue=_effect(session, settings, now, case),
        changed=False,
    )
