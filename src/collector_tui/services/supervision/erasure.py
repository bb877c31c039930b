"""Erasure on request (GDPR Art. 17, PIPL Art. 47): a debtor's personal data removed from closed
cases, while amounts, dates and the audit chain stay.

What goes: the debtor's name, addresses and notes on capacity; every phone number, postal and
e-mail address and third party of the debtor (the rows stay, as placeholders, so the history that
points at them holds); the free text written on the debtor's cases (contact notes, follow-up, hold,
dispute and settlement reasons, routing reasons, assessments' words); the reminders' rendered text
and destination (the letters' PDF files are the face's to remove: `Erasure.letter_files`); drafts;
and the same values wherever the audit trail or the sync log quoted them (redacted in place:
migration 0013 lets an audit event's values be rewritten once `erased_at` is set, never its facts).
What stays: the cases, their amounts, dates, statuses, dispositions and who did what when, and one
audit event saying that an erasure happened and why (not what was erased).

The debtor's data is shared by all their cases, so every one of them must be closed. The master
erases; a laptop gets the erased rows at its next pull. The face checkpoints the SQLite WAL after
the erasure (`db.Store.checkpoint`): with `secure_delete` on, the old values then leave the file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.db import in_batches
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    Assessment,
    Assignment,
    AuditEvent,
    Case,
    Debtor,
    Draft,
    EmailAddress,
    FollowUp,
    Hold,
    InvoiceDispute,
    Phone,
    PostalAddress,
    Promise,
    Reminder,
    Settlement,
    SyncAppliedOp,
    SyncState,
    ThirdParty,
)
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor, require_supervisor
from collector_tui.services.context import writes
from collector_tui.services.errors import InvalidInput, NotFound
from collector_tui.services.rules import verdicts

ERASED = "[erased]"
# Keys under which the audit trail and sync log quote personal values, whatever the value.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "debtor",
        "debtor_name",
        "address",
        "text",
        "match_key",
        "raw",
        "e164",
        "phone",
        "phone_e164",
        "extension",
        "email",
        "note",
        "reason",
        "status_reason",
        "capacity_notes",
        "decision_note",
        "resolution_reason",
        "routed_reason",
        "objected_how",
        "dnc_how",
        "call_consent_how",
        "sms_consent_how",
        "opt_in_how",
    }
)
# Shorter values are not searched for inside other text (a grade, a two-letter country).
MIN_SEARCHED = 4


@dataclass(frozen=True)
class Erasure:
    debtor_id: uuid.UUID
    cases: int
    rows: int
    audit_events: int
    # Letters sent to the debtor, as files of the outbox: the face removes them (no database).
    letter_files: tuple[str, ...] = ()


def _placeholder(row_id: uuid.UUID) -> str:
    # Unique per row: a debtor's addresses and e-mails are told apart by their text.
    return f"{ERASED} {str(row_id)[:8]}"


class _Eraser:
    """Collects the values it removes, so the audit trail can be searched for them after."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.values: set[str] = set()
        self.rows = 0
        self.letters: list[str] = []

    def blank(self, row: Any, *fields: str, placeholder: str | None = ERASED) -> None:
        """Replace the fields' values by `placeholder` (None where the column allows it, else
        the word `[erased]`)."""
        changed = False
        columns = type(row).__table__.columns
        for name in fields:
            value = getattr(row, name)
            replacement = placeholder
            if replacement is None and not columns[name].nullable:
                replacement = ERASED
            if value is None or value == replacement:
                continue
            if isinstance(value, str) and value.strip():
                self.values.add(value)
                if name.endswith("e164"):
                    self.values.add(value.lstrip("+"))
            setattr(row, name, replacement)
            changed = True
        if changed:
            self.session.add(row)
            self.rows += 1


def _redact(value: Any, found: re.Pattern[str] | None, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, found, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, found, key) for v in value]
    if isinstance(value, str):
        if key in PERSONAL_KEYS and value:
            return ERASED
        if found is not None and found.search(value):
            return ERASED
    return value


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    searched = sorted({v for v in values if len(v) >= MIN_SEARCHED}, key=len, reverse=True)
    if not searched:
        return None
    return re.compile("|".join(re.escape(v) for v in searched), re.IGNORECASE)


def _debtor_cases(session: Session, case_id: uuid.UUID) -> tuple[Debtor, list[Case]]:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    debtor = session.get(Debtor, case.debtor_id)
    if debtor is None:  # pragma: no cover - a foreign key guarantees it
        raise NotFound(_("no such debtor"))
    cases = list(session.exec(select(Case).where(Case.debtor_id == debtor.id)).all())
    still_open = [c for c in cases if c.status not in CLOSED_STATUSES]
    if still_open:
        refs = ", ".join(sorted(c.client_ref for c in still_open)[:5])
        raise InvalidInput(
            _("the debtor has open cases ({refs}): close them before erasing").format(refs=refs),
            field="case",
        )
    return debtor, cases


def _erase_contact_data(eraser: _Eraser, debtor: Debtor) -> list[uuid.UUID]:
    session = eraser.session
    ids: list[uuid.UUID] = [debtor.id]
    eraser.blank(debtor, "name")
    eraser.blank(debtor, "address", "capacity_notes", placeholder=None)
    for phone in session.exec(select(Phone).where(Phone.debtor_id == debtor.id)).all():
        ids.append(phone.id)
        eraser.blank(phone, "e164", "extension", placeholder=None)
        eraser.blank(phone, "raw", placeholder=_placeholder(phone.id))
        eraser.blank(
            phone,
            "status_reason",
            "call_consent_how",
            "sms_consent_how",
            "dnc_how",
            placeholder=None,
        )
        phone.valid, phone.is_primary = False, False
    for address in session.exec(
        select(PostalAddress).where(PostalAddress.debtor_id == debtor.id)
    ).all():
        ids.append(address.id)
        eraser.blank(address, "text", "match_key", placeholder=_placeholder(address.id))
        eraser.blank(address, "status_reason", placeholder=None)
    for email in session.exec(
        select(EmailAddress).where(EmailAddress.debtor_id == debtor.id)
    ).all():
        ids.append(email.id)
        eraser.blank(email, "address", placeholder=_placeholder(email.id))
        eraser.blank(email, "status_reason", "opt_in_how", placeholder=None)
    for party in session.exec(select(ThirdParty).where(ThirdParty.debtor_id == debtor.id)).all():
        ids.append(party.id)
        eraser.blank(party, "name")
        eraser.blank(party, "note", "objected_how", placeholder=None)
    return ids


def _erase_case_text(eraser: _Eraser, cases: list[Case]) -> list[uuid.UUID]:
    session = eraser.session
    case_ids = [c.id for c in cases]
    ids: list[uuid.UUID] = list(case_ids)
    for case in cases:
        eraser.blank(case, "routed_reason", placeholder=None)

    def rows(model: Any) -> list[Any]:
        return list(session.exec(select(model).where(col(model.case_id).in_(case_ids))).all())

    for activity in rows(Activity):
        ids.append(activity.id)
        eraser.blank(activity, "note", placeholder=ERASED)
        eraser.blank(activity, "phone_e164", placeholder=None)
    for follow_up in rows(FollowUp):
        ids.append(follow_up.id)
        eraser.blank(follow_up, "reason", placeholder=None)
    for hold in rows(Hold):
        ids.append(hold.id)
        eraser.blank(hold, "reason", placeholder=None)
    for settlement in rows(Settlement):
        ids.append(settlement.id)
        eraser.blank(settlement, "note", "decision_note", placeholder=None)
    for dispute in rows(InvoiceDispute):
        ids.append(dispute.id)
        eraser.blank(dispute, "reason", placeholder=ERASED)
        eraser.blank(dispute, "resolution_reason", placeholder=None)
    for assignment in rows(Assignment):
        ids.append(assignment.id)
        eraser.blank(assignment, "reason", placeholder=None)
    ids.extend(row.id for row in rows(Promise))
    for assessment in rows(Assessment):
        # The figures stay (the debt's story in numbers); the words about the debtor go.
        ids.append(assessment.id)
        eraser.blank(assessment, "insolvency_signals", "judgement", "reason", placeholder=None)
    for reminder in rows(Reminder):
        ids.append(reminder.id)
        if reminder.pdf_path:
            eraser.letters.append(reminder.pdf_path)
        eraser.blank(reminder, "destination", "subject", "body", "reason", placeholder=None)
        eraser.blank(reminder, "pdf_path", placeholder=None)
    for draft in rows(Draft):
        session.delete(draft)
        eraser.rows += 1
    return ids


def _redact_logs(session: Session, now: datetime, ids: list[uuid.UUID], values: set[str]) -> int:
    """Rewrite the audit events and sync-log payloads about these rows without the values."""
    found = _pattern(values)
    redacted = 0
    keys = [str(i) for i in ids]
    for batch in in_batches(keys):
        events = session.exec(select(AuditEvent).where(col(AuditEvent.entity_id).in_(batch))).all()
        for event in events:
            before, after = _redact(event.before, found), _redact(event.after, found)
            if before != event.before or after != event.after:
                event.before, event.after, event.erased_at = before, after, now
                session.add(event)
                redacted += 1
        for op in session.exec(
            select(SyncAppliedOp).where(col(SyncAppliedOp.entity_id).in_(batch))
        ).all():
            payload = _redact(op.payload, found)
            message = _redact(op.message, found)
            if payload != op.payload or message != op.message:
                op.payload, op.message = payload, message
                session.add(op)
    return redacted


@writes
def erase_case(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    case_id: uuid.UUID,
    reason: str,
) -> Erasure:
    """Erase the personal data of a closed case's debtor (the module docstring says what)."""
    require_supervisor(actor, N_("erase a debtor's personal data"))
    text = reasons.check_reason(reason, minimum=settings.min_reason_length)
    assert text is not None
    role = session.exec(select(SyncState.role)).first()
    if role == "laptop":
        raise InvalidInput(_("erasure is done on the master; laptops get it at their next pull"))
    debtor, cases = _debtor_cases(session, case_id)
    eraser = _Eraser(session)
    ids = _erase_contact_data(eraser, debtor) + _erase_case_text(eraser, cases)
    session.flush()
    redacted = _redact_logs(session, now, ids, eraser.values)
    verdicts.forget_numbers(session)
    for case in cases:
        case.updated_at = now
        session.add(case)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="debtor",
        entity_id=debtor.id,
        action="erase",
        after={
            "why": text,
            "cases": sorted(str(c.id) for c in cases),
            "rows": eraser.rows,
            "audit_events": redacted,
        },
    )
    return Erasure(
        debtor_id=debtor.id,
        cases=len(cases),
        rows=eraser.rows,
        audit_events=redacted,
        letter_files=tuple(eraser.letters),
    )
