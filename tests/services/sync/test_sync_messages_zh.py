"""Sync's refusals in the user's language (issue 20). A refused operation's reason is stored
(`SyncAppliedOp.message`) in the language of the process that judged it, as docs/decisions.md
says; its outcome code stays English."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from collector_tui import bootstrap, db, i18n
from collector_tui.config import Settings
from collector_tui.models import Activity, SyncAppliedOp
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.sync import devices, engine, packet

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # as tests/conftest.py
LATER = NOW + timedelta(hours=1)
MUCH_LATER = NOW + timedelta(hours=3)


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[db.Store]:
    store = bootstrap.open_store(tmp_path / "laptop.db")
    yield store
    store.dispose()


def log_contact(store: db.Store, actor: Actor, case_id: uuid.UUID) -> uuid.UUID:
    with store.write() as session:
        return activities.log_contact(
            session=session,
            now=NOW + timedelta(minutes=30),
            actor=actor,
            case_id=case_id,
            contact=activities.ContactInput(disposition="right_party", note="first words"),
            settings=Settings(),
        ).activity_id


def test_a_refused_operation_is_stored_with_a_chinese_reason(
    store: db.Store, laptop: db.Store, users: dict[str, Actor], place
) -> None:  # noqa: ANN001
    case = place("A-1")
    alice = users["alice"]
    engine.pull(master=store, laptop=laptop, actor=alice, now=NOW, settings=Settings())
    logged = log_contact(laptop, alice, case.id)
    engine.push(laptop=laptop, master=store, actor=alice, now=LATER, settings=Settings())
    with laptop.write() as session:  # no service does this; a tampered laptop might
        row = session.get(Activity, logged)
        assert row is not None
        row.note = "other words"
        session.add(row)
    with i18n.language("zh_CN"):
        result = engine.push(
            laptop=laptop, master=store, actor=alice, now=MUCH_LATER, settings=Settings()
        )
    assert result.rejected == 1
    with store.read() as session:
        refused = session.exec(
            select(SyncAppliedOp).where(SyncAppliedOp.outcome == "rejected")
        ).one()
    assert refused.message == "事实记录从不修改：更正是一条新记录"


def test_packet_refusals_in_chinese_and_english(tmp_path: Path) -> None:
    missing = tmp_path / "nothere.packet"
    with i18n.language("zh_CN"), pytest.raises(InvalidInput) as caught:
        packet.read_outbox(missing)
    assert str(caught.value) == "没有数据包文件 nothere.packet"
    with pytest.raises(InvalidInput, match="^no packet file nothere.packet$"):
        packet.read_outbox(missing)
    empty = tmp_path / "empty.packet"
    empty.write_bytes(b"")
    with i18n.language("zh_CN"), pytest.raises(InvalidInput) as caught:
        packet.read_briefcase(empty)
    assert str(caught.value) == "empty.packet 为空：不是数据包"


def test_managing_devices_is_refused_to_an_agent_in_chinese(
    store: db.Store, users: dict[str, Actor]
) -> None:
    with store.write() as session, i18n.language("zh_CN"), pytest.raises(Forbidden) as caught:
        devices.revoke(session=session, now=NOW, actor=users["alice"], device="abc")
    assert str(caught.value) == "只有主管或管理员可以管理本机设备"
