"""The probability that a case pays, fitted on this database's own history, and its expected loss.

A logistic regression over a handful of features the app has at hand, fitted in pure Python
(Newton's method on at most a dozen standardized features: a few milliseconds per thousand cases;
numpy would add a dependency for nothing at this size). Cases with an outcome are the history:
paid or settled (1) against written off (0). The features are read as they were at placement or
are counts of what happened on the case (docs/decisions.md, probability of payment):

- `dpd_at_placement`: days past due when the case was placed, in months;
- `log_balance`: the placed amount (principal, fees, interest), log10 of its whole units;
- `grade`: the debtor's risk grade as a number (A 4 .. E 0; none 2);
- `right_party_contacts`: calls where the debtor was reached;
- `promises_kept`, `promises_broken`;
- `disposable_positive`: the latest assessment leaves income (1), nothing (-1), or none (0).

A quarter of the history, chosen by the case id (stable across fits), is held out: the AUC and a
five-band calibration are measured on it, stored with the model (`risk_model`, versioned) and
printed by `model fit`. Until `model_min_cases` outcomes exist, nothing is fitted and the queue's
rule score stays alone.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.models import Activity, Assessment, Case, Debtor, Promise, RiskModel
from collector_tui.money import minor_digits
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, ensure_case_access, require_supervisor
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import InvalidInput, NotFound

FEATURES = (
    "dpd_at_placement",
    "log_balance",
    "grade",
    "right_party_contacts",
    "promises_kept",
    "promises_broken",
    "disposable_positive",
)
FEATURE_WORDS = {
    "dpd_at_placement": "months past due at placement",
    "log_balance": "size of the debt",
    "grade": "risk grade",
    "right_party_contacts": "debtor reached",
    "promises_kept": "promises kept",
    "promises_broken": "promises broken",
    "disposable_positive": "income left after expenses",
}
PAID = ("paid", "settled")
LOST = ("written_off",)
GRADE_NUMBER = {"A": 4.0, "B": 3.0, "C": 2.0, "D": 1.0, "E": 0.0}
HELD_OUT_EVERY = 4  # one case in four (by id) is kept for validation
RIDGE = 0.01  # a touch of L2: separable toy histories still give finite coefficients
MAX_ITERATIONS = 50


@dataclass(frozen=True)
class Factor:
    feature: str
    words: str
    value: float
    contribution: float  # on the log-odds scale, against the average case


@dataclass(frozen=True)
class Prediction:
    model_version: int
    p: float
    expected_loss: int  # minor units of the case's currency: balance × (1 − p)
    factors: tuple[Factor, ...]  # largest effect first


@dataclass(frozen=True)
class ModelView:
    version: int
    fitted_at: datetime
    n_train: int
    n_test: int
    features: tuple[str, ...]
    coefficients: dict[str, float]
    auc: float | None
    calibration: tuple[dict[str, Any], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "fitted_at": self.fitted_at.isoformat(),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "features": list(self.features),
            "coefficients": self.coefficients,
            "auc": self.auc,
            "calibration": list(self.calibration),
        }


# --- features -------------------------------------------------------------------------------


def _counts(session: Session, case_ids: Sequence[uuid.UUID]) -> dict[str, dict[uuid.UUID, int]]:
    from collector_tui.services.rules.dispositions import DISPOSITIONS

    reached = [code for code, d in DISPOSITIONS.items() if d.right_party]
    found: dict[str, dict[uuid.UUID, int]] = {"rpc": {}, "kept": {}, "broken": {}}
    for start in range(0, len(case_ids), 500):
        chunk = list(case_ids[start : start + 500])
        for case_id, n in session.exec(
            select(Activity.case_id, func.count())
            .where(
                col(Activity.case_id).in_(chunk),
                col(Activity.disposition).in_(reached),
                col(Activity.voids_id).is_(None),
            )
            .group_by(col(Activity.case_id))
        ):
            found["rpc"][case_id] = n
        for case_id, status, n in session.exec(
            select(Promise.case_id, Promise.status, func.count())
            .where(col(Promise.case_id).in_(chunk), col(Promise.status).in_(("kept", "broken")))
            .group_by(col(Promise.case_id), col(Promise.status))
        ):
            found[status][case_id] = n
    return found


def _disposable(session: Session, debtor_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, float]:
    latest: dict[uuid.UUID, tuple[datetime, int | None]] = {}
    for start in range(0, len(debtor_ids), 500):
        chunk = list(debtor_ids[start : start + 500])
        for debtor_id, at, left in session.exec(
            select(Assessment.debtor_id, Assessment.assessed_at, Assessment.disposable).where(
                col(Assessment.debtor_id).in_(chunk)
            )
        ):
            if debtor_id not in latest or at > latest[debtor_id][0]:
                latest[debtor_id] = (at, left)
    return {
        debtor_id: 0.0 if left is None else (1.0 if left > 0 else -1.0)
        for debtor_id, (_at, left) in latest.items()
    }


def feature_rows(session: Session, cases: Sequence[tuple[Case, Debtor]]) -> list[dict[str, float]]:
    """The features of each case, in the order given."""
    counts = _counts(session, [case.id for case, _ in cases])
    disposable = _disposable(session, list({debtor.id for _, debtor in cases}))
    rows = []
    for case, debtor in cases:
        placed = case.principal + case.fees + case.interest
        units = max(placed, 0) / 10 ** minor_digits(case.currency)
        rows.append(
            {
                "dpd_at_placement": max((case.placed_date - case.due_date).days, 0) / 30.0,
                "log_balance": math.log10(1.0 + units),
                "grade": GRADE_NUMBER.get(debtor.risk_grade or "", 2.0),
                "right_party_contacts": float(counts["rpc"].get(case.id, 0)),
                "promises_kept": float(counts["kept"].get(case.id, 0)),
                "promises_broken": float(counts["broken"].get(case.id, 0)),
                "disposable_positive": disposable.get(debtor.id, 0.0),
            }
        )
    return rows


# --- fitting --------------------------------------------------------------------------------


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a small, well-conditioned system)."""
    size = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(a[r][column]))
        a[column], a[pivot] = a[pivot], a[column]
        if abs(a[column][column]) < 1e-12:
            continue
        for r in range(column + 1, size):
            factor = a[r][column] / a[column][column]
            for c in range(column, size + 1):
                a[r][c] -= factor * a[column][c]
    solution = [0.0] * size
    for r in range(size - 1, -1, -1):
        if abs(a[r][r]) < 1e-12:
            continue
        solution[r] = (a[r][size] - sum(a[r][c] * solution[c] for c in range(r + 1, size))) / a[r][
            r
        ]
    return solution


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit_logistic(xs: list[list[float]], ys: list[int]) -> list[float]:
    """Weights (intercept first) of a ridge-penalised logistic regression, by Newton's method."""
    rows = [[1.0, *x] for x in xs]
    size = len(rows[0])
    weights = [0.0] * size
    for _iteration in range(MAX_ITERATIONS):
        gradient = [0.0] * size
        hessian = [[0.0] * size for _ in range(size)]
        for row, y in zip(rows, ys, strict=True):
            p = _sigmoid(sum(w * v for w, v in zip(weights, row, strict=True)))
            weight = p * (1 - p)
            for i in range(size):
                gradient[i] += (y - p) * row[i]
                for j in range(i, size):
                    hessian[i][j] += weight * row[i] * row[j]
        for i in range(size):
            for j in range(i):
                hessian[i][j] = hessian[j][i]
            if i:  # the intercept is not penalised
                gradient[i] -= RIDGE * weights[i]
                hessian[i][i] += RIDGE
        step = _solve(hessian, gradient)
        weights = [w + s for w, s in zip(weights, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return weights


def auc(scores: Sequence[float], ys: Sequence[int]) -> float | None:
    """The probability that a payer scores above a non-payer (ties count half)."""
    ranked = sorted(zip(scores, ys, strict=True))
    positives = sum(ys)
    negatives = len(ys) - positives
    if not positives or not negatives:
        return None
    rank_sum = 0.0
    index = 0
    while index < len(ranked):
        end = index
        while end + 1 < len(ranked) and ranked[end + 1][0] == ranked[index][0]:
            end += 1
        mean_rank = (index + end) / 2 + 1
        rank_sum += mean_rank * sum(y for _, y in ranked[index : end + 1])
        index = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def calibration(scores: Sequence[float], ys: Sequence[int], bands: int = 5) -> list[dict[str, Any]]:
    """Predicted against observed, by bands of predicted probability (equal counts)."""
    ranked = sorted(zip(scores, ys, strict=True))
    out = []
    for band in range(bands):
        part = ranked[band * len(ranked) // bands : (band + 1) * len(ranked) // bands]
        if not part:
            continue
        out.append(
            {
                "band": band + 1,
                "n": len(part),
                "predicted": round(sum(s for s, _ in part) / len(part), 4),
                "observed": round(sum(y for _, y in part) / len(part), 4),
            }
        )
    return out


def held_out(case_id: uuid.UUID) -> bool:
    return case_id.int % HELD_OUT_EVERY == 0


def _history(session: Session) -> list[tuple[Case, Debtor, int]]:
    found = session.exec(
        select(Case, Debtor)
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .where(col(Case.status).in_(PAID + LOST))
        .order_by(col(Case.id))
    ).all()
    return [(case, debtor, 1 if case.status in PAID else 0) for case, debtor in found]


@writes
def fit_model(*, session: Session, now: datetime, actor: Actor, settings: Settings) -> ModelView:
    """Fit a new version on the history; InvalidInput when there is too little of it."""
    require_supervisor(actor, "fit the model")
    history = _history(session)
    payers = sum(y for _, _, y in history)
    needed = settings.model_min_cases
    if len(history) < needed or not payers or payers == len(history):
        raise InvalidInput(
            _(
                "not enough history to fit a model: {count} cases with an outcome ({payers} paid "
                "or settled, {written_off} written off); it needs at least {needed}, with both "
                "outcomes. The rule score stays in force."
            ).format(
                count=len(history), payers=payers, written_off=len(history) - payers, needed=needed
            )
        )
    rows = feature_rows(session, [(case, debtor) for case, debtor, _ in history])
    train = [i for i, (case, _, _) in enumerate(history) if not held_out(case.id)]
    test = [i for i, (case, _, _) in enumerate(history) if held_out(case.id)]
    means = {f: sum(rows[i][f] for i in train) / len(train) for f in FEATURES}
    scales = {
        f: math.sqrt(sum((rows[i][f] - means[f]) ** 2 for i in train) / len(train)) or 1.0
        for f in FEATURES
    }

    def standard(row: dict[str, float]) -> list[float]:
        return [(row[f] - means[f]) / scales[f] for f in FEATURES]

    weights = fit_logistic([standard(rows[i]) for i in train], [history[i][2] for i in train])
    coefficients = {"intercept": weights[0], **dict(zip(FEATURES, weights[1:], strict=True))}
    stored = {
        "coefficients": {k: round(v, 6) for k, v in coefficients.items()},
        "means": {k: round(v, 6) for k, v in means.items()},
        "scales": {k: round(v, 6) for k, v in scales.items()},
    }
    test_scores = [_p(stored, rows[i]) for i in test]
    test_ys = [history[i][2] for i in test]
    measured = auc(test_scores, test_ys) if test else None
    version = (session.exec(select(func.max(RiskModel.version))).one() or 0) + 1
    row = RiskModel(
        version=version,
        fitted_at=now,
        fitted_by_id=actor.user_id,
        n_train=len(train),
        n_test=len(test),
        features=list(FEATURES),
        coefficients=stored,
        auc=round(measured, 4) if measured is not None else None,
        calibration=calibration(test_scores, test_ys) if test else [],
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="risk_model",
        entity_id=row.id,
        action="fit",
        after={"version": version, "n_train": len(train), "n_test": len(test), "auc": row.auc},
    )
    return _view(row)


def _p(stored: dict[str, Any], row: dict[str, float]) -> float:
    z = stored["coefficients"]["intercept"] + sum(
        _contribution(stored, f, row[f]) for f in FEATURES
    )
    return _sigmoid(z)


def probability(model: RiskModel, row: dict[str, float]) -> float:
    """p for one case's features (`feature_rows`) under a fitted model."""
    return _p(model.coefficients, row)


def _contribution(stored: dict[str, Any], feature: str, value: float) -> float:
    scale = stored["scales"][feature] or 1.0
    return float(stored["coefficients"][feature] * (value - stored["means"][feature]) / scale)


def _view(row: RiskModel) -> ModelView:
    return ModelView(
        version=row.version,
        fitted_at=row.fitted_at,
        n_train=row.n_train,
        n_test=row.n_test,
        features=tuple(row.features),
        coefficients=dict(row.coefficients.get("coefficients", {})),
        auc=row.auc,
        calibration=tuple(row.calibration),
    )


def current_model(session: Session) -> RiskModel | None:
    return session.exec(select(RiskModel).order_by(col(RiskModel.version).desc()).limit(1)).first()


@reads
def model_in_force(*, session: Session) -> ModelView | None:
    """The newest fitted model, or None (the rule score alone)."""
    row = current_model(session)
    return _view(row) if row is not None else None


def predict(session: Session, *, case: Case, debtor: Debtor, model: RiskModel) -> Prediction:
    stored = model.coefficients
    row = feature_rows(session, [(case, debtor)])[0]
    p = _p(stored, row)
    factors = sorted(
        (
            Factor(f, FEATURE_WORDS[f], row[f], _contribution(stored, f, row[f]))
            for f in FEATURES
            if f in stored.get("coefficients", {})
        ),
        key=lambda factor: -abs(factor.contribution),
    )
    return Prediction(
        model_version=model.version,
        p=p,
        expected_loss=round(max(case.balance, 0) * (1 - p)),
        factors=tuple(factors),
    )


@reads
def case_prediction(*, session: Session, actor: Actor, case_id: uuid.UUID) -> Prediction | None:
    """The case's probability of payment under the model in force (None: no model yet)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    model = current_model(session)
    debtor = session.get(Debtor, case.debtor_id)
    if model is None or debtor is None:
        return None
    return predict(session, case=case, debtor=debtor, model=model)
