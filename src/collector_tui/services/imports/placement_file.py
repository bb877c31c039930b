"""CSV placement import: a client's file of debts becomes debtors, phones, cases and invoices
(docs/decisions.md, placement files).

The file is decoded as docs/decisions.md, placement files, says (a byte order mark decides;
otherwise strict UTF-8 first: GB18030 reads UTF-8 Chinese as mojibake without an error). A file that
is not UTF-8 is read as cp1252 (Latin-1), cp932 (Shift-JIS) or GB18030 only when its text shows
which (`_guess_encoding`), else refused with a request for the encoding: these read each other's
bytes without an error too. The delimiter is sniffed from the header line, amounts are read with the
file's decimal mark (`Amounts`), and headers are matched case-insensitively through aliases, so
exports from Excel, a bank's core system or a Chinese spreadsheet load as they are.

Every row is validated before anything is written. One bad row rejects the whole file unless
`skip_bad` is given; then the good rows are imported and the bad ones written to a rejects file
(original columns plus `line` and `reason`) that can be fixed and imported again. Rows sharing
client + client_ref form one case with an invoice per row, and a case is all or nothing: when one
of its rows is bad, all of them are rejected, because a case imported without one of its invoices
could never be completed (a second import leaves existing cases alone).

Speed (docs/decisions.md: performance, stack facts): values are parsed in plain Python with per-file
caches for what repeats (dates, currencies, countries), phones are parsed once per case, the queue
place of a new case is computed here in bulk rather than by `scoring.refresh_case` per case, and
rows are inserted in chunks inside ONE transaction, so a failure leaves nothing behind. See
`_TableWriter` for how rows reach SQLite.
"""

from __future__ import annotations

import csv
import json
import operator
import os
import re
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import encode_basestring_ascii as _json_string
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import ColumnDefault, Table, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from collector_tui.config import Settings
from collector_tui.db import Store
from collector_tui.i18n import current_language
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    TIER_NEW,
    Assignment,
    Case,
    CaseStatus,
    Debtor,
    Invoice,
    Phone,
    PostalAddress,
    User,
)
from collector_tui.money import (
    MAX_MINOR,
    MoneyError,
    normalize_currency,
)
from collector_tui.phones import ParsedPhone, parse_phone
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.contact_book import address_key
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound, ServiceError
from collector_tui.services.imports.csv_reading import (
    Amounts,
    RowError,
    check_encoding,
    csv_records,
    decimal_mode,
    decode_file,
    header_key,
    is_blank,
    shortened,
    sniff_delimiter,
)
from collector_tui.services.imports.placement_rows import (
    _ALIASES,
    _MAX_LENGTHS,
    BadRow,
    ChunkResult,
    PlacementRow,
    RowConfig,
    _country_code,
    _Layout,
    parse_chunk,
)
from collector_tui.services.rules import scoring
from collector_tui.services.strategies.assign import assign_new_cases
from collector_tui.services.supervision import workload

__all__ = [
    "ImportRejected",
    "ImportReport",
    "PlacementRow",
    "RowError",
    "import_cases",
    "read_placements",
]

WRITE_CHUNK = 5000  # cases per insert round (5-10k measured best: docs/decisions.md, stack facts)
CHUNK_ROWS = 2000  # records per parse chunk (a worker's unit of work)
POOL_MIN_LINES = 5000  # below this many lines a file is parsed in-process, whatever the workers
_CHUNKS_PER_WORKER = 4
_LOOKUP_CHUNK = 500  # client refs per IN (...): under every backend's bound-parameter limit

_CANONICAL: dict[str, str] = {
    alias: column for column, aliases in _ALIASES.items() for alias in aliases
}
# "客户" (customer) is the creditor to an agency and the debtor to a bank: it reads as the client
# (and "客户编号" as the client's reference) only in a file that names its debtor in a column of
# its own (债务人, 姓名...); alone, the file is refused with a message rather than guessed.
_BESIDE_A_DEBTOR: dict[str, str] = {"客户": "client", "客户编号": "client_ref"}
_NUMBERED = re.compile(r"(.*?)_?[0-9]+")  # "phone2", "phone_2", "电话2": more phone columns


_MAX_FRAGMENTS = 10_000
_IDS_AT_ONCE = 4096  # the first batch of new keys; each next one twice as many, up to:
_IDS_AT_MOST = 65536
_IMPORT_CACHE_KIB = -64 * 1024  # negative: KiB, as SQLite counts it
_FAST_DIALECTS = frozenset({"sqlite"})  # where _TableWriter hands rows to executemany itself


@dataclass(frozen=True)
class ImportReport:
    rows: int  # data rows in the file (blank lines not counted)
    cases_created: int  # on a dry run: cases that would be created
    cases_existing: int  # already in the database: left exactly as they were
    invoices: int
    phones: int
    phones_invalid: int  # stored with valid=False: kept for the record, never dialled
    rejected: tuple[RowError, ...]
    dry_run: bool
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "gb18030", "cp1252", "cp932" or the one given
    delimiter: str


class ImportRejected(ServiceError):
    """The file has bad rows and `skip_bad` was not given: nothing was written."""

    def __init__(self, report: ImportReport, first: RowError) -> None:
        count = len(report.rejected)
        super().__init__(
            (
                _("1 bad row; first: line {line}: {reason}")
                if count == 1
                else _("{count} bad rows; first: line {line}: {reason}")
            ).format(count=count, line=first.line, reason=first.reason)
        )
        self.report = report


@dataclass(frozen=True)
class _Parsed:
    text: str
    encoding: str
    delimiter: str
    layout: _Layout
    cases: list[list[PlacementRow]]  # the good rows, by case, in file order
    errors: list[RowError]
    first_error: RowError | None  # the first row bad in itself (not only through its case)
    data_rows: int
    phones: dict[tuple[str, str], ParsedPhone]  # (text, country) -> parsed, as the rows gave them
    prebuilt: dict[tuple[str, str], _NewCase]  # cases of one row, built while parsing (`build`)


# --- decoding -----------------------------------------------------------------------------------


# --- header -------------------------------------------------------------------------------------


def _canonical(text: str) -> str | None:
    key = header_key(text)
    column = _CANONICAL.get(key)
    if column is None:
        numbered = _NUMBERED.fullmatch(key)
        if numbered and _CANONICAL.get(numbered.group(1)) == "phone":
            column = "phone"
    return column


def _layout(
    header: list[str], *, client: str | None, currency: str | None, region: str | None
) -> _Layout:
    index: dict[str, int] = {}
    phones: list[int] = []
    names_debtor = any(_canonical(name) == "debtor_name" for name in header)
    for position, name in enumerate(header):
        column = _canonical(name)
        customer = _BESIDE_A_DEBTOR.get(header_key(name))
        if customer is not None:
            if not names_debtor:
                raise ServiceError(
                    _(
                        "column {name} may mean the client or the debtor: name the debtor's"
                        " column 债务人 (or the client's 委托方)"
                    ).format(name=repr(name.strip()))
                )
            column = customer
        if column is None:
            continue  # unknown columns are the client's business, not an error
        if column == "phone":
            phones.append(position)
        elif column in index:
            first = header[index[column]].strip()
            raise ServiceError(
                _("columns {first} and {second} both mean {column}: keep one").format(
                    first=repr(first), second=repr(name.strip()), column=column
                )
            )
        else:
            index[column] = position
    missing = [
        column
        for column, default in (
            ("client", client),
            ("client_ref", None),
            ("debtor_name", None),
            ("currency", currency),
            ("due_date", None),
        )
        if column not in index and default is None
    ]
    if "principal" not in index and "balance" not in index:
        missing.append(_("principal or balance"))
    if "country" not in index and region is None:
        missing.append(_("country (or give a region)"))
    if missing:
        raise ServiceError(
            (
                _("missing column: {columns}")
                if len(missing) == 1
                else _("missing columns: {columns}")
            ).format(columns=", ".join(missing))
        )
    return _Layout(header=header, index=index, phones=tuple(phones))


def _parsed_chunks(
    records: Iterator[tuple[int, list[str]]],
    config: RowConfig,
    workers: int,
    seen: dict[tuple[str, str], ParsedPhone],
) -> Iterator[ChunkResult]:
    """The file's records parsed chunk by chunk (placement_rows.parse_chunk), in line order.

    With `workers` > 1, the chunks go to a pool of that many spawned processes as the CSV reader
    cuts them (records, never raw text, so a quoted field spanning lines stays whole), and their
    results come back in submission order whatever order they finish in. Nothing is written
    until every chunk is back, so a worker that fails or dies fails the import before its
    transaction opens (ServiceError), with nothing written.
    """
    chunks = _record_chunks(records, CHUNK_ROWS)
    if workers <= 1:
        for chunk in chunks:
            yield parse_chunk(config, chunk, seen)
        return
    # spawn, not fork: the TUI imports from a worker thread, and a forked child of a threaded
    # process may inherit a lock held by another thread (docs/decisions.md, import workers).
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    # A few chunks in flight per worker, not the whole file: its records are held until parsed.
    in_flight = workers * _CHUNKS_PER_WORKER
    pending: deque[Future[ChunkResult]] = deque()
    try:
        for chunk in chunks:
            pending.append(executor.submit(parse_chunk, config, chunk))
            if len(pending) >= in_flight:
                yield _chunk_result(pending.popleft())
        while pending:
            yield _chunk_result(pending.popleft())
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _chunk_result(future: Future[ChunkResult]) -> ChunkResult:
    try:
        return future.result()
    except BrokenProcessPool as error:
        raise ServiceError(
            _(
                "a parse worker stopped (out of memory?): nothing was imported;"
                " try again, or set [imports] workers = 1"
            )
        ) from error


def _record_chunks(
    records: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sibling(line: int) -> str:
    return _("case rejected with line {line} (rows of one case are imported together)").format(
        line=line
    )


def _conflicts(group: list[PlacementRow]) -> list[RowError]:
    """Problems between the rows of one case, reported on the later line."""
    first = group[0]
    errors: list[RowError] = []
    invoices: dict[str, int] = {}
    if first.invoice_no is not None:
        invoices[first.invoice_no] = first.line
    for row in group[1:]:
        if row.debtor_name != first.debtor_name:
            reason = _("debtor_name differs from line {line} (same client_ref)").format(
                line=first.line
            )
        elif row.currency != first.currency:
            reason = _("currency differs from line {line} (same client_ref)").format(
                line=first.line
            )
        elif row.invoice_no is None or first.invoice_no is None:
            reason = _(
                "client_ref repeats line {line}: rows of one case need an invoice_no"
            ).format(line=first.line)
        elif row.invoice_no in invoices:
            reason = _("invoice_no repeats line {line} (same case)").format(
                line=invoices[row.invoice_no]
            )
        else:
            invoices[row.invoice_no] = row.line
            continue
        errors.append(RowError(row.line, reason))
    if not errors and sum(row.balance for row in group) > MAX_MINOR:
        errors.append(RowError(group[-1].line, _("the case's balance is too large")))
    return errors


def _parse(
    path: Path,
    *,
    region: str | None,
    client: str | None,
    currency: str | None,
    decimal: str | None = None,
    encoding: str | None = None,
    allow_zero_balance: bool = False,
    workers: int = 1,
    phones: dict[tuple[str, str], ParsedPhone] | None = None,
    build: Callable[[list[PlacementRow]], _NewCase] | None = None,
) -> _Parsed:
    """Read and validate the file. `phones` receives every number the chunk parsers parsed;
    `build`, when given, is called on each row as a case of its own as soon as its chunk is back
    (while the workers parse the next ones), and the result kept in `_Parsed.prebuilt` for the
    rows that stay alone in their case."""
    if encoding is not None:
        check_encoding(encoding)
    if decimal is not None:
        decimal_mode(decimal, ",")  # refuses an unknown mode before the file is read
    default_client = (client or "").strip() or None
    if default_client is not None and len(default_client) > _MAX_LENGTHS["client"]:
        raise ServiceError(
            _("client is longer than {limit} characters").format(limit=_MAX_LENGTHS["client"]),
            field="client",
        )
    default_country: str | None = None
    if region is not None and region.strip():
        default_country = _country_code(region)
        if default_country is None:
            raise ServiceError(
                _("unknown region '{region}': use an ISO 3166 code like CN").format(
                    region=shortened(region)
                ),
                field="region",
            )
    default_currency: str | None = None
    if currency is not None and currency.strip():
        try:
            default_currency = normalize_currency(currency)
        except MoneyError as error:
            raise ServiceError(str(error), field="currency") from error  # money's own message

    text, encoding = decode_file(path, encoding)
    if not text.strip():
        raise ServiceError(_("{name} is empty").format(name=path.name))
    delimiter = sniff_delimiter(text)
    amounts = Amounts(*decimal_mode(decimal, delimiter))
    records = csv_records(text, delimiter)
    layout: _Layout | None = None
    for _line, fields in records:
        if not is_blank(fields):
            layout = _layout(
                fields, client=default_client, currency=default_currency, region=default_country
            )
            break
    if layout is None:
        raise ServiceError(_("{name} is empty").format(name=path.name))

    config = RowConfig(
        layout,
        amounts.decimal,
        amounts.chosen,
        default_client,
        default_country,
        default_currency,
        allow_zero_balance,
        current_language(),
    )
    groups: dict[tuple[str, str], list[PlacementRow]] = {}
    errors: list[RowError] = []
    bad_cases: dict[tuple[str, str], int] = {}
    data_rows = 0
    phones = {} if phones is None else phones
    prebuilt: dict[tuple[str, str], _NewCase] = {}
    # A small file is parsed here: starting a worker costs more than its rows (POOL_MIN_LINES).
    pooled = workers > 1 and text.count("\n") >= POOL_MIN_LINES
    for result in _parsed_chunks(records, config, workers if pooled else 1, phones):
        data_rows += result.data_rows
        phones.update(result.phones)
        # Merged in chunk order, which is line order: the first line showing each decimal mark
        # (and the first ambiguous amount) is the one a single pass would have noted.
        for mark, first in result.shown.items():
            amounts.shown.setdefault(mark, first)
        if amounts.ambiguous is None:
            amounts.ambiguous = result.ambiguous
        for item in result.rows:
            if type(item) is BadRow:
                errors.append(RowError(item.line, item.reason))
                if item.key is not None:
                    bad_cases.setdefault(item.key, item.line)
                continue
            row: PlacementRow = item  # type: ignore[assignment]
            key = (row.client, row.client_ref)
            group = groups.get(key)
            if group is None:
                groups[key] = [row]
                if build is not None:
                    prebuilt[key] = build([row])
            else:
                group.append(row)
                prebuilt.pop(key, None)  # a case of several rows: built from all of them
    amounts.verdict(path.name)

    first_error = errors[0] if errors else None
    cases: list[list[PlacementRow]] = []
    if len(groups) == data_rows:  # one row per case and no bad row: the common, fast case
        cases = list(groups.values())
    else:
        for key, group in groups.items():
            first_bad = bad_cases.get(key)
            if first_bad is not None:
                errors.extend(RowError(row.line, _sibling(first_bad)) for row in group)
                continue
            own = _conflicts(group) if len(group) > 1 else []
            if not own:
                cases.append(group)
                continue
            if first_error is None or own[0].line < first_error.line:
                first_error = own[0]
            errors.extend(own)
            failed = {error.line for error in own}
            errors.extend(
                RowError(row.line, _sibling(own[0].line)) for row in group if row.line not in failed
            )
        errors.sort(key=lambda error: error.line)
    return _Parsed(
        text=text,
        encoding=encoding,
        delimiter=delimiter,
        layout=layout,
        cases=cases,
        errors=errors,
        first_error=first_error,
        data_rows=data_rows,
        phones=phones,
        prebuilt=prebuilt,
    )


def read_placements(
    path: Path,
    *,
    region: str | None = None,
    client: str | None = None,
    currency: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    allow_zero_balance: bool = False,
) -> tuple[list[PlacementRow], list[RowError], str, str]:
    """Parse and validate a placement file: (good rows, errors, encoding, delimiter).

    Raises ServiceError for a file that cannot be taken at all (unreadable, empty, not text, a
    required column missing, amounts that read two ways); row problems come back as RowErrors
    sorted by line. `region`, `client` and `currency` fill the country, client and currency where
    the file has none; `decimal`, `encoding` and `allow_zero_balance` are import_cases'.
    """
    parsed = _parse(
        Path(path),
        region=region,
        client=client,
        currency=currency,
        decimal=decimal,
        encoding=encoding,
        allow_zero_balance=allow_zero_balance,
    )
    rows = [row for group in parsed.cases for row in group]
    rows.sort(key=operator.attrgetter("line"))
    return rows, parsed.errors, parsed.encoding, parsed.delimiter


# --- writing ------------------------------------------------------------------------------------

_DEBTOR_COLUMNS = (
    "id kind name country address language risk_grade capacity_notes deceased bankrupt"
    " created_at updated_at version"
).split()
_CASE_COLUMNS = (
    "id client client_ref debtor_id currency principal fees interest balance due_date placed_date"
    " status assigned_to_id queue_tier priority score score_factors next_action_at last_attempt_at"
    " last_contact_at routed_reason created_at updated_at version strategy strategy_group"
    " strategy_reason strategy_treatment"
).split()
_PHONE_COLUMNS = (
    "id debtor_id e164 raw extension kind is_primary valid time_zones do_not_call sms_consent"
    " consent_until created_at updated_at version source status status_reason status_at retired_at"
    " call_consent_at call_consent_how sms_consent_at sms_consent_how dnc_at dnc_how"
).split()
_INVOICE_COLUMNS = "id case_id number issue_date due_date amount open_amount disputed".split()
_ADDRESS_COLUMNS = (
    "id debtor_id text match_key source status status_reason status_at is_primary retired_at"
    " created_by_id created_at updated_at version"
).split()
_ASSIGNMENT_COLUMNS = "id case_id from_user_id to_user_id moved_by_id at reason".split()


class _TableWriter:
    """Inserts rows given as tuples in `columns` order, in the caller's transaction.

    On SQLite (the embedded default, and where the performance targets are measured) the rows go to
    the driver's `executemany` with the INSERT compiled by SQLAlchemy and every value already in the
    driver's form, converted by the column's own bind processor (`encode`): exactly what Core's
    `insert(table)` would send, without its per-row parameter handling, which here costs more than
    SQLite's own work. Other backends get Core `insert(table)` with dicts. Columns added to the
    table later and unknown here get their Python-side defaults either way.
    """

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.fast = dialect.name in _FAST_DIALECTS
        self.dialect = dialect
        defaults = {}
        for column in table.columns:
            default = column.default
            # No default, or a Sequence (the database numbers the row): nothing to fill in.
            if column.name in self.columns or not isinstance(default, ColumnDefault):
                continue
            if default.is_scalar:
                defaults[column.name] = default.arg
            elif default.is_callable:
                defaults[column.name] = default.arg(None)
        self.extra_names = tuple(defaults)
        self.extra_values = tuple(self.encode(name, value) for name, value in defaults.items())
        if self.fast:
            compiled = insert(table).compile(
                dialect=dialect, column_keys=[*self.columns, *self.extra_names]
            )
            self.sql = compiled.string
            order = [*self.columns, *self.extra_names]
            wanted = list(compiled.positiontup or [])
            self.reorder = (
                None
                if wanted == order
                else operator.itemgetter(*(order.index(name) for name in wanted))
            )

    def encode(self, column: str, value: Any) -> Any:
        return self.encoder(column)(value)

    def encoder(self, column: str) -> Callable[[Any], Any]:
        """The conversion applied to this column's values before they reach the driver."""
        if not self.fast:
            return _identity
        processor = self.table.c[column].type._cached_bind_processor(self.dialect)
        return processor or _identity

    def write(self, session: Session, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.extra_values:
            extra = self.extra_values
            rows = [row + extra for row in rows]
        names = (*self.columns, *self.extra_names)
        connection = session.connection()
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            if not self.fast:
                dicts = [dict(zip(names, row, strict=True)) for row in chunk]
                session.execute(insert(self.table), dicts)
                continue
            if self.reorder is not None:
                reorder = self.reorder
                chunk = [reorder(row) for row in chunk]
            connection.exec_driver_sql(self.sql, chunk)


def _identity(value: Any) -> Any:
    return value


class _NewCase(NamedTuple):
    """The rows one case will write, built before the write transaction opens."""

    key: tuple[str, str]
    lines: int
    case_id: Any  # in the driver's form, for the assignment rows
    debtor: tuple[Any, ...]
    case: tuple[Any, ...]
    phones: list[tuple[Any, ...]]
    invoices: list[tuple[Any, ...]]
    invalid_phones: int
    # The placement's address as a contact row too, so an agent can mark it returned or wrong.
    addresses: list[tuple[Any, ...]]


class _Writers(NamedTuple):
    debtor: _TableWriter
    case: _TableWriter
    phone: _TableWriter
    invoice: _TableWriter
    assignment: _TableWriter
    address: _TableWriter


def _writers(dialect: Dialect) -> _Writers:
    return _Writers(
        _TableWriter(Debtor.__table__, _DEBTOR_COLUMNS, dialect),  # type: ignore[attr-defined]
        _TableWriter(Case.__table__, _CASE_COLUMNS, dialect),  # type: ignore[attr-defined]
        _TableWriter(Phone.__table__, _PHONE_COLUMNS, dialect),  # type: ignore[attr-defined]
        _TableWriter(Invoice.__table__, _INVOICE_COLUMNS, dialect),  # type: ignore[attr-defined]
        _TableWriter(
            Assignment.__table__,  # type: ignore[attr-defined]
            _ASSIGNMENT_COLUMNS,
            dialect,
        ),
        _TableWriter(PostalAddress.__table__, _ADDRESS_COLUMNS, dialect),  # type: ignore[attr-defined]
    )


class _CaseBuilder:
    """Rows for debtor, case, phones and invoices of each new case, in the writers' form.

    Tuples in the order of `_DEBTOR_COLUMNS` etc. (the tables' own order, a test pins it), every
    column given, so the inserts need no per-row defaults.
    """

    def __init__(
        self,
        *,
        now: datetime,
        settings: Settings,
        assign_to: uuid.UUID | None,
        writers: _Writers,
        dialect: Dialect,
        phones: dict[tuple[str, str], ParsedPhone] | None = None,
    ) -> None:
        # Parsed by the chunk parsers in each row's country; a case of several rows in different
        # countries parses the others' numbers here, in its first row's country.
        self.phones: dict[tuple[str, str], ParsedPhone] = {} if phones is None else phones
        self.today = now.date()
        self.now = now
        self.weights = settings.weights
        case_writer = writers.case
        self.uuid = case_writer.encoder("id")
        # Where the driver gets a key as 32 hex digits (SQLite), new keys are made that way in
        # bulk (_hex_uuid4s): uuid.uuid4() and its conversion were a tenth of the import.
        sample = uuid.uuid4()
        self.hex_ids = self.uuid(sample) == sample.hex
        self.spare_ids: list[str] = []
        self.id_batch = _IDS_AT_ONCE
        self.json = case_writer.encoder("score_factors")
        # json.dumps of a list is "[" + ", ".join(json.dumps(item)) + "]"; most factors repeat
        # ("grade B", "no attempt yet"), so their text is made once. Only where the driver gets
        # the default serializer's text, which is then exactly what the processor would give.
        self.json_text = case_writer.fast and getattr(dialect, "_json_serializer", None) is None
        self.fragments: dict[tuple[str, int, str], str] = {}
        self.day_encoder = case_writer.encoder("due_date")
        self.days: dict[date, Any] = {}
        self.at = case_writer.encode("created_at", now)
        self.no_instant = case_writer.encode("next_action_at", None)
        self.false = writers.debtor.encode("deceased", False)
        self.true = writers.debtor.encode("deceased", True)
        self.assign_to = case_writer.encode("assigned_to_id", assign_to)
        self.new_base = TIER_NEW * scoring.TIER_SPAN + scoring.SCORE_CEILING

    def factors_json(self, factors: list[scoring.Factor]) -> Any:
        if not self.json_text:
            return self.json([factor.as_dict() for factor in factors])
        fragments = self.fragments
        parts = []
        for factor in factors:
            key = (factor.name, factor.points, factor.detail)
            part = fragments.get(key)
            if part is None:
                if type(factor.points) is int:
                    # json.dumps(factor.as_dict()) to the character, at a quarter of the cost
                    part = (
                        f'{{"name": {_json_string(factor.name)}, "points": {factor.points},'
                        f' "detail": {_json_string(factor.detail)}}}'
                    )
                else:
                    part = json.dumps(factor.as_dict())
                if len(fragments) < _MAX_FRAGMENTS:
                    fragments[key] = part
            parts.append(part)
        return "[" + ", ".join(parts) + "]"

    def new_id(self) -> Any:
        """A new random (version 4) key in the driver's form."""
        if not self.hex_ids:
            return self.uuid(uuid.uuid4())
        spare = self.spare_ids
        if not spare:
            # Handed out in ascending order (popped from a list sorted downwards): the rows of a
            # file then reach every index on a key (case, debtor, phone ids; the debtor_id of
            # cases and phones) in long ascending runs, and SQLite's B-trees insert next to
            # where the last row went instead of at a random page. Still random version-4 keys.
            spare.extend(sorted(_hex_uuid4s(self.id_batch), reverse=True))
            self.id_batch = min(self.id_batch * 2, _IDS_AT_MOST)
        return spare.pop()

    def phone(self, text: str, country: str) -> ParsedPhone:
        parsed = self.phones.get((text, country))
        if parsed is None:
            parsed = self.phones[(text, country)] = parse_phone(text, country)
        return parsed

    def day(self, value: date) -> Any:
        encoded = self.days.get(value)
        if encoded is None:
            encoded = self.days[value] = self.day_encoder(value)
        return encoded

    def build(self, group: list[PlacementRow]) -> _NewCase:
        first = group[0]
        if len(group) == 1:
            texts: Sequence[str] = first.phones
            principal, fees, interest = first.principal, first.fees, first.interest
            balance, due_date, placed_date = first.balance, first.due_date, first.placed_date
            address, risk_grade = first.address, first.risk_grade
        else:
            texts = list(dict.fromkeys(text for row in group for text in row.phones))
            principal = sum(row.principal for row in group)
            fees = sum(row.fees for row in group)
            interest = sum(row.interest for row in group)
            balance = sum(row.balance for row in group)
            due_date = min(row.due_date for row in group)
            placed = [row.placed_date for row in group if row.placed_date is not None]
            placed_date = min(placed) if placed else None
            address = next((row.address for row in group if row.address), None)
            risk_grade = next((row.risk_grade for row in group if row.risk_grade), None)
        at, false = self.at, self.false
        debtor_id = self.new_id()
        case_id = self.new_id()

        phones: list[tuple[Any, ...]] = []
        invalid = 0
        if texts:
            seen: set[str] = set()
            primary_taken = False
            for text in texts:
                parsed = self.phone(text, first.country)
                if parsed.valid:
                    if parsed.e164 in seen:  # "138..." and "+86 138..." are one number
                        continue
                    seen.add(parsed.e164)  # type: ignore[arg-type]
                    primary = primary_taken is False
                    primary_taken = True
                else:
                    invalid += 1
                    primary = False
                phones.append(
                    (
                        self.new_id(),
                        debtor_id,
                        parsed.e164,
                        text,
                        parsed.extension,
                        parsed.kind,
                        self.true if primary else false,  # is_primary
                        self.true if parsed.valid else false,  # valid
                        ",".join(parsed.time_zones),
                        false,  # do_not_call
                        false,  # sms_consent
                        self.no_instant,  # consent_until
                        at,
                        at,
                        1,  # version
                        "placement",  # source
                        "valid" if parsed.valid else "wrong",  # status: see casework/cases.py
                        None if parsed.valid else (parsed.error or "")[:500],  # status_reason
                        *(self.no_instant, self.no_instant),  # status_at, retired_at
                        *(self.no_instant, None, self.no_instant, None, self.no_instant, None),
                    )
                )

        # The place scoring.compute_place gives a case never attempted, with no promise and no
        # follow-up: the new-placement tier, ranked by score, no next action time.
        factors = scoring.score_factors(
            balance_minor=balance,
            currency=first.currency,
            risk_grade=risk_grade,
            dpd=scoring.days_past_due(due_date, self.today),
            broken_promises=0,
            last_contact_at=None,
            last_attempt_at=None,
            now=self.now,
            weights=self.weights,
        )
        score = sum(factor.points for factor in factors)
        debtor = (
            debtor_id,
            first.debtor_kind,
            first.debtor_name,
            first.country,
            address,
            None,  # language
            risk_grade,
            None,  # capacity_notes
            false,  # deceased
            false,  # bankrupt
            at,
            at,
            1,  # version
        )
        case = (
            case_id,
            first.client,
            first.client_ref,
            debtor_id,
            first.currency,
            principal,
            fees,
            interest,
            balance,
            self.day(due_date),
            self.day(placed_date or self.today),
            CaseStatus.new.value,
            self.assign_to,
            TIER_NEW,
            self.new_base - score,  # priority
            score,
            self.factors_json(factors),
            self.no_instant,  # next_action_at
            self.no_instant,  # last_attempt_at
            self.no_instant,  # last_contact_at
            None,  # routed_reason
            at,
            at,
            1,  # version
            # The strategy is drawn after the write, in the same transaction (services/strategies).
            None,  # strategy
            None,  # strategy_group
            None,  # strategy_reason
            None,  # strategy_treatment
        )
        invoices = [
            (
                self.new_id(),
                case_id,
                row.invoice_no,
                None if row.issue_date is None else self.day(row.issue_date),
                self.day(row.due_date),
                row.balance,  # amount
                row.balance,  # open_amount
                false,  # disputed
            )
            for row in group
            if row.invoice_no is not None
        ]
        addresses = (
            [
                (
                    self.new_id(),
                    debtor_id,
                    address,
                    address_key(address),
                    "placement",  # source
                    "valid",  # status, as the migration that brought contacts marked them
                    None,  # status_reason
                    self.no_instant,  # status_at
                    self.true,  # is_primary
                    self.no_instant,  # retired_at
                    None,  # created_by_id
                    at,
                    at,
                    1,  # version
                )
            ]
            if address
            else []
        )
        key = (first.client, first.client_ref)
        return _NewCase(
            key, len(group), case_id, debtor, case, phones, invoices, invalid, addresses
        )


def _hex_uuid4s(count: int) -> list[str]:
    """`count` random version-4 UUIDs as 32 hex digits, as uuid.uuid4().hex gives them."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((byte & 0x0F) | 0x40 for byte in raw[6::16])  # version 4
    raw[8::16] = bytes((byte & 0x3F) | 0x80 for byte in raw[8::16])  # RFC 4122 variant
    text = raw.hex()
    return [text[start : start + 32] for start in range(0, len(text), 32)]


def _as_uuid(value: Any) -> uuid.UUID:
    """A case id back from the driver's form (a UUID, or SQLite's hex text)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _existing_keys(session: Session, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (client, client_ref) pairs among `keys` that are already in the database."""
    table = Case.__table__  # type: ignore[attr-defined]
    refs_by_client: dict[str, list[str]] = {}
    for client, client_ref in keys:
        refs_by_client.setdefault(client, []).append(client_ref)
    found: set[tuple[str, str]] = set()
    for client, refs in refs_by_client.items():
        for start in range(0, len(refs), _LOOKUP_CHUNK):
            statement = select(table.c.client_ref).where(
                table.c.client == client,
                table.c.client_ref.in_(refs[start : start + _LOOKUP_CHUNK]),
            )
            found.update((client, ref) for ref in session.execute(statement).scalars())
    return found


def _check_assignee(session: Session, user_id: uuid.UUID | None) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such user to assign the imported cases to"), field="assign_to")
    if not user.active:
        raise InvalidInput(
            _("{username} is not an active user").format(username=user.username), field="assign_to"
        )


@contextmanager
def _large_page_cache(session: Session) -> Iterator[None]:
    """A bigger SQLite page cache for the bulk insert (a quarter faster at 50k rows: the indexes
    of a growing table stop spilling), put back afterwards: the connection returns to the pool."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size={_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):
            connection.exec_driver_sql(f"PRAGMA cache_size={previous}")


def _write_cases(
    session: Session,
    writers: _Writers,
    new_cases: list[_NewCase],
    *,
    assignment: tuple[Any, ...] | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    total = sum(new.lines for new in new_cases)
    done = 0
    if not new_cases:
        return
    uuid_of = writers.assignment.encoder("id")
    # Chunks of cases rather than table by table, so progress moves steadily on a big file;
    # debtors before cases before phones and invoices, for the foreign keys.
    for start in range(0, len(new_cases), WRITE_CHUNK):
        chunk = new_cases[start : start + WRITE_CHUNK]
        writers.debtor.write(session, [new.debtor for new in chunk])
        writers.case.write(session, [new.case for new in chunk])
        writers.phone.write(session, [phone for new in chunk for phone in new.phones])
        writers.invoice.write(session, [invoice for new in chunk for invoice in new.invoices])
        writers.address.write(session, [row for new in chunk for row in new.addresses])
        if assignment is not None:
            writers.assignment.write(
                session,
                [(uuid_of(uuid.uuid4()), new.case_id, *assignment) for new in chunk],
            )
        done += sum(new.lines for new in chunk)
        if progress is not None:
            progress(done, total)


def _default_rejects_path(path: Path) -> Path:
    # placements.csv -> placements.rejects.csv, beside the input
    return path.with_name(f"{path.stem if path.suffix else path.name}.rejects.csv")


def _write_rejects(parsed: _Parsed, target: Path) -> None:
    """Bad rows as they were, plus `line` and `reason`; UTF-8 with BOM so Excel reads Chinese."""
    reasons = {error.line: error.reason for error in parsed.errors}
    width = len(parsed.layout.header)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as error:
        raise ServiceError(
            _("cannot write {path}: {reason}").format(path=target, reason=error.strerror or error)
        ) from error
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=parsed.delimiter)
            writer.writerow([*parsed.layout.header, "line", "reason"])
            for line, fields in csv_records(parsed.text, parsed.delimiter):
                reason = reasons.get(line)
                if reason is not None:
                    padding = [""] * (width - len(fields))
                    writer.writerow([*fields, *padding, line, reason])
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ServiceError(
            _("cannot write {path}: {reason}").format(path=target, reason=error.strerror or error)
        ) from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def import_cases(
    *,
    store: Store,
    path: Path,
    now: datetime,
    settings: Settings,
    actor: Actor | None = None,
    dry_run: bool = False,
    skip_bad: bool = False,
    rejects_path: Path | None = None,
    region: str | None = None,
    client: str | None = None,
    assign_to: uuid.UUID | None = None,
    progress: Callable[[int, int], None] | None = None,
    currency: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    allow_zero_balance: bool = False,
) -> ImportReport:
    """Import a placement file in one transaction: all of it, or with `skip_bad` its good cases.

    Cases whose client + client_ref already exist are counted and left untouched, so importing a
    file twice creates nothing the second time. With bad rows and no `skip_bad`, ImportRejected
    (carrying the report, counts at zero) is raised and nothing is written, on a dry run too. A
    dry run reports what would be created and writes nothing, not even the rejects file.
    `region`, `client` and `currency` fill what the file leaves out; `assign_to` gives every new
    case to that user (with its assignment history row). `progress(rows_written, rows_to_write)`
    is called after each chunk written. One audit event covers the whole import.

    `decimal` is the file's decimal mark, "point" or "comma"; None reads a comma-separated file
    with a point and any other by what each amount shows, refusing the file (ServiceError) when an
    amount reads two ways ("1,500"). `encoding` names the file's codec when its bytes cannot tell
    (not UTF-8 and no BOM: cp1252, cp932 and GB18030 are told apart, or the file is refused). A row
    whose balance is zero is refused unless `allow_zero_balance`.
    """
    if actor is not None and not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can import placements"))
    path = Path(path)
    # The work that takes time (phones above all) is done before the write lock is taken: the
    # rows and their phones in the parse workers, each case's rows built here as the parsed
    # chunks come back (in parallel with the workers still parsing).
    writers = _writers(store.engine.dialect)
    phones: dict[tuple[str, str], ParsedPhone] = {}
    builder = _CaseBuilder(
        now=now,
        settings=settings,
        assign_to=assign_to,
        writers=writers,
        dialect=store.engine.dialect,
        phones=phones,
    )
    parsed = _parse(
        path,
        region=region,
        client=client,
        currency=currency,
        decimal=decimal,
        encoding=encoding,
        allow_zero_balance=allow_zero_balance,
        workers=settings.imports.worker_count(),
        phones=phones,
        build=builder.build,
    )
    if parsed.data_rows == 0:
        raise ServiceError(_("{name} has a header but no rows").format(name=path.name))
    errors = tuple(parsed.errors)

    def report(created: list[_NewCase], existing: int) -> ImportReport:
        return ImportReport(
            rows=parsed.data_rows,
            cases_created=len(created),
            cases_existing=existing,
            invoices=sum(len(new.invoices) for new in created),
            phones=sum(len(new.phones) for new in created),
            phones_invalid=sum(new.invalid_phones for new in created),
            rejected=errors,
            dry_run=dry_run,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
        )

    if errors and not skip_bad:
        assert parsed.first_error is not None
        raise ImportRejected(report([], 0), parsed.first_error)
    target = None
    if errors and not dry_run:
        target = Path(rejects_path) if rejects_path is not None else _default_rejects_path(path)
        if target.resolve() == path.resolve():
            raise ServiceError(_("the rejects file cannot be the file being imported"))

    prebuilt = parsed.prebuilt
    built: list[_NewCase] = []
    for group in parsed.cases:
        first = group[0]
        new = prebuilt.get((first.client, first.client_ref)) if len(group) == 1 else None
        built.append(new or builder.build(group))
    keys = [new.key for new in built]

    if dry_run:
        with store.read() as session:
            _check_assignee(session, assign_to)
            existing = _existing_keys(session, keys)
        return report([new for new in built if new.key not in existing], len(existing))

    assignment = None
    if assign_to is not None:
        encode = writers.assignment.encode
        assignment = (
            encode("from_user_id", None),
            encode("to_user_id", assign_to),
            encode("moved_by_id", actor.user_id if actor else None),
            encode("at", now),
            f"imported from {path.name}"[:500],
        )
    try:
        with store.write() as session:
            _check_assignee(session, assign_to)
            existing = _existing_keys(session, keys)
            created = [new for new in built if new.key not in existing]
            # The workload counters take the new cases in one statement, not a trigger per row.
            with _large_page_cache(session), workload.cases_inserted_in_bulk(session):
                _write_cases(session, writers, created, assignment=assignment, progress=progress)
            # The strategy set in force places the new cases (nothing when none is applied).
            assign_new_cases(
                session,
                now=now,
                settings=settings,
                case_ids=[_as_uuid(new.case_id) for new in created],
                user_id=actor.user_id if actor else None,
            )
            result = report(created, len(existing))
            if created:
                audit.record(
                    session=session,
                    now=now,
                    user_id=actor.user_id if actor else None,
                    entity="import",
                    entity_id=uuid.uuid4(),
                    action="cases",
                    after={
                        "file": path.name,
                        "rows": result.rows,
                        "cases_created": result.cases_created,
                        "cases_existing": result.cases_existing,
                        "invoices": result.invoices,
                        "phones": result.phones,
                        "phones_invalid": result.phones_invalid,
                        "rejected": len(result.rejected),
                        "encoding": result.encoding,
                        "delimiter": result.delimiter,
                        "assigned_to": assign_to,
                    },
                )
            # Written before the commit: if the file cannot be written, nothing is imported.
            if target is not None:
                _write_rejects(parsed, target)
    except IntegrityError as error:
        raise ServiceError(
            _(
                "the database refused the import (were the same cases imported at the same time?)"
                ": nothing was written, try again"
            )
        ) from error
    return result
