"""The corrections' commands: hold release, contact void, promise withdraw, plan cancel and
reschedule, followup move (in-process through `cli.main`, on the test database)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Activity, Case, FollowUp, Hold, PaymentPlan, Promise
from collector_tui.services.casework import promises
from collector_tui.services.casework.promises import PlanInput, PromiseInput

WHY = "verification letter sent"


Run = Callable[..., tuple[int, str, str]]  # run(*args, user=...) -> (status, out, err)


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("alice")


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


def _refused(result: tuple[int, str, str], text: str) -> None:
    code, out, err = result
    assert code == 1 and out == "" and text in err, err
    assert len(err.strip().splitlines()) == 1


def test_hold_release_ends_a_dispute(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    place("H-1")
    _ok(run("log", "H-1", "--disposition", "dispute", "--note", "says it was paid"))
    _refused(
        run("hold", "release", "H-1", "--kind", "dispute", "--reason", WHY),
        "only a supervisor can lift a dispute hold",
    )
    _refused(
        run("hold", "release", "H-1", "--kind", "dispute", "--reason", "ok", user="sam"),
        "at least 10 characters",
    )
    answer = json.loads(
        _ok(
            run(
                "hold", "release", "H-1", "--kind", "dispute", "--reason", WHY, "--json", user="sam"
            )
        )  # fmt: skip
    )
    assert (answer["kind"], answer["case_status"]) == ("dispute", "active")
    with store.read() as session:
        hold = session.exec(select(Hold)).one()
        status = session.exec(select(Case.status).where(Case.client_ref == "H-1")).one()
    assert str(hold.id) in answer["hold_ids"] and hold.released_at is not None
    assert status == "active"
    _refused(
        run("hold", "release", "H-1", "--kind", "dispute", "--reason", WHY, user="sam"),
        "no active dispute hold",
    )
    code, _, err = run("hold", "release", "H-1", "--kind", "holiday", "--reason", WHY)
    assert code == 2 and "--kind" in err
    code, _, err = run("hold")
    assert code == 2 and "hold release" in err


def test_contact_void(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    place("V-1")
    logged = json.loads(_ok(run("log", "V-1", "--disposition", "no_answer", "--json")))
    activity_id = logged["activity_id"]
    _refused(run("contact", "void", activity_id, "--reason", "oops"), "at least 10")
    _refused(
        run("contact", "void", activity_id, "--reason", WHY, user="bob"), "not assigned to you"
    )
    answer = json.loads(
        _ok(run("contact", "void", activity_id, "--reason", "logged on the wrong case", "--json"))
    )
    assert answer["voids_id"] == activity_id and answer["case_status"] == "new"
    _refused(run("contact", "void", answer["id"], "--reason", WHY), "a void cannot be voided")
    with store.read() as session:
        void = session.exec(select(Activity).where(Activity.voids_id.is_not(None))).one()  # type: ignore[union-attr]
        last = session.exec(select(Case.last_attempt_at).where(Case.client_ref == "V-1")).one()
    assert str(void.id) == answer["id"] and last is None
    code, _, err = run("contact", "void", "not-an-id", "--reason", WHY)
    assert code == 2 and "not an id" in err


def test_promise_withdraw_and_plans(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    place("P-1", principal=300_000)
    logged = json.loads(
        _ok(
            run(
                "log", "P-1", "--disposition", "promise", "--promise", "500.00@2026-12-01", "--json"
            )
        )  # fmt: skip
    )
    (promise_id,) = logged["promise_ids"]
    answer = json.loads(
        _ok(run("promise", "withdraw", promise_id, "--reason", "changed mind", "--json"))
    )
    assert (answer["promise_status"], answer["case_status"]) == ("cancelled", "active")
    with store.write() as session:
        case = session.exec(select(Case).where(Case.client_ref == "P-1")).one()
        plan_id = promises.create_plan(
            session=session,
            now=case.created_at,
            actor=users["alice"],
            case_id=case.id,
            plan=PlanInput(
                (PromiseInput(50_000, date(2026, 12, 1)), PromiseInput(50_000, date(2027, 1, 1)))
            ),
            settings=Settings(),
        )
    answer = json.loads(
        _ok(run("plan", "reschedule", str(plan_id), "--installments", "4", "--first",
                "2026-12-15", "--every", "biweekly", "--reason", "smaller payments", "--json"))
    )  # fmt: skip
    assert answer["replaces"] == str(plan_id) and answer["case_status"] == "plan"
    assert [i["amount"] for i in answer["installments"]] == ["250.00"] * 4
    assert [i["due_date"] for i in answer["installments"]][:2] == ["2026-12-15", "2026-12-29"]
    with store.read() as session:
        old = session.get(PaymentPlan, plan_id)
        assert old is not None and old.status == "cancelled"
        pending = session.exec(select(Promise).where(Promise.status == "pending")).all()
    assert {str(p.plan_id) for p in pending} == {answer["id"]}
    text = _ok(run("plan", "cancel", answer["id"], "--reason", "debtor paid in full elsewhere"))
    assert "payment plan cancelled on P-1; status active" in text
    _refused(run("plan", "cancel", answer["id"], "--reason", WHY), "already cancelled")


def test_plan_reschedule_refuses_before_writing(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    """Another agent's plan, a total below the installment count and an unknown plan are refused
    with one line; the plan stays active and no new plan is written."""
    case = place("P-2")
    with store.write() as session:
        plan_id = promises.create_plan(
            session=session,
            now=case.created_at,
            actor=users["alice"],
            case_id=case.id,
            plan=PlanInput(
                (PromiseInput(15_000, date(2026, 12, 1)), PromiseInput(15_000, date(2027, 1, 1)))
            ),
            settings=Settings(),
        )
    base = ("plan", "reschedule", str(plan_id), "--first", "2026-12-15", "--reason", WHY)
    _refused(run(*base, "--installments", "4", "--total", "0.03"), "too small")
    _refused(run(*base, "--installments", "2", user="bob"), "not assigned to you")
    _refused(
        run("plan", "reschedule", str(uuid.uuid4()), "--installments", "2", "--first",
            "2026-12-15", "--reason", WHY),
        "no such payment plan",
    )  # fmt: skip
    with store.read() as session:
        plans = session.exec(select(PaymentPlan)).all()
    assert [p.status for p in plans] == ["active"]


def test_cli_intervals_are_the_services() -> None:
    from collector_tui.cli.corrections import INTERVALS
    from collector_tui.services.casework.promises import INSTALLMENT_INTERVALS

    assert INTERVALS == INSTALLMENT_INTERVALS


def test_followup_move(run: Run, store: db.Store, users, place) -> None:  # noqa: ANN001
    place("F-1")
    logged = json.loads(
        _ok(run("log", "F-1", "--disposition", "callback", "--follow-up",
                "2026-11-21T09:00:00+00:00", "--reason", "after payday", "--json"))
    )  # fmt: skip
    follow_up_id = logged["follow_up_id"]
    answer = json.loads(
        _ok(run("followup", "move", follow_up_id, "--to", "2026-11-23T10:00:00+00:00", "--json"))
    )
    assert answer["due_at"] == "2026-11-23T10:00:00+00:00"
    with store.read() as session:
        row = session.exec(select(FollowUp)).one()
    assert row.due_at.isoformat() == "2026-11-23T10:00:00+00:00"
    _refused(
        run("followup", "move", follow_up_id, "--to", "2026-11-19T10:00:00+00:00"),
        "cannot be moved into the past",
    )
    code, _, err = run("followup", "move", follow_up_id, "--to", "monday")
    assert code == 1 and "monday" in err and len(err.strip().splitlines()) == 1
