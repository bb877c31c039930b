"""delivery/pdf.py: Latin and Chinese text extract back intact (CID font, and an embedded
TrueType font when one is installed); markup in the text prints literally; the same document
gives the same bytes; a print batch keeps every page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from collector_tui.delivery.pdf import (
    AddressBlock,
    Document,
    Heading,
    Para,
    TableBlock,
    print_batch,
    render_pdf,
    render_pdfs,
)

DOCUMENT = Document(
    title="还款提醒 Payment reminder",
    blocks=(
        AddressBlock(
            ("Acme Recoveries", "1 Main Street"),
            ("张伟", "上海市浦东新区世纪大道100号"),
            "2026年11月20日",
        ),
        Heading("账单明细 <b>Invoices</b>"),
        Para("尊敬的张伟：您的欠款余额为¥1,234.50。Dear café owner, 7 < 8 & <i>x</i> {{ 7*7 }}"),
        TableBlock((("账单号", "金额"), ("发票-001", "¥1,234.50")), numeric=(1,)),
    ),
)
# TrueType fonts with Chinese that Debian packages put here (.ci/run installs the first).
TRUETYPE_CJK = [
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
]


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name -> whether its file is embedded."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"]["/Font"]
        for reference in fonts.values():
            font = reference.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            found[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    return found


def _check_text(pdf: bytes) -> None:
    text = _text(pdf)
    for expected in (
        "还款提醒 Payment reminder",
        "张伟",
        "上海市浦东新区世纪大道100号",
        "账单明细 <b>Invoices</b>",
        "尊敬的张伟：您的欠款余额为¥1,234.50。Dear café owner, 7 < 8 & <i>x</i> {{ 7*7 }}",
        "发票-001",
    ):
        assert expected in text, expected


def test_cid_font_text_extracts_intact_and_is_stable() -> None:
    pdf = render_pdf(DOCUMENT)
    _check_text(pdf)
    assert render_pdf(DOCUMENT) == pdf
    fonts = _fonts(pdf)
    assert fonts.get("/STSong-Light") is False  # the reader's own Chinese font draws it


@pytest.mark.skipif(
    not any(path.exists() for path in TRUETYPE_CJK),
    reason="no TrueType Chinese font installed (Debian: fonts-wqy-microhei)",
)
def test_embedded_truetype_font() -> None:
    font = next(str(path) for path in TRUETYPE_CJK if path.exists())
    pdf = render_pdf(DOCUMENT, font_file=font)
    _check_text(pdf)
    embedded = [name for name, is_embedded in _fonts(pdf).items() if is_embedded]
    assert embedded and "/STSong-Light" not in _fonts(pdf)


def test_unusable_font_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(ValueError, match="letter font"):
        render_pdf(DOCUMENT, font_file=str(bad))
    with pytest.raises(ValueError, match="letter font"):
        render_pdf(DOCUMENT, font_file=str(tmp_path / "missing.ttf"))
    # A send run's failure reason and the command line show it: in the reader's language.
    from collector_tui.i18n import language

    with language("zh_CN"), pytest.raises(ValueError, match="^信函字体 .*bad.ttf："):
        render_pdf(DOCUMENT, font_file=str(bad))


def test_several_documents_and_a_print_batch() -> None:
    second = Document(title="Second letter", blocks=(Para("Dear Ms Jones"),), landscape=True)
    both = render_pdfs([DOCUMENT, second])
    assert len(PdfReader(io.BytesIO(both)).pages) == 2
    batch = print_batch([render_pdf(DOCUMENT), render_pdf(second), render_pdf(DOCUMENT)])
    reader = PdfReader(io.BytesIO(batch))
    assert len(reader.pages) == 3
    assert "Dear Ms Jones" in reader.pages[1].extract_text()
    assert "张伟" in reader.pages[2].extract_text()
    from collector_tui.i18n import language

    with pytest.raises(ValueError, match="no letters to print"):
        print_batch([])
    with language("zh_CN"), pytest.raises(ValueError, match="^没有要生成的文件$"):
        render_pdfs([])
