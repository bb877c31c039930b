"""The wrap-up rule: what happens when someone leaves a case taken from the queue without having
logged anything on it during the visit (no contact, promise, plan, note, payment, follow-up,
request or hold).

A case worked from the queue and left without a trace is a case the queue will offer again
without knowing why it was skipped; a team chooses how hard to push (`Settings.wrap_up`). Cases
found by search or in a supervisor's browser were looked up, not worked, and are never asked
about. A supervisor is never forced: under "require" they are only asked.
"""

from __future__ import annotations

from typing import Literal

from collector_tui.config import Settings
from collector_tui.i18n import N_
from collector_tui.services.accounts import Actor

WrapUp = Literal["require", "warn", "allow"]

# What to log, for the one line shown when leaving is refused.
WHAT_TO_LOG = N_(
    "Log what happened before leaving this case: a contact (c), a note (t), a follow-up (f) "
    "or a promise (p)."
)


def wrap_up_on_leaving(
    *, settings: Settings, actor: Actor, from_queue: bool, logged: bool
) -> WrapUp:
    """ "allow": leave at once; "warn": ask first; "require": stay and say what to log."""
    if not from_queue or logged:
        return "allow"
    if settings.wrap_up == "require":
        return "warn" if actor.is_supervisor else "require"
    if settings.wrap_up == "warn":
        return "warn"
    return "allow"
