"""The rows of a placement file: one record in, a validated PlacementRow (or the reason it is
refused) out, with the row's phones parsed.

Split from placement_file.py so that the import's parse workers (`parse_chunk`, run in a process
pool on a large file: docs/decisions.md, import workers) import only this, the CSV readers, money
and phones — not SQLAlchemy, the models or the services, which would cost each spawned worker about
a second before its first row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from collector_tui import i18n
from collector_tui.i18n import gettext as _
from collector_tui.money import MAX_MINOR, MoneyError, minor_digits, normalize_currency
from collector_tui.phones import ParsedPhone, parse_phone
from collector_tui.services.imports.csv_reading import (
    Amounts,
    BadValue,
    CurrencyDigits,
    bad_value,
    is_blank,
    parse_date,
    shortened,
)

# Column lengths of the tables (models.py); PostgreSQL enforces them, SQLite would not.
_MAX_LENGTHS = {
    "client": 100,
    "client_ref": 100,
    "debtor_name": 300,
    "address": 500,
    "invoice_no": 100,
    "phone": 100,
}

# Canonical column -> the header spellings accepted for it (compared after `header_key`).
# "客户" and "客户编号" are not here: see _BESIDE_A_DEBTOR.
_ALIASES: dict[str, tuple[str, ...]] = {
    column: tuple(aliases.split())
    for column, aliases in {
        "client": "client creditor client_name creditor_name 委托方 债权人 委托机构",
        "client_ref": "client_ref client_reference reference ref account account_no"
        " account_number 合同号 账号 案件编号",
        "debtor_name": "debtor_name name debtor 债务人 姓名 名称 客户名称 债务人姓名",
        "debtor_type": "debtor_type type debtor_kind kind 类型 债务人类型",
        "country": "country country_code 国家 国家代码",
        "phone": "phone phones telephone tel mobile cell phone_number mobile_phone home_phone"
        " work_phone 电话 手机 联系电话 手机号",
        "address": "address 地址 联系地址",
        "currency": "currency ccy 币种 货币",
        "principal": "principal amount 本金 金额",
        "fees": "fees fee 费用",
        "interest": "interest 利息",
        "balance": "balance outstanding 余额 欠款 欠款金额",
        "due_date": "due_date due 到期日 到期日期",
        "placed_date": "placed_date placed placement_date 委托日期",
        "risk_grade": "risk_grade grade risk 风险等级",
        "invoice_no": "invoice_no invoice invoice_number 发票号 发票号码",
        # The invoice's issue date: DSO counts from it (reporting.reports.dso).
        "issue_date": "issue_date invoice_date issued issued_on 开票日期 开票日",
    }.items()
}

_DEBTOR_KINDS: dict[str, str] = {
    **dict.fromkeys("person individual private consumer p 个人".split(), "person"),
    **dict.fromkeys(
        "company business corporate organisation organization c b 公司 企业 单位".split(), "company"
    ),
}
_PHONE_SPLIT = re.compile(r"[;|；｜]")
_PHONE_SEPARATORS = frozenset(";|；｜")
_GRADE = re.compile(r"[A-E]|[0-9]{1,2}")


class PlacementRow(NamedTuple):
    """One valid row of a placement file; amounts in minor units of `currency`.

    A NamedTuple rather than a dataclass: tens of thousands are made per second.
    """

    line: int
    client: str
    client_ref: str
    debtor_name: str
    debtor_kind: str  # person | company
    country: str  # ISO 3166 alpha-2
    phones: tuple[str, ...]  # as written, split and de-duplicated; parsed per case
    address: str | None
    currency: str
    principal: int
    fees: int
    interest: int
    balance: int  # the row's open amount: its balance, else principal + fees + interest
    due_date: date
    placed_date: date | None
    risk_grade: str | None
    invoice_no: str | None
    issue_date: date | None = None  # the invoice's; only with an invoice_no


@dataclass(frozen=True)
class _Layout:
    """Where each canonical column sits in the file's records."""

    header: list[str]
    index: dict[str, int]
    phones: tuple[int, ...]


# --- values -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from babel import Locale

    # CLDR territories less its groupings and private-use codes; XK (Kosovo) is in common use.
    pseudo = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
    return frozenset(
        code
        for code in Locale.parse("en").territories
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in pseudo
    )


def _country_code(text: str) -> str | None:
    code = text.strip().upper()
    if code == "UK":  # ISO reserves UK for GB, and people write it
        return "GB"
    return code if code in _countries() else None


def _too_long(column: str) -> BadValue:
    return BadValue(
        _("{column} is longer than {limit} characters").format(
            column=column, limit=_MAX_LENGTHS[column]
        )
    )


# --- rows ---------------------------------------------------------------------------------------


class _RowParser:
    """Turns one record into a PlacementRow; caches the values that repeat down a file.

    Written for speed (it runs for every row): column positions live in attributes, a column the
    file lacks points at an empty field appended to every record, and the common case of each
    value is checked inline before any slower path.
    """

    def __init__(
        self,
        layout: _Layout,
        amounts: Amounts,
        client: str | None,
        country: str | None,
        currency: str | None,
        allow_zero_balance: bool = False,
    ) -> None:
        self.header = layout.header
        self.width = width = len(layout.header)
        positions = {column: layout.index.get(column, width) for column in _ALIASES}
        self.names = {
            column: layout.header[at] if at < width else column for column, at in positions.items()
        }
        self.at = positions
        self.phone_columns = layout.phones
        self.default_client = client
        self.default_country = country
        self.default_currency = currency
        self.amounts = amounts
        self.allow_zero_balance = allow_zero_balance
        self.dates: dict[str, date] = {}
        self.currencies: dict[str, CurrencyDigits] = {}
        self.countries: dict[str, str] = {}
        self.grades: dict[str, str] = {}

    def case_key(self, fields: list[str]) -> tuple[str, str] | None:
        """client + client_ref of a bad row, as far as they can be read (to reject its case)."""
        fields = [*fields[: self.width], *[""] * (self.width + 1 - len(fields))]
        client = fields[self.at["client"]].strip() or self.default_client
        client_ref = fields[self.at["client_ref"]].strip()
        return (client, client_ref) if client and client_ref else None

    def _date(self, text: str, column: str) -> date:
        value = parse_date(text)
        if value is None:
            raise bad_value("date", text, self.names[column], _("use YYYY-MM-DD"))
        self.dates[text] = value
        return value

    def _currency(self, text: str) -> CurrencyDigits:
        try:
            code = normalize_currency(text)
        except MoneyError:
            raise BadValue(_("unknown currency '{value}'").format(value=shortened(text))) from None
        digits = minor_digits(code)
        value = self.currencies[text] = CurrencyDigits(code, digits, 10**digits)
        return value

    def _country(self, text: str) -> str:
        value = _country_code(text)
        if value is None:
            raise BadValue(
                _("unknown country '{value}' (use an ISO 3166 code like CN)").format(
                    value=shortened(text)
                )
            )
        self.countries[text] = value
        return value

    def _grade(self, text: str) -> str:
        upper = text.upper()
        if not _GRADE.fullmatch(upper):
            raise bad_value(
                "risk_grade", text, self.names["risk_grade"], _("use A to E or a number")
            )
        self.grades[text] = upper
        return upper

    def __call__(self, line: int, fields: list[str]) -> PlacementRow:
        width = self.width
        count = len(fields)
        if count != width:
            if count > width:
                if "".join(fields[width:]).strip():
                    raise BadValue(
                        _(
                            "{count} fields but the header has {width}"
                            " (a value containing the delimiter needs quotes)"
                        ).format(count=count, width=width)
                    )
                del fields[width:]
            else:
                fields.extend([""] * (width - count))
        fields.append("")  # what a column missing from the file reads as
        at = self.at
        names = self.names

        client = fields[at["client"]].strip()
        if not client:
            if self.default_client is None:
                raise BadValue(_("missing client"))
            client = self.default_client
        elif self.default_client is not None and client != self.default_client:
            raise BadValue(
                _("client '{client}' is not the one given ({given})").format(
                    client=shortened(client), given=self.default_client
                )
            )
        elif len(client) > _MAX_LENGTHS["client"]:
            raise _too_long("client")
        client_ref = fields[at["client_ref"]].strip()
        if not client_ref:
            raise BadValue(_("missing client_ref"))
        if len(client_ref) > _MAX_LENGTHS["client_ref"]:
            raise _too_long("client_ref")
        debtor_name = fields[at["debtor_name"]].strip()
        if not debtor_name:
            raise BadValue(_("missing debtor_name"))
        if len(debtor_name) > _MAX_LENGTHS["debtor_name"]:
            raise _too_long("debtor_name")

        text = fields[at["debtor_type"]].strip()
        if text:
            kind = _DEBTOR_KINDS.get(text.lower())
            if kind is None:
                raise bad_value("debtor_type", text, names["debtor_type"], _("person or company"))
        else:
            kind = "person"

        text = fields[at["country"]].strip()
        if text:
            country = self.countries.get(text) or self._country(text)
        elif self.default_country is not None:
            country = self.default_country
        else:
            raise BadValue(_("missing country"))

        text = fields[at["currency"]].strip() or self.default_currency or ""
        if not text:
            raise BadValue(_("missing currency"))
        currency = self.currencies.get(text) or self._currency(text)

        amount = self.amounts
        principal_text = fields[at["principal"]].strip()
        balance_text = fields[at["balance"]].strip()
        principal = (
            amount(principal_text, currency, names["principal"], line) if principal_text else None
        )
        text = fields[at["fees"]].strip()
        fees = amount(text, currency, names["fees"], line) if text else 0
        text = fields[at["interest"]].strip()
        interest = amount(text, currency, names["interest"], line) if text else 0
        if balance_text:
            balance = amount(balance_text, currency, names["balance"], line)
            if principal is None:
                principal = balance
        elif principal is None:
            raise BadValue(_("missing principal or balance"))
        else:
            balance = principal + fees + interest
            if balance > MAX_MINOR:
                raise BadValue(_("principal + fees + interest is too large"))
        if balance == 0 and not self.allow_zero_balance:
            raise BadValue(_("the balance is zero: nothing to collect"))

        text = fields[at["due_date"]].strip()
        if not text:
            raise BadValue(_("missing due_date"))
        due_date = self.dates.get(text) or self._date(text, "due_date")
        text = fields[at["placed_date"]].strip()
        placed_date = (self.dates.get(text) or self._date(text, "placed_date")) if text else None

        phones: tuple[str, ...] = ()
        for position in self.phone_columns:
            text = fields[position].strip()
            if not text:
                continue
            if _PHONE_SEPARATORS.isdisjoint(text):
                parts: Sequence[str] = (text,)
            else:
                parts = [part.strip() for part in _PHONE_SPLIT.split(text) if part.strip()]
            for part in parts:
                if len(part) > _MAX_LENGTHS["phone"]:
                    raise _too_long("phone")
                if part not in phones:
                    phones = (*phones, part)

        address = fields[at["address"]].strip() or None
        if address is not None and len(address) > _MAX_LENGTHS["address"]:
            raise _too_long("address")
        text = fields[at["risk_grade"]].strip()
        risk_grade = (self.grades.get(text) or self._grade(text)) if text else None
        invoice_no = fields[at["invoice_no"]].strip() or None
        if invoice_no is not None and len(invoice_no) > _MAX_LENGTHS["invoice_no"]:
            raise _too_long("invoice_no")
        text = fields[at["issue_date"]].strip()
        issue_date = None
        if text:
            issue_date = self.dates.get(text) or self._date(text, "issue_date")
            if invoice_no is None:
                # The date belongs to an invoice: without one it would be read and then lost.
                raise BadValue(
                    _("{column} without an invoice_no: it dates an invoice").format(
                        column=names["issue_date"]
                    )
                )
            if issue_date > due_date:
                raise BadValue(
                    _("{column} {issued} is after the due date {due}").format(
                        column=names["issue_date"],
                        issued=issue_date.isoformat(),
                        due=due_date.isoformat(),
                    )
                )

        return PlacementRow(
            line,
            client,
            client_ref,
            debtor_name,
            kind,
            country,
            phones,
            address,
            currency.code,
            principal,
            fees,
            interest,
            balance,
            due_date,
            placed_date,
            risk_grade,
            invoice_no,
            issue_date,
        )


# --- parsing a chunk of records (in a worker process, or in-process for a small file) -------------


class RowConfig(NamedTuple):
    """What a worker needs to parse rows: the file's layout and the import's defaults."""

    layout: _Layout
    decimal: str
    decimal_chosen: bool
    client: str | None
    country: str | None
    currency: str | None
    allow_zero_balance: bool
    # The importing process's language: a spawned worker starts in English, and the reasons it
    # words for bad rows are read by the person who imports (and in the rejects file).
    language: str = i18n.ENGLISH


class BadRow(NamedTuple):
    """A refused row: its line, the reason, and its case (client, client_ref) as far as read."""

    line: int
    reason: str
    key: tuple[str, str] | None


class ChunkResult(NamedTuple):
    """One chunk of records parsed: its rows in line order (blank lines left out), the phones
    first parsed here, and what its amounts showed about the decimal mark (for Amounts.verdict,
    merged in chunk order, which is line order)."""

    rows: list[PlacementRow | BadRow]
    data_rows: int
    phones: dict[tuple[str, str], ParsedPhone]
    shown: dict[str, tuple[int, str]]
    ambiguous: tuple[int, str, tuple[str, str]] | None


# A worker process parses the chunks of one file (the pool lives as long as one import), so
# the numbers it has seen are kept here for the file: a number repeated down the file (a
# company's switchboard, a guarantor on many debts) is parsed once per worker, and sent back
# once (the importer merges what every worker sent).
_WORKER_PHONES: dict[tuple[str, str], ParsedPhone] = {}
_WORKER_PHONES_MAX = 200_000


def parse_chunk(
    config: RowConfig,
    records: list[tuple[int, list[str]]],
    seen: dict[tuple[str, str], ParsedPhone] | None = None,
) -> ChunkResult:
    """Parse and validate `records` ((line, fields) as csv_records gives them) and parse each
    good row's phones in its row's country.

    Module-level and free of any database: run by a process pool's workers (spawned) as well as
    in-process. `seen` is the caller's cache of numbers already parsed (in-process); a worker
    uses its own (_WORKER_PHONES). Only numbers not in the cache are parsed and returned.
    """
    cache = _WORKER_PHONES if seen is None else seen
    if config.language != i18n.current_language():
        i18n.set_language(config.language)  # a worker process: word its reasons as asked
    amounts = Amounts(config.decimal, config.decimal_chosen)
    parse_row = _RowParser(
        config.layout,
        amounts,
        config.client,
        config.country,
        config.currency,
        config.allow_zero_balance,
    )
    rows: list[PlacementRow | BadRow] = []
    fresh: dict[tuple[str, str], ParsedPhone] = {}
    data_rows = 0
    for line, fields in records:
        if is_blank(fields):
            continue  # blank lines, trailing ones above all, are nobody's mistake
        data_rows += 1
        try:
            row = parse_row(line, fields)
        except BadValue as problem:
            rows.append(BadRow(line, str(problem), parse_row.case_key(fields)))
            continue
        rows.append(row)
        country = row.country
        for text in row.phones:
            key = (text, country)
            if key not in cache:
                parsed = fresh[key] = parse_phone(text, country)
                if len(cache) < _WORKER_PHONES_MAX:
                    cache[key] = parsed
    return ChunkResult(rows, data_rows, fresh, amounts.shown, amounts.ambiguous)
