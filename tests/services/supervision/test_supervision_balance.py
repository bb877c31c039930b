"""Auto-balance: spreading cases over agents by count and balance, recorded and audited."""

from __future__ import annotations

import tempfile
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import col, func, select

from collector_tui.config import Settings
from collector_tui.models import Assignment, AuditEvent, Case
from collector_tui.services import accounts
from collector_tui.services.casework.cases import PlacementInput, add_placement
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.supervision.assignment import (
    AgentLoad,
    BalanceCase,
    auto_balance,
    plan_balance,
    preview_balance,
)

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def _place(session, settings, ref, balance, agent=None, currency="CNY"):  # noqa: ANN001, ANN202
    return add_placement(
        session=session,
        now=NOW,
        settings=settings,
        placement=PlacementInput(
            client="ACME",
            client_ref=ref,
            debtor_name=f"Debtor {ref}",
            country="CN",
            currency=currency,
            principal=balance,
            due_date=date(2026, 9, 1),
            placed_date=date(2026, 10, 1),
            assigned_to_id=agent,
        ),
    ).id


def test_the_preview_is_what_the_balance_then_does_and_writes_nothing(
    store,
    now,
    settings,
    users,  # noqa: ANN001
) -> None:
    alice, bob, sam = users["alice"], users["bob"], users["sam"]
    with store.write() as session:
        _place(session, settings, "OLD-1", 10_000, alice.user_id)
        for n, balance in enumerate((90_000, 70_000, 50_000)):
            _place(session, settings, f"U-{n}", balance)
        _place(session, settings, "USD-1", 500, currency="USD")
    agents = [alice.user_id, bob.user_id]
    with store.read() as session:
        preview = preview_balance(session=session, actor=sam, agent_ids=agents)
        assert session.exec(select(func.count()).select_from(Assignment)).one() == 0
    with store.write() as session:
        done = auto_balance(
            session=session, now=now, actor=sam, settings=settings, agent_ids=agents
        )
    assert preview == done
    assert {s.username: s.cases for s in preview.shares} == {"alice": 2, "bob": 2}
    with store.read() as session, pytest.raises(Forbidden):
        preview_balance(session=session, actor=alice, agent_ids=agents)


def test_unassigned_cases_are_spread_recorded_and_audited(store, now, settings, users) -> None:  # noqa: ANN001
    alice, bob, sam = users["alice"], users["bob"], users["sam"]
    with store.write() as session:
        # Alice already holds two cases; bob none.
        for ref in ("OLD-1", "OLD-2"):
            _place(session, settings, ref, 10_000, alice.user_id)
        pool = {
            _place(session, settings, f"U-{n}", balance): balance
            for n, balance in enumerate((90_000, 70_000, 50_000, 30_000))
        }
        _place(session, settings, "USD-1", 500, currency="USD")

    with store.write() as session:
        result = auto_balance(
            session=session,
            now=now,
            actor=sam,
            settings=settings,
            agent_ids=[alice.user_id, bob.user_id],
            reason="monday spread",
        )

    assert (result.considered, result.moved) == (5, 5)
    shares = {share.username: share for share in result.shares}
    # Bob starts two behind: he gets cases until level, then they alternate by balance.
    assert shares["bob"].cases == 3 and shares["alice"].cases == 2
    with store.read() as session:
        cases = {c.id: c for c in session.exec(select(Case))}
        history = session.exec(select(Assignment)).all()
        balance_events = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "workload")
        ).all()
        assign_events = session.exec(
            select(func.count()).where(col(AuditEvent.action) == "assign")
        ).one()
    counts = Counter(c.assigned_to_id for c in cases.values())
    assert counts == {alice.user_id: 4, bob.user_id: 3}
    # The biggest case went to bob, the one with the fewest cases.
    assert cases[max(pool, key=pool.__getitem__)].assigned_to_id == bob.user_id
    assert len(history) == 5 and assign_events == 5
    assert {(h.from_user_id, h.moved_by_id, h.reason) for h in history} == {
        (None, sam.user_id, "auto-balance: monday spread")
    }
    assert len(balance_events) == 1
    assert balance_events[0].after["shares"] == {"alice": 2, "bob": 3}
    # Re-placed in their new queues: scored again in the same transaction.
    assert all(cases[case_id].updated_at == now for case_id in pool)

    with store.write() as session:
        again = auto_balance(
            session=session, now=now, actor=sam, settings=settings, agent_ids=[bob.user_id]
        )
    assert (again.considered, again.moved) == (0, 0)


def test_selected_cases_are_taken_from_their_agent(store, now, settings, users) -> None:  # noqa: ANN001
    alice, bob, sam = users["alice"], users["bob"], users["sam"]
    with store.write() as session:
        ids = [_place(session, settings, f"S-{n}", 1_000 * n + 1, alice.user_id) for n in range(4)]
    with store.write() as session:
        result = auto_balance(
            session=session,
            now=now,
            actor=sam,
            settings=settings,
            agent_ids=[alice.user_id, bob.user_id],
            case_ids=ids,
        )
    # Alice's four are spread again, not on top of what she holds: two each, two moved.
    assert {s.username: s.cases for s in result.shares} == {"alice": 2, "bob": 2}
    assert result.moved == 2
    with store.read() as session:
        assert session.exec(select(func.count()).select_from(Assignment)).one() == 2


def test_refusals(store, now, settings, users) -> None:  # noqa: ANN001
    alice, sam = users["alice"], users["sam"]
    with store.write() as session, pytest.raises(Forbidden, match="only a supervisor"):
        auto_balance(session=session, now=now, actor=alice, settings=settings,
                     agent_ids=[alice.user_id])  # fmt: skip
    with store.write() as session, pytest.raises(InvalidInput, match="at least one agent"):
        auto_balance(session=session, now=now, actor=sam, settings=settings, agent_ids=[])
    with store.write() as session, pytest.raises(Exception, match="no such user"):
        auto_balance(session=session, now=now, actor=sam, settings=settings,
                     agent_ids=[uuid.uuid4()])  # fmt: skip


# --- properties ----------------------------------------------------------------------------------

case_lists = st.lists(
    st.tuples(st.sampled_from(["CNY", "USD", "JPY"]), st.integers(min_value=1, max_value=10**9)),
    max_size=60,
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(cases=case_lists, agents=st.integers(min_value=1, max_value=6),
       start=st.integers(min_value=0, max_value=50))  # fmt: skip
def test_plan_assigns_every_case_once_and_evens_counts(
    cases: list[tuple[str, int]], agents: int, start: int
) -> None:
    chosen = [BalanceCase(uuid.uuid4(), currency, balance) for currency, balance in cases]
    agent_ids = [uuid.uuid4() for _ in range(agents)]
    loads = {agent: AgentLoad(start, {"CNY": start * 100}) for agent in agent_ids}

    plan = plan_balance(chosen, loads)

    assert set(plan) == {case.case_id for case in chosen}
    assert set(plan.values()) <= set(agent_ids)
    counts = Counter(plan.values())
    given_counts = [counts.get(agent, 0) for agent in agent_ids]
    assert max(given_counts) - min(given_counts) <= 1
    assert plan == plan_balance(chosen, loads)  # deterministic


@hypothesis_settings(max_examples=200, deadline=None)
@given(balances=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=40),
       loads=st.lists(st.integers(min_value=0, max_value=20), min_size=2, max_size=5))  # fmt: skip
def test_plan_fills_the_lightest_agent_first(balances: list[int], loads: list[int]) -> None:
    chosen = [BalanceCase(uuid.uuid4(), "CNY", b) for b in balances]
    agent_ids = [uuid.uuid4() for _ in loads]
    starting = {a: AgentLoad(n, {}) for a, n in zip(agent_ids, loads, strict=True)}
    plan = plan_balance(chosen, starting)
    counts = Counter(plan.values())
    totals = [n + counts.get(a, 0) for a, n in zip(agent_ids, loads, strict=True)]
    # Nobody ends more than one above the lightest, unless they started above everyone's end.
    for start, total in zip(loads, totals, strict=True):
        if total > start:
            assert total - min(totals) <= 1


@pytest.fixture(scope="module")
def balance_template(databases: Any) -> Any:
    """A database with three agents and a supervisor, copied for each example."""
    return databases.template(
        lambda session: {
            name: accounts.create_user(
                session=session, now=NOW, username=name, password="demo", role=role
            )
            for name, role in (
                ("a1", "agent"),
                ("a2", "agent"),
                ("a3", "agent"),
                ("boss", "supervisor"),
            )
        }
    )


@hypothesis_settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(balances=st.lists(st.integers(min_value=1, max_value=10**7), min_size=0, max_size=14),
       agents=st.integers(min_value=1, max_value=3))  # fmt: skip
def test_every_unassigned_case_is_assigned_exactly_once_in_the_database(
    balance_template: Any, balances: list[int], agents: int
) -> None:
    settings = Settings()
    people = balance_template.value
    chosen = [people[f"a{n + 1}"].user_id for n in range(agents)]
    with tempfile.TemporaryDirectory() as folder:
        store = balance_template.open(Path(folder))
        try:
            with store.write() as session:
                ids = [_place(session, settings, f"H-{n}", b) for n, b in enumerate(balances)]
            with store.write() as session:
                result = auto_balance(session=session, now=NOW, actor=people["boss"],
                                      settings=settings, agent_ids=chosen)  # fmt: skip
            with store.read() as session:
                owners = dict(session.exec(select(Case.id, Case.assigned_to_id)).all())
                moves = Counter(session.exec(select(Assignment.case_id)).all())
        finally:
            store.dispose()
    assert result.considered == result.moved == len(ids)
    assert moves == Counter(ids)  # one Assignment row per case, none for anything else
    counts = Counter(owners[i] for i in ids)
    assert set(counts) <= set(chosen)
    per_agent = [counts.get(agent, 0) for agent in chosen]
    assert max(per_agent) - min(per_agent) <= 1
