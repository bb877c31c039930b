"""Drafts: a form being typed (a contact, a note, a promise), kept until saved or discarded, so
leaving the form or a crash never loses it (docs/decisions.md, data model). One draft per user, case
and form.

Drafts are the user's own unsent keystrokes, not case data: they are not audited (the audit trail
is append-only and would fill with every autosave) and they do not touch the case or its queue
place. Access still follows the case: an agent keeps drafts only on cases assigned to them.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from collector_tui.i18n import _
from collector_tui.models import Draft
from collector_tui.services.accounts import Actor
from collector_tui.services.casework.change import case_for_change
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import InvalidInput

MAX_FORM_NAME = 32
# Several notes' worth; a runaway payload (a pasted file) is refused rather than stored.
MAX_PAYLOAD_CHARS = 64_000


def _check_form(form: str) -> str:
    name = form.strip() if isinstance(form, str) else ""
    if not name or len(name) > MAX_FORM_NAME:
        raise InvalidInput(
            _("a form name is 1-{max} characters").format(max=MAX_FORM_NAME),
            field="form",
        )
    return name


def _clean_payload(payload: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidInput(_("a draft is a set of named fields"), field="payload")
    try:
        text = json.dumps(payload, ensure_ascii=False)
    except (TypeError, ValueError):
        raise InvalidInput(
            _("a draft holds only text, numbers, true/false and lists of them"), field="payload"
        ) from None
    if len(text) > MAX_PAYLOAD_CHARS:
        raise InvalidInput(_("this draft is too long to keep"), field="payload")
    # A fresh copy: the JSON column must see a new value, and the caller's dict stays theirs.
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _find(session: Session, actor: Actor, case_id: uuid.UUID, form: str) -> Draft | None:
    return session.exec(
        select(Draft).where(
            Draft.user_id == actor.user_id, Draft.case_id == case_id, Draft.form == form
        )
    ).first()


@writes
def save_draft(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_id: uuid.UUID,
    form: str,
    payload: dict[str, Any],
) -> None:
    case_for_change(session=session, case_id=case_id, actor=actor)
    name = _check_form(form)
    clean = _clean_payload(payload)
    draft = _find(session, actor, case_id, name)
    if draft is None:
        draft = Draft(user_id=actor.user_id, case_id=case_id, form=name)
    draft.payload = clean
    draft.updated_at = now
    session.add(draft)
    session.flush()


@reads
def load_draft(
    *, session: Session, actor: Actor, case_id: uuid.UUID, form: str
) -> dict[str, Any] | None:
    case_for_change(session=session, case_id=case_id, actor=actor)
    draft = _find(session, actor, case_id, _check_form(form))
    return copy.deepcopy(draft.payload) if draft is not None else None


@writes
def discard_draft(*, session: Session, actor: Actor, case_id: uuid.UUID, form: str) -> None:
    """Forget the draft (after saving the form, or on the user's say); no draft is fine."""
    case_for_change(session=session, case_id=case_id, actor=actor)
    draft = _find(session, actor, case_id, _check_form(form))
    if draft is not None:
        session.delete(draft)
        session.flush()
