"""The one display helper: stored text is shown literally, controls become visible placeholders."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from collector_tui.display import first_line, printable, safe_text


def test_escape_sequences_and_controls_become_visible_placeholders() -> None:
    assert printable("Evil\x1b[31mRed\x1b[0m") == "Evil␛[31mRed␛[0m"
    assert printable("a\x00b\x07c\x7fd") == "a␀b␇c␡d"
    assert printable("c1\x9bcsi") == "c1<U+009B>csi"
    assert printable("bell\rreturn") == "bell␍return"


def test_bidi_overrides_and_isolates_are_shown_not_obeyed() -> None:
    # "gpj.exe" spoofing: U+202E would make the name read backwards.
    assert printable("invoice\u202egpj.exe") == "invoice<U+202E>gpj.exe"
    for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)):
        assert printable(f"x{chr(code)}y") == f"x<U+{code:04X}>y"


def test_newlines_are_kept_only_when_asked() -> None:
    assert printable("one\ntwo") == "one␤two"
    assert printable("one\r\ntwo\tthree", multiline=True) == "one\ntwo    three"
    assert printable("line\u2028sep") == "line<U+2028>sep"


def test_ordinary_text_of_any_script_is_untouched() -> None:
    for text in ("王小明", "Zoë O'Brien", "محمد", "[bold]X[/]", "emoji 👍", "x[/oops]"):
        assert printable(text) == text


def test_safe_text_is_never_markup() -> None:
    for name in ("[bold]X[/]", "x[/oops]", "[@click=app.quit]Click", "[link=http://x]y[/link]"):
        text = safe_text(name)
        assert isinstance(text, Text)
        assert text.plain == name
        assert not text.spans  # no style came from the content
    console = Console(width=40, record=True, color_system=None)
    console.print(safe_text("x[/oops] \x1b[31mred"))
    assert console.export_text().rstrip("\n") == "x[/oops] ␛[31mred"


def test_safe_text_marks_placeholders_so_they_stand_out() -> None:
    text = safe_text("a\x1bb")
    assert text.plain == "a␛b"
    assert [(span.start, span.end) for span in text.spans] == [(1, 2)]


def test_first_line_cuts_to_width_counting_wide_characters() -> None:
    note = "客户说下周一还款，工资发放后。\nSecond line"
    cut = first_line(note, 12)
    assert cut.plain == "客户说下周…"
    assert cell_len(cut.plain) <= 12
    assert first_line("short", 20).plain == "short"
    assert first_line("first\nsecond", 20).plain == "first…"  # more lines follow
    assert first_line("\n\n  \nreal start\n", 20).plain == "real start"
    assert first_line(None, 10).plain == ""


def test_first_line_never_splits_a_placeholder() -> None:
    cut = first_line("ab\u202ecdef", 6)
    assert cut.plain in {"ab…", "ab<U+202E>…"}
    assert cell_len(cut.plain) <= 6
