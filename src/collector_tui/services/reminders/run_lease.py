"""One send run at a time: a lease on a named run, held in the database.

Two send runs started together (two supervisors, or a cron job and a person) would both take the
same reminder, hand it to its channel and record it: two messages, two activities. A run takes
the lease with one conditional write before it touches the outbox, renews it as it goes and gives
it back at its end. A run that is killed outright cannot give it back: the lease then runs out by
itself after `reminder_run_lease_min` minutes without a renewal, or a supervisor who knows the
other run is gone takes it over on purpose.

The lease's clock is the run's `now` plus the time the run has taken so far, so a run started
with a fixed instant (tests, `--now`) still renews forward.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from collector_tui.i18n import gettext as _
from collector_tui.models import RunLease
from collector_tui.services.errors import ServiceError


class RunBusy(ServiceError):
    """Another run holds the lease."""


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    label: str


def holder_label(username: str) -> str:
    return f"{username} on {socket.gethostname()} (process {os.getpid()})"[:200]


def new_lease(name: str, username: str) -> Lease:
    return Lease(name=name, holder=secrets.token_hex(16), label=holder_label(username))


def acquire(
    session: Session,
    *,
    lease: Lease,
    now: datetime,
    minutes: int,
    take_over: bool = False,
) -> None:
    """Take the lease, or raise RunBusy naming who holds it and until when. An expired lease is
    taken without asking; `take_over` takes a live one (the other run is known to be gone)."""
    until = now + timedelta(minutes=minutes)
    values = {
        "holder": lease.holder,
        "holder_label": lease.label,
        "acquired_at": now,
        "expires_at": until,
    }
    taken = update(RunLease).where(col(RunLease.name) == lease.name).values(**values)
    if not take_over:
        taken = taken.where(
            or_(col(RunLease.expires_at) <= now, col(RunLease.holder) == lease.holder)
        )
    if session.execute(taken).rowcount == 1:  # type: ignore[attr-defined]
        return
    current = session.get(RunLease, lease.name)
    if current is None:
        # Nobody ever held it here. Two first runs racing both reach this insert; the primary
        # key lets one in.
        try:
            with session.begin_nested():
                session.execute(insert(RunLease).values(name=lease.name, **values))
        except IntegrityError:
            raise RunBusy(_("another send run started at the same moment"), field="run") from None
        return
    raise RunBusy(
        _(
            "another send run holds the outbox: {holder_label}, started "
            "{acquired_at:%Y-%m-%d %H:%M} UTC, until "
            "{expires_at:%Y-%m-%d %H:%M} UTC unless it ends first; if "
            "that run was stopped, run again with --take-over"
        ).format(
            holder_label=current.holder_label,
            acquired_at=current.acquired_at,
            expires_at=current.expires_at,
        ),
        field="run",
    )


def renew(session: Session, *, lease: Lease, now: datetime, minutes: int) -> bool:
    """Push the lease's end forward; False when the run no longer holds it (taken over)."""
    renewed = (
        update(RunLease)
        .where(col(RunLease.name) == lease.name, col(RunLease.holder) == lease.holder)
        .values(expires_at=now + timedelta(minutes=minutes))
    )
    return bool(session.execute(renewed).rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, *, lease: Lease) -> None:
    session.execute(
        delete(RunLease).where(
            col(RunLease.name) == lease.name, col(RunLease.holder) == lease.holder
        )
    )
