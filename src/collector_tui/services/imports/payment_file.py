"""Payment import: a bank's or client's file of money received, posted to the cases
(docs/decisions.md, command line).

The file is read exactly as a placement file is (imports.csv_reading: a byte order mark decides
the encoding, else strict UTF-8, else cp1252, cp932 or GB18030 when the text tells which; comma,
semicolon or tab; amounts with a decimal point or comma; headers matched case-insensitively
through aliases). Columns:

    client_ref (or case_id; optional client when a reference exists at several clients),
    amount, date (received_on), reference, optional method and currency.

All or nothing: every row is checked against the database first (unknown or ambiguous case, a case
the acting agent does not hold, bad or over-precise amount, bad or future date, a currency other
than the case's, more than the balance left, counting the file's earlier rows for the same case),
and only a clean file is posted, each row through `payments.post_payment` (which pays into the
promises, keeps them, updates invoices, status and queue place, and audits), all in ONE write
transaction. When any row is refused, `PaymentImportRejected` carries the report and nothing is
written.

Idempotent on the payment reference: a row whose reference is already recorded on its case (or on
an earlier row of the file for the same case) is a duplicate, counted and skipped, so importing
the same file twice posts nothing the second time. A reference is therefore required on every row;
the same reference with a different amount is refused, not skipped, since it means one of the two
is wrong.

A dry run goes through the very same posting and then rolls back, so it refuses exactly what a
real run would refuse.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple, cast

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.db import Store, in_batches, select_columns
from collector_tui.i18n import gettext as _
from collector_tui.models import Case, Payment
from collector_tui.money import Money, MoneyError, format_plain, minor_digits, normalize_currency
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import payments
from collector_tui.services.errors import ServiceError
from collector_tui.services.imports import csv_reading
from collector_tui.services.imports.csv_reading import RowError, shortened

__all__ = [
    "PaymentImportRejected",
    "PaymentImportReport",
    "RowError",
    "import_payments",
]

_PROGRESS_STEPS = 100  # progress is reported about this many times over a file, at most
_MAX_REFERENCE = 100  # Payment.reference
_MAX_METHOD = 32  # Payment.method
_MAX_CLIENT_REF = 100

# Canonical column -> header spellings (compared after importer's header normalisation). Unlike a
# placement file, "reference" here is the payment's own reference, not the client's account.
_ALIASES: dict[str, tuple[str, ...]] = {
    "client": ("client", "creditor", "client_name", "creditor_name", "委托方", "债权人"),
    "client_ref": (
        "client_ref",
        "client_reference",
        "case_ref",
        "case_reference",
        "account",
        "account_no",
        "account_number",
        "合同号",
        "账号",
        "案件编号",
    ),
    "case_id": ("case_id", "case", "case_uuid", "案件id"),
    "amount": (
        "amount",
        "paid",
        "amount_paid",
        "paid_amount",
        "payment",
        "payment_amount",
        "金额",
        "还款金额",
        "付款金额",
        "实收金额",
        "到账金额",
    ),
    "received_on": (
        "received_on",
        "date",
        "received",
        "received_date",
        "paid_on",
        "payment_date",
        "value_date",
        "日期",
        "还款日期",
        "付款日期",
        "到账日期",
    ),
    "reference": (
        "reference",
        "payment_reference",
        "payment_ref",
        "ref",
        "bank_reference",
        "bank_ref",
        "transaction_id",
        "transaction",
        "txn_id",
        "流水号",
        "交易流水号",
        "参考号",
    ),
    "method": ("method", "payment_method", "channel", "支付方式", "还款方式", "付款方式"),
    "currency": ("currency", "ccy", "币种", "货币"),
}
_CANONICAL: dict[str, str] = {
    alias: column for column, aliases in _ALIASES.items() for alias in aliases
}

# A file imported without a user (a scheduled job with access to the database file) acts with
# every case in reach and records no user on the payments.
_SYSTEM_ACTOR = Actor(
    user_id=cast(uuid.UUID, None),
    username="system",
    display_name="payment import",
    role="admin",
    time_zone="UTC",
)


@dataclass(frozen=True)
class PaymentImportReport:
    rows: int  # data rows in the file
    posted: int  # payments posted (in a dry run: that would be posted)
    duplicates: int  # rows whose reference was already recorded on the case: skipped
    rejected: tuple[RowError, ...]
    dry_run: bool
    encoding: str  # as ImportReport.encoding
    delimiter: str = ","
    totals: tuple[tuple[str, int], ...] = ()  # (currency, minor units) posted, per currency


class PaymentImportRejected(ServiceError):
    """Some rows are bad: nothing was written; `.report.rejected` lists every bad line."""

    def __init__(self, report: PaymentImportReport) -> None:
        count = len(report.rejected)
        first = report.rejected[0]
        super().__init__(
            (
                _("1 bad row; first: line {line}: {reason}")
                if count == 1
                else _("{count} bad rows; first: line {line}: {reason}")
            ).format(count=count, line=first.line, reason=first.reason)
        )
        self.report = report


class _DryRun(Exception):
    """Raised inside the write unit to roll a dry run back."""


class BadValue(Exception):
    """A row's first problem; becomes a RowError."""


class _RawRow(NamedTuple):
    line: int
    client: str | None
    client_ref: str | None
    case_id: uuid.UUID | None
    amount: str
    amount_header: str
    received_on: date
    reference: str
    method: str | None
    currency: str | None


class _Posting(NamedTuple):
    line: int
    case_id: uuid.UUID
    currency: str
    amount: int
    received_on: date
    reference: str
    method: str | None


@dataclass(frozen=True)
class _File:
    encoding: str
    delimiter: str
    rows: list[_RawRow]
    errors: list[RowError]
    data_rows: int
    amounts: csv_reading.Amounts


# --- reading the file ----------------------------------------------------------------------------


def _layout(header: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        column = _CANONICAL.get(csv_reading.header_key(name))
        if column is None:
            continue  # the bank's other columns are its business
        if column in index:
            first = header[index[column]].strip()
            raise ServiceError(
                _("columns {first} and {second} both mean {column}: keep one").format(
                    first=repr(first), second=repr(name.strip()), column=column
                )
            )
        index[column] = position
    missing = []
    if "client_ref" not in index and "case_id" not in index:
        missing.append(_("client_ref (or case_id)"))
    missing.extend(c for c in ("amount", "received_on", "reference") if c not in index)
    if missing:
        names = ", ".join(_("date (received_on)") if c == "received_on" else c for c in missing)
        raise ServiceError(
            (
                _("missing column: {columns}")
                if len(missing) == 1
                else _("missing columns: {columns}")
            ).format(columns=names)
        )
    return index


def _row(line: int, fields: list[str], header: list[str], index: dict[str, int]) -> _RawRow:
    if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
        raise BadValue(
            _(
                "{count} fields but the header has {width}"
                " (a value containing the delimiter needs quotes)"
            ).format(count=len(fields), width=len(header))
        )

    def value(column: str) -> str:
        position = index.get(column)
        if position is None or position >= len(fields):
            return ""
        return fields[position].strip()

    case_text = value("case_id")
    client_ref = value("client_ref") or None
    case_id: uuid.UUID | None = None
    if case_text:
        try:
            case_id = uuid.UUID(case_text)
        except ValueError:
            raise BadValue(_("bad case_id '{value}'").format(value=shortened(case_text))) from None
    elif client_ref is None:
        raise BadValue(_("missing client_ref"))
    if client_ref is not None and len(client_ref) > _MAX_CLIENT_REF:
        raise BadValue(
            _("{column} is longer than {limit} characters").format(
                column="client_ref", limit=_MAX_CLIENT_REF
            )
        )

    amount = value("amount")
    if not amount:
        raise BadValue(_("missing amount"))
    date_text = value("received_on")
    if not date_text:
        raise BadValue(_("missing date"))
    received_on = csv_reading.parse_date(date_text)
    if received_on is None:
        raise BadValue(_("bad date '{value}': use YYYY-MM-DD").format(value=shortened(date_text)))
    reference = value("reference")
    if not reference:
        raise BadValue(
            _("missing reference (it keeps a second import from posting the payment twice)")
        )
    if len(reference) > _MAX_REFERENCE:
        raise BadValue(
            _("{column} is longer than {limit} characters").format(
                column="reference", limit=_MAX_REFERENCE
            )
        )
    method = value("method") or None
    if method is not None and len(method) > _MAX_METHOD:
        raise BadValue(
            _("{column} is longer than {limit} characters").format(
                column="method", limit=_MAX_METHOD
            )
        )
    amount_position = index["amount"]
    return _RawRow(
        line=line,
        client=value("client") or None,
        client_ref=client_ref,
        case_id=case_id,
        amount=amount,
        amount_header=header[amount_position],
        received_on=received_on,
        reference=reference,
        method=method,
        currency=value("currency") or None,
    )


def _read(path: Path, *, decimal: str | None, encoding: str | None) -> _File:
    if encoding is not None:
        csv_reading.check_encoding(encoding)
    if decimal is not None:
        csv_reading.decimal_mode(decimal, ",")  # refuses an unknown mode before the file is read
    text, encoding = csv_reading.decode_file(Path(path), encoding)
    if not text.strip():
        raise ServiceError(_("{name} is empty").format(name=Path(path).name))
    delimiter = csv_reading.sniff_delimiter(text.lstrip("\r\n"))
    amounts = csv_reading.Amounts(*csv_reading.decimal_mode(decimal, delimiter))
    records = csv_reading.csv_records(text, delimiter)
    header: list[str] | None = None
    index: dict[str, int] = {}
    for _line, fields in records:
        if not csv_reading.is_blank(fields):
            header = fields
            index = _layout(fields)
            break
    if header is None:
        raise ServiceError(_("{name} is empty").format(name=Path(path).name))
    rows: list[_RawRow] = []
    errors: list[RowError] = []
    data_rows = 0
    for line, fields in records:
        if csv_reading.is_blank(fields):
            continue
        data_rows += 1
        try:
            row = _row(line, fields, header, index)
        except BadValue as problem:
            errors.append(RowError(line, str(problem)))
            continue
        rows.append(row)
        # Whether the file's amounts read one way is settled here, before any case is looked up:
        # the amounts themselves are read in their case's currency.
        amounts.note(row.amount, line)
    amounts.verdict(Path(path).name)
    return _File(encoding, delimiter, rows, errors, data_rows, amounts)


# --- checking against the database ---------------------------------------------------------------


class _CaseFacts(NamedTuple):
    id: uuid.UUID
    client: str
    client_ref: str
    currency: str
    balance: int
    assigned_to_id: uuid.UUID | None


def _cases(
    session: Session, rows: list[_RawRow]
) -> tuple[dict[uuid.UUID, _CaseFacts], dict[str, list[_CaseFacts]]]:
    columns = (
        col(Case.id),
        col(Case.client),
        col(Case.client_ref),
        col(Case.currency),
        col(Case.balance),
        col(Case.assigned_to_id),
    )
    by_id: dict[uuid.UUID, _CaseFacts] = {}
    by_ref: dict[str, list[_CaseFacts]] = defaultdict(list)
    for batch in in_batches(dict.fromkeys(r.case_id for r in rows if r.case_id is not None)):
        for found in session.execute(select_columns(*columns).where(col(Case.id).in_(batch))):
            by_id[found[0]] = _CaseFacts(*found)
    for ref_batch in in_batches(
        dict.fromkeys(r.client_ref for r in rows if r.case_id is None and r.client_ref)
    ):
        for found in session.execute(
            select_columns(*columns).where(col(Case.client_ref).in_(ref_batch))
        ):
            by_ref[found[2]].append(_CaseFacts(*found))
    return by_id, by_ref


def _recorded(
    session: Session, case_ids: Iterable[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], int | None]:
    """(case, reference) -> amount of the payments already recorded with a reference.

    None for a reference seen only on a reversal row: recorded, but with no amount to compare.
    """
    found: dict[tuple[uuid.UUID, str], int | None] = {}
    for batch in in_batches(dict.fromkeys(case_ids)):
        statement = select(
            col(Payment.case_id), col(Payment.reference), col(Payment.amount), col(Payment.voids_id)
        ).where(col(Payment.case_id).in_(batch), col(Payment.reference).is_not(None))
        for case_id, reference, amount, voids_id in session.execute(statement):
            key = (case_id, reference)
            if voids_id is None:
                found[key] = amount
            else:
                found.setdefault(key, None)
    return found


def _money(minor: int, currency: str) -> str:
    try:
        return format_plain(Money(minor, currency))
    except MoneyError:
        return _("{minor} {currency} (minor units)").format(minor=minor, currency=currency)


def _match_case(
    row: _RawRow,
    by_id: dict[uuid.UUID, _CaseFacts],
    by_ref: dict[str, list[_CaseFacts]],
    actor: Actor,
) -> _CaseFacts:
    mine_only = not actor.is_supervisor

    def visible(case: _CaseFacts) -> bool:
        # An agent learns nothing about cases that are not theirs: same message as unknown.
        return not mine_only or case.assigned_to_id == actor.user_id

    if row.case_id is not None:
        case = by_id.get(row.case_id)
        if case is None or not visible(case):
            if mine_only:
                message = _("no case {case_id} assigned to you")
            else:
                message = _("no case {case_id}")
            raise BadValue(message.format(case_id=row.case_id))
        if row.client_ref is not None and row.client_ref != case.client_ref:
            raise BadValue(
                _("case_id is case {client_ref}, not '{given}'").format(
                    client_ref=case.client_ref, given=shortened(row.client_ref)
                )
            )
        if row.client is not None and row.client != case.client:
            raise BadValue(
                _("case_id is a case of {client}, not '{given}'").format(
                    client=case.client, given=shortened(row.client)
                )
            )
        return case
    assert row.client_ref is not None
    candidates = [c for c in by_ref.get(row.client_ref, ()) if visible(c)]
    if row.client is not None:
        candidates = [c for c in candidates if c.client == row.client]
    if not candidates:
        if row.client is not None and mine_only:
            message = _("unknown case '{client_ref}' of client '{client}' assigned to you")
        elif row.client is not None:
            message = _("unknown case '{client_ref}' of client '{client}'")
        elif mine_only:
            message = _("unknown case '{client_ref}' assigned to you")
        else:
            message = _("unknown case '{client_ref}'")
        raise BadValue(
            message.format(client_ref=shortened(row.client_ref), client=shortened(row.client or ""))
        )
    if len(candidates) > 1:
        clients = ", ".join(sorted(c.client for c in candidates))
        raise BadValue(
            _(
                "client_ref '{client_ref}' is a case of several clients ({clients}):"
                " add a client column"
            ).format(client_ref=shortened(row.client_ref), clients=clients)
        )
    return candidates[0]


def _amount(row: _RawRow, case: _CaseFacts, amounts: csv_reading.Amounts) -> int:
    try:
        code = normalize_currency(case.currency)
        digits = minor_digits(code)
    except MoneyError as error:  # pragma: no cover - cases are placed with known currencies
        raise BadValue(str(error)) from None
    if row.currency is not None:
        try:
            given = normalize_currency(row.currency)
        except MoneyError:
            raise BadValue(
                _("unknown currency '{value}'").format(value=shortened(row.currency))
            ) from None
        if given != code:
            raise BadValue(
                _("currency {given} is not the case's currency {currency}").format(
                    given=given, currency=code
                )
            )
    try:
        minor = amounts(
            row.amount,
            csv_reading.CurrencyDigits(code, digits, 10**digits),
            row.amount_header,
            row.line,
        )
    except csv_reading.BadValue as problem:
        raise BadValue(str(problem)) from None
    if minor == 0:
        raise BadValue(_("amount must be above zero"))
    return minor


def _check(
    session: Session,
    rows: list[_RawRow],
    *,
    actor: Actor,
    today: date,
    amounts: csv_reading.Amounts,
) -> tuple[list[_Posting], int, list[RowError]]:
    """(payments to post, duplicates, errors) for the rows that parsed."""
    by_id, by_ref = _cases(session, rows)
    known_ids = set(by_id) | {c.id for cases in by_ref.values() for c in cases}
    recorded = _recorded(session, known_ids)
    postings: list[_Posting] = []
    errors: list[RowError] = []
    duplicates = 0
    in_file: dict[tuple[uuid.UUID, str], tuple[int, int, date]] = {}  # -> line, amount, date
    balance_left: dict[uuid.UUID, int] = {}
    for row in rows:
        try:
            case = _match_case(row, by_id, by_ref, actor)
            amount = _amount(row, case, amounts)
            if row.received_on > today:
                raise BadValue(
                    _("date {day} is in the future").format(day=row.received_on.isoformat())
                )
            key = (case.id, row.reference)
            if key in recorded:
                earlier = recorded[key]
                if earlier is not None and earlier != amount:
                    raise BadValue(
                        _(
                            "reference '{reference}' is already recorded on this case"
                            " with another amount ({amount})"
                        ).format(
                            reference=shortened(row.reference),
                            amount=_money(earlier, case.currency),
                        )
                    )
                duplicates += 1
                continue
            if key in in_file:
                line, first_amount, first_date = in_file[key]
                if (first_amount, first_date) != (amount, row.received_on):
                    raise BadValue(
                        _(
                            "reference '{reference}' repeats line {line}"
                            " with another amount or date"
                        ).format(reference=shortened(row.reference), line=line)
                    )
                duplicates += 1
                continue
            left = balance_left.get(case.id, case.balance)
            if amount > left:
                if case.id in balance_left:
                    message = _(
                        "amount {amount} is above the balance {balance} of case {client_ref}"
                        " after the file's earlier rows"
                    )
                else:
                    message = _(
                        "amount {amount} is above the balance {balance} of case {client_ref}"
                    )
                raise BadValue(
                    message.format(
                        amount=_money(amount, case.currency),
                        balance=_money(left, case.currency),
                        client_ref=case.client_ref,
                    )
                )
        except BadValue as problem:
            errors.append(RowError(row.line, str(problem)))
            continue
        balance_left[case.id] = left - amount
        in_file[key] = (row.line, amount, row.received_on)
        postings.append(
            _Posting(
                row.line,
                case.id,
                case.currency,
                amount,
                row.received_on,
                row.reference,
                row.method,
            )
        )
    return postings, duplicates, errors


# --- the import ----------------------------------------------------------------------------------


def import_payments(
    *,
    store: Store,
    path: Path,
    now: datetime,
    settings: Settings,
    actor: Actor | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> PaymentImportReport:
    """Check the whole file, then post every payment in one transaction (see the module doc).

    Raises PaymentImportRejected (nothing written) when any row is bad, ServiceError when the file
    cannot be read at all (unreadable, empty, not text, a required column missing).

    `progress(payments_posted, payments_to_post)` is called while posting (about a hundred times
    over a big file, after every payment on a small one) and once more at the end, (n, n), even
    when there is nothing to post (0, 0). It runs inside the write transaction: keep it quick.

    `decimal` ("point" or "comma") and `encoding` say how to read the file, as for
    placement_file.import_cases; a file whose amounts read two ways is refused whole (ServiceError).
    """
    parsed = _read(Path(path), decimal=decimal, encoding=encoding)
    acting = actor if actor is not None else _SYSTEM_ACTOR
    today = now.astimezone(UTC).date()

    def report(
        posted: int, duplicates: int, errors: list[RowError], totals: dict[str, int]
    ) -> PaymentImportReport:
        return PaymentImportReport(
            rows=parsed.data_rows,
            posted=posted,
            duplicates=duplicates,
            rejected=tuple(sorted(errors, key=lambda error: error.line)),
            dry_run=dry_run,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            totals=tuple(sorted(totals.items())),
        )

    result: PaymentImportReport | None = None
    try:
        with store.write() as session:
            postings, duplicates, errors = _check(
                session,
                parsed.rows,
                actor=acting,
                today=today,
                amounts=parsed.amounts,
            )
            errors = parsed.errors + errors
            if errors:
                raise PaymentImportRejected(report(0, duplicates, errors, {}))
            totals: dict[str, int] = defaultdict(int)
            total = len(postings)
            step = max(1, total // _PROGRESS_STEPS)
            for done, posting in enumerate(postings, start=1):
                try:
                    payments.post_payment(
                        session=session,
                        now=now,
                        actor=acting,
                        case_id=posting.case_id,
                        amount=posting.amount,
                        received_on=posting.received_on,
                        settings=settings,
                        method=posting.method,
                        reference=posting.reference,
                    )
                except ServiceError as refusal:
                    # The checks above should have caught it; the service has the last word.
                    errors.append(RowError(posting.line, str(refusal)))
                    continue
                totals[posting.currency] += posting.amount
                if progress is not None and done % step == 0 and done < total:
                    progress(done, total)
            if errors:
                raise PaymentImportRejected(report(0, duplicates, errors, {}))
            if progress is not None:
                progress(total, total)
            result = report(len(postings), duplicates, [], totals)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert result is not None
    return result
