"""Supervision's refusals in the user's language (issue 20): Chinese when the interface is,
English otherwise; the refusal's field stays the code's."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from collector_tui import db, i18n
from collector_tui.config import Settings
from collector_tui.services.accounts import Actor
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.supervision import decisions, workload
from collector_tui.services.supervision.assignment import assign_cases
from collector_tui.services.supervision.workload import BrowserFilter


def test_an_agent_assigning_cases_is_refused_in_chinese_and_english(
    store: db.Store, now: datetime, settings: Settings, users: dict[str, Actor], place
) -> None:  # noqa: ANN001
    case = place("Z-1")
    arguments = {
        "now": now,
        "actor": users["alice"],
        "case_ids": [case.id],
        "to_user_id": users["bob"].user_id,
        "settings": settings,
    }
    with store.write() as session, i18n.language("zh_CN"), pytest.raises(Forbidden) as caught:
        assign_cases(session=session, **arguments)
    assert str(caught.value) == "只有主管可以分配案件"
    with store.write() as session, pytest.raises(Forbidden, match="^only a supervisor can assign"):
        assign_cases(session=session, **arguments)


def test_assigning_unknown_cases_names_them_in_chinese(
    store: db.Store, now: datetime, settings: Settings, users: dict[str, Actor]
) -> None:
    missing = [uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)]
    with store.write() as session, i18n.language("zh_CN"), pytest.raises(NotFound) as caught:
        assign_cases(
            session=session,
            now=now,
            actor=users["sam"],
            case_ids=missing,
            to_user_id=users["bob"].user_id,
            settings=settings,
        )
    assert str(caught.value) == f"没有 id 为 {missing[0]} 的案件，另有 2 个"


def test_browser_filter_refusals_in_chinese_keep_their_field(
    store: db.Store, now: datetime, users: dict[str, Actor]
) -> None:
    def browse(**filters: object) -> None:
        with store.read() as session:
            workload.browse_cases(
                session=session, now=now, actor=users["sam"], filters=BrowserFilter(**filters)
            )

    with i18n.language("zh_CN"), pytest.raises(InvalidInput) as caught:
        browse(balance_min=100)
    assert (str(caught.value), caught.value.field) == ("余额范围需要指定币种", "currency")
    with i18n.language("zh_CN"), pytest.raises(InvalidInput) as caught:
        browse(status="nonsense")
    assert str(caught.value).startswith("未知状态 'nonsense'：请使用以下之一：")
    with pytest.raises(InvalidInput, match="^a balance range needs a currency$"):
        browse(balance_min=100)


def test_routing_a_routed_case_again_is_refused_in_chinese(
    store: db.Store, now: datetime, settings: Settings, users: dict[str, Actor], place
) -> None:  # noqa: ANN001
    case = place("Z-2")

    def route() -> None:
        with store.write() as session:
            decisions.route_case(
                session=session,
                now=now,
                actor=users["alice"],
                case_id=case.id,
                settings=settings,
                reason="the debtor asks for a manager",
            )

    route()
    with i18n.language("zh_CN"), pytest.raises(InvalidInput) as caught:
        route()
    assert str(caught.value).startswith("案件 Z-2 已转给主管：")
    with pytest.raises(InvalidInput, match="^case Z-2 is already with the supervisors: "):
        route()
