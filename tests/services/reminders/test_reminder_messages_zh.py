"""The reminders' refusals in the user's language (issue 20); the templates' own text is not
touched (each language has its own templates)."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from collector_tui import db, i18n
from collector_tui.config import Settings
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import Forbidden, NotFound
from collector_tui.services.reminders import outbox
from collector_tui.services.reminders.sequences import RulesError, parse_rules


def test_cancelling_a_reminder_is_refused_in_chinese_and_english(
    store: db.Store, now: datetime, settings: Settings, users: dict[str, Actor]
) -> None:
    def cancel(actor: Actor) -> None:
        with store.write() as session:
            outbox.cancel_reminder(
                session=session,
                now=now,
                actor=actor,
                settings=settings,
                reminder_id=uuid.UUID(int=7),
                reason="sent to the wrong address",
            )

    with i18n.language("zh_CN"), pytest.raises(NotFound) as caught:
        cancel(users["sam"])
    assert str(caught.value) == "没有该提醒"
    with i18n.language("zh_CN"), pytest.raises(Forbidden) as refused:
        cancel(users["alice"])
    assert "取消提醒" in str(refused.value)  # the action, named in the catalog's words
    with pytest.raises(NotFound, match="^no such reminder$"):
        cancel(users["sam"])


def test_a_bad_rules_file_is_refused_in_chinese() -> None:
    with i18n.language("zh_CN"), pytest.raises(RulesError) as caught:
        parse_rules("colour = 1\n", "team.toml")
    assert str(caught.value) == "team.toml：colour：未知键"
    with pytest.raises(RulesError, match="^team.toml: colour: unknown key$"):
        parse_rules("colour = 1\n", "team.toml")
