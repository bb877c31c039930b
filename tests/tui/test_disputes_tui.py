"""Invoice disputes and payment reversals from the TUI (tui/screens/disputes.py, dispute_list.py).

Real keys from the case screen (`i` dispute an invoice, `D` resolve, `V` reverse the highlighted
payment) and the supervisor screen (`d` the open disputes: enter resolves one, `o` opens its
case), then the screen and the database.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from collector_tui.models import Case, Invoice, InvoiceDispute, Payment
from collector_tui.services.casework import payments
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.dispute_list import DisputesScreen
from collector_tui.tui.screens.disputes import (
    InvoiceDisputeForm,
    ResolveDisputeForm,
    ReversePaymentForm,
)
from collector_tui.tui.screens.supervisor import SupervisorScreen
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app, burst, drive, login, rendered, settle, type_text
from .seed import NOW, Seeded, open_disputes

REF = "REF-1003"  # two invoices: INV-7001 50,000.00 CNY, INV-7002 38,000.00 CNY


def notifications(app: CollectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def dispute_rows(seeded: Seeded, case_id: uuid.UUID) -> list[InvoiceDispute]:
    with seeded.store.read() as session:
        rows = list(
            session.exec(select(InvoiceDispute).where(InvoiceDispute.case_id == case_id)).all()
        )
        for row in rows:
            session.expunge(row)
        return rows


def case_row(seeded: Seeded, case_id: uuid.UUID) -> Case:
    with seeded.store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)
        return case


def invoice_open(seeded: Seeded, number: str) -> int:
    with seeded.store.read() as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == number)).one()
        return invoice.open_amount


async def open_case(pilot: Pilot[None], case_id: uuid.UUID) -> None:
    await login(pilot)
    pilot.app.push_screen(CaseScreen(case_id))
    await settle(pilot)


async def choose(pilot: Pilot[None], downs: int) -> None:
    """In a focused Select: open it, move down `downs` options, pick."""
    await pilot.press("enter", *(["down"] * downs), "enter")
    await settle(pilot)


def invoices_text(app: CollectorApp) -> str:
    return rendered(app.screen.query_one("#invoices-panel", Static))


def test_a_partial_dispute_then_upheld(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases[REF]
    before = case_row(demo, case_id)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDisputeForm)
        await type_text(pilot, "1000")
        await pilot.press("tab")
        await choose(pilot, 2)  # blank, goods not received, quality
        await pilot.press("tab")
        await type_text(pilot, "20 units arrived broken")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        rows = dispute_rows(demo, case_id)
        assert [(r.amount, r.category, r.status) for r in rows] == [(100_000, "quality", "open")]
        panel = invoices_text(app)
        assert "Disputed" in panel and "1,000.00" in panel
        assert "collectible 87,000.00 CNY" in panel and "quality" in panel
        # The rest of the case stays workable: no hold, the status unchanged.
        case = case_row(demo, case_id)
        assert case.status == before.status and app.screen.case_file is not None
        assert not app.screen.case_file.holds

        # Resolved upheld by its owner (the case's agent): the invoice and balance drop by it.
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ResolveDisputeForm)
        await choose(pilot, 1)  # blank, upheld
        await pilot.press("tab", "tab")
        await type_text(pilot, "client confirms the damage")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")  # the credit is asked again
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert [r.status for r in dispute_rows(demo, case_id)] == ["upheld"]
        assert case_row(demo, case_id).balance == before.balance - 100_000
        assert invoice_open(demo, "INV-7001") == 5_000_000 - 100_000
        assert "Disputed" not in invoices_text(app)
        titles = [e.title for e in app.screen.query_one("#timeline", Timeline).entries]
        disputed = [t for t in titles if t.startswith("dispute")]
        assert disputed == [
            "dispute of INV-7001 1,000.00 CNY · upheld · 1,000.00 CNY credited",
            "dispute of INV-7001 1,000.00 CNY · quality",
        ]

    drive(app, scenario)


def test_a_dispute_typed_in_one_burst(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases[REF]

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.push_screen(CaseScreen(case_id))
        # The key, the amount, the category and the reason, sent before the case is even read.
        await burst(pilot, "i", "250", "tab", "enter", "down", "enter", "tab", "not delivered yet")
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        rows = dispute_rows(demo, case_id)
        assert [(r.amount, r.category, r.reason) for r in rows] == [
            (25_000, "goods_not_received", "not delivered yet")
        ]

    drive(app, scenario)


def test_a_dispute_above_the_open_amount_is_refused_under_the_field(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases[REF]

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await pilot.press("i")
        await settle(pilot)
        await type_text(pilot, "60000")  # INV-7001 has 50,000.00 open
        await pilot.press("tab")
        await choose(pilot, 1)
        await pilot.press("tab")
        await type_text(pilot, "says it was never ordered")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDisputeForm)
        error = app.screen.query_one("#field-amount", FormField).error
        assert error is not None and "open amount 50,000.00 CNY" in error
        assert dispute_rows(demo, case_id) == []

    drive(app, scenario)


def _paid(demo: Seeded, case_id: uuid.UUID, amount: int) -> None:
    with demo.store.write() as session:
        payments.post_payment(
            session=session,
            now=NOW - timedelta(minutes=5),
            actor=demo.users["alice"],
            case_id=case_id,
            amount=amount,
            received_on=date(2026, 11, 19),
            settings=demo.settings,
            reference="BANK-77",
        )


def _highlight_payment(app: CollectorApp) -> None:
    timeline = app.screen.query_one("#timeline", Timeline)
    row = next(i for i, e in enumerate(timeline.entries) if e.kind == "payment")
    timeline.move_cursor(row=row)


def test_a_supervisor_reverses_a_payment(demo: Seeded) -> None:
    case_id = demo.cases["REF-1002"]
    before = case_row(demo, case_id).balance
    _paid(demo, case_id, 20_000)
    assert case_row(demo, case_id).balance == before - 20_000
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        _highlight_payment(app)
        await pilot.press("V")
        await settle(pilot)
        assert isinstance(app.screen, ReversePaymentForm)
        await choose(pilot, 1)  # blank, bounced
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        with demo.store.read() as session:
            reversals = session.exec(
                select(Payment.amount, Payment.reversal_reason).where(
                    Payment.case_id == case_id,
                    Payment.voids_id.is_not(None),  # type: ignore[union-attr]
                )
            ).all()
        assert [tuple(r) for r in reversals] == [(-20_000, "bounced")]
        assert case_row(demo, case_id).balance == before
        titles = [e.title for e in app.screen.query_one("#timeline", Timeline).entries]
        assert any(t.startswith("reversal (bounced) -200.00 CNY") for t in titles)
        assert any(t.endswith("· reversed") for t in titles)
        # Highlighted again: reversed already, nothing opens.
        _highlight_payment(app)
        await pilot.press("V")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)


def test_an_agent_is_told_reversals_are_for_supervisors(demo: Seeded) -> None:
    case_id = demo.cases["REF-1002"]
    _paid(demo, case_id, 20_000)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        _highlight_payment(app)
        await pilot.press("V")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert any("Only a supervisor can reverse a payment" in n for n in notifications(app))
        with demo.store.read() as session:
            assert session.exec(select(Payment).where(Payment.voids_id.is_not(None))).all() == []  # type: ignore[union-attr]

    drive(app, scenario)


def test_the_supervisor_sees_open_disputes_and_opens_the_case(demo: Seeded) -> None:
    open_disputes(demo)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DisputesScreen)
        table = app.screen.query_one("#disputes-table", DataTable)
        assert table.row_count == 2
        first = " ".join(str(cell) for cell in table.get_row_at(0))
        assert "OVERDUE" in first and "12,500.00 CNY" in first
        summary = rendered(app.screen.query_one("#disputes-summary", Static))
        assert "2" in summary and "1 overdue" in summary
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.case_id == demo.cases[REF]
        panel = invoices_text(app)
        assert "OVERDUE" in panel and "12,500.00" in panel and "38,000.00" in panel
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DisputesScreen)

    drive(app, scenario, size=(80, 24))


def test_every_choice_left_open_is_named_under_its_field(demo: Seeded) -> None:
    """Saved with nothing chosen: the category, the outcome, the reversal's reason each get their
    message, and nothing is written (the blank choice is never sent as a value)."""
    case_id = demo.cases["REF-1002"]
    _paid(demo, case_id, 20_000)
    open_disputes(demo)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, demo.cases[REF])
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ResolveDisputeForm)
        assert app.screen.query_one("#field-outcome", FormField).error == "choose the outcome"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDisputeForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.query_one("#field-category", FormField).error == "choose what is disputed"
        await pilot.press("escape", "escape")
        await settle(pilot)
        app.push_screen(CaseScreen(case_id))
        await settle(pilot)
        _highlight_payment(app)
        await pilot.press("V")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReversePaymentForm)
        error = app.screen.query_one("#field-reason", FormField).error
        assert error == "choose why the payment is reversed"
        assert [r.status for r in dispute_rows(demo, demo.cases[REF])] == ["open", "open"]
        with demo.store.read() as session:
            assert session.exec(select(Payment).where(Payment.voids_id.is_not(None))).all() == []  # type: ignore[union-attr]

    drive(app, scenario)


def test_the_supervisor_resolves_from_the_disputes_list_in_one_burst(demo: Seeded) -> None:
    """Enter on the overdue dispute opens the resolve form (the one `D` opens): partly upheld
    with 2,500.00 credited, asked again; the list is read again and shows the one left."""
    open_disputes(demo)
    case_id = demo.cases[REF]
    before = case_row(demo, case_id).balance
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DisputesScreen)
        # The overdue dispute of INV-7001 (12,500.00) is the first row: enter, partly (blank,
        # upheld, rejected, partly), the amount, the reason, save, yes.
        await burst(pilot, "enter", "enter", "down", "down", "down", "enter", "tab", "2500",
                    "tab", "client accepts part of the claim", "ctrl+s")  # fmt: skip
        await settle(pilot)
        await burst(pilot, "y")
        await settle(pilot)
        assert isinstance(app.screen, DisputesScreen)
        rows = {r.invoice_id: r for r in dispute_rows(demo, case_id)}
        with demo.store.read() as session:
            numbers = dict(session.exec(select(Invoice.id, Invoice.number)).all())
        by_number = {numbers[k]: r for k, r in rows.items()}
        resolved = by_number["INV-7001"]
        assert (resolved.status, resolved.credited, resolved.resolved_by_id) == (
            "partly",
            250_000,
            demo.users["sam"].user_id,
        )
        assert resolved.resolution_reason == "client accepts part of the claim"
        assert by_number["INV-7002"].status == "open"
        assert case_row(demo, case_id).balance == before - 250_000
        assert invoice_open(demo, "INV-7001") == 5_000_000 - 250_000
        table = app.screen.query_one("#disputes-table", DataTable)
        assert table.row_count == 1
        assert "38,000.00 CNY" in " ".join(str(cell) for cell in table.get_row_at(0))
        summary = rendered(app.screen.query_one("#disputes-summary", Static))
        assert "overdue" not in summary
        assert any("dispute partly upheld, 2,500.00 CNY credited" in n for n in notifications(app))

    drive(app, scenario)


def test_a_bad_resolution_from_the_list_is_named_under_its_field(demo: Seeded) -> None:
    open_disputes(demo)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await pilot.press("d")
        await settle(pilot)
        # Partly, with more than the 12,500.00 disputed: refused under the amount.
        await burst(pilot, "enter", "enter", "down", "down", "down", "enter", "tab", "20000",
                    "tab", "client accepts part of the claim", "ctrl+s")  # fmt: skip
        await settle(pilot)
        assert isinstance(app.screen, ResolveDisputeForm)
        error = app.screen.query_one("#field-amount", FormField).error
        assert error is not None and "below the disputed 12,500.00 CNY" in error
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DisputesScreen)
        assert [r.status for r in dispute_rows(demo, demo.cases[REF])] == ["open", "open"]
        assert app.screen.query_one("#disputes-table", DataTable).row_count == 2

    drive(app, scenario)
