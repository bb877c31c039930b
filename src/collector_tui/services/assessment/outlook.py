"""What the case screen shows of the assessment package in one read: the latest assessment of the
debtor (stale or not) and, once a model is fitted, the probability of payment, its top factors and
the expected loss."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.models import Case, Debtor
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.assessment import assess, model
from collector_tui.services.assessment.assess import AssessmentView
from collector_tui.services.assessment.model import Prediction
from collector_tui.services.context import reads
from collector_tui.services.errors import NotFound


@dataclass(frozen=True)
class CaseOutlook:
    case_id: uuid.UUID
    currency: str
    assessment: AssessmentView | None
    prediction: Prediction | None = None  # None: no model fitted yet (the rule score alone)


@reads
def case_outlook(
    *, session: Session, now: datetime, actor: Actor, settings: Settings, case_id: uuid.UUID
) -> CaseOutlook:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    row = assess.latest_row(session, case=case)
    view = assess.view_of(session, row, now=now, settings=settings) if row is not None else None
    fitted = model.current_model(session)
    debtor = session.get(Debtor, case.debtor_id)
    prediction = (
        model.predict(session, case=case, debtor=debtor, model=fitted)
        if fitted is not None and debtor is not None
        else None
    )
    return CaseOutlook(
        case_id=case.id, currency=case.currency, assessment=view, prediction=prediction
    )
