"""Showing stored text literally (docs/decisions.md, text on screen): the one way any string from
the database reaches a screen or a terminal.

Names and notes come from clients' files and from people typing; some of them will contain Rich
markup (`[bold]`, `[@click=app.quit]`), terminal escape sequences (`\\x1b[31m`) or bidi
overrides that make a line read backwards. Textual parses markup in a plain `str` given to a
DataTable cell, a `Static` or a `Label`, and lets ESC sequences through to the real terminal. So:

- `printable(text)` replaces every control character and every bidi control by a visible
  placeholder. C0 controls and DEL become their Unicode "control picture" (ESC -> "␛", NUL -> "␀",
  DEL -> "␡"), which keeps one cell per character. C1 controls (U+0080-U+009F: U+009B is a
  one-byte CSI to some terminals), the bidi overrides, embeddings and isolates (U+202A-U+202E,
  U+2066-U+2069), the bidi marks (U+200E, U+200F, U+061C), the invisible zero-width space, word
  joiner and byte order mark (U+200B, U+2060, U+FEFF) and the line/paragraph separators become
  "<U+XXXX>": there is no picture for them and an agent must be able to tell exactly what is in
  the record. (ZWJ and ZWNJ stay: emoji and Persian or Indic names need them.)
- `safe_text(text)` is `printable` wrapped in a `rich.text.Text`, which Textual never parses as
  markup; the placeholders are styled so they stand out from real text.
- `first_line(text, width)` is what lists show of a note: its first non-blank line, cut to `width`
  terminal cells (wide CJK characters count two) with an ellipsis when anything was left out.
- `json_text(value)` is the JSON every command prints: readable non-ASCII (Chinese stays
  Chinese), but every character `printable` would replace is written as a `\\uXXXX` escape, so
  the data is intact for a program and inert on a terminal.

This module imports Rich but not Textual, so the command line can use it too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.cells import cell_len
from rich.text import Text

__all__ = ["PLACEHOLDER_STYLE", "cut", "first_line", "json_text", "printable", "safe_text"]

PLACEHOLDER_STYLE = "reverse"

_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_INVISIBLE = "\u200b\u2060\ufeff"
_LINE_SEPARATORS = "\u2028\u2029"
# C0 (newline and tab are the caller's choice), DEL, C1, bidi controls, invisible characters,
# U+2028/2029.
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}{_LINE_SEPARATORS}\t\n]")
# What `json_text` escapes: the same set; JSON itself already escapes C0, newline and tab.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}{_INVISIBLE}{_LINE_SEPARATORS}]")
_ELLIPSIS = "…"


def _placeholder(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # CONTROL PICTURES block: "␛" for ESC
    if code == 0x7F:
        return "\u2421"  # "␡"
    return f"<U+{code:04X}>"


def printable(text: str | None, *, multiline: bool = False) -> str:
    """The text with every control and bidi override replaced by a visible placeholder.

    With `multiline`, newlines (and tabs, as spaces) are kept for a multi-line view; otherwise a
    newline shows as "␤" and a tab as one space, so a cell stays on one line.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n")

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if char == "\n":
            return "\n" if multiline else "\u2424"
        if char == "\t":
            return "    " if multiline else " "
        return _placeholder(char)

    return _UNSAFE.sub(replace, text)


def safe_text(
    text: str | None,
    *,
    style: str = "",
    multiline: bool = False,
    justify: str | None = None,
) -> Text:
    """A `Text` that shows `text` literally: never markup, never an escape sequence."""
    result = Text(style=style, justify=justify)  # type: ignore[arg-type]
    if not text:
        return result
    text = text.replace("\r\n", "\n")
    position = 0
    for match in _UNSAFE.finditer(text):
        char = match.group()
        result.append(text[position : match.start()])
        if char == "\n" and multiline:
            result.append("\n")
        elif char == "\t":
            result.append("    " if multiline else " ")
        elif char == "\n":
            result.append("\u2424", style=PLACEHOLDER_STYLE)
        else:
            result.append(_placeholder(char), style=PLACEHOLDER_STYLE)
        position = match.end()
    result.append(text[position:])
    return result


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """`value` as JSON for a terminal or a pipe: UTF-8 text, with every C1 control, DEL, bidi
    control, invisible character and line separator escaped as `\\uXXXX` (JSON escapes C0
    itself). Those characters can only occur inside strings, where the escape means the same
    character, so a program reading the output gets the data exactly."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def cut(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells, with an ellipsis when something was dropped."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        size = cell_len(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + _ELLIPSIS


def first_line(text: str | None, width: int | None = None, *, style: str = "") -> Text:
    """The first non-blank line of a note, cut to `width` cells (lists show only this much)."""
    if not text:
        return Text(style=style)
    lines = [line for line in re.split(r"\r\n|[\n\r\u2028\u2029]", text) if line.strip()]
    if not lines:
        return Text(style=style)
    line = lines[0].strip()
    more = len(lines) > 1
    if width is not None:
        shown = printable(line)
        if more and cell_len(shown) + 1 > width:
            line = _cut_source(line, width)
        elif not more and cell_len(shown) > width:
            line = _cut_source(line, width)
        elif more:
            line = line + _ELLIPSIS
    elif more:
        line = line + _ELLIPSIS
    return safe_text(line, style=style)


def _cut_source(line: str, width: int) -> str:
    # Cut by the width of what will be shown (a placeholder is wider than the character it
    # replaces), never splitting a placeholder in two.
    kept: list[str] = []
    used = 0
    for char in line:
        size = cell_len(printable(char))
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + _ELLIPSIS
