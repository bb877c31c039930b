"""The case-change unit of work every write on a case goes through.

`case_for_change` loads the case the actor may change (and, given the version the user saw, refuses
a stale edit with the one message `STALE_MESSAGE`); `changing` is the savepoint around the writes;
`finish_case_change` stamps the case, re-places it in the queue (scoring) and audits what changed on
the case itself.
Also here: the small calendar and money helpers every casework module shares.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from collector_tui.config import Settings
from collector_tui.i18n import N_, _
from collector_tui.models import (
    CLOSED_STATUSES,
    Case,
    CaseStatus,
    Promise,
    PromiseStatus,
    case_status_label,
)
from collector_tui.money import Money, MoneyError, format_plain
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.errors import InvalidInput, NotFound, StaleEdit
from collector_tui.services.rules import scoring

# Every write on a case comes through here: importing the verdict cache registers the listeners
# that log what a write changed for it (services/rules/verdicts.py), in every process that writes.
from collector_tui.services.rules import verdicts as _verdicts  # noqa: F401

# Statuses that follow the case's promises; dispute, legal and the closed ones are set by other
# events and a promise does not override them.
PROMISE_DRIVEN_STATUSES = frozenset({"new", "active", "promised", "plan"})


CASE_AUDIT_FIELDS = (
    "status",
    "balance",
    "routed_reason",
    "last_attempt_at",
    "last_contact_at",
)


STALE_MESSAGE = N_("this case was changed by someone else since you opened it; reload it")


def utc_today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def debtor_today(
    *, session: Session, case: Case, now: datetime, settings: Settings
) -> tuple[date, str]:
    """The debtor's date now and its zone: a due date is a day in the debtor's calendar."""
    from collector_tui.services.rules.compliance import debtor_today as read

    return read(session=session, case=case, now=now, settings=settings)


def actor_today(now: datetime, actor: Actor) -> date:
    """The actor's own calendar day: a payment posted this morning in Shanghai is received
    "today" there while it is still yesterday in UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return now.astimezone(ZoneInfo(actor.time_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return utc_today(now)


def show_money(amount: int, currency: str) -> str:
    try:
        return format_plain(Money(amount, currency))
    except MoneyError:  # a currency babel does not know must not hide the real message
        return f"{amount} {currency} (minor units)"


@contextmanager
def changing(session: Session) -> Iterator[None]:
    """The savepoint around one service call's writes. A row whose version moved under us (another
    process won the race; possible on PostgreSQL, where writers do not queue up front as they do
    with SQLite's BEGIN IMMEDIATE) becomes the same clear refusal as a stale form."""
    try:
        with session.begin_nested():
            yield
    except StaleDataError:
        raise StaleEdit(_(STALE_MESSAGE)) from None


def case_for_change(
    *, session: Session, case_id: uuid.UUID, actor: Actor, expected_version: int | None = None
) -> Case:
    """The case to change, if the actor may; with `expected_version` (the version the user saw),
    a case changed by someone else since is refused with the one stale-edit message."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    if expected_version is not None and expected_version != case.version:
        raise StaleEdit(_(STALE_MESSAGE))
    return case


def check_not_closed(case: Case, doing: str) -> None:
    if case.status in CLOSED_STATUSES:
        raise InvalidInput(
            _("case {client_ref} is already {status}: cannot {doing}").format(
                client_ref=case.client_ref, status=case_status_label(case.status), doing=_(doing)
            )
        )


def case_state(case: Case) -> dict[str, Any]:
    return audit.snapshot(case, CASE_AUDIT_FIELDS)


@contextmanager
def case_writes_deferred(session: Session, case: Case) -> Iterator[None]:
    """Queries inside do not flush the case: its changes go out in one UPDATE at the end.

    Each UPDATE of a case row rewrites the row, its changed indexes, and fires the workload
    counters' trigger (migration 0017); a save that set the case's times, then its status, then
    its queue place, with a query between each, wrote the row three times. Every other pending
    change is flushed first, so the queries inside see all of it; they read other tables
    (promises, follow-ups, disputes), never the case row, whose state is the object's."""
    if session.new or session.deleted or any(row is not case for row in session.dirty):
        session.flush()
    with session.no_autoflush:
        yield


def finish_case_change(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    case: Case,
    before: dict[str, Any],
    user_id: uuid.UUID | None,
    action: str = "update",
) -> None:
    """Stamp, re-place in the queue and audit what changed on the case itself."""
    case.updated_at = now
    with case_writes_deferred(session, case):
        scoring.refresh_case(session=session, case=case, now=now, settings=settings)
    after = case_state(case)
    changed = [name for name in CASE_AUDIT_FIELDS if before.get(name) != after.get(name)]
    if changed:
        audit.record(
            session=session,
            now=now,
            user_id=user_id,
            entity="case",
            entity_id=case.id,
            action=action,
            before={name: before.get(name) for name in changed},
            after={name: after[name] for name in changed},
        )
    session.flush()


def settle_status(*, session: Session, case: Case) -> None:
    """The status that follows the promises: 'plan' or 'promised' while one is pending, else
    'active'. Dispute, legal and closed statuses are left alone."""
    if case.status not in PROMISE_DRIVEN_STATUSES:
        return
    pending = session.exec(
        select(Promise.plan_id).where(
            Promise.case_id == case.id, Promise.status == PromiseStatus.pending
        )
    ).all()
    if any(plan_id is not None for plan_id in pending):
        case.status = CaseStatus.plan.value
    elif pending:
        case.status = CaseStatus.promised.value
    elif case.status in ("promised", "plan"):
        case.status = CaseStatus.active.value
