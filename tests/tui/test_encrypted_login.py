"""An encrypted laptop file in the app: it opens at the login screen with the password of one of
its users, a wrong password says what a failed login says, and logging out locks it again."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from collector_tui import bootstrap, cipherfile, db, vault
from collector_tui.tui.screens.login import LoginScreen
from collector_tui.tui.screens.queue import QueueScreen
from collector_tui.tui.widgets.field import FormField

from .conftest import build_app, drive, settle, type_text
from .seed import PASSWORD, Seeded


@pytest.fixture
def encrypted(demo: Seeded) -> Seeded:
    path = demo.store.file
    assert path is not None
    demo.store.dispose()
    key = vault.new_database_key()
    # The file's key is wrapped for alice only: bob is a user of the data, not of this laptop.
    cipherfile.encrypt_file(path, key, vault.new_keys(key, {"alice": PASSWORD}, None))
    locked = bootstrap.open_store(path, key=db.DatabaseKey())
    assert locked.locked
    return Seeded(store=locked, settings=demo.settings, users=demo.users, cases=demo.cases)


def test_the_login_screen_opens_the_encrypted_file(encrypted: Seeded) -> None:
    app = build_app(encrypted, username=None)
    store = encrypted.store

    async def scenario(pilot: Pilot[None]) -> None:
        await settle(pilot, 1)
        for name, password in (("alice", "nope"), ("bob", PASSWORD)):
            await type_text(pilot, name)
            await pilot.press("enter")
            await type_text(pilot, password)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            field = app.screen.query_one("#field-password", FormField)
            assert field.error == "wrong user name or password"
            assert store.locked
            app.screen.query_one("#username", Input).value = ""
            app.screen.query_one("#username", Input).focus()
        await type_text(pilot, "alice")
        await pilot.press("enter")
        await type_text(pilot, PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert not store.locked
        await app.run_action("logout")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert store.locked  # the next user opens it with their own password

    drive(app, scenario)
    encrypted.store.dispose()
    assert Path(str(encrypted.store.file)).exists()
