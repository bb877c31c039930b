"""Applying a strategy file: stored and versioned, every open case placed, groups drawn stably and
never switched silently, a bad file changing nothing; the treatment reaching the queue, the
settlement limit and the reminders; placement assigning new cases; escalations due."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import AuditEvent, Case, StrategySet, SyncState
from collector_tui.services.casework import settlements
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.imports.placement_file import import_cases
from collector_tui.services.rules import scoring
from collector_tui.services.strategies import assign
from collector_tui.services.strategies.book import CHALLENGER, CHAMPION

FILE = """
title = "Test strategies"
[strategies.standard]
queue_weight = 100
sequence = "consumer"
settlement_limit_pct = 10
escalations = [{ after_days = 40, p_below = 0.9 }]
[strategies.standard.challenger]
share = 30
queue_weight = 200
settlement_limit_pct = 30
[strategies.firm]
queue_weight = 50
settlement_limit_pct = 0
[[rules]]
name = "big"
strategy = "firm"
priority = 10
currency = "CNY"
balance_min = "5000.00"
[[rules]]
name = "default"
strategy = "standard"
"""


def write(tmp_path: Path, text: str, name: str = "strategies.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def apply(store: db.Store, users, now: datetime, path: Path, settings: Settings):  # noqa: ANN001, ANN201
    with store.write() as session:
        return assign.apply_strategy_file(
            session=session, now=now, actor=users["sam"], settings=settings, path=path
        )


def cases(store: db.Store) -> dict[str, Case]:
    with store.read() as session:
        return {c.client_ref: c for c in session.exec(select(Case)).all()}


def test_the_draw_is_stable_and_near_the_share_on_10k_cases() -> None:
    ids = [f"ACME\x1fREF-{n:05d}" for n in range(10_000)]
    first = [assign.draw_group(i, "standard", 20) for i in ids]
    assert first == [assign.draw_group(i, "standard", 20) for i in ids]
    share = first.count(CHALLENGER) / len(ids) * 100
    assert 17 <= share <= 23, share
    random_ids = [f"Bank {n % 7}\x1f{uuid.uuid4()}" for n in range(10_000)]
    share = sum(assign.draw_group(i, "standard", 20) == CHALLENGER for i in random_ids) / 100
    assert 17 <= share <= 23, share
    # Another strategy draws independently; no share, no challenger.
    assert [assign.draw_group(i, "other", 20) for i in ids] != first
    assert {assign.draw_group(i, "standard", 0) for i in ids} == {CHAMPION}


def test_apply_stores_the_set_and_places_every_open_case(
    store: db.Store, place, users, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    for n in range(30):
        place(f"S-{n}", principal=100_000)
    place("BIG", principal=900_000)
    closed = place("DONE", principal=100_000)
    with store.write() as session:
        row = session.get(Case, closed.id)
        row.status = "paid"
        session.add(row)
    applied = apply(store, users, now, write(tmp_path, FILE), settings)
    assert applied.version == 1 and applied.assigned == 31 and applied.switched == 0
    found = cases(store)
    assert found["DONE"].strategy is None
    big = found["BIG"]
    assert (big.strategy, big.strategy_group) == ("firm", CHAMPION)
    assert big.strategy_reason == "balance_min=5000.00, currency=CNY"
    assert big.strategy_treatment["rule"] == "big"
    assert big.strategy_treatment["queue_weight"] == 50
    groups = {c.strategy_group for ref, c in found.items() if ref.startswith("S-")}
    assert groups == {CHAMPION, CHALLENGER}
    for ref, case in found.items():
        if ref.startswith("S-"):
            assert case.strategy_group == assign.draw_group(assign.case_key(case), "standard", 30)
            weight = 200 if case.strategy_group == CHALLENGER else 100
            assert case.strategy_treatment["queue_weight"] == weight
    # The queue uses the weight: the firm case's score is halved, and says why.
    factors = {f["name"]: f["points"] for f in big.score_factors}
    assert factors["strategy"] < 0
    assert big.score == sum(factors.values())
    with store.read() as session:
        sets = session.exec(select(StrategySet)).all()
        assert [s.version for s in sets] == [1] and "Test strategies" in sets[0].text
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "strategy")).all()
        assert len(events) == 31
        assert all(e.before["strategy"] is None for e in events)
        assert (
            session.exec(select(AuditEvent).where(AuditEvent.entity == "strategy_set"))
            .one()
            .after["assigned"]
            == 31
        )

    # A rerun changes nothing: same set, same draws.
    again = apply(store, users, now, write(tmp_path, FILE), settings)
    assert again.version == 2 and again.unchanged == 31 and again.assigned == again.switched == 0
    assert {r: (c.strategy, c.strategy_group) for r, c in cases(store).items()} == {
        r: (c.strategy, c.strategy_group) for r, c in found.items()
    }


def test_a_case_keeps_its_group_unless_its_rule_changed(
    store: db.Store, place, users, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    for n in range(20):
        place(f"S-{n}", principal=100_000)
    apply(store, users, now, write(tmp_path, FILE), settings)
    before = cases(store)
    # The share moves: placed cases keep their group (only new ones would see the new share);
    # their treatment follows the file.
    moved = FILE.replace("share = 30", "share = 90").replace(
        "queue_weight = 200", "queue_weight = 210"
    )
    result = apply(store, users, now, write(tmp_path, moved), settings)
    assert result.switched == 0
    after = cases(store)
    for ref, case in after.items():
        assert case.strategy_group == before[ref].strategy_group
        if case.strategy_group == CHALLENGER:
            assert case.strategy_treatment["queue_weight"] == 210
    # The rule that placed them changes (renamed): they are placed again, each switch audited.
    renamed = moved.replace('name = "default"', 'name = "everyone"')
    result = apply(store, users, now, write(tmp_path, renamed), settings)
    with store.read() as session:
        switches = session.exec(
            select(AuditEvent).where(AuditEvent.action == "strategy", col(AuditEvent.at) >= now)
        ).all()
    redrawn = [c for r, c in cases(store).items() if c.strategy_group != before[r].strategy_group]
    assert result.switched == len(redrawn) > 0
    last = [e for e in switches if e.after.get("set_version") == 3]
    assert len(last) == 20
    switched = [e for e in last if e.before["strategy_group"] != e.after["strategy_group"]]
    assert len(switched) == len(redrawn)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            FILE.replace("queue_weight = 50", "queue_weight = 50\nspeed = 1"),
            "unknown field 'speed'",
        ),
        (
            FILE.replace(
                'name = "default"\nstrategy = "standard"',
                'name = "d"\nstrategy = "standard"\ndpd_min = 1',
            ),
            "no default rule",
        ),
        (FILE.replace("priority = 10", "priority = 0"), "overlaps rule"),
    ],
)
def test_a_bad_file_leaves_the_set_and_every_case_as_they_were(
    store: db.Store, place, users, now: datetime, settings: Settings, tmp_path: Path,
    bad: str, message: str,
) -> None:  # fmt: skip
    place("S-1", principal=100_000)
    apply(store, users, now, write(tmp_path, FILE), settings)
    before = cases(store)
    with pytest.raises(InvalidInput, match=message) as raised:
        apply(store, users, now, write(tmp_path, bad, "bad.toml"), settings)
    assert str(raised.value).startswith("bad.toml: ")
    with store.read() as session:
        assert [s.version for s in session.exec(select(StrategySet)).all()] == [1]
    assert cases(store)["S-1"].strategy_treatment == before["S-1"].strategy_treatment
    with store.read() as session:
        checked = None
        with pytest.raises(InvalidInput):
            checked = assign.check_strategy_file(
                session=session, now=now, settings=settings, path=tmp_path / "bad.toml"
            )
        assert checked is None
        assert assign.strategy_in_force(session=session).version == 1  # type: ignore[union-attr]


def test_only_a_supervisor_on_the_master_applies(
    store: db.Store, place, users, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, FILE)
    with pytest.raises(Forbidden), store.write() as session:
        assign.apply_strategy_file(
            session=session, now=now, actor=users["alice"], settings=settings, path=path
        )
    with store.write() as session:
        session.add(SyncState(id=1, role="laptop", device_id=uuid.uuid4(), created_at=now))
    with pytest.raises(Forbidden, match="not on a laptop"), store.write() as session:
        assign.apply_strategy_file(
            session=session, now=now, actor=users["sam"], settings=settings, path=path
        )


def test_the_strategy_caps_the_agents_settlement_limit(
    store: db.Store, place, users, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    case = place("BIG", principal=900_000)
    with store.write() as session:
        settlements.set_settlement_limit(
            session=session, now=now, actor=users["sam"], user_id=users["alice"].user_id,
            limit_pct=20,
        )  # fmt: skip
    apply(store, users, now, write(tmp_path, FILE), settings)  # firm: 0%
    with store.read() as session:
        assert (
            settlements.settlement_limit(session=session, actor=users["alice"], case_id=case.id)
            == 0
        )
        assert settlements.settlement_limit(session=session, actor=users["alice"]) == 20
    with store.write() as session:
        view = settlements.request_settlement(
            session=session, now=now, actor=users["alice"], case_id=case.id, amount=890_000,
            due_date=date(2026, 12, 1), settings=settings,
        )  # fmt: skip
    assert view.status == "pending"  # 1% discount, above the strategy's 0%: a supervisor decides


def test_placement_assigns_new_cases_by_the_set_in_force(
    store: db.Store, place, users, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    apply(store, users, now, write(tmp_path, FILE), settings)
    csv = tmp_path / "in.csv"
    csv.write_text(
        "client,client_ref,debtor_name,country,phone,currency,principal,due_date\n"
        "ACME,N-1,A,CN,,CNY,100.00,2026-09-01\n"
        "ACME,N-2,B,CN,,CNY,9000.00,2026-09-01\n",
        encoding="utf-8",
    )
    import_cases(store=store, path=csv, now=now, settings=settings, actor=users["sam"])
    found = cases(store)
    assert found["N-1"].strategy == "standard"
    assert found["N-1"].strategy_group == assign.draw_group(
        assign.case_key(found["N-1"]), "standard", 30
    )
    assert (found["N-2"].strategy, found["N-2"].strategy_group) == ("firm", CHAMPION)
    # Its queue place carries the weight, as a refresh would compute it.
    with store.read() as session:
        row = session.get(Case, found["N-2"].id)
        place_now = scoring.compute_place(session=session, case=row, now=now, settings=settings)
        assert row.priority == place_now.priority


def test_escalations_due_are_listed_shown_and_sent_to_legal(
    store: db.Store, place, users, now: datetime, settings: Settings, tmp_path: Path
) -> None:
    old = place("OLD", principal=100_000, placed_date=date(2026, 9, 1))
    place("NEW", principal=100_000, placed_date=now.date())
    apply(store, users, now, write(tmp_path, FILE), settings)
    with store.read() as session:
        due = assign.due_escalations(
            session=session, now=now, actor=users["sam"], settings=settings
        )
        shown = assign.case_strategy(
            session=session, now=now, actor=users["alice"], settings=settings, case_id=old.id
        )
    assert [d.client_ref for d in due] == ["OLD"]
    assert due[0].p < 0.9 and due[0].to == "legal"
    assert shown.escalation_due is not None and shown.strategy == "standard"
    with store.write() as session:
        sent = assign.escalate_due(session=session, now=now, actor=users["sam"], settings=settings)
    assert [d.client_ref for d in sent] == ["OLD"]
    assert cases(store)["OLD"].status == "legal"
    with store.read() as session:
        assert (
            assign.due_escalations(session=session, now=now, actor=users["sam"], settings=settings)
            == []
        )
