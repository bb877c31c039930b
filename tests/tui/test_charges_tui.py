"""A charge after placement from the case screen (`C`, tui/screens/charges.py): real keys, asked
again, then the screen and the database; bad input under its field, nothing written."""

from __future__ import annotations

import uuid

from sqlmodel import select
from textual.widgets import Static

from collector_tui.models import Case, CaseCharge, Invoice
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.screens.charges import ChargeForm
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline

from .conftest import build_app, burst, drive, login, rendered, settle, type_text
from .seed import Seeded

REF = "REF-1003"  # two invoices: INV-7001 50,000.00 CNY, INV-7002 38,000.00 CNY


def charges_of(seeded: Seeded, case_id: uuid.UUID) -> list[tuple[str, int, str | None, str]]:
    with seeded.store.read() as session:
        numbers = dict(session.exec(select(Invoice.id, Invoice.number)).all())
        return [
            (c.component, c.amount, numbers.get(c.invoice_id), c.reason)
            for c in session.exec(select(CaseCharge).where(CaseCharge.case_id == case_id)).all()
        ]


def balance_of(seeded: Seeded, case_id: uuid.UUID) -> int:
    with seeded.store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.balance


def notifications(app: CollectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_a_supervisor_charges_costs_on_an_invoice(demo: Seeded) -> None:
    app = build_app(demo, "sam")
    case_id = demo.cases[REF]
    before = balance_of(demo, case_id)

    async def scenario(pilot) -> None:  # noqa: ANN001
        await login(pilot)
        app.push_screen(CaseScreen(case_id))
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, ChargeForm)
        await type_text(pilot, "350")
        await pilot.press("tab", "tab")  # costs stays chosen
        await pilot.press("enter", "down", "down", "enter")  # the case, INV-7001, INV-7002
        await settle(pilot)
        await pilot.press("tab")
        await type_text(pilot, "court filing fee for the claim")
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "Charge 350.00 CNY of costs to invoice INV-7002 of REF-1003?" in question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert charges_of(demo, case_id) == [
            ("costs", 35_000, "INV-7002", "court filing fee for the claim")
        ]
        assert balance_of(demo, case_id) == before + 35_000
        with demo.store.read() as session:
            invoice = session.exec(select(Invoice).where(Invoice.number == "INV-7002")).one()
            assert invoice.open_amount == 3_800_000 + 35_000
        titles = [e.title for e in app.screen.query_one("#timeline", Timeline).entries]
        assert "costs 350.00 CNY charged on INV-7002" in titles
        assert app.screen.case_file is not None and app.screen.case_file.charged == 35_000
        debt = rendered(app.screen.query_one("#debt-panel", Static))
        assert "Charged" in debt and "350.00" in debt
        assert any("Costs 350.00 CNY charged" in n for n in notifications(app))

    drive(app, scenario)


def test_a_charge_typed_in_one_burst(demo: Seeded) -> None:
    app = build_app(demo, "sam")
    case_id = demo.cases["REF-1002"]  # no invoices: no invoice picker
    before = balance_of(demo, case_id)

    async def scenario(pilot) -> None:  # noqa: ANN001
        await login(pilot)
        app.push_screen(CaseScreen(case_id))
        # The key, the amount, past the component to the reason, save, and yes: before the case
        # is even read.
        await burst(pilot, "C", "120.50", "tab", "tab", "bailiff visit to the address", "ctrl+s")
        await burst(pilot, "y")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert charges_of(demo, case_id) == [
            ("costs", 12_050, None, "bailiff visit to the address")
        ]
        assert balance_of(demo, case_id) == before + 12_050

    drive(app, scenario)


def test_bad_charges_are_named_under_their_fields(demo: Seeded) -> None:
    app = build_app(demo, "sam")
    case_id = demo.cases["REF-1002"]
    before = balance_of(demo, case_id)

    async def scenario(pilot) -> None:  # noqa: ANN001
        await login(pilot)
        app.push_screen(CaseScreen(case_id))
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        await type_text(pilot, "0")
        await pilot.press("tab", "tab")
        await type_text(pilot, "fee")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChargeForm)
        amount = app.screen.query_one("#field-amount", FormField).error
        reason = app.screen.query_one("#field-reason", FormField).error
        assert amount == "the amount must be more than zero"
        assert reason is not None and "at least 10 characters" in reason
        # An absurd amount: the money reader refuses it under the field.
        await pilot.press("backspace")  # the focus is on the first field in error
        await type_text(pilot, "99999999999999999")
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = app.screen.query_one("#field-amount", FormField).error
        assert error == "amount is too large"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert charges_of(demo, case_id) == []
        assert balance_of(demo, case_id) == before

    drive(app, scenario)


def test_a_closed_case_refuses_a_charge_and_an_agent_is_told(demo: Seeded) -> None:
    case_id = demo.cases["REF-1002"]
    with demo.store.write() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.status = "paid"
        session.add(case)
    app = build_app(demo, "sam")

    async def scenario(pilot) -> None:  # noqa: ANN001
        await login(pilot)
        app.push_screen(CaseScreen(case_id))
        await settle(pilot)
        await burst(pilot, "C", "50", "tab", "tab", "court filing fee for the claim", "ctrl+s")
        await burst(pilot, "y")
        await settle(pilot)
        assert isinstance(app.screen, ChargeForm)
        shown = str(app.screen.query_one("#form-error", Static).render())
        assert "REF-1002 is already paid: cannot add a charge" in shown
        assert charges_of(demo, case_id) == []

    drive(app, scenario)

    agent = build_app(demo)

    async def as_agent(pilot) -> None:  # noqa: ANN001
        await login(pilot)
        agent.push_screen(CaseScreen(demo.cases[REF]))
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(agent.screen, CaseScreen)
        assert any("Only a supervisor can add a charge" in n for n in notifications(agent))
        assert charges_of(demo, demo.cases[REF]) == []

    drive(agent, as_agent)
