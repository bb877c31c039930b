"""The reminder outbox: plan, queue and the send run against the compliance rules, idempotency,
retries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from collector_tui.config import Settings
from collector_tui.db import Store
from collector_tui.delivery.errors import DeliveryFailed
from collector_tui.models import (
    Activity,
    Case,
    EmailAddress,
    Phone,
    Reminder,
    SyncState,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import holds
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.reminders import outbox
from collector_tui.services.reminders.outbox import Outgoing, Receipt, Rendered
from collector_tui.services.reminders.sequences import clear_rules_cache

# 11:00 in Shanghai on Friday 20 November 2026: inside the cn pack's hours.
MORNING = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
RULES = """
[sequences.test]
steps = [
  { day = 0, channel = "letter", template = "first_notice", priority = 10 },
  { day = 7, channel = "sms", template = "reminder" },
  { day = 14, channel = "email", template = "reminder" },
]

[[rules]]
sequence = "test"
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "sequences.toml"
    path.write_text(RULES, encoding="utf-8")
    clear_rules_cache()
    return Settings(reminder_rules=str(path), reminder_max_tries=3, reminder_retry_min=10)


def fake_render(
    session: Session, case: Case, row: Reminder, now: datetime, settings: Settings
) -> Rendered:
    return Rendered(
        subject=f"{row.template} {case.client_ref}", text=f"Pay {case.client_ref}", html=None
    )


class FileCourier:
    """Writes each message to a file named by its key (overwrites: idempotent), counts calls."""

    idempotent = True

    def __init__(self, folder: Path, crash_after: int | None = None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.calls = 0
        self.crash_after = crash_after

    def send(self, message: Outgoing) -> Receipt:
        name = message.idempotency_key.replace(":", "_")
        (self.folder / name).write_text(message.text, encoding="utf-8")
        self.calls += 1
        if self.crash_after is not None and self.calls >= self.crash_after:
            raise RuntimeError("the run was killed")
        return Receipt(reference=name)


class CountingMailer:
    """Not idempotent (like SMTP): every call is a delivery."""

    idempotent = False

    def __init__(self, crash_after: int | None = None) -> None:
        self.delivered: list[str] = []
        self.crash_after = crash_after

    def send(self, message: Outgoing) -> Receipt:
        self.delivered.append(message.idempotency_key)
        if self.crash_after is not None and len(self.delivered) >= self.crash_after:
            raise RuntimeError("the run was killed")
        return Receipt(reference=f"m{len(self.delivered)}")


class Refusing:
    idempotent = True

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: Outgoing) -> Receipt:
        self.calls += 1
        raise DeliveryFailed("gateway answered 500")


def reachable(store: Store, case: Case, *, sms: bool = True, email: bool = True) -> None:
    """The debtor's number with SMS consent, an opted-in e-mail address."""
    with store.write() as session:
        for phone in session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)):
            phone.sms_consent = sms
            session.add(phone)
        if email:
            session.add(
                EmailAddress(
                    debtor_id=case.debtor_id,
                    address=f"{case.client_ref.lower()}@example.com",
                    opt_in=True,
                    created_at=MORNING,
                    updated_at=MORNING,
                )
            )


def new_case(place: Any, store: Store, ref: str, **options: Any) -> Case:
    sms = options.pop("sms", True)
    email = options.pop("email", True)
    case = place(ref, address=f"{ref} Nanjing Road, Shanghai", **options)
    reachable(store, case, sms=sms, email=email)
    return case


def run(
    store: Store, settings: Settings, actor: Actor, couriers: dict[str, Any], now=MORNING, **kw: Any
) -> outbox.RunReport:  # noqa: ANN001
    return outbox.send_due(
        store=store,
        now=now,
        settings=settings,
        actor=actor,
        couriers=couriers,
        render=fake_render,
        **kw,
    )


def plan(
    store: Store, settings: Settings, actor: Actor, now: datetime = MORNING
) -> list[outbox.PlannedReminder]:
    with store.read() as session:
        return list(outbox.plan_reminders(session=session, now=now, settings=settings, actor=actor))


def rows(store: Store) -> list[Reminder]:
    with store.read() as session:
        return list(session.exec(select(Reminder).order_by(Reminder.created_at)).all())


def test_one_reminder_per_debtor_per_day_across_three_due_steps(
    store, place, settings, users
) -> None:  # noqa: ANN001
    case = new_case(place, store, "R-1")
    planned = plan(store, settings, users["sam"])
    assert [(p.channel, p.action) for p in planned] == [
        ("letter", "send"),
        ("sms", "skip"),
        ("email", "skip"),
    ]
    assert all("one reminder a day" in (p.reason or "") for p in planned[1:])
    assert planned[0].destination == "R-1 Nanjing Road, Shanghai"
    assert planned[0].as_json() == {
        "case_id": str(case.id),
        "client_ref": "R-1",
        "channel": "letter",
        "template": "first_notice",
        "due": "2026-10-01",
        "action": "send",
        "reason": None,
    }


def test_dispute_hold_gets_nothing(store, place, settings, users, tmp_path) -> None:  # noqa: ANN001
    case = new_case(place, store, "R-2")
    with store.write() as session:
        holds.place_hold(
            session=session,
            now=MORNING,
            actor=users["alice"],
            case_id=case.id,
            kind="dispute",
            settings=settings,
            reason="debtor disputes the amount owed",
        )
    planned = plan(store, settings, users["sam"])
    assert planned and all(p.action == "skip" for p in planned)
    assert all("dispute" in (p.reason or "") for p in planned)
    courier = FileCourier(tmp_path / "out")
    report = run(
        store, settings, users["sam"], {"sms": courier, "email": courier, "letter": courier}
    )
    assert report.sent == 0 and courier.calls == 0
    assert rows(store) == []


def test_a_hold_placed_after_queueing_wins_at_send_time(
    store, place, settings, users, tmp_path
) -> None:  # noqa: ANN001
    case = new_case(place, store, "R-3")
    with store.write() as session:
        result = outbox.queue_due(
            session=session, now=MORNING, settings=settings, actor=users["sam"]
        )
    assert result.queued == 1
    with store.write() as session:
        holds.place_hold(
            session=session,
            now=MORNING,
            actor=users["alice"],
            case_id=case.id,
            kind="cease",
            settings=settings,
            reason="debtor asked in writing to stop",
        )
    courier = FileCourier(tmp_path / "out")
    report = run(
        store, settings, users["sam"], {"sms": courier, "email": courier, "letter": courier}
    )
    assert (report.sent, report.skipped, courier.calls) == (0, 1, 0)
    [row] = rows(store)
    assert row.status == "skipped" and "cease" in (row.reason or "")


def test_late_evening_in_shanghai_gets_nothing_until_eight(
    store, place, settings, users, tmp_path
) -> None:  # noqa: ANN001
    case = new_case(place, store, "R-4")
    with store.write() as session:
        session.add(
            Reminder(  # the letter went yesterday: today's candidate is the SMS
                case_id=case.id,
                debtor_id=case.debtor_id,
                channel="letter",
                template="first_notice",
                due_date=case.placed_date,
                status="sent",
                idempotency_key=f"{case.id}:test:1",
                created_at=MORNING - timedelta(days=1),
                updated_at=MORNING - timedelta(days=1),
                sent_at=MORNING - timedelta(days=1),
            )
        )
    late = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    planned = plan(store, settings, users["sam"], late)
    sms = [p for p in planned if p.channel == "sms"]
    assert sms[0].action == "skip" and "23:00" in (sms[0].reason or "")
    courier = FileCourier(tmp_path / "out")
    couriers = {"sms": courier, "email": courier, "letter": courier}
    # Queued by a run at 23:00 that sends nothing: it waits for 08:00.
    with store.write() as session:
        session.add(
            Reminder(
                case_id=case.id,
                debtor_id=case.debtor_id,
                channel="sms",
                template="reminder",
                due_date=case.placed_date,
                status="queued",
                idempotency_key="manual-sms",
                created_at=late,
                updated_at=late,
            )
        )
    report = run(store, settings, users["sam"], couriers, now=late)
    assert report.sent == 0 and courier.calls == 0
    waiting = [r for r in rows(store) if r.idempotency_key == "manual-sms"][0]
    assert waiting.status == "queued"
    assert waiting.next_try_at == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert run(store, settings, users["sam"], couriers, now=late + timedelta(minutes=59)).sent == 0
    report = run(
        store, settings, users["sam"], couriers, now=datetime(2026, 11, 21, 0, 1, tzinfo=UTC)
    )
    assert report.sent == 1 and courier.calls == 1


def test_no_sms_without_consent(store, place, settings, users) -> None:  # noqa: ANN001
    case = new_case(place, store, "R-5", sms=False, email=False)
    with store.write() as session:
        session.add(
            Reminder(
                case_id=case.id,
                debtor_id=case.debtor_id,
                channel="letter",
                template="first_notice",
                due_date=case.placed_date,
                status="sent",
                idempotency_key=f"{case.id}:test:1",
                created_at=MORNING - timedelta(days=1),
                updated_at=MORNING - timedelta(days=1),
                sent_at=MORNING - timedelta(days=1),
            )
        )
    planned = {p.channel: p for p in plan(store, settings, users["sam"])}
    assert (
        planned["sms"].action == "skip" and planned["sms"].reason == "no SMS consent on any number"
    )
    assert planned["email"].reason == "no e-mail address"
    with store.read() as session, pytest.raises(InvalidInput, match="no SMS consent"):
        outbox.queue_reminder(
            session=session,
            now=MORNING,
            settings=settings,
            actor=users["alice"],
            case_id=case.id,
            channel="sms",
            template="reminder",
        )


def test_dnc_number_and_opted_out_email(store, place, settings, users) -> None:  # noqa: ANN001
    case = new_case(place, store, "R-6")
    with store.write() as session:
        for phone in session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)):
            phone.do_not_call = True
            phone.status = "dnc"
            session.add(phone)
        for email in session.exec(
            select(EmailAddress).where(EmailAddress.debtor_id == case.debtor_id)
        ):
            email.status = "dnc"
            session.add(email)
    with store.read() as session:
        for channel, reason in (("sms", "do-not-call"), ("email", "opted out")):
            check = outbox.check_reminder(
                session=session,
                now=MORNING,
                settings=settings,
                actor=users["alice"],
                case_id=case.id,
                channel=channel,
                template="reminder",
            )
            assert reason in (check.refusal or "")


def test_send_run_sends_one_a_day_and_records_activities(
    store, place, settings, users, tmp_path
) -> None:  # noqa: ANN001
    cases = [new_case(place, store, f"D-{n}") for n in range(3)]
    courier = FileCourier(tmp_path / "out")
    couriers = {"sms": courier, "email": courier, "letter": courier}
    first = run(store, settings, users["sam"], couriers)
    assert (first.queued, first.sent) == (3, 3)
    again = run(store, settings, users["sam"], couriers)
    assert (again.queued, again.sent) == (0, 0)
    next_day = run(store, settings, users["sam"], couriers, now=MORNING + timedelta(days=1))
    assert next_day.sent == 3
    with store.read() as session:
        activities = session.exec(select(Activity).where(Activity.case_id == cases[0].id)).all()
        assert sorted(a.channel for a in activities) == ["letter", "sms"]
        sent = session.exec(select(Reminder).where(Reminder.status == "sent")).all()
        assert all(r.activity_id is not None for r in sent)
    assert courier.calls == 6


@pytest.mark.parametrize("idempotent", [True, False])
def test_a_run_killed_half_way_then_rerun_delivers_each_message_once(
    store,
    place,
    settings,
    users,
    tmp_path,
    idempotent,  # noqa: ANN001
) -> None:
    for n in range(6):
        new_case(place, store, f"K-{n}")
    if idempotent:
        crashing: Any = FileCourier(tmp_path / "out", crash_after=3)
    else:
        crashing = CountingMailer(crash_after=3)
    with pytest.raises(RuntimeError):
        run(store, settings, users["sam"], {"sms": crashing, "email": crashing, "letter": crashing})
    statuses = sorted(r.status for r in rows(store))
    assert statuses.count("sent") == 2 and statuses.count("sending") == 1
    if idempotent:
        again: Any = FileCourier(tmp_path / "out")
    else:
        again = CountingMailer()
    report = run(store, settings, users["sam"], {"sms": again, "email": again, "letter": again})
    final = rows(store)
    if idempotent:
        # Resent by key: the gateway keeps one message per key.
        assert report.sent == 4 and len(list((tmp_path / "out").iterdir())) == 6
        assert all(r.status == "sent" for r in final)
    else:
        # Never handed to SMTP twice: the one left sending is for a supervisor to judge.
        delivered = crashing.delivered + again.delivered
        assert len(delivered) == len(set(delivered)) == 6
        assert report.uncertain == 1 and report.sent == 3
        assert sorted(r.status for r in final).count("uncertain") == 1
    assert (
        run(store, settings, users["sam"], {"sms": again, "email": again, "letter": again}).sent
        == 0
    )


def test_failing_courier_retries_with_backoff_then_fails(store, place, settings, users) -> None:  # noqa: ANN001
    new_case(place, store, "F-1")
    refusing = Refusing()
    couriers = {"sms": refusing, "email": refusing, "letter": refusing}
    report = run(store, settings, users["sam"], couriers)
    assert report.retrying == 1
    [row] = rows(store)
    assert row.status == "queued" and row.tries == 1
    assert row.next_try_at == MORNING + timedelta(minutes=10)
    assert (row.reason or "").startswith("try 1 failed: ")
    assert (
        run(store, settings, users["sam"], couriers, now=MORNING + timedelta(minutes=5)).retrying
        == 0
    )
    # A send run in Chinese writes its reason in Chinese (the reason is stored as judged).
    from collector_tui.i18n import language

    with language("zh_CN"):
        run(store, settings, users["sam"], couriers, now=MORNING + timedelta(minutes=10))
    [row] = rows(store)
    assert row.tries == 2 and row.next_try_at == MORNING + timedelta(minutes=30)
    assert (row.reason or "").startswith("第 2 次尝试失败："), row.reason
    report = run(store, settings, users["sam"], couriers, now=MORNING + timedelta(minutes=30))
    assert report.failed == 1
    [row] = rows(store)
    assert row.status == "failed" and row.tries == 3 and "500" in (row.reason or "")
    assert refusing.calls == 3
    with store.read() as session:
        failed = outbox.list_outbox(session=session, actor=users["sam"], statuses=["failed"])
    assert [f.client_ref for f in failed] == ["F-1"]


def test_manual_reminder_queued_once_a_day_by_the_cases_agent(
    store, place, settings, users
) -> None:  # noqa: ANN001
    case = new_case(place, store, "M-1")
    with store.write() as session:
        entry = outbox.queue_reminder(
            session=session,
            now=MORNING,
            settings=settings,
            actor=users["alice"],
            case_id=case.id,
            channel="email",
            template="reminder",
        )
    assert entry.status == "queued" and entry.destination == "m-1@example.com"
    with store.write() as session, pytest.raises(InvalidInput, match="already queued"):
        outbox.queue_reminder(
            session=session,
            now=MORNING,
            settings=settings,
            actor=users["alice"],
            case_id=case.id,
            channel="email",
            template="reminder",
        )
    with store.write() as session, pytest.raises(Forbidden):
        outbox.queue_reminder(
            session=session,
            now=MORNING,
            settings=settings,
            actor=users["bob"],
            case_id=case.id,
            channel="sms",
            template="reminder",
        )


def test_send_run_refused_on_a_laptop(store, place, settings, users) -> None:  # noqa: ANN001
    with store.write() as session:
        session.add(SyncState(id=1, role="laptop", device_id=uuid.uuid4(), created_at=MORNING))
    with pytest.raises(Forbidden, match="master"):
        run(store, settings, users["sam"], {})


def test_bad_channel_refused(store, settings, users) -> None:  # noqa: ANN001
    with store.read() as session, pytest.raises(InvalidInput, match="unknown channel"):
        outbox.plan_reminders(
            session=session, now=MORNING, settings=settings, actor=users["sam"], channels=["fax"]
        )


@pytest.mark.parametrize("delivered", [True, False])
def test_a_supervisor_settles_an_uncertain_reminder(
    store,
    place,
    settings,
    users,
    delivered,  # noqa: ANN001
) -> None:
    new_case(place, store, "U-1")
    crashing = CountingMailer(crash_after=1)
    with pytest.raises(RuntimeError):
        run(store, settings, users["sam"], {"sms": crashing, "email": crashing, "letter": crashing})
    again = CountingMailer()
    couriers = {"sms": again, "email": again, "letter": again}
    assert run(store, settings, users["sam"], couriers).uncertain == 1
    [row] = rows(store)
    with store.write() as session, pytest.raises(Forbidden):
        outbox.settle_uncertain(
            session=session,
            now=MORNING,
            actor=users["alice"],
            settings=settings,
            reminder_id=row.id,
            delivered=delivered,
            reason="checked the mail server log",
        )
    with store.write() as session, pytest.raises(InvalidInput, match="at least 10 characters"):
        outbox.settle_uncertain(
            session=session,
            now=MORNING,
            actor=users["sam"],
            settings=settings,
            reminder_id=row.id,
            delivered=delivered,
            reason="checked",
        )
    with store.write() as session:
        entry = outbox.settle_uncertain(
            session=session,
            now=MORNING,
            actor=users["sam"],
            settings=settings,
            reminder_id=row.id,
            delivered=delivered,
            reason="checked the mail server log",
        )
    assert entry.status == ("sent" if delivered else "queued")
    report = run(store, settings, users["sam"], couriers)
    with store.read() as session:
        activities = session.exec(select(Activity).where(Activity.channel == "letter")).all()
    if delivered:
        assert report.sent == 0 and len(activities) == 1 and again.delivered == []
    else:
        assert report.sent == 1 and len(activities) == 1 and len(again.delivered) == 1


def test_the_plan_read_in_chunks_equals_the_plan_read_at_once(
    store, place, settings, users, monkeypatch
) -> None:  # noqa: ANN001
    # Five cases placed on different days, one placed on the debtor's today that is still
    # tomorrow in UTC (20:00 UTC is 04:00 the next day in Shanghai).
    evening = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    for n, placed in enumerate((date(2026, 10, 1), date(2026, 11, 6), date(2026, 11, 13))):
        new_case(place, store, f"C-{n}", placed_date=placed)
    new_case(place, store, "C-3", placed_date=date(2026, 11, 21))
    new_case(place, store, "C-4", placed_date=date(2026, 11, 22))  # not due anywhere yet
    with store.write() as session:  # some steps already in the outbox
        outbox.queue_due(session=session, now=MORNING, settings=settings, actor=users["sam"])

    def planned(chunk: int) -> tuple[list[tuple[str, str, str, str | None]], int]:
        monkeypatch.setattr(outbox, "PLAN_CHUNK", chunk)
        with store.read() as session:
            result = outbox.queue_due(
                session=session, now=evening, settings=settings, actor=users["sam"]
            )
            session.rollback()
        items = [(i.client_ref, i.key, i.action, i.reason) for i in result.plan]
        return items, result.already

    at_once, already = planned(1000)
    assert planned(2) == (at_once, already) and already > 0
    refs = {ref for ref, _key, _action, _reason in at_once}
    assert "C-3" in refs and "C-4" not in refs


def test_the_cases_strategy_chooses_its_sequence(store, place, settings, users, tmp_path) -> None:  # noqa: ANN001
    # A second sequence the attach rules never give; a strategy names it for its cases.
    path = Path(settings.reminder_rules or "")
    path.write_text(
        RULES
        + '\n[sequences.gentle]\nsteps = [{ day = 0, channel = "email", template = "reminder" }]\n',
        encoding="utf-8",
    )
    clear_rules_cache()
    new_case(place, store, "R-9")
    assert [p.channel for p in plan(store, settings, users["sam"])][0] == "letter"
    strategies = tmp_path / "strategies.toml"
    strategies.write_text(
        '[strategies.soft]\nsequence = "gentle"\n[[rules]]\nname = "all"\nstrategy = "soft"\n',
        encoding="utf-8",
    )
    from collector_tui.services.strategies import assign

    with store.write() as session:
        assign.apply_strategy_file(
            session=session, now=MORNING, actor=users["sam"], settings=settings, path=strategies
        )
    assert [(p.channel, p.template) for p in plan(store, settings, users["sam"])] == [
        ("email", "reminder")
    ]
