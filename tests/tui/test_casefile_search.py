"""The case screen's read model and case search, as services (no screen involved)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from collector_tui.services.casework.casefile import aging_bucket, load_case_file
from collector_tui.services.casework.search import search_cases
from collector_tui.services.errors import Forbidden

from .seed import NOW, Seeded


def test_case_file_gathers_debtor_phones_debt_and_history(demo: Seeded) -> None:
    alice = demo.users["alice"]
    with demo.store.read() as session:
        case = load_case_file(
            session=session,
            actor=alice,
            case_id=demo.cases["REF-1001"],
            now=NOW,
            settings=demo.settings,
        )
    assert case.debtor.name == "王小明" and case.debtor.country == "CN"
    assert (case.principal, case.fees, case.balance) == (1_200_000, 34_500, 1_234_500)
    assert case.days_past_due == (NOW.date() - date(2026, 8, 1)).days
    assert case.aging == "91-180"
    assert case.assigned_to == "Alice Wang"
    # Phones: the primary first, each with the debtor's clock now.
    assert [p.e164 for p in case.phones] == ["+8613800138000", "+861065529988"]
    local = case.phones[0].local_times[0]
    assert local.zone == "Asia/Shanghai"
    assert local.at == NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    assert local.at.hour == 14
    # Why it is here: the cached factors from scoring.
    assert case.factors and case.factors[0].name == "expected recovery"
    assert case.verdict is not None and case.verdict.callable
    entry = case.timeline[0]
    assert entry.kind == "contact" and entry.user == "Alice Wang"
    assert entry.note is not None and entry.note.startswith("客户说下周一还款")


def test_timeline_is_newest_first_with_promises_and_follow_ups(demo: Seeded) -> None:
    with demo.store.read() as session:
        broken = load_case_file(
            session=session,
            actor=demo.users["alice"],
            case_id=demo.cases["REF-1004"],
            now=NOW,
        )
        callback = load_case_file(
            session=session,
            actor=demo.users["alice"],
            case_id=demo.cases["REF-1002"],
            now=NOW,
        )
    kinds = [e.kind for e in broken.timeline]
    assert kinds == ["promise", "contact"]  # same instant: the consequence above its contact
    assert broken.timeline[0].title.startswith("promise 2,800.00 CNY due 2026-11-15")
    assert [e.kind for e in callback.timeline] == ["follow_up", "contact"]
    assert callback.open_follow_ups[0].reason == "call back Fri"
    instants = [e.at for e in broken.timeline]
    assert instants == sorted(instants, reverse=True)


def test_holds_and_invoices_are_listed(demo: Seeded) -> None:
    with demo.store.read() as session:
        disputed = load_case_file(
            session=session, actor=demo.users["alice"], case_id=demo.cases["REF-1005"], now=NOW
        )
        company = load_case_file(
            session=session, actor=demo.users["sam"], case_id=demo.cases["REF-1003"], now=NOW
        )
    assert [(h.kind, h.reason) for h in disputed.holds] == [
        ("dispute", "says the loan was repaid in cash")
    ]
    assert disputed.timeline[0].title == "dispute hold placed"
    assert company.debtor.kind == "company"
    assert [(i.number, i.open_amount) for i in company.invoices] == [
        ("INV-7001", 5_000_000),
        ("INV-7002", 3_800_000),
    ]


def test_an_agent_cannot_read_another_agents_case(demo: Seeded) -> None:
    with demo.store.read() as session, pytest.raises(Forbidden):
        load_case_file(
            session=session, actor=demo.users["alice"], case_id=demo.cases["REF-9001"], now=NOW
        )


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [(0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (90, "61-90"), (180, "91-180"),
     (181, "180+")],
)  # fmt: skip
def test_aging_buckets(dpd: int, bucket: str) -> None:
    assert aging_bucket(dpd) == bucket


@pytest.mark.parametrize(
    "typed",
    ["+86 138 0013 8000", "138 0013 8000", "13800138000", "+86-138-0013-8000", "0086 13800138000"],
)
def test_search_finds_a_phone_in_any_format(demo: Seeded, typed: str) -> None:
    with demo.store.read() as session:
        hits = search_cases(session=session, actor=demo.users["alice"], text=typed)
    assert [(h.client_ref, h.matched) for h in hits] == [("REF-1001", "phone")]


def test_search_by_reference_and_by_the_start_of_a_name(demo: Seeded) -> None:
    alice = demo.users["alice"]
    with demo.store.read() as session:
        by_ref = search_cases(session=session, actor=alice, text="  REF-1003 ")
        by_name = search_cases(session=session, actor=alice, text="深圳华信")
        inside = search_cases(session=session, actor=alice, text="华信")
        latin = search_cases(session=session, actor=alice, text="JOHN s")
        nothing = search_cases(session=session, actor=alice, text="%")
    assert [(h.client_ref, h.matched) for h in by_ref] == [("REF-1003", "reference")]
    assert [(h.debtor, h.matched) for h in by_name] == [("深圳华信贸易有限公司", "name")]
    assert inside == []  # names match from their start: an index range, not a scan
    assert [h.client_ref for h in latin] == ["REF-2001"]  # case-insensitive
    assert nothing == []  # a LIKE wildcard typed by the agent is a character, not "everything"


def test_search_is_scoped_to_the_agent_but_not_the_supervisor(demo: Seeded) -> None:
    with demo.store.read() as session:
        as_alice = search_cases(session=session, actor=demo.users["alice"], text="REF-9001")
        as_bob = search_cases(session=session, actor=demo.users["bob"], text="王小明")
        as_sam = search_cases(session=session, actor=demo.users["sam"], text="REF-9001")
    assert as_alice == [] and as_bob == []
    assert [(h.client_ref, h.assigned_to) for h in as_sam] == [("REF-9001", "Bob Miller")]


def test_search_limit_and_one_character_surnames(demo: Seeded) -> None:
    sam = demo.users["sam"]
    with demo.store.read() as session:
        every = search_cases(session=session, actor=sam, text="ref-100")
        one = search_cases(session=session, actor=sam, text="ref-100", limit=1)
        surname = search_cases(session=session, actor=sam, text="王")
    assert [h.client_ref for h in every] == [f"REF-100{n}" for n in range(1, 6)]
    assert len(one) == 1
    assert [h.debtor for h in surname] == ["王小明"]


def test_read_models_do_not_import_textual_and_the_app_module_opens_no_database() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import collector_tui.services.casework.casefile, collector_tui.services.casework.search\n"
        "assert 'textual' not in sys.modules, 'services must not import textual'\n"
        "import gc\n"
        "import collector_tui.tui.app\n"
        "from sqlalchemy.engine import Engine\n"
        "assert not [o for o in gc.get_objects() if isinstance(o, Engine)], 'engine at import'\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_make_app_takes_exactly_its_dependencies() -> None:
    import inspect

    from collector_tui.tui.app import make_app

    parameters = inspect.signature(make_app).parameters
    # `language`: --lang for the whole session (the user's own otherwise).
    assert list(parameters) == ["store", "settings", "clock", "username", "language"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert parameters["username"].default is None
    assert parameters["language"].default is None
