"""Saves from a form that keeps a draft (casework.drafts): the service and the discard of the
user's draft of that form on that case, in one unit of work. The draft goes only if the save
holds: a refused save rolls back both, and the agent's text is still there to correct."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from collector_tui.config import Settings
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.activities import ContactInput, LoggedContact, log_contact
from collector_tui.services.casework.drafts import discard_draft
from collector_tui.services.casework.notes import add_note
from collector_tui.services.context import writes


@writes
def log_drafted_contact(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    contact: ContactInput,
    settings: Settings,
    draft_form: str,
    expected_version: int | None = None,
) -> LoggedContact:
    """`activities.log_contact`, then forget the draft of `draft_form` on this case."""
    logged = log_contact(
        session=session,
        now=now,
        actor=actor,
        case_id=case_id,
        contact=contact,
        settings=settings,
        expected_version=expected_version,
    )
    discard_draft(session=session, actor=actor, case_id=case_id, form=draft_form)
    return logged


@writes
def add_drafted_note(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    text: str,
    settings: Settings,
    draft_form: str,
    expected_version: int | None = None,
) -> uuid.UUID:
    """`notes.add_note`, then forget the draft of `draft_form` on this case."""
    note_id = add_note(
        session=session,
        now=now,
        actor=actor,
        case_id=case_id,
        text=text,
        settings=settings,
        expected_version=expected_version,
    )
    discard_draft(session=session, actor=actor, case_id=case_id, form=draft_form)
    return note_id
