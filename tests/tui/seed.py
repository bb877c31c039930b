"""A small, deterministic workload for the TUI tests, built only through services.

The fixed instant is a Friday 14:30 in Shanghai (06:30 UTC): the Chinese debtors may be called, the
New York one may not (01:30 there), so both the queue and the held list have something to show.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, disputes, holds
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.cases import InvoiceInput, PlacementInput, add_placement
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PromiseInput

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
PASSWORD = "demo"

HOSTILE_NAMES = ("[bold]X[/]", "x[/oops]", "Evil\x1b[31mRed\x1b[0m", "[@click=app.quit]Click")


@dataclass(frozen=True)
class Seeded:
    store: db.Store
    settings: Settings
    users: dict[str, Actor]
    cases: dict[str, uuid.UUID]  # client_ref -> case id


def _place(
    session: object, settings: Settings, agent: Actor, ref: str, name: str, **values: object
) -> uuid.UUID:
    data: dict[str, object] = {
        "client": "ACME Bank",
        "client_ref": ref,
        "debtor_name": name,
        "country": "CN",
        "currency": "CNY",
        "principal": 100_000,
        "due_date": date(2026, 8, 1),
        "placed_date": date(2026, 10, 1),
        "assigned_to_id": agent.user_id,
    }
    data.update(values)
    case = add_placement(
        session=session,  # type: ignore[arg-type]
        now=NOW - timedelta(days=30),
        placement=PlacementInput(**data),  # type: ignore[arg-type]
        settings=settings,
    )
    return case.id


def seed(store: db.Store, settings: Settings, *, hostile: bool = False) -> Seeded:
    """Users alice (agent, Shanghai), bob (agent, New York), sam (supervisor), and cases."""
    cases: dict[str, uuid.UUID] = {}
    with store.write() as session:
        users = {
            name: accounts.create_user(
                session=session,
                now=NOW - timedelta(days=60),
                username=name,
                password=PASSWORD,
                role=role,
                display_name=display,
                time_zone=tz,
            )
            for name, role, display, tz in (
                ("alice", "agent", "Alice Wang", "Asia/Shanghai"),
                ("bob", "agent", "Bob Miller", "America/New_York"),
                ("sam", "supervisor", "Sam Lee", "Asia/Shanghai"),
            )
        }
    alice, bob = users["alice"], users["bob"]
    with store.write() as session:
        cases["REF-1001"] = _place(
            session, settings, alice, "REF-1001", "王小明",
            principal=1_200_000, fees=34_500, phones=("+86 138 0013 8000", "010 6552 9988"),
            risk_grade="B", address="上海市浦东新区世纪大道100号", language="zh",
        )  # fmt: skip
        cases["REF-1002"] = _place(
            session, settings, alice, "REF-1002", "李娜",
            principal=320_050, phones=("+86 139 1234 5678",), risk_grade="C",
        )  # fmt: skip
        cases["REF-1003"] = _place(
            session, settings, alice, "REF-1003", "深圳华信贸易有限公司",
            debtor_kind="company", principal=8_800_000, phones=("+86 755 8888 1234",),
            risk_grade="A",
            invoices=(
                InvoiceInput("INV-7001", date(2026, 7, 15), 5_000_000),
                InvoiceInput("INV-7002", date(2026, 8, 15), 3_800_000),
            ),
        )  # fmt: skip
        cases["REF-1004"] = _place(
            session, settings, alice, "REF-1004", "张伟",
            principal=560_000, phones=("+86 137 0000 1111",), risk_grade="D",
            due_date=date(2026, 5, 2),
        )  # fmt: skip
        cases["REF-1005"] = _place(
            session, settings, alice, "REF-1005", "陈静",
            principal=90_000, phones=("+86 136 2222 3333",),
        )  # fmt: skip
        cases["REF-2001"] = _place(
            session, settings, alice, "REF-2001", "John Smith",
            country="US", currency="USD", principal=125_000, phones=("+1 212 555 0123",),
            risk_grade="B",
        )  # fmt: skip
        cases["REF-9001"] = _place(
            session, settings, bob, "REF-9001", "Bob's Debtor",
            country="US", currency="USD", principal=50_000, phones=("+1 646 555 0142",),
        )  # fmt: skip
        if hostile:
            for index, name in enumerate(HOSTILE_NAMES):
                ref = f"HX-{index + 1}"
                cases[ref] = _place(
                    session, settings, alice, ref, name,
                    principal=10_000 * (index + 2), phones=("+86 135 0000 000" + str(index),),
                )  # fmt: skip

    # History, written at earlier instants the way it would have happened.
    three_days_ago = NOW - timedelta(days=3)
    with store.write() as session:
        activities.log_contact(
            session=session,
            now=three_days_ago,
            actor=alice,
            case_id=cases["REF-1001"],
            contact=ContactInput(
                disposition="right_party",
                note="客户说下周一还款，工资发放后。\nSecond line: asked for the fee breakdown.",
                duration_s=185,
            ),
            settings=settings,
        )
    with store.write() as session:
        activities.log_contact(
            session=session,
            now=NOW - timedelta(days=2),
            actor=alice,
            case_id=cases["REF-1002"],
            contact=ContactInput(
                disposition="callback",
                note="Asked to call back Friday afternoon",
                follow_up=FollowUpInput(due_at=NOW - timedelta(hours=1), reason="call back Fri"),
            ),
            settings=settings,
        )
    ten_days_ago = NOW - timedelta(days=10)
    with store.write() as session:
        activities.log_contact(
            session=session,
            now=ten_days_ago,
            actor=alice,
            case_id=cases["REF-1004"],
            contact=ContactInput(
                disposition="promise",
                note="Promised half of it",
                promise=PromiseInput(amount=280_000, due_date=(ten_days_ago + timedelta(5)).date()),
            ),
            settings=settings,
        )
    with store.write() as session:
        holds.place_hold(
            session=session,
            now=NOW - timedelta(days=1),
            actor=alice,
            case_id=cases["REF-1005"],
            kind="dispute",
            settings=settings,
            reason="says the loan was repaid in cash",
        )
    return Seeded(store=store, settings=settings, users=users, cases=cases)


def open_disputes(demo: Seeded) -> None:
    """On REF-1003: INV-7001 in part (its resolve-by passed), INV-7002 whole; alice owns both."""
    alice = demo.users["alice"]
    with demo.store.write() as session:
        disputes.open_dispute(
            session=session,
            now=NOW - timedelta(days=20),
            actor=alice,
            settings=demo.settings,
            case_id=demo.cases["REF-1003"],
            invoice="INV-7001",
            amount=1_250_000,
            category="quality",
            reason="part of the goods arrived damaged",
            resolve_by=(NOW - timedelta(days=6)).date(),
        )
    with demo.store.write() as session:
        disputes.open_dispute(
            session=session,
            now=NOW - timedelta(days=2),
            actor=alice,
            settings=demo.settings,
            case_id=demo.cases["REF-1003"],
            invoice="INV-7002",
            category="price",
            reason="price differs from the order",
        )
