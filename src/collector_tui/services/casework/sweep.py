"""The kept/broken sweep: promises whose due date and grace have passed become broken (or partial),
run whenever a queue is built as well as by `collector-tui sweep`, so time is never left to a
nightly job.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.db import in_batches
from collector_tui.models import (
    Case,
    Promise,
    PromiseStatus,
)
from collector_tui.services.casework.change import (
    case_state,
    changing,
    finish_case_change,
    settle_status,
    utc_today,
)
from collector_tui.services.casework.promises import resolve, review_plan
from collector_tui.services.context import writes


@dataclass(frozen=True)
class SweepResult:
    kept: int
    partial: int
    broken: int


def _due_candidates(
    session: Session,
    today: date,
    agent_id: uuid.UUID | None,
    case_ids: Collection[uuid.UUID] | None,
) -> list[Promise]:
    # Indexed on (status, due_date): only pending promises already past their due date are read,
    # i.e. the ones the last sweep left inside their grace, never the whole book.
    base = select(Promise).where(Promise.status == PromiseStatus.pending, Promise.due_date < today)
    if agent_id is not None:
        base = base.join(Case, col(Case.id) == col(Promise.case_id)).where(
            Case.assigned_to_id == agent_id
        )
    if case_ids is None:
        rows = list(session.exec(base))
    else:
        rows = []
        for batch in in_batches(dict.fromkeys(case_ids)):
            rows.extend(session.exec(base.where(col(Promise.case_id).in_(batch))))
    # Grace differs per promise; comparing dates in Python keeps the SQL the same on every backend.
    due = [p for p in rows if p.due_date + timedelta(days=p.grace_days) < today]
    due.sort(key=lambda p: (str(p.case_id), p.due_date, p.created_at, str(p.id)))
    return due


@writes
def sweep(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    agent_id: uuid.UUID | None = None,
    case_ids: Collection[uuid.UUID] | None = None,
) -> SweepResult:
    """Judge the pending promises whose due date plus grace has passed: kept, partial or broken.

    A promise due on D with G grace days is still pending on D + G and judged from D + G + 1
    (UTC dates). A broken installment breaks its plan and cancels the installments left. Running
    it again changes nothing (only pending promises are read).
    """
    if case_ids is not None and not case_ids:
        return SweepResult(0, 0, 0)
    today = utc_today(now)
    candidates = _due_candidates(session, today, agent_id, case_ids)
    if not candidates:
        return SweepResult(0, 0, 0)
    cases = {p.case_id: session.get(Case, p.case_id) for p in candidates}
    before = {case_id: case_state(case) for case_id, case in cases.items() if case is not None}
    counts = {PromiseStatus.kept: 0, PromiseStatus.partial: 0, PromiseStatus.broken: 0}
    plans: set[uuid.UUID] = set()
    with changing(session):
        for promise in candidates:
            if promise.status != PromiseStatus.pending:
                continue  # cancelled just now with its broken plan
            if promise.paid_amount >= promise.amount:
                verdict = PromiseStatus.kept
            elif promise.paid_amount > 0:
                verdict = PromiseStatus.partial
            else:
                verdict = PromiseStatus.broken
            resolve(session, now, promise, verdict.value, None)
            counts[verdict] += 1
            if promise.plan_id is not None:
                plans.add(promise.plan_id)
                if verdict == PromiseStatus.broken:
                    review_plan(session, now, promise.plan_id, None)
        session.flush()
        for plan_id in plans:
            review_plan(session, now, plan_id, None)
        for case_id, case in cases.items():
            if case is None:
                continue
            settle_status(session=session, case=case)
            finish_case_change(
                session=session,
                now=now,
                settings=settings,
                case=case,
                before=before[case_id],
                user_id=None,
                action="sweep",
            )
    return SweepResult(
        kept=counts[PromiseStatus.kept],
        partial=counts[PromiseStatus.partial],
        broken=counts[PromiseStatus.broken],
    )
