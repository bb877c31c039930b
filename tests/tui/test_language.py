"""The app in another language: switched at run time from the palette, at login by the user's
own language, and the pseudo-locale run that finds text bypassing the catalog (login and help so
far; tests/tui/pseudo.py says how to add a screen)."""

from __future__ import annotations

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
NOT_WRAPPED_YET = (
    "Queue",
    "Case",
    "Forms",
    "Follow-up",
    "Log contact: what happened",
    "Confirmation",
    "Search",
    "Full entry",
)


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
            key_names = ("esc", "enter", "ctrl", "space", "tab")
            assert pseudo.untranslated(lines, key_names) == [], title
        assert "Everywhere" in checked and "Supervisor" in checked and "Import" in checked
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
