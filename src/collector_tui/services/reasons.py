"""The one check of a typed reason ("why"): at most MAX_REASON characters, as the columns allow,
and, for the acts that stop or restore contact or undo a record, at least the configured minimum
(`min_reason_length`, 10 characters by default) so the audit trail says something a reviewer can
use. Services call `check_reason`; the forms call `reason_problem` with the same numbers, so the
message under a field is the one the service would give.

Where the minimum applies: placing a hold (a dispute included), asking for legal action, routing a
case to a supervisor, lifting a hold, voiding a contact. Other reasons (a follow-up's "call back",
an assignment's note) are only bounded above.
"""

from __future__ import annotations

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import InvalidInput

MAX_REASON = 500
DEFAULT_MIN_REASON = 10


def tidy(text: str | None) -> str:
    """The reason as stored: runs of spaces and line breaks become one space."""
    return " ".join((text or "").split())


def reason_problem(
    text: str | None, *, minimum: int = 0, what: str = N_("the reason")
) -> str | None:
    """What is wrong with `text` as a reason (None when it is fine); empty text is the caller's
    business (required or not)."""
    value = tidy(text)
    if len(value) > MAX_REASON:
        return _("{what} can be at most {max} characters ({count} now)").format(
            what=_(what), max=MAX_REASON, count=len(value)
        )
    if value and len(value) < minimum:
        return _("{what} needs at least {min} characters ({count} now): say why").format(
            what=_(what), min=minimum, count=len(value)
        )
    return None


def check_reason(
    text: str | None,
    *,
    minimum: int = 0,
    required: bool = True,
    what: str = N_("a reason"),
    field: str = "reason",
) -> str | None:
    """The tidied reason, or InvalidInput naming `field`; None only when not required and empty."""
    value = tidy(text)
    if not value:
        if required:
            raise InvalidInput(_("{what} is required").format(what=_(what)), field=field)
        return None
    problem = reason_problem(value, minimum=minimum, what=what)
    if problem is not None:
        raise InvalidInput(problem, field=field)
    return value
