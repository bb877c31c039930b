"""Agents see and change only their own cases, through every service and every command.

Each service is called as bob (an agent) on a case of alice's; each must refuse (Forbidden) or,
for lists, leave the case out, and nothing may change in the database. The supervisor's own
services refuse agents altogether. The same through the command line, as real users with
passwords: one clear line on stderr, exit status 1, nothing written.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from collector_tui import cli, db
from collector_tui.models import Activity, Assignment, AuditEvent, Case, Hold, Promise
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import (
    activities,
    casefile,
    cases,
    drafts,
    followups,
    holds,
    notes,
    payments,
    promises,
    search,
    settlements,
)
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.services.errors import Forbidden
from collector_tui.services.reporting import exports, reports
from collector_tui.services.supervision import assignment, audit_trail, decisions, workload
from conftest import create_users

Call = Callable[[Any, Any], Any]  # (session, context) -> result


class Context:
    """Alice's case G-1 (with a promise and a hold) in a store of this test's own."""

    def __init__(self, store: db.Store, seeded: dict[str, Any], now, settings, tmp_path) -> None:  # noqa: ANN001
        self.store, self.now, self.settings, self.tmp_path = store, now, settings, tmp_path
        self.users: dict[str, Actor] = seeded["users"]
        self.bob: Actor = self.users["bob"]
        with store.read() as session:
            self.case = session.get(Case, seeded["case_id"])
            self.hold_id = session.exec(select(Hold.id).where(Hold.case_id == self.case.id)).first()
            self.promise_id = session.exec(
                select(Promise.id).where(Promise.case_id == self.case.id)
            ).first()


def _common(c: Context) -> dict[str, Any]:
    return {"now": c.now, "actor": c.bob, "settings": c.settings}


DUE = date(2026, 11, 27)
NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
NOW_TEXT = "2026-11-20T14:30:00+00:00"
# Every service that reads or changes one case, called by bob on alice's case.
REFUSED: dict[str, Call] = {
    "get_case": lambda s, c: cases.get_case(session=s, case_id=c.case.id, actor=c.bob),
    "find_case": lambda s, c: cases.find_case(session=s, reference="G-1", actor=c.bob),
    "load_case_file": lambda s, c: casefile.load_case_file(
        session=s, actor=c.bob, case_id=c.case.id, now=c.now, settings=c.settings
    ),
    "log_contact": lambda s, c: activities.log_contact(
        session=s, case_id=c.case.id, contact=ContactInput(disposition="no_answer"), **_common(c)
    ),
    "add_note": lambda s, c: notes.add_note(
        session=s, case_id=c.case.id, text="peek", **_common(c)
    ),
    "create_promise": lambda s, c: promises.create_promise(
        session=s, case_id=c.case.id, promise=PromiseInput(100, DUE), **_common(c)
    ),
    "create_plan": lambda s, c: promises.create_plan(
        session=s,
        case_id=c.case.id,
        plan=PlanInput((PromiseInput(100, DUE), PromiseInput(100, DUE + timedelta(30)))),
        **_common(c),
    ),
    "cancel_promise": lambda s, c: promises.cancel_promise(
        session=s, promise_id=c.promise_id, reason="x", **_common(c)
    ),
    "post_payment": lambda s, c: payments.post_payment(
        session=s, case_id=c.case.id, amount=100, received_on=c.now.date(), **_common(c)
    ),
    "place_hold": lambda s, c: holds.place_hold(
        session=s, case_id=c.case.id, kind="dispute", reason="says it was paid", **_common(c)
    ),
    "release_hold": lambda s, c: holds.release_hold(
        session=s, hold_id=c.hold_id, reason="back at work now", **_common(c)
    ),
    "create_follow_up": lambda s, c: followups.create_follow_up(
        session=s,
        case_id=c.case.id,
        follow_up=FollowUpInput(due_at=c.now + timedelta(hours=2), reason="x"),
        **_common(c),
    ),
    "save_draft": lambda s, c: drafts.save_draft(
        session=s, now=c.now, actor=c.bob, case_id=c.case.id, form="note", payload={"note": "x"}
    ),
    "load_draft": lambda s, c: drafts.load_draft(
        session=s, actor=c.bob, case_id=c.case.id, form="note"
    ),
    "assign_cases": lambda s, c: assignment.assign_cases(
        session=s, case_ids=[c.case.id], to_user_id=c.bob.user_id, **_common(c)
    ),
    "auto_balance": lambda s, c: assignment.auto_balance(
        session=s, agent_ids=[c.bob.user_id], case_ids=[c.case.id], **_common(c)
    ),
    "assignment_history": lambda s, c: assignment.assignment_history(
        session=s, case_id=c.case.id, actor=c.bob
    ),
    "route_case": lambda s, c: decisions.route_case(
        session=s, case_id=c.case.id, reason="x", **_common(c)
    ),
    "request_legal_escalation": lambda s, c: decisions.request_legal_escalation(
        session=s, case_id=c.case.id, reason="x", **_common(c)
    ),
    "request_settlement": lambda s, c: settlements.request_settlement(
        session=s, case_id=c.case.id, amount=100, due_date=DUE, **_common(c)
    ),
    "case_settlements": lambda s, c: settlements.case_settlements(
        session=s, actor=c.bob, case_id=c.case.id
    ),
    "case_audit_trail": lambda s, c: audit_trail.case_audit_trail(
        session=s, actor=c.bob, case_id=c.case.id
    ),
    "escalate_to_legal": lambda s, c: decisions.escalate_to_legal(
        session=s, case_id=c.case.id, reason="x", **_common(c)
    ),
    "write_off": lambda s, c: decisions.write_off(
        session=s, case_id=c.case.id, reason="x", **_common(c)
    ),
    "close_case": lambda s, c: decisions.close_case(
        session=s, case_id=c.case.id, reason="x", **_common(c)
    ),
    "unroute_case": lambda s, c: decisions.unroute_case(session=s, case_id=c.case.id, **_common(c)),
    "routed_cases": lambda s, c: decisions.routed_cases(session=s, now=c.now, actor=c.bob),
    "pending_settlements": lambda s, c: settlements.pending_settlements(session=s, actor=c.bob),
    "browse_other_agent": lambda s, c: workload.browse_cases(
        session=s,
        now=c.now,
        actor=c.bob,
        filters=workload.BrowserFilter(agent_id=c.users["alice"].user_id),
    ),
    "browse_unassigned": lambda s, c: workload.browse_cases(
        session=s, now=c.now, actor=c.bob, filters=workload.BrowserFilter(unassigned=True)
    ),
}


def _snapshot(store: db.Store) -> tuple[Any, ...]:
    """Everything an attempt could have changed."""
    with store.read() as session:
        return (
            tuple(session.exec(select(Case.id, Case.version, Case.assigned_to_id)).all()),
            session.exec(select(func.count()).select_from(Activity)).one(),
            session.exec(select(func.count()).select_from(Assignment)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
        )


def _seed(session: Any) -> dict[str, Any]:
    from collector_tui.config import Settings
    from collector_tui.services.casework.cases import PlacementInput, add_placement

    settings = Settings()
    users = create_users(session)
    alice = users["alice"]
    case = add_placement(
        session=session,
        now=NOW,
        settings=settings,
        placement=PlacementInput(
            client="ACME Bank", client_ref="G-1", debtor_name="Debtor G-1", country="CN",
            currency="CNY", principal=50_000, due_date=date(2026, 9, 1),
            placed_date=date(2026, 10, 1), phones=("+86 138 0013 8000",),
            assigned_to_id=alice.user_id,
        ),
    )  # fmt: skip
    activities.log_contact(
        session=session,
        now=NOW,
        actor=alice,
        case_id=case.id,
        contact=ContactInput(disposition="promise", promise=PromiseInput(10_000, DUE)),
        settings=settings,
    )
    holds.place_hold(session=session, now=NOW, actor=alice, case_id=case.id, kind="hardship",
                     settings=settings, reason="lost his job in May")  # fmt: skip
    return {"users": users, "case_id": case.id}


@pytest.fixture(scope="module")
def seeded(databases: Any) -> Any:
    """Made once per module (passwords are slow to hash on purpose), copied for each test."""
    return databases.template(_seed)


@pytest.fixture
def store_template(seeded: Any) -> Any:
    return seeded


@pytest.fixture
def context(store: db.Store, seeded: Any, now, settings, tmp_path: Path) -> Context:  # noqa: ANN001
    return Context(store, seeded.value, now, settings, tmp_path)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_an_agent_cannot_reach_another_agents_case(store, context: Context, name: str) -> None:  # noqa: ANN001
    before = _snapshot(store)
    with pytest.raises(Forbidden), store.write() as session:
        REFUSED[name](session, context)
    assert _snapshot(store) == before


def test_lists_leave_other_agents_cases_out(store, context: Context) -> None:  # noqa: ANN001
    from collector_tui.services.casework.cases import PlacementInput, add_placement

    c = context
    with store.write() as session:
        bobs = add_placement(
            session=session,
            now=c.now,
            settings=c.settings,
            placement=PlacementInput(
                client="ACME Bank", client_ref="G-2", debtor_name="Debtor G-1 too",
                country="CN", currency="CNY", principal=100_000, due_date=date(2026, 9, 1),
                placed_date=date(2026, 10, 1), assigned_to_id=c.bob.user_id,
            ),
        )  # fmt: skip
    with store.read() as session:
        hits = search.search_cases(session=session, actor=c.bob, text="Debtor G-1")
        by_ref = search.search_cases(session=session, actor=c.bob, text="G-")  # G-1 and G-2
        page = workload.browse_cases(session=session, now=c.now, actor=c.bob)
        loads = workload.agent_workloads(session=session, now=c.now, actor=c.bob)
        aging = reports.aging(session=session, now=c.now, actor=c.bob)
        count = exports.export_cases(session=session, path=c.tmp_path / "x.csv", actor=c.bob)
    assert [h.case_id for h in hits] == [bobs.id]
    assert [h.case_id for h in by_ref] == [bobs.id]  # a reference prefix: alice's G-1 stays out
    assert [row.case_id for row in page.rows] == [bobs.id] and page.total == 1
    assert [row.username for row in loads] == ["bob"] and loads[0].open_cases == 1
    assert sum(row.count for row in aging) == 1
    assert count == 1


# --- the command line, as real users with passwords ------------------------------------------


@pytest.fixture
def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., tuple[int, str, str]]:
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    def _run(*args: str, password: str = "demo") -> tuple[int, str, str]:
        monkeypatch.setenv("COLLECTOR_PASSWORD", password)
        capsys.readouterr()
        code = cli.main([*args, "--db", str(tmp_path / "test.db"), "--now", NOW_TEXT])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


CLI_REFUSED = [
    ("log", "G-1", "--disposition", "no_answer"),
    ("payment", "G-1", "10.00"),
    ("assign", "G-1", "--to", "bob"),
    ("queue", "--agent", "alice"),
    ("balance", "--to", "bob"),
    ("balance", "G-1", "--to", "bob"),
    ("cases", "--agent", "alice"),
    ("cases", "--agent", "none"),
    ("routed",),
    ("route", "G-1", "--reason", "x"),
    ("route", "G-1", "--reason", "x", "--legal"),
    ("decide", "G-1", "write-off", "--reason", "x"),
    ("settle", "G-1", "100.00@2026-11-27"),
    ("approve", "G-1"),
    ("history", "G-1"),
    ("user", "limit", "alice", "50"),
]


@pytest.mark.sqlite_only  # the command line is given the SQLite file
@pytest.mark.parametrize("args", CLI_REFUSED, ids=lambda a: " ".join(a[:2]))
def test_an_agent_cannot_reach_another_agents_case_from_the_command_line(
    run,
    store,
    context: Context,
    args: tuple[str, ...],  # noqa: ANN001
) -> None:
    before = _snapshot(store)
    code, out, err = run(*args, "--user", "bob")
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("collector-tui: error: "), err
    assert "Traceback" not in err
    assert _snapshot(store) == before


@pytest.mark.sqlite_only  # the command line is given the SQLite file
def test_wrong_passwords_are_refused_everywhere(run, store, context: Context) -> None:  # noqa: ANN001
    before = _snapshot(store)
    for args in (("workload",), ("history", "G-1"), ("balance", "--to", "bob")):
        code, _, err = run(*args, "--user", "sam", password="not-demo")
        assert code == 1 and err.strip() == "collector-tui: error: wrong user name or password"
    assert _snapshot(store) == before


@pytest.mark.sqlite_only  # the command line is given the SQLite file
def test_an_agents_own_commands_work(run, store, context: Context) -> None:  # noqa: ANN001
    code, out, err = run("history", "G-1", "--user", "alice")
    assert (code, err) == (0, "") and "activity create" in out
    code, out, _ = run("workload", "--user", "alice")
    assert code == 0 and "alice" in out and "bob" not in out


def test_uuid_of_someone_elses_case_is_refused_like_a_reference(store, context: Context) -> None:  # noqa: ANN001
    with store.read() as session, pytest.raises(Forbidden):
        cases.find_case(session=session, reference=str(context.case.id), actor=context.bob)
    with store.read() as session, pytest.raises(Exception, match="no case"):
        cases.find_case(session=session, reference=str(uuid.uuid4()), actor=context.bob)
