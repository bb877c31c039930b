"""CSV exports of cases, activities, promises and payments, for clients, auditors and supervisors'
scripts (docs/decisions.md, command line).

Rows are streamed from the database in batches and written as they come, so a million cases never
sit in memory. The file appears only when complete: rows go to a temporary file beside the target
that replaces it at the end, so a failed export leaves no half-written file behind.

Money is a decimal string in the case's currency ("1234.50"), instants are ISO 8601 in UTC, and
text that a spreadsheet would run as a formula (a debtor named "=HYPERLINK(...)") is prefixed with
an apostrophe, the usual defence against CSV injection. Every row that carries money carries its
currency beside it. `bom=True` starts the file with a UTF-8 byte order mark, which Excel needs to
read UTF-8 (Chinese names stay intact; without it Excel guesses the locale's code page).

An agent's export holds only the agent's own cases (and their activities, promises and payments);
supervisors and `actor=None` (scripts with the database file) get everything.
"""

from __future__ import annotations

import csv
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from collector_tui.db import select_columns
from collector_tui.i18n import gettext as _
from collector_tui.models import Activity, Case, Debtor, Invoice, Payment, Promise, User
from collector_tui.money import Money, MoneyError
from collector_tui.phones import mask_phone
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import balances
from collector_tui.services.contacts.skiptrace import skip_trace_cases
from collector_tui.services.context import reads
from collector_tui.services.errors import InvalidInput

CASE_COLUMNS: tuple[str, ...] = (
    "case_id",
    "client",
    "client_ref",
    "debtor_name",
    "debtor_type",
    "country",
    "currency",
    "principal",
    "fees",
    "interest",
    "balance",
    "due_date",
    "placed_date",
    "status",
    "assigned_to",
    "risk_grade",
    "queue_tier",
    "score",
    "next_action_at",
    "last_attempt_at",
    "last_contact_at",
    "routed_reason",
    # What is owed now by component (principal, fees and interest above are as placed), and what
    # of the balance is under open invoice dispute or collectible (casework.balances); after the
    # older columns, which scripts read by position too.
    "principal_open",
    "fees_open",
    "interest_open",
    "costs_open",
    "disputed",
    "collectible",
    # The earliest issue date of the case's invoices (the placement file's issue_date), empty
    # when none carries one.
    "issue_date",
)
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "activity_id",
    "occurred_at",
    "case_id",
    "client",
    "client_ref",
    "user",
    "channel",
    "direction",
    "phone",
    "disposition",
    "duration_s",
    "with_consent",
    "note",
    "voids_id",
)
PROMISE_COLUMNS: tuple[str, ...] = (
    "promise_id",
    "case_id",
    "client",
    "client_ref",
    "debtor_name",
    "currency",
    "amount",
    "paid_amount",
    "due_date",
    "grace_days",
    "status",
    "plan_id",
    "created_by",
    "created_at",
    "resolved_at",
    "assigned_to",
)
PAYMENT_COLUMNS: tuple[str, ...] = (
    "payment_id",
    "case_id",
    "client",
    "client_ref",
    "debtor_name",
    "currency",
    "amount",
    "received_on",
    "method",
    "reference",
    "recorded_by",
    "voids_id",
    "created_at",
    "assigned_to",
)
EXPORT_KINDS: tuple[str, ...] = ("cases", "activities", "promises", "payments")
BATCH_ROWS = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _amount(minor: int, currency: str) -> str:
    try:
        return Money(minor, currency).decimal_string()
    except (MoneyError, TypeError):  # a currency babel does not know: keep the exact figure
        return f"{minor} (minor units)"


def _instant(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value is not None else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _uuid(value: object) -> str:
    return str(value) if isinstance(value, uuid.UUID) else ""


@contextmanager
def _atomic_csv(path: Path, bom: bool) -> Iterator[IO[str]]:
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidInput(
            _("{target} is a folder: name a file to write").format(target=target), field="path"
        )
    if not folder.is_dir():
        raise InvalidInput(
            _("no folder {folder} to write {name} in").format(folder=folder, name=target.name),
            field="path",
        )
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        with os.fdopen(
            descriptor, "w", encoding="utf-8-sig" if bom else "utf-8", newline=""
        ) as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write(path: Path, bom: bool, header: tuple[str, ...], rows: Iterable[list[str]]) -> int:
    count = 0
    with _atomic_csv(path, bom) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _stream(session: Session, statement: Any) -> Iterator[Any]:
    # yield_per makes the driver hand rows over in batches instead of fetching them all.
    yield from session.execute(statement.execution_options(yield_per=BATCH_ROWS))


# `export cases --lang zh_CN`: the same columns under Chinese headers (the placement import reads
# the ones it knows: 客户 beside 债务人, 客户编号, 本金...). Only asked for explicitly: the English
# headers are the machine contract and never follow the user's language.
CASE_HEADERS_ZH: dict[str, str] = {
    "case_id": "案件ID",
    "client": "客户",
    "client_ref": "客户编号",
    "debtor_name": "债务人",
    "debtor_type": "类型",
    "country": "国家",
    "currency": "币种",
    "principal": "本金",
    "fees": "费用",
    "interest": "利息",
    "balance": "余额",
    "due_date": "到期日",
    "placed_date": "委托日期",
    "status": "状态",
    "assigned_to": "负责人",
    "risk_grade": "风险等级",
    "queue_tier": "队列层级",
    "score": "评分",
    "next_action_at": "下次处理时间",
    "last_attempt_at": "最近拨打时间",
    "last_contact_at": "最近联系时间",
    "routed_reason": "转交原因",
    "principal_open": "未还本金",
    "fees_open": "未还费用",
    "interest_open": "未还利息",
    "costs_open": "未还成本",
    "disputed": "争议金额",
    "collectible": "可催收金额",
    "issue_date": "开票日期",
}
HEADER_LANGUAGES = ("en", "zh_CN")


def export_cases(
    *,
    session: Session,
    path: Path,
    bom: bool = False,
    actor: Actor | None = None,
    headers: str = "en",
) -> int:
    """Write one row per case (an agent's own cases only; every case for supervisors and for
    `actor=None`, the scripts' way). Returns the number of cases written. `headers="zh_CN"`
    writes the Chinese headers (CASE_HEADERS_ZH); the rows are the same."""
    if headers not in HEADER_LANGUAGES:
        raise InvalidInput(
            _("headers in {headers}: one of {choices}").format(
                headers=repr(headers), choices=", ".join(HEADER_LANGUAGES)
            ),
            field="headers",
        )
    statement = (
        select_columns(
            Case.id,
            Case.client,
            Case.client_ref,
            Debtor.name,
            Debtor.kind,
            Debtor.country,
            Case.currency,
            Case.principal,
            Case.fees,
            Case.interest,
            Case.balance,
            Case.due_date,
            Case.placed_date,
            Case.status,
            User.username,
            Debtor.risk_grade,
            Case.queue_tier,
            Case.score,
            Case.next_action_at,
            Case.last_attempt_at,
            Case.last_contact_at,
            Case.routed_reason,
        )
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .outerjoin(User, col(User.id) == col(Case.assigned_to_id))
        .order_by(col(Case.client), col(Case.client_ref))
    )
    if actor is not None and not actor.is_supervisor:
        statement = statement.where(Case.assigned_to_id == actor.user_id)

    def rows() -> Iterator[list[str]]:
        for batch in _batches(_stream(session, statement)):
            # The components and disputes of a batch in three grouped queries, not per case.
            owed = balances.components_of_cases(session, [(r[0], r[10], r[8], r[9]) for r in batch])
            issued = _first_issue_dates(session, [r[0] for r in batch])
            for r in batch:
                components, disputed = owed[r[0]]
                currency = r[6]
                yield [
                    *_case_cells(r),
                    *(_amount(value, currency) for value in components.as_dict().values()),
                    _amount(disputed, currency),
                    _amount(max(0, r[10] - disputed), currency),
                    _day(issued.get(r[0])),
                ]

    header = CASE_COLUMNS
    if headers == "zh_CN":
        header = tuple(CASE_HEADERS_ZH[column] for column in CASE_COLUMNS)
    return _write(path, bom, header, rows())


def _first_issue_dates(session: Session, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, date]:
    """The earliest invoice issue date of each case of a batch that has one (one grouped query)."""
    found = session.execute(
        select_columns(Invoice.case_id, func.min(col(Invoice.issue_date)))
        .where(col(Invoice.case_id).in_(case_ids), col(Invoice.issue_date).is_not(None))
        .group_by(col(Invoice.case_id))
    ).all()
    return {case_id: _as_day(day) for case_id, day in found}


def _as_day(value: Any) -> date:
    # min() over a date column may come back as the ISO text on SQLite.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _batches(rows: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _case_cells(r: Any) -> list[str]:
    currency = r[6]
    return [
        str(r[0]),
        _text(r[1]),
        _text(r[2]),
        _text(r[3]),
        r[4],
        r[5],
        currency,
        _amount(r[7], currency),
        _amount(r[8], currency),
        _amount(r[9], currency),
        _amount(r[10], currency),
        _day(r[11]),
        _day(r[12]),
        r[13],
        r[14] or "",
        r[15] or "",
        str(r[16]),
        str(r[17]),
        _instant(r[18]),
        _instant(r[19]),
        _instant(r[20]),
        _text(r[21]),
    ]


def export_activities(
    *,
    session: Session,
    path: Path,
    bom: bool = False,
    actor: Actor | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write one row per activity (contact attempts and notes), oldest first, optionally within
    [since, until). An agent gets the activities of their own cases. Returns the row count."""
    author = aliased(User)
    statement = (
        select_columns(
            Activity.id,
            Activity.occurred_at,
            Case.id,
            Case.client,
            Case.client_ref,
            author.username,
            Activity.channel,
            Activity.direction,
            Activity.phone_e164,
            Activity.disposition,
            Activity.duration_s,
            Activity.with_consent,
            Activity.note,
            Activity.voids_id,
        )
        .join(Case, col(Case.id) == col(Activity.case_id))
        .outerjoin(author, col(author.id) == col(Activity.user_id))
        .order_by(col(Activity.occurred_at), col(Activity.id))
    )
    if actor is not None and not actor.is_supervisor:
        statement = statement.where(Case.assigned_to_id == actor.user_id)
    if since is not None:
        statement = statement.where(col(Activity.occurred_at) >= since)
    if until is not None:
        statement = statement.where(col(Activity.occurred_at) < until)

    def rows() -> Iterator[list[str]]:
        for r in _stream(session, statement):
            yield [
                str(r[0]),
                _instant(r[1]),
                str(r[2]),
                _text(r[3]),
                _text(r[4]),
                r[5] or "",
                r[6],
                r[7],
                mask_phone(r[8]) if r[8] else "",  # a list: which number, not the number
                r[9] or "",
                "" if r[10] is None else str(r[10]),
                "yes" if r[11] else "no",
                _text(r[12]),
                str(r[13]) if isinstance(r[13], uuid.UUID) else "",
            ]

    return _write(path, bom, ACTIVITY_COLUMNS, rows())


def _own_cases(statement: Any, actor: Actor | None) -> Any:
    if actor is not None and not actor.is_supervisor:
        return statement.where(col(Case.assigned_to_id) == actor.user_id)
    return statement


def export_promises(
    *, session: Session, path: Path, bom: bool = False, actor: Actor | None = None
) -> int:
    """Write one row per promise (installments of a plan included, with their `plan_id`), in the
    order they were made. `amount` and `paid_amount` are decimal strings in `currency`; `status`
    is the outcome as of the last sweep. Returns the row count."""
    author = aliased(User)
    holder = aliased(User)
    statement = _own_cases(
        select_columns(
            Promise.id,
            Case.id,
            Case.client,
            Case.client_ref,
            Debtor.name,
            Case.currency,
            Promise.amount,
            Promise.paid_amount,
            Promise.due_date,
            Promise.grace_days,
            Promise.status,
            Promise.plan_id,
            author.username,
            Promise.created_at,
            Promise.resolved_at,
            holder.username,
        )
        .join(Case, col(Case.id) == col(Promise.case_id))
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .outerjoin(author, col(author.id) == col(Promise.created_by_id))
        .outerjoin(holder, col(holder.id) == col(Case.assigned_to_id))
        .order_by(col(Promise.created_at), col(Promise.id)),
        actor,
    )

    def rows() -> Iterator[list[str]]:
        for r in _stream(session, statement):
            currency = r[5]
            yield [
                str(r[0]),
                str(r[1]),
                _text(r[2]),
                _text(r[3]),
                _text(r[4]),
                currency,
                _amount(r[6], currency),
                _amount(r[7], currency),
                _day(r[8]),
                str(r[9]),
                r[10],
                _uuid(r[11]),
                r[12] or "",
                _instant(r[13]),
                _instant(r[14]),
                r[15] or "",
            ]

    return _write(path, bom, PROMISE_COLUMNS, rows())


def export_payments(
    *, session: Session, path: Path, bom: bool = False, actor: Actor | None = None
) -> int:
    """Write one row per payment row, oldest first. A reversal is its own row with a negative
    amount and the reversed payment's id in `voids_id` (payments are append-only), so the amounts
    of a currency add up to what was really received. Returns the row count."""
    recorder = aliased(User)
    holder = aliased(User)
    statement = _own_cases(
        select_columns(
            Payment.id,
            Case.id,
            Case.client,
            Case.client_ref,
            Debtor.name,
            Case.currency,
            Payment.amount,
            Payment.received_on,
            Payment.method,
            Payment.reference,
            recorder.username,
            Payment.voids_id,
            Payment.created_at,
            holder.username,
        )
        .join(Case, col(Case.id) == col(Payment.case_id))
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .outerjoin(recorder, col(recorder.id) == col(Payment.recorded_by_id))
        .outerjoin(holder, col(holder.id) == col(Case.assigned_to_id))
        .order_by(col(Payment.received_on), col(Payment.created_at), col(Payment.id)),
        actor,
    )

    def rows() -> Iterator[list[str]]:
        for r in _stream(session, statement):
            currency = r[5]
            yield [
                str(r[0]),
                str(r[1]),
                _text(r[2]),
                _text(r[3]),
                _text(r[4]),
                currency,
                _amount(r[6], currency),
                _day(r[7]),
                _text(r[8]),
                _text(r[9]),
                r[10] or "",
                _uuid(r[11]),
                _instant(r[12]),
                r[13] or "",
            ]

    return _write(path, bom, PAYMENT_COLUMNS, rows())


@reads
def export(
    what: str,
    *,
    session: Session,
    path: Path,
    bom: bool = False,
    actor: Actor | None = None,
    headers: str = "en",
) -> int:
    """Export `what` (one of EXPORT_KINDS) to `path`; the row count. The one entry point for the
    command line and the TUI. `headers="zh_CN"` gives cases Chinese headers; the other kinds
    keep English ones."""
    writers: dict[str, Callable[..., int]] = {
        "cases": partial(export_cases, headers=headers),
        "activities": export_activities,
        "promises": export_promises,
        "payments": export_payments,
    }
    writer = writers.get(what)
    if writer is None:
        raise InvalidInput(
            _("cannot export {what}: one of {choices}").format(
                what=repr(what), choices=", ".join(EXPORT_KINDS)
            ),
            field="what",
        )
    return writer(session=session, path=path, bom=bom, actor=actor)


SKIP_TRACE_COLUMNS: tuple[str, ...] = (
    "case_id",
    "client",
    "client_ref",
    "debtor",
    "country",
    "assigned_to",
    "reasons",
    "numbers",
    "addresses",
    # Left empty for the tracer; `skiptrace import` reads them back (imports/skip_trace_file.py).
    "phone",
    "phone_type",
    "address",
    "email",
)


@reads
def export_skip_trace(*, session: Session, path: Path, bom: bool = False, actor: Actor) -> int:
    """`skiptrace export`: the cases with no callable number or with returned mail
    (contacts.skiptrace), one row each, with the numbers and addresses known and their marks."""
    found = skip_trace_cases(session=session, actor=actor)

    def rows() -> Iterator[list[str]]:
        for case in found:
            yield [
                str(case.case_id),
                _text(case.client),
                _text(case.client_ref),
                _text(case.debtor_name),
                case.country,
                _text(case.assigned_to),
                "; ".join(case.reasons),
                _text("; ".join(f"{number} ({status})" for number, status in case.numbers)),
                _text("; ".join(f"{text} ({status})" for text, status in case.addresses)),
                "",
                "",
                "",
                "",
            ]

    return _write(path, bom, SKIP_TRACE_COLUMNS, rows())
