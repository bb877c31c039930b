"""Reports on hand-built books whose right numbers are known: aging buckets and their boundaries,
currencies never summed, promise kept rates, collections per day and ISO week with the period
ends and reversals, agent activity, DSO, scoping, and the `report` command's output."""

from __future__ import annotations

import argparse
import csv
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.cli import reports as cli_report
from collector_tui.cli.parser import build_parser
from collector_tui.config import Settings
from collector_tui.models import Activity, Case, Payment
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, notes, payments, promises, sweep
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.cases import InvoiceInput, PlacementInput, add_placement
from collector_tui.services.casework.promises import PromiseInput
from collector_tui.services.errors import InvalidInput
from collector_tui.services.reporting import reports

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
TODAY = date(2026, 11, 20)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Book:
    """Short calls to build a book: place, promise, pay, void, call, note."""

    def __init__(self, store: db.Store, settings: Settings, users: dict[str, Actor]) -> None:
        self.store = store
        self.settings = settings
        self.users = users

    def place(self, ref: str, *, agent: str | None = "alice", **overrides: Any) -> uuid.UUID:
        values: dict[str, Any] = {
            "client": "ACME Bank",
            "client_ref": ref,
            "debtor_name": f"Debtor {ref}",
            "country": "CN",
            "currency": "CNY",
            "principal": 1_000_000,
            "due_date": days_ago(90),
            "placed_date": date(2026, 10, 1),
            "phones": ("+86 138 0013 8000",),
            "assigned_to_id": self.users[agent].user_id if agent else None,
        }
        values.update(overrides)
        with self.store.write() as session:
            return add_placement(
                session=session,
                now=at(date(2026, 10, 1)),
                placement=PlacementInput(**values),
                settings=self.settings,
            ).id

    def set_status(self, case_id: uuid.UUID, status: str) -> None:
        with self.store.write() as session:
            case = session.get(Case, case_id)
            assert case is not None
            case.status = status
            session.add(case)

    def promise(
        self, case_id: uuid.UUID, amount: int, due: date, *, made: datetime, by: str = "alice"
    ) -> uuid.UUID:
        with self.store.write() as session:
            return promises.create_promise(
                session=session,
                now=made,
                actor=self.users[by],
                case_id=case_id,
                promise=PromiseInput(amount=amount, due_date=due),
                settings=self.settings,
            )

    def cancel(self, promise_id: uuid.UUID, *, by: str = "alice") -> None:
        with self.store.write() as session:
            promises.cancel_promise(
                session=session,
                now=NOW,
                actor=self.users[by],
                promise_id=promise_id,
                settings=self.settings,
                reason="debtor changed their mind",
            )

    def pay(
        self, case_id: uuid.UUID, amount: int, on: date, *, by: str = "sam", now: datetime = NOW
    ) -> uuid.UUID:
        with self.store.write() as session:
            return payments.post_payment(
                session=session,
                now=now,
                actor=self.users[by],
                case_id=case_id,
                amount=amount,
                received_on=on,
                settings=self.settings,
            ).payment_id

    def reverse(self, payment_id: uuid.UUID, on: date) -> None:
        # No void service yet: a reversal is the append-only row models.Payment describes.
        with self.store.write() as session:
            original = session.get(Payment, payment_id)
            assert original is not None
            session.add(
                Payment(
                    case_id=original.case_id,
                    amount=-original.amount,
                    received_on=on,
                    voids_id=original.id,
                    created_at=NOW,
                )
            )

    def sweep(self, now: datetime = NOW) -> None:
        with self.store.write() as session:
            sweep.sweep(session=session, now=now, settings=self.settings)

    def call(
        self, case_id: uuid.UUID, disposition: str, when: datetime, *, by: str = "alice", **kw: Any
    ) -> uuid.UUID:
        with self.store.write() as session:
            return activities.log_contact(
                session=session,
                now=when,
                actor=self.users[by],
                case_id=case_id,
                contact=ContactInput(disposition, **kw),
                settings=self.settings,
            ).activity_id

    def note(self, case_id: uuid.UUID, when: datetime, *, by: str = "alice") -> None:
        with self.store.write() as session:
            notes.add_note(
                session=session,
                now=when,
                actor=self.users[by],
                case_id=case_id,
                text="debtor's brother says he is abroad",
                settings=self.settings,
            )


@pytest.fixture
def book(store: db.Store, settings: Settings, users: dict[str, Actor]) -> Book:
    return Book(store, settings, users)


# --- aging ---------------------------------------------------------------------------------------


@pytest.fixture
def aging_book(book: Book) -> Book:
    book.place("DUE-TODAY", principal=10_000, due_date=TODAY)  # 0 days: current
    book.place("NOT-YET", principal=5_000, due_date=TODAY + timedelta(days=10))  # current
    book.place("D30", principal=20_000, due_date=days_ago(30))  # exactly 30: 1-30
    book.place("D31", principal=30_000, due_date=days_ago(31))  # 31: 31-60
    book.place(
        "B2B",
        principal=0,
        due_date=days_ago(365),  # ignored: the case has invoices
        invoices=(
            InvoiceInput("INV-1", due_date=days_ago(60), amount=40_000),  # 31-60
            InvoiceInput("INV-2", due_date=days_ago(61), amount=1_000),  # 61-90
            InvoiceInput("INV-3", due_date=days_ago(100), amount=7_000, open_amount=0),  # paid
        ),
    )
    book.place("D180", principal=1_800, due_date=days_ago(180))  # 91-180
    book.place("D181", principal=1_810, due_date=days_ago(181))  # 180+
    closed = book.place("CLOSED", principal=99_900, due_date=days_ago(45))
    book.set_status(closed, "written_off")
    book.place("USD-1", agent="bob", currency="USD", country="US", phones=(),
               principal=5_000, due_date=days_ago(200))  # fmt: skip
    return book


def test_aging_buckets_boundaries_and_currencies(aging_book: Book, store: db.Store) -> None:
    with store.read() as session:
        rows = reports.aging(session=session, now=NOW)
    got = {(r.currency, r.bucket): (r.count, r.balance) for r in rows}
    assert [r.bucket for r in rows] == list(reports.AGING_BUCKETS) * 2  # CNY then USD, in order
    assert [r.currency for r in rows] == ["CNY"] * 6 + ["USD"] * 6
    assert got[("CNY", "current")] == (2, 15_000)
    assert got[("CNY", "1-30")] == (1, 20_000)
    assert got[("CNY", "31-60")] == (2, 70_000)  # D31 and invoice INV-1 (the closed case is out)
    assert got[("CNY", "61-90")] == (1, 1_000)
    assert got[("CNY", "91-180")] == (1, 1_800)
    assert got[("CNY", "180+")] == (1, 1_810)
    assert got[("USD", "180+")] == (1, 5_000)
    assert all(got[("USD", b)] == (0, 0) for b in reports.AGING_BUCKETS[:-1])


def test_aging_scoped_to_the_agent(aging_book: Book, store: db.Store, users: dict) -> None:
    with store.read() as session:
        alice = reports.aging(session=session, now=NOW, actor=users["alice"])
        bob = reports.aging(session=session, now=NOW, actor=users["bob"])
        sam = reports.aging(session=session, now=NOW, actor=users["sam"])
    assert {r.currency for r in alice} == {"CNY"}
    assert [(r.bucket, r.count, r.balance) for r in bob if r.count] == [("180+", 1, 5_000)]
    assert {r.currency for r in bob} == {"USD"}
    assert len(sam) == 12


def test_aging_day_boundary_uses_the_utc_date(book: Book, store: db.Store) -> None:
    book.place("EDGE", principal=100, due_date=days_ago(30))
    late_evening = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
    next_morning_utc = datetime(2026, 11, 21, 0, 1, tzinfo=UTC)
    with store.read() as session:
        before = reports.aging(session=session, now=late_evening)
        after = reports.aging(session=session, now=next_morning_utc)
    assert [r.bucket for r in before if r.count] == ["1-30"]
    assert [r.bucket for r in after if r.count] == ["31-60"]


def test_aging_json_shape(aging_book: Book, store: db.Store, settings: Settings) -> None:
    out = io.StringIO()
    args = _parse(["report", "aging", "--json"])
    assert cli_report.run_report(args, store=store, settings=settings, now=NOW, actor=None,
                                 out=out) == 0  # fmt: skip
    data = json.loads(out.getvalue())
    assert data[0] == {"currency": "CNY", "bucket": "current", "count": 2, "balance": "150.00",
                       "disputed": "0.00", "collectible": "150.00"}  # fmt: skip
    assert {"currency": "CNY", "bucket": "31-60", "count": 2, "balance": "700.00",
            "disputed": "0.00", "collectible": "700.00"} in data  # fmt: skip
    assert all(
        set(item) == {"currency", "bucket", "count", "balance", "disputed", "collectible"}
        for item in data
    )
    assert all(isinstance(item["balance"], str) for item in data)


# --- promises ------------------------------------------------------------------------------------


@pytest.fixture
def promise_book(book: Book) -> Book:
    p1 = book.place("P1")
    p2 = book.place("P2")
    p3 = book.place("P3")
    usd = book.place("P-USD", agent="bob", currency="USD", country="US", phones=())
    # Kept: paid in full before its date.
    book.promise(p1, 10_000, date(2026, 11, 5), made=at(date(2026, 11, 2)))
    book.pay(p1, 10_000, date(2026, 11, 4), now=at(date(2026, 11, 4)))
    # Partial: 50 of 200 by the due date, judged by the sweep.
    book.promise(p1, 20_000, date(2026, 11, 10), made=at(date(2026, 11, 6)))
    book.pay(p1, 5_000, date(2026, 11, 9), now=at(date(2026, 11, 9)))
    # Broken: nothing paid.
    book.promise(p2, 30_000, date(2026, 11, 12), made=at(date(2026, 11, 8)))
    # Pending: due after today.
    book.promise(p2, 40_000, date(2026, 11, 30), made=at(date(2026, 11, 18)))
    # Cancelled.
    cancelled = book.promise(p3, 2_000, date(2026, 11, 25), made=at(date(2026, 11, 19)))
    book.cancel(cancelled)
    # Outside the period (made before it starts).
    book.promise(p3, 1_000, date(2026, 11, 3), made=at(date(2026, 10, 31), 23))
    # Bob's, in USD: kept.
    book.promise(usd, 7_000, date(2026, 11, 15), made=at(date(2026, 11, 10)), by="bob")
    book.pay(usd, 7_000, date(2026, 11, 12), now=at(date(2026, 11, 12)))
    book.sweep()
    return book


def test_promise_stats_outcomes_and_rates(promise_book: Book, store: db.Store) -> None:
    with store.read() as session:
        rows = reports.promise_stats(
            session=session, now=NOW, date_from=date(2026, 11, 1), date_to=date(2026, 11, 20)
        )
    assert [(r.agent, r.currency) for r in rows] == [("alice", "CNY"), ("bob", "USD")]
    alice, bob = rows
    assert (alice.made, alice.kept, alice.partial, alice.broken) == (5, 1, 1, 1)
    assert (alice.pending, alice.cancelled) == (1, 1)
    assert alice.amount_promised == 10_000 + 20_000 + 30_000 + 40_000 + 2_000
    assert alice.amount_kept == 15_000
    assert alice.kept_rate_count == Decimal("33.3")  # 1 kept of 3 judged
    assert alice.kept_rate_amount == Decimal("25.0")  # 150 paid of 600 judged
    assert (bob.made, bob.kept, bob.kept_rate_count, bob.kept_rate_amount) == (
        1,
        1,
        Decimal("100.0"),
        Decimal("100.0"),
    )


def test_promise_stats_period_and_scope(promise_book: Book, store: db.Store, users: dict) -> None:
    with store.read() as session:
        with_october = reports.promise_stats(
            session=session, now=NOW, date_from=date(2026, 10, 31), date_to=date(2026, 11, 20)
        )
        only_mine = reports.promise_stats(session=session, now=NOW, actor=users["bob"])
        totals = reports.promise_stats(
            session=session, now=NOW, date_from=date(2026, 11, 1), by_agent=False
        )
        nothing_yet = reports.promise_stats(
            session=session, now=NOW, date_from=date(2026, 11, 19), date_to=date(2026, 11, 19)
        )
    assert with_october[0].made == 6  # the promise made on Oct 31, 23:00 UTC
    assert [(r.agent, r.currency, r.made) for r in only_mine] == [("bob", "USD", 1)]
    assert [(r.agent, r.currency, r.made) for r in totals] == [(None, "CNY", 5), (None, "USD", 1)]
    # Only the cancelled promise: no outcome known, so no rate (not 0 %).
    assert [(r.made, r.cancelled, r.kept_rate_count) for r in nothing_yet] == [(1, 1, None)]


# --- collections ---------------------------------------------------------------------------------


@pytest.fixture
def collection_book(book: Book) -> Book:
    cny = book.place("C1")
    usd = book.place("C-USD", agent="bob", currency="USD", country="US", phones=())
    book.promise(cny, 50_000, date(2026, 11, 13), made=at(date(2026, 11, 1)))
    gone = book.promise(cny, 6_000, date(2026, 11, 14), made=at(date(2026, 11, 1)))
    book.cancel(gone)
    book.promise(cny, 8_000, date(2026, 11, 16), made=at(date(2026, 11, 1)))
    book.pay(cny, 10_000, date(2026, 11, 8))  # Sunday before the period
    book.pay(cny, 20_000, date(2026, 11, 9))  # Monday: first day of the period
    voided = book.pay(cny, 5_000, date(2026, 11, 10))
    book.reverse(voided, date(2026, 11, 12))
    book.pay(cny, 30_000, date(2026, 11, 15))  # Sunday: last day, included
    book.pay(cny, 40_000, date(2026, 11, 16))  # the day after: excluded
    book.pay(usd, 7_000, date(2026, 11, 11), by="bob")
    return book


def test_collections_per_day_with_period_ends(collection_book: Book, store: db.Store) -> None:
    with store.read() as session:
        rows = reports.collections(
            session=session, now=NOW, date_from=date(2026, 11, 9), date_to=date(2026, 11, 15)
        )
    cny = {r.period_start: r for r in rows if r.currency == "CNY"}
    usd = {r.period_start: r for r in rows if r.currency == "USD"}
    assert sorted(cny) == [date(2026, 11, 9) + timedelta(days=n) for n in range(7)]
    assert sorted(usd) == sorted(cny)  # every day listed, zeros included
    assert (cny[date(2026, 11, 9)].collected, cny[date(2026, 11, 9)].payments) == (20_000, 1)
    assert (cny[date(2026, 11, 15)].collected, cny[date(2026, 11, 15)].payments) == (30_000, 1)
    # The reversed payment nets out on its own day and the reversal day shows nothing.
    assert (cny[date(2026, 11, 10)].collected, cny[date(2026, 11, 10)].payments) == (0, 0)
    assert cny[date(2026, 11, 12)].collected == 0
    assert cny[date(2026, 11, 13)].promised_due == 50_000
    assert cny[date(2026, 11, 14)].promised_due == 0  # cancelled
    assert sum(r.collected for r in cny.values()) == 50_000
    assert sum(r.collected for r in usd.values()) == 7_000  # never added to CNY
    assert usd[date(2026, 11, 11)].payments == 1


def test_collections_per_iso_week(collection_book: Book, store: db.Store) -> None:
    with store.read() as session:
        rows = reports.collections(
            session=session,
            now=NOW,
            date_from=date(2026, 11, 8),  # a Sunday: belongs to the week of Monday Nov 2
            date_to=date(2026, 11, 16),  # a Monday: starts a new week
            period="week",
        )
    cny = [(r.period_start, r.collected, r.promised_due, r.payments) for r in rows
           if r.currency == "CNY"]  # fmt: skip
    assert cny == [
        (date(2026, 11, 2), 10_000, 0, 1),
        (date(2026, 11, 9), 50_000, 50_000, 2),
        (date(2026, 11, 16), 40_000, 8_000, 1),
    ]


def test_collections_scoped_and_checked(
    collection_book: Book, store: db.Store, users: dict
) -> None:
    with store.read() as session:
        alice = reports.collections(
            session=session,
            now=NOW,
            date_from=date(2026, 11, 9),
            date_to=date(2026, 11, 15),
            actor=users["alice"],
        )
        default = reports.collections(session=session, now=NOW)
        with pytest.raises(InvalidInput, match="after it ends"):
            reports.collections(
                session=session, now=NOW, date_from=date(2026, 11, 9), date_to=date(2026, 11, 1)
            )
        with pytest.raises(InvalidInput, match="period"):
            reports.collections(session=session, now=NOW, period="month")
    assert {r.currency for r in alice} == {"CNY"}
    # The default period is the 30 days up to today.
    assert min(r.period_start for r in default) == date(2026, 10, 22)
    assert max(r.period_start for r in default) == TODAY
    assert sum(r.collected for r in default if r.currency == "CNY") == 100_000


# --- agent activity ------------------------------------------------------------------------------


def test_agent_activity(book: Book, store: db.Store, users: dict) -> None:
    mine = book.place("AG-1")
    also_mine = book.place("AG-2", currency="USD", country="US", phones=())
    bobs = book.place("AG-3", agent="bob")
    day = date(2026, 11, 18)
    book.call(mine, "no_answer", at(day, 9))
    book.call(mine, "right_party", at(day, 10))
    book.call(
        mine,
        "promise",
        at(day, 11),
        promise=PromiseInput(amount=10_000, due_date=date(2026, 11, 25)),
    )
    wrong = book.call(also_mine, "no_answer", at(day, 12))
    book.note(mine, at(day, 13))  # a note is not an attempt
    book.call(mine, "no_answer", at(date(2026, 10, 1), 9))  # before the period
    book.call(bobs, "busy", at(day, 9), by="bob")
    # Correction: the no_answer on AG-2 was really a right-party contact.
    with store.write() as session:
        session.add(
            Activity(
                case_id=also_mine,
                user_id=users["alice"].user_id,
                occurred_at=at(day, 12),
                channel="call",
                disposition="right_party",
                voids_id=wrong,
                created_at=at(day, 14),
            )
        )
    book.pay(mine, 12_345, day)
    book.pay(also_mine, 500, day)
    book.pay(bobs, 1_000, date(2026, 10, 1), now=at(date(2026, 10, 2)))  # before the period

    with store.read() as session:
        rows = reports.agent_activity(
            session=session, now=NOW, date_from=date(2026, 11, 1), date_to=TODAY
        )
        own = reports.agent_activity(session=session, now=NOW, actor=users["bob"])
    by_agent = {r.agent: r for r in rows}
    assert list(by_agent) == ["alice", "bob"]  # active agents; sam and root did nothing
    alice = by_agent["alice"]
    assert (alice.attempts, alice.right_party_contacts, alice.promises) == (4, 3, 1)
    assert alice.collected_by_currency == {"CNY": 12_345, "USD": 500}
    bob = by_agent["bob"]
    assert (bob.attempts, bob.right_party_contacts, bob.promises) == (1, 0, 0)
    assert bob.collected_by_currency == {}
    assert [r.agent for r in own] == ["bob"]


# --- DSO -----------------------------------------------------------------------------------------


def test_dso_weighted_by_open_amount(book: Book, store: db.Store) -> None:
    book.place(
        "DSO-1",
        principal=0,
        invoices=(
            InvoiceInput("A", issue_date=days_ago(10), due_date=days_ago(0), amount=30_000),
            InvoiceInput("B", issue_date=days_ago(40), due_date=days_ago(10), amount=10_000),
            InvoiceInput("C", due_date=days_ago(100), amount=5_000, open_amount=0),  # paid
        ),
    )
    book.place("DSO-2", principal=0,
               invoices=(InvoiceInput("D", due_date=days_ago(60), amount=10_000),))  # fmt: skip
    book.place("NO-INVOICES", principal=99_999)  # no issue date to age from: left out
    with store.read() as session:
        rows = reports.dso(session=session, now=NOW)
    # Issued: (300 x 10 + 100 x 40) / 400 = 17.5 days; D has no issue date: its 60 days past due
    # are a row of their own, never mixed into the DSO.
    assert rows == [
        reports.DsoRow(
            currency="CNY",
            open_receivables=40_000,
            days=Decimal("17.5"),
            invoices=2,
            collectible_receivables=40_000,
            collectible_days=Decimal("17.5"),
        ),
        reports.DsoRow(
            currency="CNY",
            open_receivables=10_000,
            days=Decimal("60.0"),
            invoices=1,
            collectible_receivables=10_000,
            collectible_days=Decimal("60.0"),
            basis="days_past_due",
        ),
    ]


# --- the command ---------------------------------------------------------------------------------


def _parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_report_csv_and_text(promise_book: Book, store: db.Store, settings: Settings) -> None:
    out = io.StringIO()
    args = _parse(["report", "promises", "--from", "2026-11-01", "--to", "2026-11-20", "--csv"])
    cli_report.run_report(args, store=store, settings=settings, now=NOW, actor=None, out=out)
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert records[0]["agent"] == "alice"
    assert records[0]["amount_promised"] == "1020.00"
    assert records[0]["kept_rate_count"] == "33.3"

    out = io.StringIO()
    args = _parse(["report", "collections", "--from", "2026-11-09", "--to", "2026-11-15",
                   "--period", "week"])  # fmt: skip
    cli_report.run_report(args, store=store, settings=settings, now=NOW, actor=None, out=out)
    text = out.getvalue().splitlines()
    assert text[0].startswith("Collections per week 2026-11-09 to 2026-11-15")
    assert text[2].split() == ["period_start", "currency", "collected", "promised_due", "payments"]
    # Paid on the 9th; the 200 and 300 promises fell due on the 10th and 12th.
    assert text[4].split() == ["2026-11-09", "CNY", "50.00", "500.00", "1"]


def test_report_agents_json(book: Book, store: db.Store, settings: Settings, users: dict) -> None:
    case_id = book.place("J-1")
    book.pay(case_id, 123_456, TODAY)
    out = io.StringIO()
    args = _parse(["report", "agents", "--json"])
    cli_report.run_report(args, store=store, settings=settings, now=NOW, actor=users["alice"],
                          out=out)  # fmt: skip
    assert json.loads(out.getvalue()) == [
        {
            "agent": "alice",
            "attempts": 0,
            "right_party_contacts": 0,
            "rpc_rate": None,  # no attempt: no rate
            "promises": 0,
            "collected_by_currency": {"CNY": "1234.56"},
        }
    ]


def test_report_bad_period_is_a_service_error(store: db.Store, settings: Settings) -> None:
    args = _parse(["report", "collections", "--from", "2026-11-20", "--to", "2026-11-01"])
    with pytest.raises(InvalidInput, match="after it ends"):
        cli_report.run_report(args, store=store, settings=settings, now=NOW, actor=None)


def test_reports_read_only(aging_book: Book, store: db.Store) -> None:
    with store.read() as session:
        before = len(session.exec(select(Case)).all())
        reports.aging(session=session, now=NOW)
        assert not session.new and not session.dirty
    assert before == 9


# --- one agent, two currencies, the exact ends of a period ----------------------------------------


def test_one_agent_in_two_currencies_at_the_period_edges(book: Book, store: db.Store) -> None:
    """[Nov 10, Nov 15] holds Nov 10 00:00:00 UTC up to Nov 15 23:59:59; an agent's CNY and USD
    figures stay apart in every report that carries money."""
    cny = book.place("EDGE-CNY")
    usd = book.place("EDGE-USD", currency="USD", country="US", phones=("+1 212 555 0123",))
    first, last = date(2026, 11, 10), date(2026, 11, 15)
    start = datetime(2026, 11, 10, tzinfo=UTC)
    end = datetime(2026, 11, 16, tzinfo=UTC)  # the first instant after the period
    second = timedelta(seconds=1)
    due = date(2026, 11, 25)
    for made in (start - second, start, end - second, end):
        book.promise(cny, 1_000, due, made=made)
    book.promise(usd, 2_500, due, made=datetime(2026, 11, 12, 3, tzinfo=UTC))
    for when in (start - second, start, end - second, end):
        book.call(cny, "right_party", when)
    book.call(usd, "no_answer", datetime(2026, 11, 12, 15, tzinfo=UTC))
    for day, amount in ((first - timedelta(days=1), 1), (first, 10_000), (last + timedelta(1), 2)):
        book.pay(cny, amount, day)
    book.pay(usd, 700, last)

    with store.read() as session:
        stats = reports.promise_stats(session=session, now=NOW, date_from=first, date_to=last)
        activity = reports.agent_activity(session=session, now=NOW, date_from=first, date_to=last)
        money = reports.collections(session=session, now=NOW, date_from=first, date_to=last)
        weekly = reports.collections(
            session=session, now=NOW, date_from=first, date_to=last, period="week"
        )

    # Promises: the two made inside, per currency; the USD amount is never added to the CNY one.
    assert [(r.agent, r.currency, r.made, r.amount_promised) for r in stats] == [
        ("alice", "CNY", 2, 2_000),
        ("alice", "USD", 1, 2_500),
    ]
    alice = next(r for r in activity if r.agent == "alice")
    assert (alice.attempts, alice.right_party_contacts, alice.promises) == (3, 2, 3)
    assert alice.collected_by_currency == {"CNY": 10_000, "USD": 700}
    by_day = {(r.period_start, r.currency): r.collected for r in money}
    assert by_day[(first, "CNY")] == 10_000 and by_day[(last, "USD")] == 700
    assert sum(r.collected for r in money if r.currency == "CNY") == 10_000  # not the 9th, 16th
    assert sum(r.collected for r in money if r.currency == "USD") == 700
    assert {r.period_start for r in money} == {first + timedelta(n) for n in range(6)}
    # Weeks: Monday Nov 9 (only the 10th-15th of it count) and nothing past the period.
    assert [(r.period_start, r.currency, r.collected) for r in weekly] == [
        (date(2026, 11, 9), "CNY", 10_000),
        (date(2026, 11, 9), "USD", 700),
    ]
