"""One send run at a time: a second run refuses while the first holds the outbox, a run killed
outright frees it when its lease runs out (or a supervisor takes it over), and a run that loses
its lease stops before it hands anything else to a channel."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from test_couriers import MORNING, reachable_cases, render, settings_for

from collector_tui.models import Activity, Reminder, RunLease
from collector_tui.services.reminders import outbox, run_lease
from collector_tui.services.reminders.couriers import couriers_from_settings


class Slow:
    """A file-gateway courier that waits at its first message until told to go on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.idempotent = inner.idempotent
        self.reached = threading.Event()
        self.go_on = threading.Event()
        self.sent = 0

    def send(self, message: outbox.Outgoing) -> outbox.Receipt:
        self.reached.set()
        assert self.go_on.wait(30)
        self.sent += 1
        return self.inner.send(message)


def _run(store: Any, users: Any, couriers: Any, settings: Any, **options: Any) -> outbox.RunReport:
    return outbox.send_due(
        store=store,
        now=options.pop("now", MORNING),
        settings=settings,
        actor=users["sam"],
        couriers=couriers,
        render=render,
        channels=["sms"],
        **options,
    )


def _statuses(store: Any) -> list[str]:
    with store.read() as session:
        return sorted(row.status for row in session.exec(select(Reminder)))


def _sms_settings(tmp_path: Path) -> Any:
    settings = settings_for(tmp_path)
    path = Path(settings.reminder_rules or "")
    path.write_text(
        '[sequences.sms]\nsteps = [{ day = 0, channel = "sms", template = "reminder" }]\n'
        '[[rules]]\nsequence = "sms"\n',
        encoding="utf-8",
    )
    return settings


def _leave_a_lease(store: Any, minutes: int = 10, at: datetime = MORNING) -> run_lease.Lease:
    """What a run killed with SIGKILL leaves: the lease taken, never given back."""
    gone = run_lease.new_lease(outbox.SEND_RUN, "bob")
    with store.write() as session:
        run_lease.acquire(session, lease=gone, now=at, minutes=minutes)
    return gone


def test_a_second_run_refuses_while_the_first_holds_the_outbox(
    store, place, users, tmp_path
) -> None:  # noqa: ANN001
    settings = _sms_settings(tmp_path)
    reachable_cases(store, place, 3)
    real = couriers_from_settings(settings, now=MORNING)
    slow = Slow(real["sms"])
    first: dict[str, Any] = {}

    def run_first() -> None:
        first["report"] = _run(store, users, {"sms": slow}, settings)

    thread = threading.Thread(target=run_first)
    thread.start()
    try:
        assert slow.reached.wait(30)
        with pytest.raises(run_lease.RunBusy, match="another send run holds the outbox: sam on"):
            _run(store, users, real, settings)
    finally:
        slow.go_on.set()
        thread.join(30)
    assert first["report"].sent == 3 and slow.sent == 3
    assert _statuses(store) == ["sent"] * 3
    with store.read() as session:
        assert len(session.exec(select(Activity).where(Activity.channel == "sms")).all()) == 3
        # Given back at the end: the next run goes at once.
        assert session.exec(select(RunLease)).all() == []
    assert _run(store, users, real, settings).sent == 0


def test_a_killed_runs_lease_runs_out_or_is_taken_over(store, place, users, tmp_path) -> None:  # noqa: ANN001
    settings = _sms_settings(tmp_path)
    reachable_cases(store, place, 2)
    couriers = couriers_from_settings(settings, now=MORNING)
    _leave_a_lease(store)
    with pytest.raises(run_lease.RunBusy, match="bob on .* until 2026-11-20 03:10 UTC"):
        _run(store, users, couriers, settings)
    assert _statuses(store) == []  # refused before it queued anything
    with pytest.raises(run_lease.RunBusy):
        _run(store, users, couriers, settings, now=MORNING + timedelta(minutes=9))
    # A supervisor who knows that run is gone takes the outbox at once...
    assert _run(store, users, couriers, settings, take_over=True).sent == 2
    # ... and a lease nobody renewed for its minutes is free without asking.
    _leave_a_lease(store, minutes=10)
    later = MORNING + timedelta(minutes=10)
    assert _run(store, users, couriers, settings, now=later).sent == 0
    assert _statuses(store) == ["sent", "sent"]


def test_a_run_whose_lease_is_taken_stops_before_the_next_message(
    store, place, users, tmp_path
) -> None:  # noqa: ANN001
    settings = _sms_settings(tmp_path)
    reachable_cases(store, place, 3)
    real = couriers_from_settings(settings, now=MORNING)["sms"]

    class TakenOver:
        idempotent = real.idempotent

        def send(self, message: outbox.Outgoing) -> outbox.Receipt:
            receipt = real.send(message)
            with store.write() as session:
                other = run_lease.new_lease(outbox.SEND_RUN, "bob")
                run_lease.acquire(session, lease=other, now=MORNING, minutes=10, take_over=True)
            return receipt

    with pytest.raises(run_lease.RunBusy, match="took over the outbox; this one stopped after 1"):
        _run(store, users, {"sms": TakenOver()}, settings)
    assert _statuses(store) == ["queued", "queued", "sent"]
    with store.read() as session:
        [held] = session.exec(select(RunLease)).all()
        assert held.holder_label.startswith("bob on")  # the stopped run did not free bob's lease
