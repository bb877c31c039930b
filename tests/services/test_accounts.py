from __future__ import annotations

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.models import User
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import Forbidden, InvalidInput


def test_password_is_hashed_and_verifies(store: db.Store, users: dict[str, Actor]) -> None:
    with store.read() as session:
        stored = session.exec(select(User).where(User.username == "alice")).one().password_hash
    assert "demo" not in stored and stored.startswith("scrypt$")
    assert accounts.verify_password("demo", stored)
    assert not accounts.verify_password("Demo", stored)


def test_wrong_password_and_unknown_user_get_the_same_refusal(
    store: db.Store, users: dict[str, Actor]
) -> None:
    with store.read() as session:
        assert accounts.authenticate(session=session, username="alice", password="demo").role == (
            "agent"
        )
        with pytest.raises(Forbidden, match="wrong user name or password"):
            accounts.authenticate(session=session, username="alice", password="nope")
        with pytest.raises(Forbidden, match="wrong user name or password"):
            accounts.authenticate(session=session, username="mallory", password="demo")


def test_duplicate_and_bad_users_are_refused(store: db.Store, users: dict[str, Actor], now) -> None:  # noqa: ANN001
    with store.write() as session:
        with pytest.raises(InvalidInput, match="already exists"):
            accounts.create_user(
                session=session, now=now, username="alice", password="xxxx", role="agent"
            )
        with pytest.raises(InvalidInput, match="unknown role"):
            accounts.create_user(
                session=session, now=now, username="zed", password="xxxx", role="boss"
            )
        with pytest.raises(Forbidden):
            accounts.create_user(
                session=session,
                now=now,
                username="zed",
                password="xxxx",
                role="agent",
                by=users["alice"],
            )


def test_agents_reach_only_their_own_cases(place, users: dict[str, Actor]) -> None:  # noqa: ANN001
    case = place("R-1")
    accounts.ensure_case_access(users["alice"], case)
    accounts.ensure_case_access(users["sam"], case)
    with pytest.raises(Forbidden):
        accounts.ensure_case_access(users["bob"], case)
