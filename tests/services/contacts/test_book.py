"""Contact data: adding, marking, retiring phones, addresses, e-mails and third parties; refusals
that write nothing; the queue moving in the same transaction; access."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from collector_tui import db
from collector_tui.config import Settings
from collector_tui.models import (
    Activity,
    AuditEvent,
    Case,
    EmailAddress,
    Phone,
    PostalAddress,
    ThirdParty,
)
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import activities, casefile, corrections, queue
from collector_tui.services.contacts import book, skiptrace
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound, StaleEdit
from collector_tui.services.rules import compliance

NEW = "+86 139 0013 9000"
NEW_E164 = "+8613900139000"


def run(store: db.Store, service: Any, **arguments: Any) -> Any:
    with store.write() as session:
        return service(session=session, **arguments)


def counts(store: db.Store) -> dict[str, int]:
    with store.read() as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Phone, PostalAddress, EmailAddress, ThirdParty, AuditEvent)
        }


@pytest.fixture
def case_id(place: Any) -> uuid.UUID:
    return place("REF-1").id  # type: ignore[no-any-return]


def common(users: dict[str, Actor], now: datetime, settings: Settings, who: str = "alice") -> Any:
    return {"now": now, "actor": users[who], "settings": settings}


def test_add_phone_is_parsed_as_on_import_and_audited(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    saved = run(
        store,
        book.add_phone,
        **common(users, now, settings),
        case_id=case_id,
        number=NEW,
        phone_type="work",
        source="debtor",
    )
    assert saved.kind == "phone" and saved.value == NEW_E164 and saved.status == "valid"
    assert saved.queue.callable is not None
    with store.read() as session:
        phone = session.get(Phone, saved.contact_id)
        assert phone is not None
        assert phone.kind == "work" and phone.source == "debtor" and phone.valid
        assert "Asia/Shanghai" in phone.time_zones
        events = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "phone", AuditEvent.entity_id == str(phone.id)
            )
        ).all()
        assert [e.action for e in events] == ["create"]
        listed = book.list_contacts(
            session=session, actor=users["alice"], settings=Settings(), case_id=case_id, now=now
        )
    values = [(e.kind, e.value, e.status, e.source) for e in listed.entries]
    assert ("phone", NEW_E164, "valid", "debtor") in values
    assert ("phone", "+8613800138000", "valid", "placement") in values


@pytest.mark.parametrize(
    ("number", "field"),
    [("12345", "phone"), ("", "phone"), ("not a number", "phone"), ("+8613800138000", "phone")],
)
def test_bad_or_duplicate_number_is_refused_under_the_field(
    store: db.Store,
    users: dict[str, Actor],
    now: datetime,
    settings: Settings,
    case_id: uuid.UUID,
    number: str,
    field: str,
) -> None:
    before = counts(store)
    with pytest.raises(InvalidInput) as refused:
        run(store, book.add_phone, **common(users, now, settings), case_id=case_id, number=number)
    assert refused.value.field == field
    assert counts(store) == before


# --- the cases ----------------------------------------------------------------------------

NY = "America/New_York"
NYC_PHONE = "+1 212 736 5000"


def local(wall: str, zone: str) -> datetime:
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_a_number_added_during_a_call_is_dialled_and_logged_in_the_same_session(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    with store.write() as session:
        opened = casefile.load_case_file(
            session=session, actor=users["alice"], case_id=case_id, now=now
        )
        saved = book.add_phone(
            session=session,
            **common(users, now, settings),
            case_id=case_id,
            number=NEW,
            source="debtor",
            expected_version=opened.version,
        )
        again = casefile.load_case_file(
            session=session, actor=users["alice"], case_id=case_id, now=now
        )
        offered = [p.e164 for p in again.phones if p.dialable]
        assert NEW_E164 in offered
        logged = activities.log_contact(
            session=session,
            now=now,
            actor=users["alice"],
            settings=settings,
            case_id=case_id,
            contact=activities.ContactInput(disposition="no_answer", phone_id=saved.contact_id),
            expected_version=saved.case_version,
        )
    with store.read() as session:
        activity = session.get(Activity, logged.activity_id)
        assert activity is not None
        assert activity.phone_id == saved.contact_id and activity.phone_e164 == NEW_E164
        shown = casefile.load_case_file(
            session=session, actor=users["alice"], case_id=case_id, now=now
        )
    assert shown.timeline[0].phone_e164 == NEW_E164


def test_a_dnc_mark_takes_the_only_number_out_of_the_queue_at_once(
    store: db.Store, users: dict[str, Actor], settings: Settings, place: Any
) -> None:
    morning = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    case = place("Q-1")
    with store.write() as session:
        before = queue.build_queue(
            session=session, now=morning, agent_id=users["alice"].user_id, settings=settings
        )
        assert case.id in [entry.case_id for entry in before.entries]
        only = session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).one()
        saved = book.mark_contact(
            session=session,
            now=morning,
            actor=users["alice"],
            settings=settings,
            case_id=case.id,
            kind="phone",
            contact_id=only.id,
            status="dnc",
            how="asked on the call: stop contacting this number",
        )
        assert saved.queue == book.QueueEffect(
            callable=False,
            reason="all numbers do-not-call or invalid",
            callable_at=None,
            tier=saved.queue.tier,
            next_action_at=saved.queue.next_action_at,
        )
        after = queue.build_queue(
            session=session,
            now=morning,
            agent_id=users["alice"].user_id,
            settings=settings,
            include_held=True,
        )
    assert case.id not in [entry.case_id for entry in after.entries]
    held = next(entry for entry in after.held if entry.case_id == case.id)
    assert held.reason == "all numbers do-not-call or invalid" and held.callable_at is None
    with store.read() as session:
        phone = session.get(Phone, only.id)
        assert phone is not None and phone.do_not_call and phone.status == "dnc"
        assert phone.dnc_how == "asked on the call: stop contacting this number"


def _verdict(store: db.Store, settings: Settings, case_id: uuid.UUID, at: datetime) -> Any:
    with store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return compliance.check_case(session=session, case=case, now=at, settings=settings)


def test_a_third_party_who_objected_is_never_offered_again(
    store: db.Store, users: dict[str, Actor], settings: Settings, place: Any
) -> None:
    noon = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    case = place("T-1")
    with store.write() as session:
        own = session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).one()
        book.mark_contact(
            session=session, now=noon, actor=users["alice"], settings=settings,
            case_id=case.id, kind="phone", contact_id=own.id, status="wrong",
        )  # fmt: skip
        party = book.add_third_party(
            session=session, now=noon, actor=users["alice"], settings=settings,
            case_id=case.id, name="Zhang San", relation="employer", phone="+86 21 6321 0000",
        )  # fmt: skip
    offered = _verdict(store, settings, case.id, noon)
    assert offered.callable and "third-party number only" in (offered.reason or "")
    with store.read() as session:
        number = session.get(ThirdParty, party.contact_id).phone_id  # type: ignore[union-attr]
    assert offered.phone_ids == (number,)

    with store.write() as session:
        objected = book.record_objection(
            session=session, now=noon, actor=users["alice"], settings=settings,
            case_id=case.id, party_id=party.contact_id, how="said never to call again",
        )  # fmt: skip
    assert not objected.queue.callable and objected.queue.callable_at is None
    # A supervisor clearing the number's mark does not bring the third party back.
    with store.write() as session:
        book.mark_contact(
            session=session, now=noon, actor=users["sam"], settings=settings,
            case_id=case.id, kind="phone", contact_id=number, status="valid",
        )  # fmt: skip
    for at in (noon, noon + timedelta(days=3)):
        later = _verdict(store, settings, case.id, at)
        assert not later.callable and number not in later.phone_ids
    with store.write() as session, pytest.raises(InvalidInput) as refused:
        book.record_recontact_request(
            session=session, now=noon, actor=users["alice"], settings=settings,
            case_id=case.id, party_id=party.contact_id,
        )  # fmt: skip
    assert refused.value.field == "party"


def test_us_third_party_is_contacted_once_unless_they_ask(
    store: db.Store, users: dict[str, Actor], settings: Settings, place: Any
) -> None:
    at = local("2026-11-20 10:00", NY)
    case = place("T-2", country="US", currency="USD", phones=(NYC_PHONE,))
    with store.write() as session:
        own = session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).one()
        book.mark_contact(
            session=session, now=at, actor=users["alice"], settings=settings,
            case_id=case.id, kind="phone", contact_id=own.id, status="disconnected",
        )  # fmt: skip
        party = book.add_third_party(
            session=session, now=at, actor=users["alice"], settings=settings,
            case_id=case.id, name="Mary Roe", relation="relative", phone="+1 212 555 0123",
        )  # fmt: skip
    assert _verdict(store, settings, case.id, at).callable
    with store.write() as session:
        number = session.get(ThirdParty, party.contact_id).phone_id  # type: ignore[union-attr]
        activities.log_contact(
            session=session, now=at, actor=users["alice"], settings=settings, case_id=case.id,
            contact=activities.ContactInput(disposition="third_party", phone_id=number),
        )  # fmt: skip
    # Far past the frequency windows: the once-only rule has no window.
    much_later = local("2026-12-21 10:00", NY)
    held = _verdict(store, settings, case.id, much_later)
    assert not held.callable and "third party was contacted already" in (held.reason or "")
    with store.write() as session:
        book.record_recontact_request(
            session=session, now=much_later, actor=users["alice"], settings=settings,
            case_id=case.id, party_id=party.contact_id,
        )  # fmt: skip
    assert _verdict(store, settings, case.id, much_later + timedelta(minutes=1)).callable


def test_reg_f_consent_lets_a_call_through_inside_its_window_and_not_after(
    store: db.Store, users: dict[str, Actor], settings: Settings, place: Any
) -> None:
    evening = local("2026-11-20 17:00", NY)
    night = local("2026-11-20 22:30", NY)  # outside 08:00-21:00
    case = place("R-1", country="US", currency="USD", phones=(NYC_PHONE,))
    assert not _verdict(store, settings, case.id, night).callable
    with store.write() as session:
        phone = session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)).one()
        saved = book.set_phone_consent(
            session=session, now=evening, actor=users["alice"], settings=settings,
            case_id=case.id, phone_id=phone.id, channel="call",
            until=local("2026-11-21 00:00", NY), how="debtor asked to be called after 22:00",
        )  # fmt: skip
    assert saved.queue.callable
    inside = _verdict(store, settings, case.id, night)
    assert inside.callable and inside.phone_ids == (phone.id,)
    after = _verdict(store, settings, case.id, local("2026-11-21 00:30", NY))
    assert not after.callable and after.callable_at == local("2026-11-21 08:00", NY)


@pytest.mark.parametrize(
    "until",
    [datetime(2026, 11, 20, 14, 0, tzinfo=UTC), datetime(2026, 11, 20, 14, 30, tzinfo=UTC)],
)
def test_consent_ending_in_the_past_is_refused_and_nothing_saved(
    store: db.Store,
    users: dict[str, Actor],
    now: datetime,
    settings: Settings,
    case_id: uuid.UUID,
    until: datetime,
) -> None:
    before = counts(store)
    with pytest.raises(InvalidInput) as refused:
        run(
            store, book.add_phone, **common(users, now, settings), case_id=case_id, number=NEW,
            consent=("call",), consent_until=until,
        )  # fmt: skip
    assert refused.value.field == "consent_until"
    with store.read() as session:
        phone = session.exec(select(Phone).where(Phone.e164 == "+8613800138000")).one()
    with pytest.raises(InvalidInput) as refused:
        run(
            store, book.set_phone_consent, **common(users, now, settings), case_id=case_id,
            phone_id=phone.id, channel="call", until=until,
        )  # fmt: skip
    assert refused.value.field == "consent_until"
    assert counts(store) == before


@pytest.mark.parametrize(
    ("service", "arguments", "field"),
    [
        ("add_email", {"address": "no-at-sign"}, "email"),
        ("add_email", {"address": "a@b@c.com"}, "email"),
        ("add_email", {"address": ""}, "email"),
        ("add_address", {"text": "   "}, "address"),
        ("add_address", {"text": "x" * 501}, "address"),
        ("add_third_party", {"name": "", "relation": "employer"}, "name"),
        ("add_third_party", {"name": "Li", "relation": "neighbour"}, "relation"),
        ("add_third_party", {"name": "Li", "relation": "relative", "phone": "123"}, "phone"),
        ("add_phone", {"number": NEW, "phone_type": "fax"}, "type"),
        ("add_phone", {"number": NEW, "consent": ("email",)}, "consent"),
    ],
)
def test_bad_input_names_its_field_and_saves_nothing(
    store: db.Store,
    users: dict[str, Actor],
    now: datetime,
    settings: Settings,
    case_id: uuid.UUID,
    service: str,
    arguments: dict[str, Any],
    field: str,
) -> None:
    before = counts(store)
    with pytest.raises(InvalidInput) as refused:
        run(store, getattr(book, service), **common(users, now, settings), case_id=case_id,
            **arguments)  # fmt: skip
    assert refused.value.field == field
    assert counts(store) == before


def test_duplicates_are_refused_whatever_their_spelling(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    args = {**common(users, now, settings), "case_id": case_id}
    run(store, book.add_email, **args, address="li.lei@example.com")
    run(store, book.add_address, **args, text="1 Main  Street\nWuhan")
    before = counts(store)
    for service, value, field in (
        (book.add_email, {"address": "li.lei@EXAMPLE.com"}, "email"),
        (book.add_address, {"text": "1 main street wuhan"}, "address"),
        (book.add_phone, {"number": "138-0013-8000"}, "phone"),
    ):
        with pytest.raises(InvalidInput) as refused:
            run(store, service, **args, **value)
        assert refused.value.field == field
    assert counts(store) == before


def test_retired_and_wrong_contacts_stay_in_the_history(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    args = {**common(users, now, settings), "case_id": case_id}
    added = run(store, book.add_phone, **args, number=NEW)
    retired = run(store, book.retire_contact, **args, kind="phone", contact_id=added.contact_id,
                  reason="debtor changed operator")  # fmt: skip
    assert retired.status == "valid" and retired.changed
    again = run(store, book.retire_contact, **args, kind="phone", contact_id=added.contact_id)
    assert not again.changed
    with store.read() as session:
        phone = session.get(Phone, added.contact_id)
        assert phone is not None and phone.retired_at is not None and not phone.valid
        listed = book.list_contacts(
            session=session, actor=users["alice"], settings=Settings(), case_id=case_id, now=now
        )
        shown = casefile.load_case_file(session=session, actor=users["alice"], case_id=case_id,
                                        now=now)  # fmt: skip
    assert listed.entries[-1].value == NEW_E164 and listed.entries[-1].retired
    assert shown.phones[-1].retired and not shown.phones[-1].dialable
    with pytest.raises(InvalidInput):  # the number is on file, retired: not added twice
        run(store, book.add_phone, **args, number=NEW)
    with pytest.raises(InvalidInput) as refused:
        run(store, book.mark_contact, **args, kind="phone", contact_id=added.contact_id,
            status="valid")  # fmt: skip
    assert refused.value.field == "status"


def test_agents_change_only_their_own_cases_and_stale_forms_are_refused(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    with pytest.raises(Forbidden):
        run(store, book.add_phone, **common(users, now, settings, "bob"), case_id=case_id,
            number=NEW)  # fmt: skip
    with store.read() as session, pytest.raises(Forbidden):
        book.list_contacts(
            session=session, actor=users["bob"], settings=Settings(), case_id=case_id, now=now
        )
    with store.read() as session:
        seen = session.get(Case, case_id).version  # type: ignore[union-attr]
    later = now + timedelta(minutes=1)
    first = run(store, book.add_email, **common(users, later, settings), case_id=case_id,
                address="a@example.com", expected_version=seen)  # fmt: skip
    assert first.case_version > seen
    with pytest.raises(StaleEdit):
        run(store, book.add_email, **common(users, now, settings), case_id=case_id,
            address="b@example.com", expected_version=seen)  # fmt: skip
    run(store, book.add_email, **common(users, now, settings), case_id=case_id,
        address="b@example.com", expected_version=first.case_version)  # fmt: skip
    with store.read() as session, pytest.raises(NotFound):
        other = book.find_contact(
            session=session, case=session.get(Case, case_id), value="nobody@example.com"
        )
        assert other is None


def test_hostile_text_is_kept_literally(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    hostile = "[red]Boss[/red] <script>alert(1)</script> 王; DROP TABLE thirdparty"
    args = {**common(users, now, settings), "case_id": case_id}
    run(store, book.add_third_party, **args, name=hostile, relation="employer")
    run(store, book.add_address, **args, text=hostile)
    with store.read() as session:
        shown = casefile.load_case_file(session=session, actor=users["alice"], case_id=case_id,
                                        now=now)  # fmt: skip
    assert shown.third_parties[0].name == hostile
    assert shown.addresses[-1].text == hostile


def test_every_change_is_audited(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    args = {**common(users, now, settings), "case_id": case_id}
    email = run(store, book.add_email, **args, address="x@example.com")
    run(store, book.set_email_opt_in, **args, email_id=email.contact_id, opt_in=True,
        how="web form")  # fmt: skip
    run(store, book.mark_contact, **args, kind="email", contact_id=email.contact_id,
        status="wrong", reason="bounced")  # fmt: skip
    with store.read() as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "email", AuditEvent.entity_id == str(email.contact_id))
            .order_by(col(AuditEvent.at), col(AuditEvent.action))
        ).all()
    assert [e.action for e in events] == ["create", "update", "update"]
    assert events[-1].after == {"status": "wrong", "status_reason": "bounced",
                                "status_at": events[-1].after["status_at"]}  # fmt: skip


def test_skip_trace_list_finds_unreachable_debtors_and_returned_mail(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, place: Any
) -> None:
    reachable = place("K-1")
    no_number = place("K-2", phones=())
    returned = place("K-3", address="9 Old Road")
    with store.write() as session:
        address = session.exec(
            select(PostalAddress).where(PostalAddress.debtor_id == returned.debtor_id)
        ).first()
        if address is None:  # placements made by the service do not copy the address (0008 does)
            book.add_address(session=session, **common(users, now, settings),
                             case_id=returned.id, text="9 Old Road")  # fmt: skip
            address = session.exec(
                select(PostalAddress).where(PostalAddress.debtor_id == returned.debtor_id)
            ).one()
        book.mark_contact(session=session, **common(users, now, settings), case_id=returned.id,
                          kind="address", contact_id=address.id, status="returned")  # fmt: skip
    with store.read() as session:
        mine = skiptrace.skip_trace_cases(session=session, actor=users["alice"])
        theirs = skiptrace.skip_trace_cases(session=session, actor=users["bob"])
    found = {case.case_id: case.reasons for case in mine}
    assert reachable.id not in found
    assert found[no_number.id] == ("no callable number",)
    assert found[returned.id] == ("returned mail",)
    assert theirs == ()


def test_a_wrong_number_logged_then_voided_gets_its_mark_back(
    store: db.Store, users: dict[str, Actor], now: datetime, settings: Settings, place: Any
) -> None:
    case = place("W-1", phones=("+86 138 0013 8000", NEW))
    with store.write() as session:
        logged = activities.log_contact(
            session=session, now=now, actor=users["alice"], settings=settings, case_id=case.id,
            contact=activities.ContactInput(disposition="wrong_number", phone_e164=NEW),
        )  # fmt: skip
        phone = session.exec(select(Phone).where(Phone.e164 == NEW_E164)).one()
        assert (phone.status, phone.valid) == ("wrong", False)
        corrections.void_contact(
            session=session, now=now, actor=users["alice"], settings=settings,
            activity_id=logged.activity_id, reason="logged on the wrong number by mistake",
        )  # fmt: skip
        session.refresh(phone)
        assert (phone.status, phone.valid) == ("valid", True)
