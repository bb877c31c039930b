"""`assess CASE_REF ...` and `assess show CASE_REF` (in-process through `cli.main`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.models import Assessment, Case, Debtor

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("alice")


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


def _refused(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert code == 1, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and message in err, err


def _count(store: db.Store) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(Assessment)).one()


def test_assess_a_person_then_show_it(run: Run, store: db.Store, place) -> None:  # noqa: ANN001
    case = place("P-1", risk_grade="C", currency="USD", country="US", phones=())
    out = _ok(
        run(
            "assess", "P-1", "--income", "4,500.00", "--housing", "1500", "--family", "800",
            "--other-debts", "200", "--grade", "B", "--reason", "payslip seen, stable job",
        )
    )  # fmt: skip
    assert "disposable 2,000.00 USD a month" in out and "grade B (was C)" in out
    shown = json.loads(_ok(run("assess", "show", "P-1", "--json")))
    assert (shown["income"], shown["disposable"], shown["grade"], shown["stale"]) == (
        "4500.00",
        "2000.00",
        "B",
        False,
    )
    with store.read() as session:
        debtor = session.get(Debtor, session.get(Case, case.id).debtor_id)
        assert debtor.risk_grade == "B"
    history = json.loads(_ok(run("assess", "show", "P-1", "--history", "--json")))
    assert len(history) == 1


def test_assess_a_company(run: Run, store: db.Store, place) -> None:  # noqa: ANN001
    place("C-1", debtor_kind="company")
    out = json.loads(
        _ok(
            run(
                "assess", "C-1", "--revenue-trend", "falling", "--creditors", "4",
                "--trading", "reduced", "--judgement", "will pay in part", "--json",
            )
        )
    )  # fmt: skip
    assert (out["kind"], out["revenue_trend"], out["other_creditors"]) == ("company", "falling", 4)


def test_fullwidth_digits_read_as_the_app_reads_them(run: Run, store: db.Store, place) -> None:  # noqa: ANN001
    place("W-1")
    shown = json.loads(_ok(run("assess", "W-1", "--income", "１２３.５", "--json")))
    assert (shown["income"], shown["disposable"]) == ("123.50", "123.50")


def test_never_assessed(run: Run, place) -> None:  # noqa: ANN001
    place("N-1")
    assert _ok(run("assess", "show", "N-1")).strip() == "never assessed"
    assert json.loads(_ok(run("assess", "show", "N-1", "--json"))) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--income", "-100"), "--income: the monthly income cannot be negative"),
        (("--income", "9999999999999"), "check it"),
        (("--income", "100", "--housing", "EUR 50"), "--housing:"),
        (("--income", "100", "--review-by", "9999-01-01"), "--review-by"),
        (("--income", "100", "--grade", "B"), "reason for the grade is required"),
        (("--income", "100", "--grade", "Z", "--reason", "long enough reason"), "grade"),
        (("--revenue-trend", "falling"), "for a company"),
        (("--income", "100", "--creditors", "x"), "--creditors"),
    ],
)
def test_bad_input_one_line_nothing_written(
    run: Run,
    store: db.Store,
    place,
    args: tuple[str, ...],
    message: str,  # noqa: ANN001
) -> None:
    place("B-1", risk_grade="C")
    _refused(run("assess", "B-1", *args), message)
    assert _count(store) == 0


def test_usage(run: Run, place) -> None:  # noqa: ANN001
    place("U-1")
    code, _out, err = run("assess", "U-1", "U-2", "--income", "1")
    assert code != 0 and "one CASE_REF" in err


def test_model_fit_too_early_then_show(run: Run, store: db.Store, place) -> None:  # noqa: ANN001
    place("M-1")
    _refused(run("model", "fit", user="sam"), "not enough history to fit a model: 0 cases")
    assert _ok(run("model", "show")).startswith("no model fitted yet")
    assert json.loads(_ok(run("model", "show", "--json"))) is None
    code, _out, err = run("model", "fit")  # an agent
    assert code == 1 and "supervisor" in err


def test_model_fit_prints_its_validation(
    run: Run,
    store: db.Store,
    place,  # noqa: ANN001
    tmp_path,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import date, timedelta

    config = tmp_path / "collector.toml"
    config.write_text("model_min_cases = 20\n", encoding="utf-8")
    monkeypatch.setenv("COLLECTOR_CONFIG", str(config))
    for index in range(40):
        good = index % 2 == 0
        case = place(
            f"H-{index}",
            risk_grade="A" if good else "E",
            due_date=date(2026, 9, 1) - timedelta(days=index * (1 if good else 9)),
            phones=(),
        )
        with store.write() as session:
            row = session.get(Case, case.id)
            row.status = "paid" if good != (index % 10 == 1) else "written_off"
            session.add(row)
    out = _ok(run("model", "fit", user="sam"))
    assert out.startswith("model v1 fitted") and "AUC" in out and "band 1" in out
    shown = json.loads(_ok(run("model", "show", "--json")))
    assert shown["version"] == 1 and shown["n_train"] + shown["n_test"] == 40
