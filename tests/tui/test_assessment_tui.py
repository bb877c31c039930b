"""Assessing the debtor from the case screen (`a`, tui/screens/assessment.py): real keys, then the
screen and the database; bad input stays in the form with its message under the field."""

from __future__ import annotations

import uuid

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Static

from collector_tui.models import Assessment, Case, Debtor
from collector_tui.tui.screens.assessment import AssessmentForm
from collector_tui.tui.screens.case import CaseScreen
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, burst, drive, login, rendered, settle, type_text
from .seed import Seeded

PERSON = "REF-1002"  # 李娜, grade C, CNY
COMPANY = "REF-1003"  # 深圳华信贸易有限公司, grade A


def assessments(seeded: Seeded, case_id: uuid.UUID) -> list[Assessment]:
    with seeded.store.read() as session:
        rows = list(session.exec(select(Assessment).where(Assessment.case_id == case_id)).all())
        for row in rows:
            session.expunge(row)
        return rows


def grade_of(seeded: Seeded, case_id: uuid.UUID) -> str | None:
    with seeded.store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        debtor = session.get(Debtor, case.debtor_id)
        assert debtor is not None
        return debtor.risk_grade


async def open_case(pilot: Pilot[None], case_id: uuid.UUID) -> None:
    await login(pilot)
    pilot.app.push_screen(CaseScreen(case_id))
    await settle(pilot)


def field_error(form: AssessmentForm, name: str) -> str:
    return str(form.field(name).error or "")


def test_a_persons_assessment_with_a_new_grade(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases[PERSON]

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AssessmentForm)
        await type_text(pilot, "8000")
        await pilot.press("tab")
        await type_text(pilot, "3000")
        await pilot.press("tab")
        await type_text(pilot, "1500")
        await pilot.press("tab")
        await type_text(pilot, "500")
        await settle(pilot)
        assert "Disposable: 3,000.00 CNY a month" in rendered(form.query_one("#disposable", Static))
        await pilot.press("tab", "enter", "up", "enter")  # the grade: from C up to B
        await settle(pilot)
        await pilot.press("tab")
        await type_text(pilot, "payslip seen, new job")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        rows = assessments(demo, case_id)
        assert [(r.income, r.disposable, r.grade, r.grade_before) for r in rows] == [
            (800_000, 300_000, "B", "C")
        ]
        assert grade_of(demo, case_id) == "B"
        panel = rendered(app.screen.query_one("#debtor-panel", Static))
        assert "disposable 3,000.00 CNY/month" in panel and "grade B" in panel

    drive(app, scenario)


def test_bad_input_stays_under_its_field_and_nothing_is_written(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases[PERSON]

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AssessmentForm)
        await type_text(pilot, "-800")
        await pilot.press("tab")
        await type_text(pilot, "EUR 5")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "negative" in field_error(form, "income")
        assert "EUR" in field_error(form, "housing")
        # An absurd income passes the form and is refused by the service, under the field.
        form.query_one("#income").value = "99999999999"  # type: ignore[attr-defined]
        form.query_one("#housing").value = ""  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "check it" in field_error(form, "income")
        assert assessments(demo, case_id) == []
        assert grade_of(demo, case_id) == "C"

    drive(app, scenario)


def test_keys_typed_in_one_burst(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases[PERSON]

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await burst(pilot, "a", "6000", "tab", "2000", "tab", "1000", "tab", "0", "ctrl+s")
        assert isinstance(app.screen, CaseScreen)
        rows = assessments(demo, case_id)
        assert [(r.income, r.housing, r.family, r.other_debts, r.disposable) for r in rows] == [
            (600_000, 200_000, 100_000, 0, 300_000)
        ]
        assert grade_of(demo, case_id) == "C"  # the grade left as it was: no reason needed

    drive(app, scenario)


def test_a_company_is_assessed_by_its_standing(demo: Seeded) -> None:
    app = build_app(demo)
    case_id = demo.cases[COMPANY]

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AssessmentForm)
        await pilot.press("enter", "down", "down", "down", "enter")  # revenue: falling
        await settle(pilot)
        await pilot.press("tab", "tab")
        await type_text(pilot, "3")
        await pilot.press("tab", "tab")
        await type_text(pilot, "pays slowly")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen), [(f.id, f.error) for f in form.query(FormField)]
        rows = assessments(demo, case_id)
        assert [(r.kind, r.revenue_trend, r.other_creditors, r.judgement) for r in rows] == [
            ("company", "falling", 3, "pays slowly")
        ]
        panel = rendered(app.screen.query_one("#debtor-panel", Static))
        assert "revenue falling" in panel and "3 other creditors" in panel

    drive(app, scenario)


def test_the_why_panel_shows_p_its_factors_and_the_expected_loss(demo: Seeded) -> None:
    from collector_tui.models import RiskModel
    from collector_tui.services.assessment.model import FEATURES

    from .seed import NOW

    # A model in force, as `model fit` stores one: the grade raises p, the delay lowers it.
    coefficients = dict.fromkeys(FEATURES, 0.0) | {
        "intercept": 0.0,
        "grade": 1.0,
        "dpd_at_placement": -0.5,
    }
    with demo.store.write() as session:
        session.add(
            RiskModel(
                version=1,
                fitted_at=NOW,
                n_train=300,
                n_test=100,
                features=list(FEATURES),
                coefficients={
                    "coefficients": coefficients,
                    "means": dict.fromkeys(FEATURES, 0.0) | {"grade": 2.0},
                    "scales": dict.fromkeys(FEATURES, 1.0),
                },
                auc=0.8,
                calibration=[],
            )
        )
    app = build_app(demo)
    case_id = demo.cases["REF-1001"]  # grade B

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        assert screen.outlook is not None and screen.outlook.prediction is not None
        prediction = screen.outlook.prediction
        panel = rendered(screen.query_one("#why-panel", Static))
        assert f"p(pay) {prediction.p:.2f}" in panel and "expected loss" in panel
        assert "risk grade +" in panel
        balance = screen.case_file.balance if screen.case_file else 0
        assert prediction.expected_loss == round(balance * (1 - prediction.p))

    drive(app, scenario)


def _assess(seeded: Seeded, case_id: uuid.UUID, disposable: int) -> None:
    from collector_tui.services import accounts
    from collector_tui.services.assessment import assess as assessing
    from collector_tui.services.assessment.assess import AssessmentInput

    from .seed import NOW

    with seeded.store.write() as session:
        alice = accounts.get_actor(session=session, username="alice")
        assessing.assess(
            session=session,
            now=NOW,
            actor=alice,
            settings=seeded.settings,
            case_id=case_id,
            assessment=AssessmentInput(currency="CNY", income=disposable),
        )


def test_the_plan_form_proposes_within_the_disposable_income_and_warns_above_it(
    demo: Seeded,
) -> None:
    from collector_tui.tui.screens.forms import PlanForm

    case_id = demo.cases[PERSON]  # balance 3,200.50 CNY
    _assess(demo, case_id, 80_000)  # 800.00 CNY a month left
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await pilot.press("l")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PlanForm)
        assert form.text_of("count") == "5"  # 4 would be 800.13 each
        form.query_one("#first").value = "+7"  # type: ignore[attr-defined]
        await settle(pilot)
        preview = form.query_one("#plan-preview", Static)
        assert "within the disposable income (800.00 CNY a month)" in rendered(preview)
        form.query_one("#total").value = "3,200.00"  # type: ignore[attr-defined]
        form.query_one("#count").value = "4"  # type: ignore[attr-defined]
        await settle(pilot)
        assert "within the disposable income" in rendered(preview)  # exactly 800.00: fits
        form.query_one("#total").value = "3,200.04"  # type: ignore[attr-defined]
        await settle(pilot)
        shown = rendered(preview)
        assert "800.01 CNY a month is above the disposable income (800.00 CNY)" in shown
        # A warning, not a refusal: the plan is saved.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)

    drive(app, scenario)


def test_the_settlement_form_weighs_the_offer_against_the_disposable_income(
    demo: Seeded,
) -> None:
    from collector_tui.tui.screens.case_requests import SettlementRequestForm

    case_id = demo.cases[PERSON]
    _assess(demo, case_id, 80_000)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await open_case(pilot, case_id)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SettlementRequestForm)
        label = form.query_one("#settlement-discount", Static)
        form.query_one("#amount").value = "800.00"  # type: ignore[attr-defined]
        await settle(pilot)
        assert "Within the disposable income until then (800.00 CNY)" in rendered(label)
        form.query_one("#amount").value = "800.01"  # type: ignore[attr-defined]
        await settle(pilot)
        assert "above the disposable income until it is due" in rendered(label)

    drive(app, scenario)
