"""The app in another language: switched at run time from the palette, at login by the user's
own language, and the pseudo-locale run that finds text bypassing the catalog (login and help so
far; tests/tui/pseudo.py says how to add a screen)."""

from __future__ import annotations

import re
import uuid

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Static

from collector_tui import i18n
from collector_tui.services import accounts
from collector_tui.tui.screens.help import HelpScreen
from collector_tui.tui.screens.login import LoginScreen

from . import pseudo
from .conftest import build_app, drive, login, settle, type_text
from .seed import NOW, Seeded


def _footer(pilot: Pilot[None]) -> str:
    return " ".join(line for line in pseudo.screen_text(pilot.app)[-1:])


def test_the_palette_switches_the_language_without_a_restart(demo: Seeded) -> None:
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        await settle(pilot, 1)
        await type_text(pilot, "dem")  # typed into the password before the switch: kept
        assert app.screen.query_one("#login-title", Static).content == "Sign in"
        assert "palette" in _footer(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "language: 中")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert i18n.current_language() == "zh_CN"
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        assert screen.query_one("#login-title", Static).content == "登录"
        assert str(screen.query_one("#login", Button).label) == "登录"
        assert "命令面板" in _footer(pilot)
        # The help in Chinese (found by its English name too), then back to English from the
        # palette, the help still open.
        await pilot.press("ctrl+p")
        await type_text(pilot, "help")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "按键" in "\n".join(pseudo.screen_text(app))
        await pilot.press("ctrl+p")
        await type_text(pilot, "english")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = "\n".join(pseudo.screen_text(app))
        assert "Keys" in text and "按键" not in text
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#login-title", Static).content == "Sign in"
        # What was typed before the switches is still there: the login goes through.
        await pilot.press("o", "enter")
        await settle(pilot)
        assert app.actor is not None and app.actor.username == "alice"

    drive(app, scenario, size=(100, 30))


def test_the_users_language_at_login_and_the_environments_after_logout(
    demo: Seeded,
) -> None:
    with demo.store.write() as session:
        accounts.set_user_language(
            session=session,
            now=NOW,
            actor=accounts.get_actor(session=session, username="alice"),
            username="alice",
            language="zh_CN",
        )
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        assert i18n.current_language() == "en"
        await login(pilot)
        assert i18n.current_language() == "zh_CN"
        assert app.context.settings.locale == "zh_CN"  # amounts read and written the Chinese way
        await pilot.press("ctrl+p")
        await type_text(pilot, "log out")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert i18n.current_language() == "en"
        assert app.screen.query_one("#login-title", Static).content == "Sign in"

    drive(app, scenario, size=(100, 30))


def test_lang_given_at_start_holds_over_the_users_own(demo: Seeded) -> None:
    app = build_app(demo)
    app.forced_language = "en"

    async def scenario(pilot: Pilot[None]) -> None:
        with demo.store.write() as session:
            accounts.set_user_language(
                session=session,
                now=app.clock.now(),
                actor=accounts.get_actor(session=session, username="alice"),
                username="alice",
                language="zh_CN",
            )
        await login(pilot)
        assert i18n.current_language() == "en"

    drive(app, scenario, size=(100, 30))


# -- the pseudo-locale run: text on a screen that bypassed the catalog -----------------------------

# The app's name in the header, and what the user typed.
LOGIN_ALLOWED = ("collector", "alice")
# Help sections of screens not wrapped yet (their keys' words are the next round's); the help's
# own words, its frame and every section of a wrapped screen are checked.
NOT_WRAPPED_YET = ()


@pytest.fixture
def pseudo_locale() -> None:
    pseudo.install()


@pytest.mark.usefixtures("pseudo_locale")
def test_login_screen_shows_only_catalog_text(demo: Seeded) -> None:
    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await settle(pilot, 1)
        await pilot.press("enter")  # the refusal under the empty password is checked too
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦enter your password⟧" in line for line in lines)
        assert pseudo.untranslated(lines, LOGIN_ALLOWED) == []

    drive(app, scenario, size=(120, 40))


@pytest.mark.usefixtures("pseudo_locale")
def test_help_screen_shows_only_catalog_text(demo: Seeded) -> None:
    from collector_tui.tui.screens import help as help_screen

    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await settle(pilot, 1)
        app.action_help()  # "?" on the login screen is typed into the field
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body")
        checked = []
        for section, (title, _bindings) in zip(
            body.query(".help-section"),
            help_screen.help_sections(LoginScreen, type(app).BINDINGS),
            strict=True,
        ):
            if title in NOT_WRAPPED_YET:
                continue
            checked.append(title)
            region = section.region
            lines = pseudo.screen_text(app)[region.y : region.bottom]
            key_names = ("esc", "enter", "ctrl", "plus", "space", "tab", "shift", "up", "down")
            assert pseudo.untranslated(lines, key_names) == [], title
        for section in ("Everywhere", "Queue", "Case", "Forms", "Supervisor", "Reports", "Import"):
            assert section in checked, section
        frame = [pseudo.screen_text(app)[0], pseudo.screen_text(app)[-1]]
        assert pseudo.untranslated(frame, ("collector", "esc")) == []

    drive(app, scenario, size=(120, 200))


@pytest.mark.usefixtures("pseudo_locale")
def test_sync_screen_shows_only_catalog_text(demo: Seeded) -> None:
    from collector_tui.tui.commands import open_screen

    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        open_screen(app, "sync")
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦Sync with the master⟧" in line for line in lines)
        # The header: the app's name and who is logged in (stored data); the footer's key names.
        allowed = ("collector", "Alice", "Wang", "agent", "esc")
        assert pseudo.untranslated(lines, allowed) == []

    drive(app, scenario, size=(120, 40))


# -- the agent's screens: the queue, a busy case, the contact form and the case's forms ------------

# Stored data on the agent's screens: the app's name, the user, the clients, the cases'
# references, the debtors' countries, currencies and time zones, and what the seed and
# `busy_case` wrote (notes, reasons). Key names are the footer's and the hints'.
AGENT_ALLOWED = (
    "collector",
    "Alice Wang",
    "Alice",
    "ACME Bank",
    "REF",
    "INV",
    "CNY",
    "USD",
    "CN",
    "US",
    "Asia/Shanghai",
    "Shanghai",
    "New York",
    "John Smith",
    "王小明",
    "李娜",
    "深圳华信贸易有限公司",
    "张伟",
    "陈静",
    "zh",
    "ctrl",
    "esc",
    "enter",
    "tab",
    "VoIP",
    "SMS",
)
BUSY_NOTES = (
    "客户说下周一还款",
    "Second line: asked for the fee breakdown.",
    "Asked to call back Friday afternoon",
    "call back Fri",
    "says the loan was repaid in cash",
    "lost his job in October",
    "disputes the late fees",
    "agreed on the phone",
    "second number works",
)
# The details of a case's score factors are stored with it, in English (rules/scoring.py): their
# words, wherever a panel cuts them.
FACTOR_WORDS = (
    "balance", "likely", "grade", "none", "days", "past", "due", "kept", "broken",
    "right-party", "contact", "lately", "no", "attempt", "yet", "since", "last",
)  # fmt: skip
# Cut at a panel's edge, a stored phrase shows in part: its words one by one.
STORED_WORDS = tuple(word for note in BUSY_NOTES for word in note.split())


def agent_untranslated(lines: list[str], allowed: tuple[str, ...]) -> list[str]:
    """`pseudo.untranslated`, Chinese characters aside (the seed's names, addresses and notes are
    stored data, and the pseudo-locale never writes a Chinese character itself), and a message
    inside another (a hold's kind in "{kind} hold placed") taken as part of it."""
    shown = []
    for line in lines:
        line = re.sub(r"[\u3000-\u9fff\uff00-\uffef]+", " ", line)
        while True:
            flat = re.sub(
                f"({pseudo.OPEN}[^{pseudo.OPEN}{pseudo.CLOSE}]*){pseudo.OPEN}([^{pseudo.OPEN}{pseudo.CLOSE}]*){pseudo.CLOSE}",
                r"\1\2",
                line,
            )
            if flat == line:
                break
            line = flat
        # Allowed words as whole words ("on" of a note is no licence for "contact").
        for word in sorted(allowed, key=len, reverse=True):
            line = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", line)
        shown.append(line)
    return pseudo.untranslated(shown)


def busy_case(demo: Seeded) -> uuid.UUID:
    """REF-1001 with a contact on each of its two numbers, a promise, a payment plan, a
    follow-up, a dispute hold and a hardship hold: every kind of line the case screen draws."""
    from datetime import timedelta

    from collector_tui.services.casework import activities, holds
    from collector_tui.services.casework.activities import ContactInput
    from collector_tui.services.casework.casefile import load_case_file
    from collector_tui.services.casework.followups import FollowUpInput
    from collector_tui.services.casework.promises import PlanInput, PromiseInput

    case_id = demo.cases["REF-1001"]
    alice = demo.users["alice"]
    with demo.store.read() as session:
        phones = load_case_file(session=session, now=NOW, actor=alice, case_id=case_id).phones
    day = NOW.date()

    def log(at: timedelta, contact: ContactInput) -> None:
        with demo.store.write() as session:
            activities.log_contact(
                session=session,
                now=NOW - at,
                actor=alice,
                case_id=case_id,
                contact=contact,
                settings=demo.settings,
            )

    log(
        timedelta(days=9),
        ContactInput(
            disposition="promise",
            phone_id=phones[0].id,
            note="agreed on the phone",
            promise=PromiseInput(amount=100_000, due_date=day + timedelta(days=5)),
        ),
    )
    log(
        timedelta(days=8),
        ContactInput(
            disposition="plan",
            phone_id=phones[1].id,
            note="second number works",
            plan=PlanInput(
                installments=tuple(
                    PromiseInput(amount=50_000, due_date=day + timedelta(days=30 * n))
                    for n in (1, 2, 3)
                )
            ),
        ),
    )
    log(
        timedelta(hours=5),
        ContactInput(
            disposition="callback",
            phone_id=phones[1].id,
            follow_up=FollowUpInput(
                due_at=NOW + timedelta(days=2), reason="Asked to call back Friday afternoon"
            ),
        ),
    )
    for kind, reason in (
        ("dispute", "disputes the late fees"),
        ("hardship", "lost his job in October"),
    ):
        with demo.store.write() as session:
            holds.place_hold(
                session=session,
                now=NOW - timedelta(hours=1),
                actor=alice,
                case_id=case_id,
                kind=kind,
                settings=demo.settings,
                reason=reason,
            )
    return case_id


def stored_factor_details(demo: Seeded, case_id: uuid.UUID) -> tuple[str, ...]:
    """The details of the case's score factors: stored with the case, in English."""
    from collector_tui.services.casework.casefile import load_case_file

    with demo.store.read() as session:
        case = load_case_file(session=session, now=NOW, actor=demo.users["alice"], case_id=case_id)
    return tuple(word for factor in case.factors for word in (factor.detail or "").split())


async def open_case(pilot: Pilot[None], case_id: uuid.UUID) -> None:
    pilot.app.screen.open_case(case_id)  # type: ignore[attr-defined]
    await settle(pilot)


@pytest.mark.usefixtures("pseudo_locale")
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_screen_shows_only_catalog_text(demo: Seeded, size: tuple[int, int]) -> None:
    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦Call queue" in line for line in lines), "\n".join(lines)
        assert (
            agent_untranslated(lines, AGENT_ALLOWED + BUSY_NOTES + STORED_WORDS + FACTOR_WORDS)
            == []
        )
        await pilot.press("h")  # the held cases and why
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦dispute hold⟧" in line for line in lines)  # why REF-1005 is held
        assert (
            agent_untranslated(lines, AGENT_ALLOWED + BUSY_NOTES + STORED_WORDS + FACTOR_WORDS)
            == []
        )

    drive(app, scenario, size=size)


@pytest.mark.usefixtures("pseudo_locale")
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_busy_case_screen_shows_only_catalog_text(demo: Seeded, size: tuple[int, int]) -> None:
    case_id = busy_case(demo)
    allowed = (
        AGENT_ALLOWED
        + BUSY_NOTES
        + STORED_WORDS
        + FACTOR_WORDS
        + stored_factor_details(demo, case_id)
    )
    app = build_app(demo, language=pseudo.PSEUDO)

    async def scenario(pilot: Pilot[None]) -> None:
        from collector_tui.tui.widgets.timeline import Timeline

        await login(pilot)
        await open_case(pilot, case_id)
        text = "\n".join(pseudo.screen_text(app))
        assert "⟦Why this case is here⟧" in text or "⟦Contacts" in text
        assert agent_untranslated(pseudo.screen_text(app), allowed) == []
        # Every line of the timeline (its installments opened), scrolled through.
        timeline = app.screen.query_one("#timeline", Timeline)
        kinds = {entry.kind for entry in timeline.all_entries}
        assert {"promise", "plan", "contact", "hold", "follow_up"} <= kinds
        plan = next(e for e in timeline.all_entries if e.kind == "plan")
        timeline.reveal(next(e for e in timeline.all_entries if e.plan_id == plan.plan_id))
        for row in range(len(timeline.entries)):
            timeline.move_cursor(row=row, animate=False)
            await settle(pilot, 2)
            assert agent_untranslated(pseudo.screen_text(app), allowed) == [], row
        # The full entry of the newest one.
        timeline.move_cursor(row=0, animate=False)
        await pilot.press("enter")
        await settle(pilot)
        assert agent_untranslated(pseudo.screen_text(app), allowed) == []

    drive(app, scenario, size=size)


# The forms of the case wrapped so far (tui/screens/contacts.py, corrections.py, assessment.py
# and disputes.py are the next round's): each opened on the busy case, then saved empty, so the
# refusals under the fields are checked too.
# The outbox's templates, named in the team's configuration.
REMINDER_TEMPLATES = ("broken_promise", "first_notice", "validation_notice", "reminder")
CASE_FORMS = ("c", "p", "l", "f", "t", "d", "s", "e", "o", "M")


@pytest.mark.usefixtures("pseudo_locale")
@pytest.mark.parametrize("key", CASE_FORMS)
def test_case_forms_show_only_catalog_text(demo: Seeded, key: str) -> None:
    case_id = demo.cases["REF-1001"]
    app = build_app(demo, language=pseudo.PSEUDO)
    allowed = (
        AGENT_ALLOWED
        + BUSY_NOTES
        + STORED_WORDS
        + FACTOR_WORDS
        + stored_factor_details(demo, case_id)
    )
    allowed += REMINDER_TEMPLATES

    async def scenario(pilot: Pilot[None]) -> None:
        from collector_tui.tui.screens.case import CaseScreen

        await login(pilot)
        await open_case(pilot, case_id)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press(key)
        await settle(pilot)
        assert not isinstance(app.screen, CaseScreen), key
        if key == "M":
            # The reminder's preview is the template's own text (reminder_templates/): blanked.
            app.screen.query_one("#reminder-preview", Static).update("")
            await settle(pilot)
        lines = pseudo.screen_text(app)
        assert agent_untranslated(lines, allowed) == [], key
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert agent_untranslated(pseudo.screen_text(app), allowed) == [], key

    drive(app, scenario, size=(120, 40))


@pytest.mark.usefixtures("pseudo_locale")
def test_contact_form_list_and_confirmation_show_only_catalog_text(demo: Seeded) -> None:
    """The open list of dispositions, a hot key's note, and the question before a hold."""
    case_id = demo.cases["REF-1001"]
    app = build_app(demo, language=pseudo.PSEUDO)
    allowed = AGENT_ALLOWED + FACTOR_WORDS

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        await open_case(pilot, case_id)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # the list, grouped
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦Spoke with the debtor⟧" in line for line in lines), "\n".join(lines)
        assert agent_untranslated(lines, allowed) == []
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("h")  # hardship: places a hold, so it asks first
        await settle(pilot)
        await type_text(pilot, "lost his job")
        await pilot.press("ctrl+s")
        await settle(pilot)
        lines = pseudo.screen_text(app)
        assert any("⟦Log “⟦" in line for line in lines), "\n".join(lines)
        assert agent_untranslated(lines, allowed + ("lost his job",)) == []

    drive(app, scenario, size=(120, 40))


def test_the_case_screen_follows_a_switch_of_language(demo: Seeded) -> None:
    """On the case screen, the palette's Chinese turns its panels, its timeline and its footer
    Chinese at once, and English back; the case stays open, nothing is restarted."""
    case_id = busy_case(demo)
    app = build_app(demo)

    async def scenario(pilot: Pilot[None]) -> None:
        from collector_tui.tui.screens.case import CaseScreen

        await login(pilot)
        await open_case(pilot, case_id)
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        text = "\n".join(pseudo.screen_text(app))
        assert "Promise" in _footer(pilot) and "Timeline" in text
        await pilot.press("ctrl+p")
        await type_text(pilot, "language: 中")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen  # the same case screen, not a new one
        text = "\n".join(pseudo.screen_text(app))
        footer = _footer(pilot)
        assert "承诺" in footer and "Promise" not in footer
        assert "时间线" in text and "Timeline" not in text
        assert "联系方式" in text  # the contacts panel's title
        assert "暂停" in text  # the holds, in the header and the timeline
        assert "分 3 期" in text  # the plan's row, worded again by the service
        assert "Spoke with" not in text
        await pilot.press("ctrl+p")
        await type_text(pilot, "english")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = "\n".join(pseudo.screen_text(app))
        assert "Timeline" in text and "时间线" not in text and "Promise" in _footer(pilot)
        assert "plan of 3" in text

    drive(app, scenario, size=(120, 40))
