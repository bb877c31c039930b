"""Notes on a case's timeline: free text that is not a contact attempt (no attempt time moves).
`record_note` is the one writer of a note row and its audit event, used by every service that says
on the timeline why it acted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.models import (
    Activity,
    Case,
    Channel,
)
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.change import (
    case_for_change,
    case_state,
    changing,
    finish_case_change,
)
from collector_tui.services.context import writes
from collector_tui.services.errors import InvalidInput


def check_note(note: str | None, settings: Settings, *, required: bool = False) -> str | None:
    text = (note or "").strip()
    if not text:
        if required:
            raise InvalidInput(_("a note cannot be empty"), field="note")
        return None
    if len(text) > settings.max_note_length:
        raise InvalidInput(
            _("a note can be at most {max_note_length} characters (this one has {count})").format(
                max_note_length=settings.max_note_length, count=len(text)
            ),
            field="note",
        )
    return text


@writes
def add_note(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    text: str,
    settings: Settings,
    expected_version: int | None = None,
) -> uuid.UUID:
    """A free-text note on the case's timeline; not a contact attempt (no attempt time moves)."""
    case = case_for_change(
        session=session, case_id=case_id, actor=actor, expected_version=expected_version
    )
    note = check_note(text, settings, required=True)
    before = case_state(case)
    with changing(session):
        note_id = record_note(session=session, now=now, actor=actor, case=case, text=note or "")
        finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=actor.user_id,
        )
    return note_id


def record_note(
    *, session: Session, now: datetime, actor: Actor, case: Case, text: str
) -> uuid.UUID:
    """The note row and its audit event, in the caller's unit of work, for a case already loaded
    and checked (add_note; the supervisors' decisions, which say on the timeline why)."""
    activity = Activity(
        case_id=case.id,
        user_id=actor.user_id,
        occurred_at=now,
        channel=Channel.note.value,
        note=text,
        created_at=now,
    )
    session.add(activity)
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="activity",
        entity_id=activity.id,
        action="create",
        after={"case_id": case.id, "channel": "note", "note_length": len(text)},
    )
    return activity.id
