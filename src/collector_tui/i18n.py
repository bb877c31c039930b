"""The interface's language: gettext catalogs, the current language, lazy text for constants.

Every sentence a person reads goes through `_()` (or `ngettext()`), written in English in the code:
the English text is the message id, so English needs no catalog and an untranslated message falls
back to it. The catalogs are `locale/<lang>/LC_MESSAGES/collector_tui.po` (compiled to `.mo`,
both committed: README, Languages; `tools/i18n.py` extracts, updates and compiles them).

The language is one per process (a terminal is one user's): `set_language` switches it at run time
(the app at login and from the palette, the command line from `--lang`, the user's setting or the
environment). Text fixed at import time (a binding's description, a column title, a disposition's
label) is written `N_("...")`: a `LazyText`, a `str` whose value is the English message and whose
`str()` is the translation in the language current when it is shown, so switching the language
changes it without rebuilding anything. Faces call `str(text)` (or `_()` on it) where it reaches
the screen; code that only compares or stores it sees the stable English id.

Core layer: no terminal library, no database; services may use it for their messages.
"""

from __future__ import annotations

import gettext as _gettext
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

DOMAIN = "collector_tui"
LOCALE_DIR = Path(__file__).parent / "locale"
ENGLISH = "en"
# The languages a user may choose (`user set --lang`, the palette), with their own names.
LANGUAGES: Mapping[str, str] = {"en": "English", "zh_CN": "中文"}

_lock = threading.Lock()
_current = ENGLISH
_catalogs: dict[str, _gettext.NullTranslations] = {}


def normalize(code: str | None) -> str | None:
    """`zh_CN`, `zh-cn`, `zh_CN.UTF-8`, `zh`, `zh_Hans` -> `zh_CN`; `en_US.UTF-8`, `C`, `POSIX`
    -> `en`; a language the app does not speak -> None. Extra languages installed by
    `install_translations` (the tests' pseudo-locale) are kept as they are."""
    if not code:
        return None
    text = code.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if text in _catalogs and text not in LANGUAGES:
        return text
    lowered = text.lower()
    if lowered in ("c", "posix") or lowered == "en" or lowered.startswith("en_"):
        return ENGLISH
    if lowered == "zh" or lowered.startswith(("zh_cn", "zh_hans", "zh_sg")):
        return "zh_CN"
    return None


def environment_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for: LC_ALL, then LC_MESSAGES, then LANG (then
    LANGUAGE's first entry), as gettext reads them; English when none is one the app speaks."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(name)
        if value:
            found = normalize(value.split(":", 1)[0])
            if found is not None:
                return found
            if name != "LANGUAGE":
                # The first variable set decides (LC_ALL=fr_FR means French, not LANG's zh).
                return ENGLISH
    return ENGLISH


def _catalog(language: str) -> _gettext.NullTranslations:
    found = _catalogs.get(language)
    if found is None:
        found = _gettext.translation(
            DOMAIN, localedir=str(LOCALE_DIR), languages=[language], fallback=True
        )
        _catalogs[language] = found
    return found


def install_translations(language: str, translations: _gettext.NullTranslations) -> None:
    """Make `language` use `translations` (the tests' pseudo-locale, which marks every message
    that went through the catalog)."""
    with _lock:
        _catalogs[language] = translations


def set_language(language: str | None) -> str:
    """Switch the process to `language` (None or unknown: English); returns the one in force."""
    global _current
    chosen = normalize(language) or ENGLISH
    with _lock:
        _current = chosen
    return chosen


def current_language() -> str:
    return _current


def babel_locale(language: str | None = None) -> str:
    """The babel locale that formats dates and amounts for `language` (default: the current)."""
    chosen = normalize(language) if language is not None else _current
    if chosen == "zh_CN":
        return "zh_Hans_CN"
    return "en_US"


@contextmanager
def language(code: str | None) -> Iterator[str]:
    """Run a block in `code` (an export in another language, a test), then switch back."""
    before = _current
    chosen = set_language(code)
    try:
        yield chosen
    finally:
        set_language(before)


def gettext(message: str) -> str:
    """`message` (English) in the current language."""
    return _catalog(_current).gettext(str.__str__(message))


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message counting `n`, in the current language."""
    return _catalog(_current).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` (English) in the current language, in `context`: one English word with two
    meanings (a binding's "Open", an amount still "Open") gets two translations."""
    return _catalog(_current).pgettext(context, message)


_ = gettext


class LazyText(str):
    """A message translated when it is shown: `str(text)` (or an f-string, or `format`) gives
    it in the current language; as a `str` it is its English id, so comparing, hashing and
    storing it never change with the language."""

    __slots__ = ()

    def __str__(self) -> str:
        return gettext(self)

    def __format__(self, spec: str) -> str:
        return format(gettext(self), spec)

    def __repr__(self) -> str:
        return f"N_({str.__repr__(self)})"

    def format(self, *args: Any, **kwargs: Any) -> str:
        return gettext(self).format(*args, **kwargs)

    @property
    def msgid(self) -> str:
        return str.__str__(self)


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a module-level message: extracted like `_()`, translated when shown (`LazyText`)."""
    return LazyText(message)


def text(message: str) -> str:
    """What to put on a screen for `message`: translated whether it is lazy or already a
    translated string (a translation is not a message id, so it comes back unchanged)."""
    return gettext(message)


# --- dates in the user's locale ------------------------------------------------------------------

# One style per language, everywhere (tables, headers, forms, the command line): a day, the same
# day without its year where the year goes without saying, and a time of day. Chinese business
# software writes days with slashes; both styles keep the ISO order and width, so columns and a
# day typed back into a form (dates.parse_day reads both) stay the same.
DAY_PATTERNS: Mapping[str, tuple[str, str]] = {
    ENGLISH: ("yyyy-MM-dd", "MM-dd"),
    "zh_CN": ("yyyy/MM/dd", "MM/dd"),
}
TIME_PATTERN = "HH:mm"


def day_patterns(language: str | None = None) -> tuple[str, str]:
    """(full, short) babel date patterns of `language` (default: the current one)."""
    return DAY_PATTERNS.get(language or _current, DAY_PATTERNS[ENGLISH])


def format_day(day: date, *, short: bool = False) -> str:
    """A calendar day in the current language's style: `2026-11-20` / `2026/11/20`; `short`
    drops the year (`11-20` / `11/20`)."""
    return _format_day(day, _current, short)


@lru_cache(maxsize=4096)
def _format_day(day: date, language: str, short: bool) -> str:
    # babel takes ~20 µs a call; tables redraw the same days on every scroll. Imported here: the
    # command line reads its arguments before anything heavy is loaded.
    from babel.dates import format_date

    full, cut = day_patterns(language)
    return format_date(day, cut if short else full, locale=babel_locale(language))


def format_day_time(instant: datetime, *, short: bool = False) -> str:
    """A wall-clock instant (already in the zone meant): `2026-11-20 09:00`, `2026/11/20 09:00`."""
    return f"{format_day(instant.date(), short=short)} {instant.strftime('%H:%M')}"
