"""Property test of sync: a master and two laptops in-process (three SQLite files),
random interleavings of offline work, reassignments on the master, pushes, pulls and replays.

What must hold for every interleaving:
- no fact lost: every contact, note, promise and payment a laptop recorded is on the master once
  both laptops have pushed;
- replays are harmless: applying operations the master already applied changes nothing;
- convergence: after a final push and pull, each laptop's briefcase (every row of the cases active
  on it: case, debtor, phones, invoices, holds, activities, plans, promises, payments,
  allocations, follow-ups, assignments) equals the master's rows of the cases assigned to its
  agent, its active cases are exactly those, its outbox holds nothing pending, and it keeps no
  personal data of a case it no longer carries;
- money adds up on the master: each balance is the placed amount less the payments it holds.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import (
    Activity,
    AuditEvent,
    Case,
    Debtor,
    FollowUp,
    Payment,
    Promise,
    SyncAppliedOp,
    SyncBriefcaseCase,
    SyncOutboxOp,
)
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, notes, payments, promises
from collector_tui.services.casework.cases import PlacementInput, add_placement
from collector_tui.services.errors import ServiceError
from collector_tui.services.supervision import assignment
from collector_tui.services.sync import briefcase, engine
from collector_tui.services.sync.apply import Op, apply_ops
from collector_tui.services.sync.outbox import pending_ops

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
AGENTS = ("alice", "bob")
CASES = 4
PRINCIPAL = 100_000
SETTINGS = Settings()
DISPOSITIONS = ("no_answer", "right_party", "promise", "dispute")


@dataclass
class World:
    master: db.Store
    laptops: dict[str, db.Store]
    users: dict[str, Actor]
    case_ids: list[uuid.UUID]
    folder: Path
    facts: dict[str, set[uuid.UUID]] = field(
        default_factory=lambda: {"activity": set(), "promise": set(), "payment": set()}
    )
    sent: dict[str, list[Op]] = field(default_factory=lambda: {name: [] for name in AGENTS})

    def close(self) -> None:
        self.master.dispose()
        for laptop in self.laptops.values():
            laptop.dispose()
        # Hypothesis runs many worlds per test: each leaves no files behind.
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A master with two agents, a supervisor and four cases, and each agent's first pull."""
    folder = tmp_path_factory.mktemp("sync-template")
    master = bootstrap.open_store(folder / "master.db")
    db.upgrade(master)
    with master.write() as session:
        users = {
            name: accounts.create_user(
                session=session, now=NOW, username=name, password="demo", role=role
            )
            for name, role in (("alice", "agent"), ("bob", "agent"), ("sam", "supervisor"))
        }
        for number in range(CASES):
            add_placement(
                session=session,
                now=NOW,
                settings=SETTINGS,
                placement=PlacementInput(
                    client="ACME",
                    client_ref=f"C-{number}",
                    debtor_name=f"Debtor {number}",
                    country="CN",
                    currency="CNY",
                    principal=PRINCIPAL,
                    due_date=date(2026, 9, 1),
                    placed_date=date(2026, 10, 1),
                    phones=(f"+86 138 0013 800{number}",),
                    assigned_to_id=users[AGENTS[number % 2]].user_id,
                ),
            )
        # C-0 and C-2 are two debts of one debtor: once they belong to different agents, each
        # laptop carries the other's recent attempts as compliance context.
        cases = {c.client_ref: c for c in session.exec(select(Case))}
        cases["C-2"].debtor_id = cases["C-0"].debtor_id
        session.add(cases["C-2"])
    for name in AGENTS:
        laptop = bootstrap.open_store(folder / f"{name}.db")
        engine.pull(master=master, laptop=laptop, actor=users[name], now=NOW, settings=SETTINGS)
        laptop.dispose()
    master.dispose()
    return folder


def _world(template: Path) -> World:
    folder = Path(tempfile.mkdtemp(prefix="sync-world-"))
    for name in ("master", *AGENTS):
        shutil.copy(template / f"{name}.db", folder / f"{name}.db")
    master = bootstrap.open_store(folder / "master.db")
    with master.read() as session:
        users = {
            name: accounts.get_actor(session=session, username=name) for name in (*AGENTS, "sam")
        }
        case_ids = list(session.exec(select(Case.id).order_by(Case.client_ref)))
    laptops = {name: bootstrap.open_store(folder / f"{name}.db") for name in AGENTS}
    return World(master, laptops, users, case_ids, folder)


def _master_snapshot(world: World) -> tuple[object, ...]:
    with world.master.read() as session:
        connection = session.connection()
        counts = tuple(
            session.exec(select(func.count()).select_from(model)).one()
            for model in (AuditEvent, FollowUp, SyncAppliedOp, Payment)
        )
        return (briefcase.case_rows(connection, set(world.case_ids)), counts)


# --- the actions ------------------------------------------------------------------------------


def _offline(world: World, agent: str, at: datetime, step: tuple) -> None:  # noqa: C901
    kind, _, index = step[0], step[1], step[2]
    laptop = world.laptops[agent]
    actor = world.users[agent]
    case_id = world.case_ids[index]
    try:
        with laptop.write() as session:
            if kind == "contact":
                code = step[3]
                promise = (
                    promises.PromiseInput(amount=10_000, due_date=at.date() + timedelta(days=7))
                    if code == "promise"
                    else None
                )
                logged = activities.log_contact(
                    session=session,
                    now=at,
                    actor=actor,
                    case_id=case_id,
                    contact=activities.ContactInput(
                        disposition=code, note=f"{agent} at {at:%H:%M}", promise=promise
                    ),
                    settings=SETTINGS,
                )
                new = {"activity": {logged.activity_id}, "promise": set(logged.promise_ids)}
            elif kind == "note":
                note_id = notes.add_note(
                    session=session,
                    now=at,
                    actor=actor,
                    case_id=case_id,
                    text="a note",
                    settings=SETTINGS,
                )
                new = {"activity": {note_id}}
            else:
                posted = payments.post_payment(
                    session=session,
                    now=at,
                    actor=actor,
                    case_id=case_id,
                    amount=step[3],
                    received_on=at.date(),
                    settings=SETTINGS,
                )
                new = {"payment": {posted.payment_id}}
    except ServiceError:
        return  # not this agent's case on this laptop, read-only, over the balance...
    for name, ids in new.items():
        world.facts[name].update(ids)


def _run(world: World, at: datetime, step: tuple) -> None:
    kind = step[0]
    if kind in ("contact", "note", "payment"):
        _offline(world, step[1], at, step)
    elif kind == "reassign":
        with world.master.write() as session:
            assignment.assign_cases(
                session=session,
                now=at,
                actor=world.users["sam"],
                case_ids=[world.case_ids[step[1]]],
                to_user_id=world.users[step[2]].user_id,
                settings=SETTINGS,
            )
    elif kind == "bank":
        try:
            with world.master.write() as session:
                payments.post_payment(
                    session=session,
                    now=at,
                    actor=world.users["sam"],
                    case_id=world.case_ids[step[1]],
                    amount=step[2],
                    received_on=at.date(),
                    settings=SETTINGS,
                )
        except ServiceError:
            pass
    elif kind == "push":
        laptop = world.laptops[step[1]]
        with laptop.read() as session:
            world.sent[step[1]].extend(pending_ops(session=session))
        result = engine.push(
            laptop=laptop,
            master=world.master,
            actor=world.users[step[1]],
            now=at,
            settings=SETTINGS,
        )
        assert result.errors == 0
    elif kind == "pull":
        engine.pull(
            master=world.master,
            laptop=world.laptops[step[1]],
            actor=world.users[step[1]],
            now=at,
            settings=SETTINGS,
        )
    elif kind == "replay":
        ops = world.sent[step[1]]
        if not ops:
            return
        before = _master_snapshot(world)
        with world.master.write() as session:
            answers = apply_ops(
                session=session, now=at, actor=world.users[step[1]], ops=ops, settings=SETTINGS
            ).answers
        assert all(answer.outcome != "error" for answer in answers)
        assert _master_snapshot(world) == before, "a replay changed the master"


agent = st.sampled_from(AGENTS)
case = st.integers(0, CASES - 1)
steps = st.one_of(
    st.tuples(st.just("contact"), agent, case, st.sampled_from(DISPOSITIONS)),
    st.tuples(st.just("note"), agent, case),
    st.tuples(st.just("payment"), agent, case, st.sampled_from((5_000, 20_000, 60_000))),
    st.tuples(st.just("reassign"), case, agent),
    st.tuples(st.just("bank"), case, st.sampled_from((10_000, 50_000))),
    st.tuples(st.just("push"), agent),
    st.tuples(st.just("pull"), agent),
    st.tuples(st.just("replay"), agent),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(steps, min_size=1, max_size=14))
def test_no_fact_lost_replays_harmless_and_every_laptop_converges(
    template: Path, script: list[tuple]
) -> None:
    world = _world(template)
    try:
        at = NOW
        for step in script:
            at += timedelta(minutes=7)
            _run(world, at, step)
        at += timedelta(minutes=7)
        for name in AGENTS:
            _run(world, at, ("push", name))
        for name in AGENTS:
            _run(world, at, ("replay", name))
        at += timedelta(minutes=1)
        for name in AGENTS:
            _run(world, at, ("pull", name))
        _check(world)
    finally:
        world.close()


def _check(world: World) -> None:
    with world.master.read() as session:
        for name, model in (("activity", Activity), ("promise", Promise), ("payment", Payment)):
            for key in world.facts[name]:
                assert session.get(model, key) is not None, f"{name} {key} was lost"
        for case in session.exec(select(Case)):
            paid = session.exec(
                select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.case_id == case.id)
            ).one()
            assert case.balance == PRINCIPAL - paid
        owned = {
            name: set(
                session.exec(
                    select(Case.id).where(Case.assigned_to_id == world.users[name].user_id)
                )
            )
            for name in AGENTS
        }
        expected = {name: briefcase.case_rows(session.connection(), owned[name]) for name in AGENTS}
        allowed = {
            name: set(
                session.exec(
                    select(Debtor.name)
                    .join(Case, Case.debtor_id == Debtor.id)
                    .where(Case.assigned_to_id == world.users[name].user_id)
                )
            )
            for name in AGENTS
        }
    for name in AGENTS:
        with world.laptops[name].read() as session:
            assert briefcase.laptop_rows(session.connection()) == expected[name], name
            active = set(
                session.exec(
                    select(SyncBriefcaseCase.case_id).where(SyncBriefcaseCase.state == "active")
                )
            )
            assert active == owned[name]
            assert (
                session.exec(
                    select(func.count())
                    .select_from(SyncOutboxOp)
                    .where(SyncOutboxOp.state == "pending")
                ).one()
                == 0
            )
            carried = set(session.exec(select(Case.id).where(Case.client != "~context")))
            assert carried == owned[name]
            debtors = set(session.exec(select(Debtor.name))) - {briefcase.CONTEXT_NAME}
            assert debtors <= allowed[name], "a case no longer carried left personal data behind"
