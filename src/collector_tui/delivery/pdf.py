"""Letters and statements as PDF: a small document model and its rendering with ReportLab.

Latin text is set in Helvetica; any character Helvetica's encoding (cp1252) lacks, Chinese first
of all, is set in ReportLab's built-in CID font STSong-Light (Adobe-GB1): no font file is shipped
and the text extracts back as Unicode, but the font is not embedded, so the reader's machine
draws it with its own Chinese font (Acrobat, macOS, Windows and browsers have one; a bare Linux
box shows boxes). With `font_file` (config `[delivery] letter_font`, a TrueType .ttf/.ttc file
such as WenQuanYi Micro Hei or Noto Sans SC), that font is embedded instead, as a subset, and the
letter looks the same everywhere (docs/decisions.md, reminders). Every text is escaped
before ReportLab's paragraph markup sees it, so a name like `<b>` prints literally.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from collector_tui.i18n import gettext as _

__all__ = [
    "AddressBlock",
    "Block",
    "Document",
    "Heading",
    "Para",
    "TableBlock",
    "print_batch",
    "render_pdf",
    "render_pdfs",
]

LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
CJK_FONT = "STSong-Light"


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    small: bool = False


@dataclass(frozen=True)
class TableBlock:
    rows: tuple[tuple[str, ...], ...]
    header: bool = True
    # Columns (0-based) whose cells are right-aligned: amounts.
    numeric: tuple[int, ...] = ()


@dataclass(frozen=True)
class AddressBlock:
    """The sender (top right) and the recipient (left, where a window envelope shows it)."""

    sender: tuple[str, ...]
    recipient: tuple[str, ...]
    date_line: str = ""


Block = Heading | Para | TableBlock | AddressBlock


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    author: str = ""
    landscape: bool = False  # wide tables (a statement's eleven columns)


@lru_cache(maxsize=1)
def _cid_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


@lru_cache(maxsize=8)
def _embedded_font(path: str) -> str:
    name = "Embedded-" + hashlib.sha256(path.encode("utf-8")).hexdigest()[:12]
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    except (OSError, TTFError) as error:
        # An OpenType font with PostScript outlines (.otf) is not TrueType: ReportLab refuses it.
        # Read by a person (a send run's failure reason, the command line): through the catalog.
        raise ValueError(_("letter font {path}: {error}").format(path=path, error=error)) from None
    return name


def wide_font(font_file: str | None = None) -> str:
    """The font for text Helvetica cannot show: the TrueType file given, else the CID font."""
    return _embedded_font(font_file) if font_file else _cid_font()


def _latin(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def markup(text: str, *, bold: bool = False, wide: str = CJK_FONT) -> str:
    """`text` as ReportLab paragraph markup: escaped, and each run Helvetica cannot show put in
    the CID font. Control characters become spaces (they would reach the page as boxes)."""
    text = "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) else c for c in text)
    parts: list[str] = []
    run: list[str] = []
    run_latin = True

    def flush() -> None:
        if not run:
            return
        chunk = escape("".join(run))
        if run_latin:
            parts.append(f"<b>{chunk}</b>" if bold else chunk)
        else:
            parts.append(f'<font name="{wide}">{chunk}</font>')
        run.clear()

    for char in text:
        latin = _latin(char)
        if latin != run_latin and not char.isspace():
            flush()
            run_latin = latin
        run.append(char)
    flush()
    return "".join(parts)


def _styles() -> dict[str, ParagraphStyle]:
    # wordWrap "CJK" breaks between any two characters where needed: Chinese has no spaces.
    base = ParagraphStyle("body", fontName=LATIN_FONT, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "title": ParagraphStyle(
            "title", parent=base, fontName=LATIN_BOLD, fontSize=15, leading=20, spaceAfter=8
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=base,
            fontName=LATIN_BOLD,
            fontSize=11.5,
            leading=16,
            spaceBefore=8,
            spaceAfter=3,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "cell_right": ParagraphStyle(
            "cell_right", parent=base, fontSize=9, leading=12, alignment=2
        ),
        "right": ParagraphStyle("right", parent=base, alignment=2),
    }


def _flowables(document: Document, wide: str) -> list[Flowable]:
    styles = _styles()
    mk = partial(markup, wide=wide)
    story: list[Flowable] = []
    for block in document.blocks:
        if isinstance(block, AddressBlock):
            story.extend(_address(block, styles, mk))
    story.append(Paragraph(mk(document.title, bold=True), styles["title"]))
    for block in document.blocks:
        if isinstance(block, Heading):
            story.append(Paragraph(mk(block.text, bold=True), styles["heading"]))
        elif isinstance(block, Para):
            lines = block.text.split("\n")
            style = styles["small" if block.small else "body"]
            story.append(Paragraph("<br/>".join(mk(line) for line in lines), style))
            story.append(Spacer(1, 2 * mm))
        elif isinstance(block, TableBlock):
            story.append(_table(block, styles, mk))
            story.append(Spacer(1, 3 * mm))
    return story


def _address(
    block: AddressBlock, styles: dict[str, ParagraphStyle], mk: Callable[..., str]
) -> list[Flowable]:
    sender = Paragraph("<br/>".join(mk(line) for line in block.sender), styles["small"])
    recipient = Paragraph("<br/>".join(mk(line) for line in block.recipient), styles["body"])
    table = Table([[recipient, sender]], colWidths=[95 * mm, 75 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    items: list[Flowable] = [table, Spacer(1, 8 * mm)]
    if block.date_line:
        items += [Paragraph(mk(block.date_line), styles["right"]), Spacer(1, 4 * mm)]
    return items


def _table(
    block: TableBlock, styles: dict[str, ParagraphStyle], mk: Callable[..., str]
) -> Flowable:
    width = max((len(row) for row in block.rows), default=1)
    cells = [
        [
            Paragraph(
                mk(row[i] if i < len(row) else "", bold=block.header and r == 0),
                styles["cell_right" if i in block.numeric else "cell"],
            )
            for i in range(width)
        ]
        for r, row in enumerate(block.rows)
    ]
    table = Table(cells, repeatRows=1 if block.header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, colors.grey),
    ]
    if block.header:
        commands.append(("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black))
    table.setStyle(TableStyle(commands))
    return KeepTogether([table]) if len(block.rows) <= 12 else table


def _build(documents: Sequence[Document], font_file: str | None) -> bytes:
    wide = wide_font(font_file)
    buffer = io.BytesIO()
    first = documents[0]
    template = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4) if first.landscape else A4,
        leftMargin=22 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=first.title,
        author=first.author,
        creator="collector-tui",
        # The same letter gives the same bytes (no creation date or random id): its hash on
        # the timeline identifies it.
        invariant=1,
    )
    story: list[Flowable] = []
    for index, document in enumerate(documents):
        if index:
            story.append(PageBreak())
        story.extend(_flowables(document, wide))
    template.build(story)
    return buffer.getvalue()


def render_pdf(document: Document, *, font_file: str | None = None) -> bytes:
    """The document as PDF; `font_file` a TrueType font embedded for non-Latin text (else the
    CID font, not embedded). Raises ValueError for a font file ReportLab cannot use."""
    return _build([document], font_file)


def render_pdfs(documents: Sequence[Document], *, font_file: str | None = None) -> bytes:
    """Several documents in one PDF, each from a new page."""
    if not documents:
        raise ValueError(_("no documents to render"))
    return _build(documents, font_file)


def print_batch(pdfs: Iterable[bytes]) -> bytes:
    """One PDF of all the letters of a print run, in order, each exactly as it was rendered."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    count = 0
    for data in pdfs:
        writer.append(PdfReader(io.BytesIO(data)))
        count += 1
    if not count:
        raise ValueError(_("no letters to print"))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
