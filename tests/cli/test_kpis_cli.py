"""`report vintage`, `report promises --by amount` and `--currency` through the command line: JSON
on stdout, a refusal as one line on stderr with status 1 (2 for a malformed option)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from collector_tui import db

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def test_report_vintage_and_bands_json(run: Run, store: db.Store, place) -> None:  # noqa: ANN001
    place("K-1", balance=10_000)
    code, out, err = run("report", "vintage", "--json", "--months", "2")
    assert (code, err) == (0, ""), err
    rows = json.loads(out)
    assert rows and {row["currency"] for row in rows} == {"CNY"}
    assert set(rows[0]) == {
        "currency", "placement_month", "cases", "placed", "month", "collected", "liquidation_rate"
    }  # fmt: skip
    code, out, err = run("report", "promises", "--by", "amount", "--json")
    assert (code, json.loads(out), err) == (0, [], "")


def test_unknown_currency_is_one_line_and_status_1(run: Run, store: db.Store, users: dict) -> None:
    for kind in ("vintage", "dso", "promises"):
        code, out, err = run("report", kind, "--currency", "EURO")
        assert (code, out) == (1, ""), err
        assert err.count("\n") == 1 and "EURO" in err and "Traceback" not in err


@pytest.mark.parametrize("months", ["0", "121", "twelve"])
def test_bad_months_is_a_usage_error(run: Run, store: db.Store, users: dict, months: str) -> None:
    code, out, err = run("report", "vintage", "--months", months)
    assert code == 2 and out == "" and "--months" in err
