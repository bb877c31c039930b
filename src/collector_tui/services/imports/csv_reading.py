"""Reading a CSV file from a client or a bank: the toolkit placements and payments share.

Decoding (a byte order mark decides; otherwise strict UTF-8 first, since GB18030 reads UTF-8 Chinese
as mojibake without an error; cp1252, cp932 or GB18030 only when the text shows which), the
delimiter sniffed from the header line, records with their line numbers, header keys, dates, and
amounts read with the file's decimal mark (`Amounts`), each refusal worded for one line of stderr or
a rejects file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.money import (
    DECIMAL_MARKS,
    MAX_MINOR,
    AmbiguousAmount,
    MoneyError,
    NotAnAmount,
    amount_field_mark,
    parse_amount_field,
)
from collector_tui.services.errors import ServiceError

_HEADER_JUNK = re.compile(r"[\s\-./]+")
_FIRST_YEAR, _LAST_YEAR = 1900, 2199  # outside this a date is a typo ("0226-01-31")
_ISO_LIKE = re.compile(r"([0-9]{4})([-/])([0-9]{1,2})\2([0-9]{1,2})")


_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


_MAX_AMOUNT_CHARS = 40


@dataclass(frozen=True)
class RowError:
    """A refused row: `line` as a spreadsheet numbers it (the header is line 1)."""

    line: int
    reason: str


class FileReadingError(ServiceError):
    """A file that cannot be read until told how (its decimal mark, its encoding). `problem` says
    why; the message adds what to say on the command line, which a form replaces with its own."""

    def __init__(self, problem: str, advice: str, *, field: str) -> None:
        super().__init__(
            _("{problem}: {advice}").format(problem=problem, advice=advice), field=field
        )
        self.problem = problem


class BadValue(Exception):
    """A row's first problem; becomes a RowError."""


def decode_file(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding) of a CSV file: `encoding` when given, else what the bytes show
    (docs/decisions.md, placement files)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ServiceError(
            _("cannot read {path}: {reason}").format(path=path, reason=error.strerror or error)
        ) from error
    if encoding is not None:
        return _decode_as(path, data, encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data:
        raise ServiceError(
            _(
                "{name} is not a text CSV file (UTF-16 without a byte order mark? save it as UTF-8)"
            ).format(name=path.name)
        )
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            guessed = _guess_encoding(data)
        if guessed is None:
            raise FileReadingError(
                _("could not tell the encoding of {name} (it is not UTF-8)").format(name=path.name),
                _("say --encoding NAME (e.g. gb18030, cp1252, shift_jis)"),
                field="encoding",
            )
        return guessed
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ServiceError(
            _("{name} is not UTF-8, UTF-16 or GBK text (bad bytes at offset {offset})").format(
                name=path.name, offset=error.start
            )
        ) from error
    return text, encoding


def check_encoding(name: str) -> str:
    """The codec's canonical name ("Shift-JIS" -> "shift_jis"), or ServiceError for a name that
    is no text encoding Python knows."""
    shown = shortened(name)
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):
        raise ServiceError(
            _("unknown encoding '{name}'").format(name=shown), field="encoding"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise ServiceError(_("unknown encoding '{name}'").format(name=shown), field="encoding")
    return info.name


def _decode_as(path: Path, data: bytes, encoding: str) -> tuple[str, str]:
    name = check_encoding(encoding)
    try:
        text = data.decode("utf-8-sig" if name == "utf-8" else name)
    except UnicodeDecodeError as error:
        raise ServiceError(
            _("{name} is not {encoding} text (bad bytes at offset {offset})").format(
                name=path.name, encoding=name, offset=error.start
            ),
            field="encoding",
        ) from error
    return text.removeprefix("\ufeff"), name


# Not UTF-8 and no byte order mark: what a spreadsheet in Western Europe or the Americas (cp1252,
# which reads Latin-1 text the same), in Japan (cp932, Windows' Shift-JIS) or in China (GB18030,
# which reads GBK) writes. These decode each other's bytes without an error more often than not
# ("Renée" as GB18030 is "Ren閑"), so an error-free decoding proves nothing.
_GUESSES = ("cp1252", "cp932", "gb18030")


_SAMPLE_CHARS = 200_000  # enough text to judge; a 50k-row file is not scored character by character


_GOOD_ENOUGH = 0.8  # share of plausible characters the winner needs


_MARGIN = 0.3  # by how much it must beat the runner-up


_WESTERN_SIGNS = frozenset("“”‘’‚„–—…€£¥¢§©®™°±×÷·•«»¿¡\xa0")


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _guess_encoding(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) when exactly one of _GUESSES reads `data` as plausible text, else None.

    charset-normalizer rules out decodings it finds chaotic (control characters, symbol soup); on
    what is left, the characters of each decoding are scored for what real files of that script
    hold: accented letters inside Latin words for cp1252, common hanzi (GB2312 level 1) for
    GB18030, kana and level-1 kanji for cp932. A name or two in a file is too little text for
    charset-normalizer's own language scores, which is why the scoring is done here.
    """
    from charset_normalizer import from_bytes

    scored: list[tuple[float, str, str]] = []
    for name in _GUESSES:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if from_bytes(data, cp_isolation=[name], enable_fallback=False).best() is None:
            continue
        scored.append((_plausibility(name, text[:_SAMPLE_CHARS]), name, text))
    scored.sort(reverse=True)
    if not scored or scored[0][0] < _GOOD_ENOUGH:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < _MARGIN:
        return None
    _, name, text = scored[0]
    return text, name


def _plausibility(encoding: str, text: str) -> float:
    """Share (0-1) of the non-ASCII characters of `text` that look like real text in `encoding`."""
    total = 0
    score = 0.0
    for run in _NON_ASCII_RUN.finditer(text):
        chars = run.group()
        total += len(chars)
        if encoding == "cp1252":
            before = text[run.start() - 1 : run.start()]
            after = text[run.end() : run.end() + 1]
            in_word = (before.isascii() and before.isalpha()) or (
                after.isascii() and after.isalpha()
            )
            for char in chars:
                if char.isalpha():
                    # "Müller", "Søren Ærø": a letter or two inside a Latin word; "ÕÅÎ°" is GBK.
                    score += 1.0 if in_word and len(chars) <= 2 else 0.2
                elif char in _WESTERN_SIGNS and len(chars) == 1:
                    score += 1.0
        else:
            weight = _gb_weight if encoding == "gb18030" else _cp932_weight
            score += sum(weight(char) for char in chars)
    return score / total if total else 0.0


@lru_cache(maxsize=8192)
def _gb_weight(char: str) -> float:
    try:
        lead = char.encode("gb2312")[0]
    except UnicodeEncodeError:
        return 0.4 if unicodedata.name(char, "").startswith("CJK UNIFIED") else 0.0
    if 0xB0 <= lead <= 0xD7 or 0xA1 <= lead <= 0xA3:  # level-1 hanzi; punctuation, full-width
        return 1.0
    return 0.7 if 0xD8 <= lead <= 0xF7 else 0.0  # level-2 hanzi; kana, Greek, box drawing


@lru_cache(maxsize=8192)
def _cp932_weight(char: str) -> float:
    if "\u3041" <= char <= "\u30ff":  # hiragana, katakana
        return 1.0
    if "\uff61" <= char <= "\uff9f":  # half-width katakana: banks use it, GBK read as cp932 too
        return 0.5
    raw = char.encode("cp932")
    if len(raw) != 2:
        return 0.0
    lead, trail = raw
    if lead in (0x81, 0x82) or 0x88 <= lead <= 0x97 or (lead == 0x98 and trail <= 0x72):
        return 1.0  # punctuation, full-width letters and digits, level-1 kanji
    return 0.6 if 0x98 <= lead <= 0x9F or 0xE0 <= lead <= 0xEA else 0.0  # level-2 kanji


def sniff_delimiter(text: str) -> str:
    """The commonest of comma, semicolon and tab on the first non-blank line."""
    stripped = text.lstrip("\r\n\ufeff")
    first = re.split(r"[\r\n]", stripped, maxsplit=1)[0]
    counts = {delimiter: first.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) per record; a blank line is a record too, as in a spreadsheet."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    try:
        for fields in reader:
            line += 1
            yield line, fields
    except csv.Error as error:
        raise ServiceError(
            _("line {line}: unreadable CSV ({error})").format(line=line + 1, error=error)
        ) from error


def is_blank(fields: list[str]) -> bool:
    return not "".join(fields).strip()


def header_key(text: str) -> str:
    return _HEADER_JUNK.sub("_", text.strip().lstrip("\ufeff").lower()).strip("_")


def shortened(text: str, limit: int = 32) -> str:
    # Reasons go to a terminal and a rejects file: one line, no control characters.
    text = " ".join(text.split())
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What `bad_value` calls a value of each kind: the file's own column (its header) is named beside.
_KINDS = {"amount": N_("amount"), "date": N_("date")}


def bad_value(kind: str, value: str, header: str, detail: str | None = None) -> BadValue:
    """ "bad amount '12,3x'", naming the file's column when it is not called like the kind.

    Worded in the current language here, where a bad row is found: only bad rows pay for it."""
    named = _KINDS.get(kind)
    what = str(named) if named is not None else kind
    shown = shortened(value)
    if header_key(header) == kind:
        if detail:
            message = _("bad {kind} '{value}': {detail}").format(
                kind=what, value=shown, detail=detail
            )
        else:
            message = _("bad {kind} '{value}'").format(kind=what, value=shown)
    elif detail:
        message = _("bad {kind} '{value}' ({column}): {detail}").format(
            kind=what, value=shown, column=shortened(header), detail=detail
        )
    else:
        message = _("bad {kind} '{value}' ({column})").format(
            kind=what, value=shown, column=shortened(header)
        )
    return BadValue(message)


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD, YYYY/MM/DD (also without leading zeros, as Excel writes them) or DD.MM.YYYY."""
    match = _ISO_LIKE.fullmatch(text)
    if match:
        year, month, day = int(match.group(1)), int(match.group(3)), int(match.group(4))
    else:
        match = _DOTTED.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.groups())
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


class CurrencyDigits(NamedTuple):
    code: str
    digits: int
    scale: int  # 10 ** digits


class Amounts:
    """Reads the amounts of one file with one rule for the decimal mark (money.parse_amount_field)
    and remembers what the file shows about that mark, for `verdict` once every row is read.

    `decimal` is "point", "comma" or "auto" (each amount read only when its text settles it). An
    amount that reads two ways, or a file that writes decimals both ways, refuses the whole file:
    no row can be trusted when the file's own convention is unknown.
    """

    def __init__(self, decimal: str, chosen: bool) -> None:
        self.decimal = decimal
        self.chosen = chosen  # given by the user, not the default for the file's delimiter
        self.ambiguous: tuple[int, str, tuple[str, str]] | None = (
            None  # first: line, text, readings
        )
        self.shown: dict[
            str, tuple[int, str]
        ] = {}  # decimal mark -> first line and text showing it

    def __call__(self, text: str, currency: CurrencyDigits, header: str, line: int) -> int:
        """Minor units of `text`; the common "1234.50" in plain Python, without a Money made."""
        units, dot, fraction = text.partition(".")
        if (
            units.isdigit()
            and units.isascii()
            and len(text) <= _MAX_AMOUNT_CHARS
            and len(fraction) <= currency.digits
            and (not dot or (fraction.isdigit() and fraction.isascii()))
            and (
                not dot or self.decimal == "point" or self._plain_point(units, fraction, line, text)
            )
        ):
            minor = int(units) * currency.scale
            if fraction:
                minor += int(fraction) * 10 ** (currency.digits - len(fraction))
            if minor > MAX_MINOR:
                raise bad_value("amount", text, header, _("too large"))
            return minor
        return self._slowly(text, currency, header, line)

    def _plain_point(self, units: str, fraction: str, line: int, text: str) -> bool:
        # "12.50" read in "auto": a point that only a decimal point can be; "1.500" (a KWD amount
        # or fifteen hundred) goes the slow way, to be refused.
        if self.decimal == "comma" or (len(fraction) == 3 and len(units) <= 3 and units[0] != "0"):
            return False
        if "." not in self.shown:
            self.shown["."] = (line, text)
        return True

    def _slowly(self, text: str, currency: CurrencyDigits, header: str, line: int) -> int:
        try:
            money, mark = parse_amount_field(text, currency.code, decimal=self.decimal)
        except AmbiguousAmount as error:
            if self.ambiguous is None:
                self.ambiguous = (line, text, error.readings)
            raise bad_value("amount", text, header, _("reads two ways")) from None
        except NotAnAmount as error:
            detail = str(error) if error.reason else None
            if detail is not None and "," in text and self.decimal == "point" and not self.chosen:
                detail = _("{detail} (a decimal comma? say --decimal-comma)").format(detail=detail)
            raise bad_value("amount", text, header, detail) from None
        except MoneyError as error:
            raise bad_value("amount", text, header, money_detail(str(error))) from None
        if mark is not None and mark not in self.shown:
            self.shown[mark] = (line, text)
        return money.minor

    def note(self, text: str, line: int) -> None:
        """Learn what `text` shows about the decimal mark without reading it in a currency."""
        try:
            mark = amount_field_mark(text, self.decimal)
        except AmbiguousAmount as error:
            if self.ambiguous is None:
                self.ambiguous = (line, text, error.readings)
            return
        except MoneyError:
            return  # the row is refused for it when its amount is read
        if mark is not None and mark not in self.shown:
            self.shown[mark] = (line, text)

    def verdict(self, name: str) -> None:
        """ServiceError when the file's amounts cannot be read one way (see the class)."""
        options = _("say --decimal-point or --decimal-comma")
        if self.ambiguous is not None:
            line, text, (one, other) = self.ambiguous
            raise FileReadingError(
                _(
                    "{name}: the amount '{text}' on line {line} reads two ways ({one} or {other})"
                ).format(name=name, text=shortened(text), line=line, one=one, other=other),
                options,
                field="decimal",
            )
        if len(self.shown) == 2:
            (first_line, first), (second_line, second) = sorted(self.shown.values())
            if self.shown.get(".") == (first_line, first):
                message = _(
                    "{name} writes decimals both ways: '{first}' on line {first_line} with a"
                    " decimal point, '{second}' on line {second_line} with a decimal comma"
                )
            else:
                message = _(
                    "{name} writes decimals both ways: '{first}' on line {first_line} with a"
                    " decimal comma, '{second}' on line {second_line} with a decimal point"
                )
            raise FileReadingError(
                message.format(
                    name=name,
                    first=shortened(first),
                    first_line=first_line,
                    second=shortened(second),
                    second_line=second_line,
                ),
                options,
                field="decimal",
            )


def money_detail(message: str) -> str:
    """money's message as the detail of "bad amount '…' (column): …", not repeating the value."""
    detail = re.sub(r'^".*?" ', "", message)
    if detail == "amount is too large":
        return _("too large")
    if detail == "amount must not be negative":
        return _("must not be negative")
    return detail


def decimal_mode(decimal: str | None, delimiter: str) -> tuple[str, bool]:
    """(mode, chosen): the user's "point"/"comma", else the default for the file's delimiter.

    A comma-separated file is what Excel writes where the decimal mark is a point, and its
    grouped amounts come quoted ("12,500.00"), so a point it is. A semicolon-separated file is
    what it writes where the decimal mark is a comma, and a tab-separated file can be either:
    there each amount is read only when it says which ("auto").
    """
    if decimal is not None and decimal != "auto":
        if decimal not in DECIMAL_MARKS:
            raise ServiceError(
                _("decimal must be point or comma, not '{value}'").format(value=shortened(decimal)),
                field="decimal",
            )
        return decimal, True
    return ("point" if delimiter == "," else "auto"), False
