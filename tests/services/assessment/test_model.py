"""The probability of payment: fitted on a hand-built history it must rank payers above
non-payers on the held-out split (AUC above the floor); too little history is a clear refusal."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Case, RiskModel
from collector_tui.services.assessment import model
from collector_tui.services.errors import Forbidden, InvalidInput

AUC_FLOOR = 0.75  # docs/decisions.md, probability of payment


def history(store: db.Store, place, n: int, seed: int = 7) -> None:  # noqa: ANN001
    """Good grades, little delay and small debts pay (mostly); the others are written off
    (mostly): the pattern a model must find, with a tenth of the cases going against it. (With a
    fifth, a perfect ranker scores about 0.80 and the ~40 held-out cases, drawn by random case ids,
    fell under the floor one run in four.)"""
    rng = random.Random(seed)
    for index in range(n):
        good = index % 2 == 0
        grade = rng.choice("AB") if good else rng.choice("DE")
        late = rng.randint(10, 60) if good else rng.randint(90, 400)
        case = place(
            f"H-{index}",
            risk_grade=grade,
            principal=rng.randint(50, 500) * 100 if good else rng.randint(500, 5000) * 100,
            due_date=date(2026, 10, 1) - timedelta(days=late),
            placed_date=date(2026, 10, 1),
            phones=(),
        )
        pays = good if rng.random() < 0.9 else not good
        with store.write() as session:
            row = session.get(Case, case.id)
            row.status = "paid" if pays else "written_off"
            row.balance = 0 if pays else row.balance
            session.add(row)


def test_the_model_ranks_payers_above_non_payers(
    store: db.Store, place, users, now: datetime
) -> None:
    history(store, place, 200)
    settings = Settings(model_min_cases=40)
    with store.write() as session:
        fitted = model.fit_model(session=session, now=now, actor=users["sam"], settings=settings)
    assert fitted.version == 1 and fitted.n_train + fitted.n_test == 200
    assert 25 <= fitted.n_test <= 75
    assert fitted.auc is not None and fitted.auc >= AUC_FLOOR, fitted
    assert fitted.coefficients["grade"] > 0 and fitted.coefficients["dpd_at_placement"] < 0
    # Calibration on the held-out split: the bands rise with the prediction.
    observed = [band["observed"] for band in fitted.calibration]
    assert observed[-1] > observed[0]
    # A fresh case: its p, top factors and expected loss.
    good = place("NEW-A", risk_grade="A", principal=10_000, phones=())
    bad = place("NEW-E", risk_grade="E", principal=400_000, phones=(),
                due_date=date(2025, 10, 1))  # fmt: skip
    with store.read() as session:
        p_good = model.case_prediction(session=session, actor=users["alice"], case_id=good.id)
        p_bad = model.case_prediction(session=session, actor=users["alice"], case_id=bad.id)
    assert p_good is not None and p_bad is not None
    assert p_good.p > p_bad.p
    assert p_bad.expected_loss == round(400_000 * (1 - p_bad.p))
    assert p_bad.factors[0].feature in ("grade", "dpd_at_placement", "log_balance")
    # A second fit is a new version; the first stays.
    with store.write() as session:
        again = model.fit_model(session=session, now=now, actor=users["sam"], settings=settings)
        assert again.version == 2
        assert len(session.exec(select(RiskModel)).all()) == 2


def test_too_little_history_says_so_and_writes_nothing(
    store: db.Store, place, users, now: datetime
) -> None:
    history(store, place, 10)
    with pytest.raises(InvalidInput) as refused:
        with store.write() as session:
            model.fit_model(
                session=session, now=now, actor=users["sam"], settings=Settings(model_min_cases=40)
            )
    assert "not enough history" in refused.value.message and "10 cases" in refused.value.message
    with store.read() as session:
        assert session.exec(select(RiskModel)).all() == []
        assert model.model_in_force(session=session) is None


def test_agents_do_not_fit_models(store: db.Store, users, now: datetime) -> None:
    with pytest.raises(Forbidden), store.write() as session:
        model.fit_model(session=session, now=now, actor=users["alice"], settings=Settings())


def test_auc_by_hand() -> None:
    assert model.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert model.auc([0.5, 0.5], [0, 1]) == 0.5
    assert model.auc([0.2], [1]) is None
