"""The case's last forms in the pseudo-locale (tests/tui/pseudo.py): contact data (add, mark,
edit, retire), the corrections (a payment, lifting a hold, voiding a contact, withdrawing a
promise, cancelling or rescheduling a plan, moving a follow-up), the assessment, the invoice
disputes, charges and the idle lock. Each is opened with its real key on the busy case of
test_language.py, checked, then saved empty so its refusals are checked too — at 80×24, where
two-cell-wide Chinese would be cut first, and at 120×40.

Then the dashboard followed through a switch of language, and the export dialog's Chinese headers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static

from collector_tui import i18n

from . import pseudo
from .conftest import build_app, drive, login, settle, type_text
from .seed import Seeded, open_disputes
from .test_language import (
    AGENT_ALLOWED,
    BUSY_NOTES,
    FACTOR_WORDS,
    STORED_WORDS,
    agent_untranslated,
    busy_case,
    open_case,
    stored_factor_details,
)

SIZES = [(80, 24), (120, 40)]
# The busy case's numbers as the contact pickers show them, the seed's e-mail and address words,
# and "Reg F" (a US rule's name, kept in the Chinese text too).
CONTACT_DATA = ("Reg F", "REF-1002", "example", "com", "Rd", "Road", "Street", "St")


@pytest.fixture
def pseudo_locale() -> None:
    pseudo.install()


def _highlight(app: object, kind: str) -> None:
    """Put the timeline's cursor on the first entry of `kind` (what a correction acts on)."""
    from collector_tui.tui.widgets.timeline import Timeline

    timeline = app.screen.query_one("#timeline", Timeline)  # type: ignore[attr-defined]
    row = next(i for i, entry in enumerate(timeline.entries) if entry.kind == kind)
    timeline.move_cursor(row=row, animate=False)


# key on the case screen, the timeline entry to highlight first (None: none needed), the form.
CASE_KEYS = (
    ("plus", None, "AddContactForm"),
    ("x", None, "MarkContactForm"),
    ("X", None, "RetireContactForm"),
    ("E", None, "EditContactForm"),
    ("y", None, "PaymentForm"),
    ("u", "hold", "ReleaseHoldForm"),
    ("v", "contact", "VoidContactForm"),
    ("w", "promise", "WithdrawPromiseForm"),
    ("w", "plan", "CancelPlanForm"),
    ("L", None, "ReschedulePlanForm"),
    ("m", None, "MoveFollowUpForm"),
    ("a", None, "AssessmentForm"),
    ("M", None, "ReminderScreen"),
)
# The outbox's templates, named in the team's configuration.
REMINDER_TEMPLATES = ("broken_promise", "first_notice", "validation_notice", "reminder")


def _checked(
    demo: Seeded, key: str, highlight: str | None, form: str, size: tuple[int, int]
) -> None:
    case_id = busy_case(demo)
    allowed = (
        AGENT_ALLOWED
        + BUSY_NOTES
        + STORED_WORDS
        + FACTOR_WORDS
        + stored_factor_details(demo, case_id)
        + CONTACT_DATA
        + REMINDER_TEMPLATES
    )
    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await open_case(pilot, case_id)
        if highlight is not None:
            _highlight(app, highlight)
            await settle(pilot, 2)
        await pilot.press(key)
        await settle(pilot)
        assert type(app.screen).__name__ == form, type(app.screen).__name__
        if key == "M":
            # The reminder's preview is the template's own text (reminder_templates/): blanked.
            app.screen.query_one("#reminder-preview", Static).update("")
            await settle(pilot)
        lines = pseudo.screen_text(app)
        assert agent_untranslated(lines, allowed) == [], "\n".join(lines)
        # Nothing the footer names is cut: each of its keys' words is whole.
        assert pseudo.untranslated(lines[-1:], ("esc", "ctrl", "enter", "tab")) == []
        # Emptied, then saved: the refusals under the fields (a form whose defaults are a
        # valid answer, retire or edit, saves: then the case and the toast saying so).
        for field in app.screen.query(Input):
            field.value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦" in line for line in lines)
        assert agent_untranslated(lines, allowed) == [], "\n".join(lines)

    drive(app, scenario, size=size)


@pytest.mark.usefixtures("pseudo_locale")
# At 80x24 only: the words are the same at 120x40, and the small screen is where they get cut (a
# run of every form at both sizes cost CI a minute and a half).
@pytest.mark.parametrize("size", SIZES[:1], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("key", "highlight", "form"), CASE_KEYS, ids=[f"{k[2]}" for k in CASE_KEYS]
)
def test_case_forms_show_only_catalog_text(
    demo: Seeded, key: str, highlight: str | None, form: str, size: tuple[int, int]
) -> None:
    _checked(demo, key, highlight, form, size)


@pytest.mark.usefixtures("pseudo_locale")
def test_the_add_contact_form_kinds_and_a_company_assessment(demo: Seeded) -> None:
    """Every kind the add form shows (its captions change with it), and the company's
    assessment fields."""
    from collector_tui.tui.screens.assessment import AssessmentForm
    from collector_tui.tui.screens.case import CaseScreen
    from collector_tui.tui.screens.contacts import AddContactForm

    allowed = AGENT_ALLOWED + CONTACT_DATA + FACTOR_WORDS
    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await open_case(pilot, demo.cases["REF-1001"])
        await pilot.press("plus")
        await settle(pilot)
        assert isinstance(app.screen, AddContactForm)
        for kind in ("e", "a", "t", "p"):
            await pilot.press(kind)
            await settle(pilot, 2)
            lines = pseudo.screen_text(app)
            assert agent_untranslated(lines, allowed) == [], kind
        await pilot.press("escape")
        await settle(pilot)
        app.push_screen(CaseScreen(demo.cases["REF-1003"]))  # a company
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssessmentForm) and app.screen.kind == "company"
        lines = pseudo.screen_text(app)
        assert agent_untranslated(lines, allowed + ("深圳华信贸易有限公司",)) == []

    drive(app, scenario, size=(80, 24))


@pytest.mark.usefixtures("pseudo_locale")
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoice_dispute_forms_and_charges_show_only_catalog_text(
    demo: Seeded, size: tuple[int, int]
) -> None:
    """`i` disputes an invoice, `D` resolves one (the supervisor, disputes open), `C` adds a
    charge."""
    open_disputes(demo)
    app = build_app(demo, "sam", language=pseudo.PSEUDO)
    allowed = AGENT_ALLOWED + ("Sam Lee", "Sam", "supervisor") + CONTACT_DATA + FACTOR_WORDS

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        for key, form in (
            ("i", "InvoiceDisputeForm"),
            ("D", "ResolveDisputeForm"),
            ("C", "ChargeForm"),
        ):
            await open_case(pilot, demo.cases["REF-1003"])
            await pilot.press(key)
            await settle(pilot)
            assert type(app.screen).__name__ == form, type(app.screen).__name__
            lines = pseudo.screen_text(app)
            assert agent_untranslated(lines, allowed) == [], "\n".join(lines)
            await pilot.press("ctrl+s")
            await settle(pilot)
            lines = pseudo.screen_text(app)
            assert agent_untranslated(lines, allowed) == [], "\n".join(lines)
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("escape")  # back to the queue
            await settle(pilot)

    drive(app, scenario, size=size)


@pytest.mark.usefixtures("pseudo_locale")
def test_the_idle_lock_shows_only_catalog_text(demo: Seeded) -> None:
    from collector_tui.tui.screens.lock import LockScreen, lock_screen

    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.push_screen(lock_screen(app))
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        await pilot.press("enter")  # the refusal under the empty password
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦enter your password⟧" in line for line in lines)
        # The box wraps its message over three lines: read as one text, inside its brackets.
        text = " ".join(line.strip(" │") for line in lines)
        assert agent_untranslated([text], AGENT_ALLOWED) == [], "\n".join(lines)

    drive(app, scenario, size=(80, 24))


# -- Chinese at 80×24: nothing cut ----------------------------------------------------------------


@pytest.mark.parametrize("key", ["plus", "y", "a"])
def test_chinese_forms_fit_80_columns(demo: Seeded, key: str) -> None:
    """In Chinese (two cells a character), a form's title, captions and footer keys are whole."""
    from collector_tui.tui.screens.forms import FormScreen

    app = build_app(demo, language="zh_CN")
    expected = {
        "plus": ("添加联系方式", "类型", "来源"),
        "y": ("收到还款", "到账日期", "参考号（可选）"),
        "a": ("评估债务人", "月收入", "评级原因"),
    }[key]

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await open_case(pilot, demo.cases["REF-1001"])
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        text = "\n".join(pseudo.screen_text(app))
        for words in expected:
            assert words in text, (words, text)
        footer = pseudo.screen_text(app)[-1]
        assert "保存" in footer and "取消" in footer, footer

    drive(app, scenario, size=(80, 24))


# -- the dashboard follows a switch; the export dialog's Chinese headers ---------------------------


async def _switch(pilot: Pilot[None], name: str) -> None:
    await pilot.press("ctrl+p")
    await type_text(pilot, name)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def test_the_reports_screen_follows_a_switch_of_language(demo: Seeded) -> None:
    from collector_tui.tui.commands import open_screen
    from collector_tui.tui.screens.reports import ReportsScreen

    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        open_screen(app, "reports")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        text = "\n".join(pseudo.screen_text(app))
        assert "Aging" in text and "Period" in text
        await _switch(pilot, "language: 中")
        assert app.screen is screen and i18n.current_language() == "zh_CN"
        titles = {
            name: str(screen.query_one(f"#{name}", Static).render())
            for name in ("collections-title", "aging-title", "promises-title", "agents-title")
        }
        assert "回款" in titles["collections-title"], titles
        assert "账龄" in titles["aging-title"], titles
        assert "Aging" not in titles["aging-title"] and "Promises" not in titles["promises-title"]
        text = "\n".join(pseudo.screen_text(app))
        assert "期间" in text and "Period" not in text  # the bar above the charts
        assert "Collections" not in text
        await _switch(pilot, "english")
        text = "\n".join(pseudo.screen_text(app))
        assert "Period" in text and "期间" not in text

    drive(app, scenario, size=(120, 40))


def test_the_export_dialog_writes_chinese_headers_when_ticked(demo: Seeded, tmp_path: Path) -> None:
    """Ticked, the cases' file has Chinese headers; left alone (the default, whatever the
    user's language), the English ones scripts read; another kind cannot take it."""
    from collector_tui.tui.commands import open_screen
    from collector_tui.tui.screens.reports import ReportsScreen

    app = build_app(demo, "alice", language="zh_CN")
    chinese = tmp_path / "cases-zh.csv"
    english = tmp_path / "cases-en.csv"

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        open_screen(app, "reports")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        for target, tick in ((chinese, True), (english, False)):
            await pilot.press("e")
            await settle(pilot)
            dialog = app.screen
            box = dialog.query_one("#export-zh", Checkbox)
            assert box.value is False  # off by default, even in Chinese
            dialog.query_one("#export-path", Input).value = str(target)
            if tick:
                box.focus()
                await pilot.press("space")
                assert box.value is True
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ReportsScreen)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        dialog.query_one("#export-what", Select).value = "payments"
        await settle(pilot, 2)
        assert dialog.query_one("#export-zh", Checkbox).disabled

    drive(app, scenario, size=(80, 24))
    with chinese.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert "客户编号" in header and "client_ref" not in header, header
    with english.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert "client_ref" in header, header


@pytest.mark.usefixtures("pseudo_locale")
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_strategy_line_shows_only_catalog_text(
    demo: Seeded, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The "why this case is here" panel of a case placed by a strategy, its escalation due."""
    from collector_tui.tui.screens.case import CaseScreen

    from .test_strategies_tui import apply

    apply(demo, tmp_path)
    case_id = demo.cases["REF-1005"]
    # The strategies' and rules' names are the team's file (stored), as the escalation's target.
    allowed = (
        AGENT_ALLOWED
        + FACTOR_WORDS
        + stored_factor_details(demo, case_id)
        + ("standard", "legal", "default", "large")
    )
    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.push_screen(CaseScreen(case_id))
        await settle(pilot)
        panel = app.screen.query_one("#why-panel", Static)
        region = panel.region
        lines = pseudo.screen_text(app)[region.y : region.bottom]
        text = "\n".join(lines)
        assert "⟦Strategy⟧" in text or "⟦Escalation due" in text, text
        assert agent_untranslated(lines, allowed) == [], text

    drive(app, scenario, size=size)
