"""Assessments offline: made on a laptop they reach the master as facts; the debtor's grade follows
the latest graded one; a figure the app would refuse is refused on the master too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.models import Assessment, Case, Debtor
from collector_tui.services.accounts import Actor
from collector_tui.services.assessment import assess as assessing
from collector_tui.services.assessment.assess import AssessmentInput
from collector_tui.services.sync import engine

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


def _push(master: db.Store, laptop: db.Store, agent: Actor, now: datetime):  # noqa: ANN202
    return engine.push(laptop=laptop, master=master, actor=agent, now=now, settings=Settings())


def _pull(master: db.Store, laptop: db.Store, agent: Actor, now: datetime) -> None:
    engine.pull(master=master, laptop=laptop, actor=agent, now=now, settings=Settings())


def test_an_assessment_made_offline_reaches_the_master_and_sets_the_grade(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    alice = users["alice"]
    case = place("AS-1", risk_grade="C")
    _pull(store, laptop, alice, NOW)
    with laptop.write() as session:
        made = assessing.assess(
            session=session,
            now=NOW + timedelta(minutes=5),
            actor=alice,
            settings=Settings(),
            case_id=case.id,
            assessment=AssessmentInput(
                currency="CNY",
                income=900_000,
                housing=400_000,
                family=100_000,
                other_debts=0,
                grade="B",
                reason="new job, income confirmed by payslip",
            ),
        )
    result = _push(store, laptop, alice, LATER)
    assert (result.errors, result.rejected) == (0, 0), result.notes
    with store.read() as session:
        row = session.get(Assessment, made.id)
        assert row is not None
        assert (row.disposable, row.grade, row.grade_before, row.assessed_by_id) == (
            400_000,
            "B",
            "C",
            alice.user_id,
        )
        assert row.assessed_at == NOW + timedelta(minutes=5)
        debtor = session.get(Debtor, session.get(Case, case.id).debtor_id)
        assert debtor.risk_grade == "B"
    _pull(store, laptop, alice, LATER + timedelta(minutes=1))
    with laptop.read() as session:
        assert session.get(Assessment, made.id) is not None


def test_an_older_offline_assessment_does_not_override_a_newer_grade_on_the_master(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    alice, sam = users["alice"], users["sam"]
    case = place("AS-2", risk_grade="C")
    _pull(store, laptop, alice, NOW)
    with laptop.write() as session:
        assessing.assess(
            session=session,
            now=NOW + timedelta(minutes=1),
            actor=alice,
            settings=Settings(),
            case_id=case.id,
            assessment=AssessmentInput(
                currency="CNY", income=100, grade="E", reason="lost the job last month"
            ),
        )
    with store.write() as session:
        assessing.assess(
            session=session,
            now=NOW + timedelta(minutes=30),
            actor=sam,
            settings=Settings(),
            case_id=case.id,
            assessment=AssessmentInput(
                currency="CNY", income=500_000, grade="B", reason="found a new job, checked"
            ),
        )
    result = _push(store, laptop, alice, LATER)
    assert result.errors == 0 and result.rejected == 0, result.notes
    with store.read() as session:
        assert len(session.exec(select(Assessment)).all()) == 2
        debtor = session.get(Debtor, session.get(Case, case.id).debtor_id)
        assert debtor.risk_grade == "B"


def test_a_forged_figure_is_rejected_on_the_master(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:
    alice = users["alice"]
    case = place("AS-3")
    _pull(store, laptop, alice, NOW)
    with laptop.write() as session:
        # What the form would refuse, written straight into the laptop's table.
        with session.no_autoflush:
            session.add(
                Assessment(
                    case_id=case.id,
                    debtor_id=session.get(Case, case.id).debtor_id,
                    assessed_at=NOW,
                    assessed_by_id=alice.user_id,
                    kind="person",
                    currency="CNY",
                    income=-5,
                    housing=0,
                    family=0,
                    other_debts=0,
                    disposable=-5,
                    created_at=NOW,
                )
            )
    result = _push(store, laptop, alice, LATER)
    assert result.rejected >= 1
    with store.read() as session:
        assert session.exec(select(Assessment)).all() == []
