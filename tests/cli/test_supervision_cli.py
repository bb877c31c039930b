"""The supervisors' commands: workload, cases, balance, route, decide, settle, approve, routed,
history, user limit (in-process through `cli.main`, on the test database)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.models import Assignment, Case, Debtor, Settlement, User

Run = Callable[..., tuple[int, str, str]]  # run(*args, user=...) -> (status, out, err)


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


def test_workload_cases_and_balance(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    place("C-1", principal=10_000)
    place("C-2", principal=20_000, assigned_to_id=None)
    place("C-3", principal=30_000, assigned_to_id=None, country="US", currency="USD",
          phones=("+1 212 555 0123",))  # fmt: skip

    rows = json.loads(_ok(run("workload", "--json")))
    assert [(r["agent"], r["open_cases"]) for r in rows] == [("alice", 1), ("bob", 0), (None, 2)]
    assert rows[2]["balances"] == [
        {"currency": "CNY", "balance": "200.00"},
        {"currency": "USD", "balance": "300.00"},
    ]
    listed = json.loads(_ok(run("cases", "--agent", "none", "--currency", "CNY", "--min", "150",
                                "--json")))  # fmt: skip
    assert [r["client_ref"] for r in listed] == ["C-2"]
    assert "1 of 1 case(s)" in _ok(run("cases", "--country", "US"))

    result = json.loads(_ok(run("balance", "--to", "alice,bob", "--reason", "monday", "--json")))

    assert (result["cases"], result["moved"]) == (2, 2)
    # Bob (no case) takes the first; level then, the second goes to the first agent named.
    assert {a["agent"]: a["cases"] for a in result["agents"]} == {"alice": 1, "bob": 1}
    with store.read() as session:
        reasons = set(session.exec(select(Assignment.reason)).all())
    assert reasons == {"auto-balance: monday"}
    code, _, err = run("balance", "--to", " , ")
    assert code == 2 and "--to needs at least one agent" in err


def test_route_decide_settle_approve_history(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    place("D-1", principal=100_000)
    place("D-2", principal=100_000)

    assert "routed D-1 to the supervisors: legal escalation requested" in _ok(
        run("route", "D-1", "--reason", "ignores letters", "--legal", user="alice")
    )
    waiting = _ok(run("settle", "D-2", "700.00@2026-11-27", "--note", "lump sum", user="alice"))
    assert "waiting for a supervisor" in waiting and "30.0% off" in waiting
    routed = json.loads(_ok(run("routed", "--json")))
    assert {r["client_ref"]: r["routed_reason"] for r in routed["routed"]} == {
        "D-1": "legal escalation requested",
        "D-2": "settlement approval",
    }
    assert [s["amount"] for s in routed["settlements"]] == ["700.00"]

    decided = json.loads(_ok(run("decide", "D-1", "legal", "--reason", "court", "--json")))
    assert (decided["status"], decided["routed_reason"]) == ("legal", None)
    approved = json.loads(_ok(run("approve", "D-2", "--note", "ok", "--json")))
    assert (approved["status"], approved["decided_by"]) == ("approved", "sam")
    code, _, err = run("approve", "D-2")
    assert code == 1 and "no settlement of D-2 waits for approval" in err
    code, _, err = run("decide", "D-2", "close")
    assert code == 1 and "a reason is required" in err

    trail = json.loads(_ok(run("history", "D-1", "--json")))
    assert trail[0]["at"].startswith("2026-11-20T14:30")
    assert {(e["user"], e["entity"], e["action"]) for e in trail} >= {
        ("sam", "case", "legal"),
        ("alice", "case", "route"),
    }

    assert "up to 15% off" in _ok(run("user", "limit", "alice", "15%"))
    with store.read() as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        d2 = session.exec(select(Case).where(Case.client_ref == "D-2")).one()
        settlement = session.exec(select(Settlement)).one()
    assert alice.settlement_limit_pct == 15
    assert (d2.status, settlement.status) == ("promised", "approved")


def test_erase_a_closed_case(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    place("ER-1", debtor_name="Sun Forget-Me")
    place("ER-2")
    why = "written request of the debtor"
    code, _, err = run("erase", "ER-1", "--reason", why, user="sam")
    assert code == 1 and "open cases (ER-1)" in err
    _ok(run("decide", "ER-1", "close", "--reason", "recalled by the client", user="sam"))
    code, _, err = run("erase", "ER-1", "--reason", why, user="alice")
    assert code == 1 and "erase" in err
    answer = json.loads(_ok(run("erase", "ER-1", "--reason", why, "--json", user="sam")))
    assert answer["cases"] == 1 and answer["rows"] > 0 and answer["wal_folded"] is True
    with store.read() as session:
        names = session.exec(select(Debtor.name)).all()
    assert "Sun Forget-Me" not in names and "[erased]" in names


def test_workload_check_finds_and_fixes_drift(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    from collector_tui.models import WorkloadCounter

    place("K-1", principal=10_000)
    place("K-2", principal=20_000, assigned_to_id=None)
    assert "the counters equal a full recount: 2 open cases" in _ok(run("workload", "check"))
    with store.write() as session:
        row = session.get(WorkloadCounter, (users["alice"].user_id, "CNY"))
        assert row is not None
        row.open_balance += 1  # drift made by hand
    code, out, _ = run("workload", "check", "--json")
    found = json.loads(out)
    assert code == 1 and not found["equal"] and not found["fixed"]
    [difference] = found["differences"]
    assert difference["agent_id"] == users["alice"].user_id.hex
    assert difference["stored"]["open_balance"] == difference["counted"]["open_balance"] + 1
    assert "1 counters differed; rewritten" in _ok(run("workload", "check", "--fix"))
    assert json.loads(_ok(run("workload", "check", "--json")))["equal"] is True
    code, _, err = run("workload", "check", user="alice")
    assert code == 1 and "only a supervisor" in err
    code, _, err = run("workload", "--fix")
    assert code == 2 and "--fix goes with `workload check`" in err


def test_workload_table_is_aligned_by_cells_in_both_languages(
    run: Run,
    users,
    place,  # noqa: ANN001
) -> None:
    from rich.cells import cell_len

    place("W-1", principal=10_000)
    place("W-2", principal=20_000, assigned_to_id=None)
    english = _ok(run("workload")).splitlines()
    # English byte for byte as before the header was translated.
    assert english[0] == "agent             open  due prom tries  rpc  balance"
    assert english[1].startswith("alice                1    ")
    assert english[-1].startswith("(unassigned)         1    ")

    chinese = _ok(run("--lang", "zh_CN", "workload")).splitlines()
    header, rows = chinese[0], chinese[1:]
    assert header.split()[:3] == ["催收员", "未结", "待跟进"] and header.endswith("余额")
    assert rows[-1].startswith("（未分配）")

    def ends(line: str) -> list[int]:
        """The cell where each right-aligned count column ends (after the agent's column)."""
        found, cells, inside = [], 0, False
        for character in line:
            width = cell_len(character)
            if character == " " and inside:
                found.append(cells)
            inside = character != " "
            cells += width
        return found

    # Every count column ends at the same cell as its header (right-aligned by cells), and the
    # balances start where their header does.
    balance_at = cell_len(header) - cell_len("余额")
    for row in rows:
        assert ends(row)[1:6] == ends(header)[1:6], (header, row)
        assert cell_len(row.split("  ")[0]) <= 16  # the agent's column
        assert ends(row)[5] + 2 == balance_at, (header, row)
