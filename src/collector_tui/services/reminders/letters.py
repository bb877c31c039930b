"""A rendered letter as PDF: the agency's and the debtor's addresses, the date, then the
template's text, read as headings ("# "), tables (lines starting with "|") and paragraphs.

Text a template printed from data had its `#`, `|` and `\\` escaped (templates.py), so a
debtor's name never starts a heading or splits a table cell; the escapes are undone here.
"""

from __future__ import annotations

import re

from collector_tui.delivery.pdf import (
    AddressBlock,
    Block,
    Document,
    Heading,
    Para,
    TableBlock,
    render_pdf,
)
from collector_tui.services.reminders.fields import ReminderFields
from collector_tui.services.reminders.templates import RenderedReminder

__all__ = ["letter_document", "letter_pdf"]

_CELL_SPLIT = re.compile(r"(?<!\\)((?:\\\\)*)\|")
_ESCAPE = re.compile(r"\\(.)")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def _cells(line: str) -> tuple[str, ...]:
    # Split on the bars that are not escaped (an even run of backslashes before a bar is text).
    parts: list[str] = []
    start = 0
    for match in _CELL_SPLIT.finditer(line):
        parts.append(line[start : match.end() - 1])
        start = match.end()
    parts.append(line[start:])
    cells = [_unescape(part).strip() for part in parts]
    # "| a | b |": the empty text before the first bar and after the last is no cell.
    if cells and not cells[0]:
        cells = cells[1:]
    if cells and not cells[-1] and line.rstrip().endswith("|"):
        cells = cells[:-1]
    return tuple(cells)


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    rows: list[tuple[str, ...]] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Para("\n".join(paragraph)))
            paragraph.clear()
        if rows:
            # A table whose first row is all text and whose other rows end in amounts: the
            # last column is right-aligned.
            width = max(len(row) for row in rows)
            header = len(rows) > 1 and not any(ch.isdigit() for cell in rows[0] for ch in cell)
            blocks.append(TableBlock(tuple(rows), header=header, numeric=(width - 1,)))
            rows.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("# "):
            flush()
            blocks.append(Heading(_unescape(stripped[2:].strip())))
        elif stripped.startswith("|"):
            if paragraph:
                flush()
            rows.append(_cells(stripped))
        else:
            if rows:
                flush()
            paragraph.append(_unescape(stripped))
    flush()
    return blocks


def letter_document(rendered: RenderedReminder, fields: ReminderFields) -> Document:
    sender = (
        fields.agency_name,
        *fields.agency_address_lines,
        *((fields.agency_phone,) if fields.agency_phone else ()),
    )
    recipient = (fields.debtor_name, *fields.debtor_address.splitlines())
    return Document(
        title=rendered.subject,
        blocks=(AddressBlock(sender, recipient, fields.today), *_blocks(rendered.text)),
        author=fields.agency_name,
    )


def letter_pdf(
    rendered: RenderedReminder, fields: ReminderFields, *, font_file: str | None = None
) -> bytes:
    """The letter as a PDF (the same letter gives the same bytes). `font_file`: config
    `[delivery] letter_font`, a TrueType font embedded for the Chinese (delivery/pdf.py)."""
    if rendered.channel != "letter":
        raise ValueError(f"a {rendered.channel} reminder is not a letter")
    return render_pdf(letter_document(rendered, fields), font_file=font_file)
