"""The pseudo-locale `xx`: every message that goes through the catalog comes out wrapped in ⟦…⟧,
so text on a screen outside the brackets bypassed it.

`untranslated(screen_text, allowed)` lists the lines of a screen with words outside the brackets.
A screen is checked once its strings are wrapped: add its test next to the login and help ones in
test_language.py, with `allowed` naming what is rightly not translated there (the app's name,
what the user typed, stored data, key names).
"""

from __future__ import annotations

import gettext
import re

from textual.app import App

from collector_tui import i18n

PSEUDO = "xx"
OPEN, CLOSE = "⟦", "⟧"


class PseudoTranslations(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return f"{OPEN}{message}{CLOSE}"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"{OPEN}{singular if n == 1 else plural}{CLOSE}"

    def pgettext(self, context: str, message: str) -> str:
        return f"{OPEN}{message}{CLOSE}"


def install() -> None:
    i18n.install_translations(PSEUDO, PseudoTranslations())


def screen_text(app: App[None]) -> list[str]:
    """The lines the screen shows now, as a terminal would print them."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


_BRACKETED = re.compile(f"{OPEN}[^{CLOSE}]*{CLOSE}")
# Words: two letters or more of any script (a lone "x" or a key like "?" says nothing).
_WORD = re.compile(r"[^\W\d_]{2,}")


def untranslated(lines: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    """Lines with a word outside the brackets once `allowed` words are removed. Brackets cut by
    the edge of a widget are closed by the line's end, so a long message cut short still counts
    as translated."""
    found = []
    for line in lines:
        rest = _BRACKETED.sub(" ", line)
        rest = re.sub(f"{OPEN}.*$", " ", rest)  # opened, cut at the edge
        rest = re.sub(f"^[^{OPEN}]*{CLOSE}", " ", rest)  # closed, opened on the line above
        for word in allowed:
            rest = rest.replace(word, " ")
        if _WORD.search(rest):
            found.append(line.rstrip())
    return found
