"""Two real processes on one SQLite file: a supervisor reassigning cases while an agent logs
contacts on the same cases with the version each form was opened on
(docs/decisions.md, stale edits).

Phase 1 is deterministic: the agent "opens" every case (reads its version), the supervisor then
moves half of them to bob and back, and the agent saves on all of them: the moved ones are refused
with StaleEdit, the others saved. Phase 2 lets both hammer the other half at the same time. In the
end every write a process saw committed is in the file, no write vanished or doubled, every
refusal was a clear StaleEdit or Forbidden (never "database is locked"), and the file passes
`PRAGMA integrity_check`.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from collector_tui import db
from collector_tui.models import Activity, Assignment, AuditEvent, Case

ROUNDS = 4  # phase 2: passes of each process over its cases

COMMON = """
import json, sys, time, uuid
from pathlib import Path
from collector_tui import bootstrap
from collector_tui.clock import SystemClock
from collector_tui.config import Settings
from collector_tui.services import accounts

path, folder = sys.argv[1], Path(sys.argv[2])
first = [uuid.UUID(x) for x in sys.argv[3].split(",")]
second = [uuid.UUID(x) for x in sys.argv[4].split(",")]
rounds = int(sys.argv[5])
store, settings, clock = bootstrap.open_store(path), Settings(), SystemClock()

def wait_for(name):
    deadline = time.monotonic() + 60
    while not (folder / name).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {name}")
        time.sleep(0.01)

def signal(name):
    (folder / name).write_text("1")

def actor(name):
    with store.read() as session:
        return accounts.get_actor(session=session, username=name)
"""

SUPERVISOR = """
from collector_tui.services.supervision.assignment import assign_cases
sam, alice, bob = actor("sam"), actor("alice"), actor("bob")
moves = []

def move(case_id, to, why):
    with store.write() as session:
        moved = assign_cases(session=session, now=clock.now(), actor=sam, case_ids=[case_id],
                             to_user_id=to.user_id, settings=settings, reason=why)
    moves.append([str(case_id), to.username, moved])

wait_for("opened")
for case_id in first:
    move(case_id, bob, "cover")
    move(case_id, alice, "back")
signal("moved")
wait_for("phase2")
for number in range(rounds):
    for case_id in second:
        move(case_id, bob, f"round {number}")
        time.sleep(0.005)
        move(case_id, alice, f"round {number} back")
        time.sleep(0.005)
print(json.dumps(moves))
"""

AGENT = """
from collector_tui.services.casework import activities, cases
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.errors import Forbidden, StaleEdit
alice = actor("alice")
results = []

def version_of(case_id):
    with store.read() as session:
        return cases.get_case(session=session, case_id=case_id, actor=alice).version

def save(case_id, version, note):
    try:
        with store.write() as session:
            logged = activities.log_contact(
                session=session, now=clock.now(), actor=alice, case_id=case_id,
                contact=ContactInput(disposition="no_answer", note=note), settings=settings,
                expected_version=version)
        results.append([str(case_id), "saved", str(logged.activity_id)])
    except StaleEdit as refusal:
        results.append([str(case_id), "stale", refusal.message])
    except Forbidden as refusal:
        results.append([str(case_id), "forbidden", refusal.message])

opened = {case_id: version_of(case_id) for case_id in first + second}
signal("opened")
wait_for("moved")
for case_id in first + second:
    save(case_id, opened[case_id], "typed before the move")
signal("phase2")
for number in range(rounds):
    for case_id in second:
        try:
            version = version_of(case_id)
        except Forbidden:
            results.append([str(case_id), "not mine now", ""])
            continue
        time.sleep(0.01)  # the agent types while the supervisor works
        save(case_id, version, f"round {number}")
print(json.dumps(results))
"""


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(COMMON) + textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.sqlite_only
def test_reassigning_and_logging_contacts_from_two_processes(
    store: db.Store, users, place, tmp_path: Path
) -> None:  # noqa: ANN001
    first = [place(f"K-{n}").id for n in range(4)]
    second = [place(f"M-{n}").id for n in range(3)]
    with store.read() as session:
        activities_before = session.exec(select(func.count()).select_from(Activity)).one()
    store.dispose()  # the file is the two processes' now
    signals = tmp_path / "signals"
    signals.mkdir()
    args = (
        str(tmp_path / "test.db"),
        str(signals),
        ",".join(map(str, first)),
        ",".join(map(str, second)),
        str(ROUNDS),
    )

    supervisor = _start(SUPERVISOR, *args)
    agent = _start(AGENT, *args)
    outputs = {}
    for name, process in (("supervisor", supervisor), ("agent", agent)):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name} failed:\n{err}"
        outputs[name] = json.loads(out.strip().splitlines()[-1])

    moves, results = outputs["supervisor"], outputs["agent"]
    # Phase 1: the forms opened before the moves are refused as stale; the others saved.
    phase1 = results[: len(first) + len(second)]
    assert [outcome for _, outcome, _ in phase1[: len(first)]] == ["stale"] * len(first)
    assert all("changed by someone else" in message for _, _, message in phase1[: len(first)])
    assert [outcome for _, outcome, _ in phase1[len(first) :]] == ["saved"] * len(second)
    # Phase 2: whatever the interleaving, every refusal is a clear one.
    assert {outcome for _, outcome, _ in results} <= {"saved", "stale", "forbidden", "not mine now"}

    saved = {uuid.UUID(detail) for _, outcome, detail in results if outcome == "saved"}
    with store.read() as session:
        activity_ids = set(
            session.exec(select(Activity.id).where(col(Activity.case_id).in_(first + second))).all()
        )
        activities_after = session.exec(select(func.count()).select_from(Activity)).one()
        history = session.exec(select(Assignment.case_id, Assignment.reason)).all()
        owners = set(session.exec(select(Case.assigned_to_id)).all())
        audited_moves = session.exec(
            select(func.count()).where(col(AuditEvent.action) == "assign")
        ).one()
        audited_contacts = set(
            session.exec(
                select(AuditEvent.entity_id).where(
                    AuditEvent.entity == "activity", AuditEvent.action == "create"
                )
            ).all()
        )
    # Every committed contact is there, and nothing else was written.
    assert saved <= activity_ids
    assert activities_after - activities_before == len(saved)
    assert {str(activity_id) for activity_id in saved} <= audited_contacts
    # Every committed move is there, once, with its reason and its audit event.
    assert all(moved == 1 for _, _, moved in moves)
    assert len(history) == len(moves) == audited_moves
    assert len(moves) == 2 * len(first) + 2 * ROUNDS * len(second)
    assert owners == {users["alice"].user_id}  # every case came back
    with sqlite3.connect(tmp_path / "test.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
