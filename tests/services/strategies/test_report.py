"""`report strategies`: the JSON equals a count made here by hand from the facts the test wrote."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import Activity, Case, Payment, Promise
from collector_tui.services.reporting.tables import report_table
from collector_tui.services.strategies import assign

FILE = """
[strategies.standard]
queue_weight = 100
[strategies.standard.challenger]
share = 50
queue_weight = 150
[strategies.eur]
queue_weight = 100
[[rules]]
name = "euro"
strategy = "eur"
priority = 1
currency = "EUR"
[[rules]]
name = "default"
strategy = "standard"
"""

Run = Callable[..., tuple[int, str, str]]


def rate(n: int, d: int) -> str | None:
    if not d:
        return None
    return str((Decimal(n) / Decimal(d)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def money(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2).quantize(Decimal("0.01")))


def seed(store: db.Store, place, users, now: datetime, tmp_path: Path) -> dict[str, Case]:  # noqa: ANN001
    for n in range(12):
        place(f"C-{n}", principal=10_000 * (n + 1), phones=())
    place("E-1", principal=50_000, currency="EUR", country="DE", phones=())
    path = tmp_path / "s.toml"
    path.write_text(FILE, encoding="utf-8")
    with store.write() as session:
        assign.apply_strategy_file(
            session=session, now=now, actor=users["sam"], settings=Settings(), path=path
        )
    with store.read() as session:
        return {c.client_ref: c for c in session.exec(select(Case)).all()}


def write_facts(store: db.Store, cases: dict[str, Case], now: datetime) -> None:
    """Contacts, promises and payments on chosen cases; a correction and a reversal among them."""
    at = now - timedelta(days=3)
    with store.write() as session:

        def activity(ref: str, disposition: str, **extra: object) -> Activity:
            row = Activity(
                case_id=cases[ref].id, occurred_at=at, channel="phone", disposition=disposition,
                created_at=at, **extra,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return row

        activity("C-0", "no_answer")  # no contact
        activity("C-1", "wrong_number")  # contact, not right party
        activity("C-2", "right_party")
        activity("C-2", "promise")
        wrong = activity("C-3", "right_party")  # corrected into a no-answer: no contact
        activity("C-3", "no_answer", voids_id=wrong.id)
        activity("C-4", "third_party")
        activity("C-5", "refused")
        activity("E-1", "right_party")
        session.add(
            Activity(case_id=cases["C-6"].id, occurred_at=at, channel="note", created_at=at)
        )

        def promise(ref: str, status: str) -> None:
            session.add(
                Promise(
                    case_id=cases[ref].id,
                    amount=1_000,
                    due_date=date(2026, 11, 1),
                    status=status,
                    created_at=at,
                    updated_at=at,
                )  # fmt: skip
            )

        promise("C-2", "kept")
        promise("C-2", "broken")
        promise("C-5", "pending")
        promise("C-7", "cancelled")
        promise("E-1", "kept")

        def payment(ref: str, amount: int, voids: uuid.UUID | None = None) -> uuid.UUID:
            row = Payment(
                case_id=cases[ref].id, amount=amount, received_on=date(2026, 11, 2),
                voids_id=voids, created_at=at,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return row.id

        payment("C-2", 1_000)
        bounced = payment("C-8", 5_000)
        payment("C-8", -5_000, bounced)
        payment("C-9", 2_500)
        payment("E-1", 700)


def hand_count(cases: dict[str, Case]) -> list[dict[str, object]]:
    contacted = {"C-1", "C-2", "C-4", "C-5", "E-1"}
    rpc = {"C-2", "C-5", "E-1"}
    made = {"C-2": 2, "C-5": 1, "E-1": 1}
    kept = {"C-2": 1, "E-1": 1}
    paid = {"C-2": 1_000, "C-9": 2_500, "E-1": 700}
    groups: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for case in cases.values():
        groups[(case.strategy, case.strategy_group)].append(case)
    rows = []
    for (strategy, group), members in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1] != "champion")
    ):
        refs = {c.client_ref for c in members}
        currency = members[0].currency
        placed = sum(c.principal for c in members)
        collected = sum(paid.get(r, 0) for r in refs)
        n_made = sum(made.get(r, 0) for r in refs)
        n_kept = sum(kept.get(r, 0) for r in refs)
        rows.append(
            {
                "strategy": strategy,
                "group": group,
                "cases": len(members),
                "contacted": len(refs & contacted),
                "contact_rate": rate(len(refs & contacted), len(members)),
                "rpc": len(refs & rpc),
                "rpc_rate": rate(len(refs & rpc), len(members)),
                "promises_made": n_made,
                "promises_kept": n_kept,
                "promise_kept_rate": rate(n_kept, n_made),
                "cases_by_currency": {currency: len(members)},
                "placed": {currency: money(placed)},
                "collected": {currency: money(collected)},
                "liquidation_rate": {currency: rate(collected, placed)},
                "collected_per_case": {
                    currency: money(
                        int((Decimal(collected) / len(members)).quantize(Decimal(1), ROUND_HALF_UP))
                    )
                },
            }
        )
    return rows


def test_the_report_equals_a_hand_count(
    store: db.Store, place, users, now: datetime, tmp_path: Path
) -> None:
    cases = seed(store, place, users, now, tmp_path)
    write_facts(store, cases, now)
    groups = {(c.strategy, c.strategy_group) for c in cases.values()}
    assert groups == {("standard", "champion"), ("standard", "challenger"), ("eur", "champion")}
    with store.read() as session:
        table = report_table("strategies", session=session, now=now, actor=users["sam"])
    assert list(table.json_rows) == hand_count(cases)
    # One text row per strategy, group and currency.
    assert len(table.rows) == 3 and len(table.csv_rows) == 3


@pytest.mark.sqlite_only  # the command line opens the test's SQLite file
def test_report_strategies_json_on_the_command_line(
    cli_runner: Callable[[str], Run], store: db.Store, place, users, now: datetime,
    tmp_path: Path,
) -> None:  # fmt: skip
    cases = seed(store, place, users, now, tmp_path)
    write_facts(store, cases, now)
    run = cli_runner("sam")
    code, out, err = run("report", "strategies", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == hand_count(cases)
    code, out, err = run("report", "strategies")
    assert code == 0 and "challenger" in out and "liquidation_rate" in out


def test_no_strategy_applied_is_an_empty_report(store: db.Store, users, now: datetime) -> None:
    with store.read() as session:
        table = report_table("strategies", session=session, now=now, actor=users["sam"])
    assert table.json_rows == () and table.rows == ()
