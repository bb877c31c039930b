"""`skiptrace import FILE.csv`: the numbers, addresses and e-mails a skip-trace found, added to
the debtors with source "skip trace" (docs/decisions.md, contact data).

The file is read as every client file is (imports.csv_reading: encoding, delimiter, line numbers).
Columns, matched case-insensitively: `case_id` or `client_ref` (with `client` when a reference is
at several clients), and any of `phone` (with `phone_type`), `address`, `email`; the file
`skiptrace export` writes has them all, the last four empty for the tracer to fill.

All or nothing: every row is checked first (the case known and the actor's, the number valid, the
e-mail parsing, lengths), and a file with any bad row is refused whole with each bad line named
(`SkipTraceRejected`). Idempotent: a contact already on file for the debtor (or earlier in the
file) is counted as a duplicate and skipped, so the same file imported twice adds nothing the second
time. The additions go through services/contacts/book.py, one case change each, in the one write
unit the service runs in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.db import select_columns
from collector_tui.i18n import gettext as _
from collector_tui.models import Case, Debtor, EmailAddress, Phone, PostalAddress
from collector_tui.phones import parse_phone
from collector_tui.services.accounts import Actor
from collector_tui.services.contacts import book
from collector_tui.services.context import writes
from collector_tui.services.errors import InvalidInput, ServiceError
from collector_tui.services.imports import csv_reading
from collector_tui.services.imports.csv_reading import RowError, shortened

__all__ = ["SkipTraceImportReport", "SkipTraceRejected", "import_skip_trace", "RowError"]

SOURCE = "skip trace"
_ALIASES = {
    "case_id": "case_id",
    "case": "case_id",
    "client_ref": "client_ref",
    "reference": "client_ref",
    "ref": "client_ref",
    "client": "client",
    "phone": "phone",
    "found_phone": "phone",
    "phone_type": "phone_type",
    "type": "phone_type",
    "address": "address",
    "found_address": "address",
    "email": "email",
    "e_mail": "email",
    "found_email": "email",
}


@dataclass(frozen=True)
class SkipTraceImportReport:
    rows: int  # data rows in the file
    phones: int  # numbers added
    addresses: int
    emails: int
    duplicates: int  # contacts already on file (or earlier in the file): skipped
    cases: int  # cases that got something new
    encoding: str
    delimiter: str


class SkipTraceRejected(ServiceError):
    """Some rows are bad: nothing was written; `rejected` lists every bad line."""

    def __init__(self, rejected: tuple[RowError, ...]) -> None:
        count = len(rejected)
        first = rejected[0]
        super().__init__(
            (
                _("1 bad row; first: line {line}: {reason}")
                if count == 1
                else _("{count} bad rows; first: line {line}: {reason}")
            ).format(count=count, line=first.line, reason=first.reason)
        )
        self.rejected = rejected


class _Row(NamedTuple):
    line: int
    case_id: uuid.UUID
    debtor_id: uuid.UUID
    phone: str | None  # E.164
    phone_raw: str | None
    phone_type: str | None
    address: str | None
    email: str | None


class _Case(NamedTuple):
    id: uuid.UUID
    client: str
    client_ref: str
    debtor_id: uuid.UUID
    country: str
    assigned_to_id: uuid.UUID | None


@writes
def import_skip_trace(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    path: Path,
    encoding: str | None = None,
) -> SkipTraceImportReport:
    """Check the whole file, then add what is new (see the module doc). Raises SkipTraceRejected
    (nothing written) when any row is bad, ServiceError when the file cannot be read at all."""
    text, used = csv_reading.decode_file(Path(path), encoding)
    delimiter = csv_reading.sniff_delimiter(text)
    records = list(csv_reading.csv_records(text, delimiter))
    header_at = next((i for i, (_l, f) in enumerate(records) if not csv_reading.is_blank(f)), None)
    if header_at is None:
        raise ServiceError(
            _("{name} is empty: it needs a header line").format(name=Path(path).name)
        )
    header = records[header_at][1]
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        key = _ALIASES.get(csv_reading.header_key(name))
        if key is not None and key not in index:
            index[key] = position
    if "case_id" not in index and "client_ref" not in index:
        raise ServiceError(_("the file needs a case_id or a client_ref column"))
    if not {"phone", "address", "email"} & index.keys():
        raise ServiceError(_("the file needs a phone, address or email column"))

    errors: list[RowError] = []
    rows: list[_Row] = []
    data = [(line, fields) for line, fields in records[header_at + 1 :]]
    cases = _cases(session, data, index)
    data_rows = 0
    for line, fields in data:
        if csv_reading.is_blank(fields):
            continue
        data_rows += 1
        try:
            rows.append(_check(fields, line, index, cases, actor))
        except InvalidInput as error:
            errors.append(RowError(line, str(error)))
    if errors:
        raise SkipTraceRejected(tuple(errors))

    added = {"phone": 0, "address": 0, "email": 0}
    duplicates = 0
    touched: set[uuid.UUID] = set()
    seen: set[tuple[uuid.UUID, str, str]] = set()
    for row in rows:
        for kind, value in (("phone", row.phone), ("address", row.address), ("email", row.email)):
            if value is None:
                continue
            found = (row.debtor_id, kind, book.address_key(value) if kind == "address" else value)
            if found in seen or _on_file(session, row.debtor_id, kind, value):
                duplicates += 1
                continue
            seen.add(found)
            try:
                if kind == "phone":
                    book.add_phone(
                        session=session,
                        now=now,
                        actor=actor,
                        settings=settings,
                        case_id=row.case_id,
                        number=row.phone_raw or value,
                        phone_type=row.phone_type,
                        source=SOURCE,
                    )
                elif kind == "address":
                    book.add_address(
                        session=session,
                        now=now,
                        actor=actor,
                        settings=settings,
                        case_id=row.case_id,
                        text=value,
                        source=SOURCE,
                    )
                else:
                    book.add_email(
                        session=session,
                        now=now,
                        actor=actor,
                        settings=settings,
                        case_id=row.case_id,
                        address=value,
                        source=SOURCE,
                    )
            except ServiceError as refusal:  # the checks above should have caught it
                errors.append(
                    RowError(row.line, _("{kind}: {reason}").format(kind=kind, reason=refusal))
                )
                continue
            added[kind] += 1
            touched.add(row.case_id)
    if errors:
        raise SkipTraceRejected(tuple(errors))
    return SkipTraceImportReport(
        rows=data_rows,
        phones=added["phone"],
        addresses=added["address"],
        emails=added["email"],
        duplicates=duplicates,
        cases=len(touched),
        encoding=used,
        delimiter=delimiter,
    )


def _cell(fields: list[str], index: dict[str, int], key: str) -> str | None:
    position = index.get(key)
    if position is None or position >= len(fields):
        return None
    value = fields[position].strip()
    return value or None


def _cases(
    session: Session, data: list[tuple[int, list[str]]], index: dict[str, int]
) -> dict[str, list[_Case]]:
    """The cases the file names, by case id and by reference."""
    ids: set[uuid.UUID] = set()
    refs: set[str] = set()
    for _line, fields in data:
        text = _cell(fields, index, "case_id")
        if text:
            try:
                ids.add(uuid.UUID(text))
            except ValueError:
                pass
        ref = _cell(fields, index, "client_ref")
        if ref:
            refs.add(ref)
    found: dict[str, list[_Case]] = {}
    columns = (
        Case.id,
        Case.client,
        Case.client_ref,
        Case.debtor_id,
        Debtor.country,
        Case.assigned_to_id,
    )
    for name, column, values in (
        ("id", Case.id, sorted(ids, key=str)),
        ("ref", Case.client_ref, sorted(refs)),
    ):
        for start in range(0, len(values), 500):
            batch = values[start : start + 500]
            for row in session.exec(
                select_columns(*columns)
                .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
                .where(col(column).in_(batch))
            ):
                case = _Case(*row)
                key = f"id:{case.id}" if name == "id" else f"ref:{case.client_ref}"
                found.setdefault(key, []).append(case)
    return found


def _check(
    fields: list[str],
    line: int,
    index: dict[str, int],
    cases: dict[str, list[_Case]],
    actor: Actor,
) -> _Row:
    mine_only = not actor.is_supervisor

    def visible(case: _Case) -> bool:
        return not mine_only or case.assigned_to_id == actor.user_id

    case_text = _cell(fields, index, "case_id")
    ref = _cell(fields, index, "client_ref")
    client = _cell(fields, index, "client")
    if case_text:
        try:
            case_id = uuid.UUID(case_text)
        except ValueError:
            raise InvalidInput(
                _("bad case_id '{value}'").format(value=shortened(case_text))
            ) from None
        candidates = [c for c in cases.get(f"id:{case_id}", []) if visible(c)]
        if not candidates:
            if mine_only:
                message = _("no case {case_id} assigned to you")
            else:
                message = _("no case {case_id}")
            raise InvalidInput(message.format(case_id=case_id))
    elif ref:
        candidates = [c for c in cases.get(f"ref:{ref}", []) if visible(c)]
        if client is not None:
            candidates = [c for c in candidates if c.client == client]
        if not candidates:
            if mine_only:
                message = _("unknown case '{client_ref}' assigned to you")
            else:
                message = _("unknown case '{client_ref}'")
            raise InvalidInput(message.format(client_ref=shortened(ref)))
        if len(candidates) > 1:
            raise InvalidInput(
                _("client_ref '{client_ref}' is at several clients: add client").format(
                    client_ref=shortened(ref)
                )
            )
    else:
        raise InvalidInput(_("no case_id or client_ref"))
    case = candidates[0]

    phone_raw = _cell(fields, index, "phone")
    phone_type = _cell(fields, index, "phone_type")
    address = _cell(fields, index, "address")
    email_text = _cell(fields, index, "email")
    if not (phone_raw or address or email_text):
        raise InvalidInput(_("nothing found on this line: fill phone, address or email"))
    e164: str | None = None
    if phone_raw:
        if len(phone_raw) > 100:
            raise InvalidInput(_("phone: at most {limit} characters").format(limit=100))
        parsed = parse_phone(phone_raw, case.country)
        if not parsed.valid or parsed.e164 is None:
            raise InvalidInput(
                _("phone '{phone}': {reason}").format(
                    phone=shortened(phone_raw), reason=parsed.error or _("not a valid number")
                )
            )
        e164 = parsed.e164
        if phone_type is not None and phone_type.lower() not in book.PHONE_TYPES:
            raise InvalidInput(
                _("phone_type '{value}': mobile, home or work").format(value=shortened(phone_type))
            )
    elif phone_type:
        raise InvalidInput(_("phone_type without a phone"))
    if address is not None and len(address) > book.MAX_ADDRESS:
        raise InvalidInput(_("address: at most {limit} characters").format(limit=book.MAX_ADDRESS))
    email = None
    if email_text:
        try:
            email = book.normalise_email(email_text)
        except InvalidInput as error:
            raise InvalidInput(
                _("email '{email}': {reason}").format(email=shortened(email_text), reason=error)
            ) from None
    return _Row(
        line=line,
        case_id=case.id,
        debtor_id=case.debtor_id,
        phone=e164,
        phone_raw=phone_raw,
        phone_type=phone_type.lower() if phone_type else None,
        address=address,
        email=email,
    )


def _on_file(session: Session, debtor_id: uuid.UUID, kind: str, value: str) -> bool:
    statement: Any
    if kind == "phone":
        statement = select(Phone.id).where(Phone.debtor_id == debtor_id, Phone.e164 == value)
    elif kind == "email":
        statement = select(EmailAddress.id).where(
            EmailAddress.debtor_id == debtor_id, EmailAddress.address == value
        )
    else:
        statement = select(PostalAddress.id).where(
            PostalAddress.debtor_id == debtor_id,
            PostalAddress.match_key == book.address_key(value),
        )
    return session.exec(statement).first() is not None
