"""The demo database: deterministic, complete enough for every screen, current with the code."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from collector_tui import bootstrap, db, demo
from collector_tui.demo import (
    DEMO_NOW,
    DEMO_PASSWORD,
    build_demo,
    canonical_dump,
    fresh_demo_copy,
    shipped_demo,
)
from collector_tui.models import (
    Activity,
    Assignment,
    Case,
    CaseStatus,
    Debtor,
    FollowUp,
    Hold,
    Invoice,
    Phone,
    Promise,
)
from collector_tui.services import accounts

SHIPPED = Path(__file__).resolve().parents[2] / "sample_db" / "demo.db"
REGENERATE = "sample_db/demo.db is stale: run `python sample_db/generate.py` and commit it"


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    store = bootstrap.open_store(path)
    try:
        return canonical_dump(store)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[db.Store]:
    """A copy of the committed demo database (never open the committed file itself)."""
    assert SHIPPED.is_file(), "sample_db/demo.db is missing: run python sample_db/generate.py"
    store = bootstrap.open_store(fresh_demo_copy(tmp_path_factory.mktemp("demo")))
    yield store
    store.dispose()


def test_two_builds_have_the_same_content(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "one.db", cases=30)
    second = build_demo(tmp_path / "two.db", cases=30)

    assert first == second
    one, two = _dump(tmp_path / "one.db"), _dump(tmp_path / "two.db")
    assert one.keys() == two.keys()
    for table in one:
        assert one[table] == two[table], table
    # The dump really carries the content: every case, its history, its audit trail.
    assert len(one["cases"]) == 30
    assert len(one["activities"]) > 30
    assert len(one["audit"]) > len(one["activities"])


def test_the_committed_file_is_what_the_generator_builds(tmp_path: Path) -> None:
    build_demo(tmp_path / "fresh.db")
    (tmp_path / "copy").mkdir()
    committed = fresh_demo_copy(tmp_path / "copy")
    assert _dump(committed) == _dump(tmp_path / "fresh.db"), REGENERATE


def test_committed_file_is_small_self_contained_and_at_the_current_schema() -> None:
    assert shipped_demo() == SHIPPED
    # Small enough to commit at every change of the demo: it holds contacts, invoice disputes and
    # balance components since migrations 0008 and 0009 (3.1 MB then), charges, assessments,
    # reminders, strategies, workload counters and invoice issue dates since 0010-0018 (4.5 MB).
    assert SHIPPED.stat().st_size < 5 * 1024 * 1024
    # Read-only and without the app's pragmas: opening it through the store would switch the
    # committed file to WAL mode.
    connection = sqlite3.connect(f"file:{SHIPPED}?mode=ro", uri=True)
    try:
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        connection.close()
    assert journal == "delete"  # one self-contained file, no -wal beside it
    store = bootstrap.open_store("sqlite://")
    try:
        assert revision == db.head_revision(store), REGENERATE
    finally:
        store.dispose()


def test_without_the_repository_the_demo_is_built_once_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "shipped_demo", lambda: None)
    monkeypatch.setattr(demo, "DEMO_CASES", 25)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    first = fresh_demo_copy(tmp_path / "a")
    cached = sorted((tmp_path / "cache").rglob("demo-*.db"))
    second = fresh_demo_copy(tmp_path / "b")

    assert len(cached) == 1
    assert sorted((tmp_path / "cache").rglob("demo-*.db")) == cached  # not built again
    assert _dump(first) == _dump(second)
    assert len(_dump(first)["cases"]) == 25


def test_every_user_logs_in_with_demo(shipped: db.Store) -> None:
    with shipped.read() as session:
        roles = {
            name: accounts.authenticate(session=session, username=name, password=DEMO_PASSWORD).role
            for name in ("alice", "bob", "sam", "root")
        }
    assert roles == {"alice": "agent", "bob": "agent", "sam": "supervisor", "root": "admin"}


def test_every_status_country_and_kind_is_there(shipped: db.Store) -> None:
    with shipped.read() as session:
        statuses = set(session.exec(select(Case.status)).all())
        countries = set(session.exec(select(Debtor.country)).all())
        kinds = set(session.exec(select(Debtor.kind)).all())
        total = session.exec(select(func.count()).select_from(Case)).one()
        names = session.exec(select(Debtor.name)).all()
        companies_with_invoices = session.exec(
            select(func.count(func.distinct(Invoice.case_id)))
        ).one()
        most_invoices = session.exec(
            select(func.count()).select_from(Invoice).group_by(Invoice.case_id)
        ).all()
    assert statuses == {status.value for status in CaseStatus}
    assert countries == {"CN", "US", "GB"}
    assert kinds == {"person", "company"}
    assert 250 <= total <= 400
    assert any("\u4e00" <= name[0] <= "\u9fff" for name in names)  # Chinese in Chinese script
    assert companies_with_invoices >= 10
    assert max(most_invoices) >= 3


def test_phones_are_realistic_and_mostly_valid(shipped: db.Store) -> None:
    with shipped.read() as session:
        valid = session.exec(select(Phone.e164).where(col(Phone.valid))).all()
        invalid = session.exec(select(func.count()).select_from(Phone).where(~col(Phone.valid)))
        invalid_count = invalid.one()
    prefixes = {e164[:5] for e164 in valid}
    for prefix in ("+8613", "+8615", "+8618", "+8610", "+8621"):
        assert any(p.startswith(prefix) for p in prefixes), prefix
    for area in ("+1212", "+1808", "+1605", "+1907"):
        assert area in prefixes, area
    assert any(e.startswith("+4420") for e in valid)
    assert any(e.startswith("+447700") for e in valid)
    assert 0 < invalid_count < len(valid) / 5


def test_history_has_promises_holds_notes_and_moves(shipped: db.Store) -> None:
    with shipped.read() as session:
        promise_statuses = set(session.exec(select(Promise.status)).all())
        plans = session.exec(
            select(func.count()).select_from(Promise).where(col(Promise.plan_id).is_not(None))
        ).one()
        hold_kinds = set(session.exec(select(Hold.kind)).all())
        notes = session.exec(select(Activity.note).where(col(Activity.note).is_not(None))).all()
        dispositions = set(session.exec(select(Activity.disposition)).all())
        moves = session.exec(
            select(func.count())
            .select_from(Assignment)
            .where(col(Assignment.from_user_id).is_not(None))
        ).one()
        unassigned = session.exec(
            select(func.count())
            .select_from(Case)
            .where(col(Case.assigned_to_id).is_(None), Case.status == "new")
        ).one()
    assert {"pending", "kept", "partial", "broken"} <= promise_statuses
    assert plans > 0
    assert {"dispute", "cease", "legal", "hardship", "complaint"} <= hold_kinds
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in note) for note in notes)
    assert any(note.isascii() for note in notes)
    assert {"no_answer", "voicemail", "right_party", "promise", "plan", "callback"} <= (
        dispositions
    )
    assert moves >= 5
    assert unassigned >= 1
    with shipped.read() as session:
        latest = session.exec(select(func.max(Activity.occurred_at))).one()
    assert latest is not None and latest <= DEMO_NOW  # nothing happens after the demo clock


def test_follow_ups_are_due_on_demo_day_for_every_agent(shipped: db.Store) -> None:
    with shipped.read() as session:
        users = {u.user_id: u.username for u in accounts.list_users(session=session)}
        due = session.exec(
            select(FollowUp.owner_id, FollowUp.due_at).where(col(FollowUp.done_at).is_(None))
        ).all()
    due_now = {users[owner] for owner, at in due if at <= DEMO_NOW}
    later_today = [at for _, at in due if DEMO_NOW < at and at.date() == DEMO_NOW.date()]
    assert due_now == {"alice", "bob", "wang"}
    assert later_today


def test_the_generator_makes_client_money_stories(shipped: db.Store) -> None:
    """Disputed B2B invoices (one partly upheld), a reversed payment and legal costs charged after
    placement, each balance still the sum of its components (read from the committed file, which
    test_the_committed_file_is_what_the_generator_builds holds equal to a fresh build)."""
    from collector_tui.models import BalanceComponent, CaseCharge, InvoiceDispute, Payment
    from collector_tui.services.casework import balances

    with shipped.read() as session:
        disputed = session.exec(
            select(InvoiceDispute.status, Debtor.kind)
            .join(Case, col(Case.id) == col(InvoiceDispute.case_id))
            .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        ).all()
        assert {kind for _, kind in disputed} == {"company"}
        assert {"open", "partly"} <= {status for status, _ in disputed}
        assert session.exec(
            select(Payment.reversal_reason).where(col(Payment.voids_id).is_not(None))
        ).all() == ["bounced"]
        charged = session.exec(select(CaseCharge)).all()
        assert [(c.component, c.amount > 0) for c in charged] == [("costs", True)]
        case = session.get(Case, charged[0].case_id)
        assert case is not None
        assert balances.case_components(session, case).costs == charged[0].amount
        for case_id in set(session.exec(select(BalanceComponent.case_id)).all()):
            row = session.get(Case, case_id)
            assert row is not None
            assert balances.case_components(session, row).total == row.balance


def test_the_generator_makes_vintages_and_dso_on_both_bases(shipped: db.Store) -> None:
    """Months of placements, so the dashboard's vintage chart has several curves, and issue
    dates on some clients' invoices only: a DSO for those books, days past due for the others
    (read from the committed file, held equal to a fresh build by the test above)."""
    from collector_tui.services.reporting import kpis, reports

    with shipped.read() as session:
        vintages = kpis.vintage(session=session, now=DEMO_NOW, currency="CNY", months=6)
        dso = reports.dso(session=session, now=DEMO_NOW)
    growing = [v for v in vintages if len(v.points) > 1 and v.points[-1].collected > 0]
    assert len(growing) >= 3
    assert {(row.currency, row.basis) for row in dso} == {
        ("CNY", "issue_date"),
        ("USD", "issue_date"),
        ("GBP", "days_past_due"),
    }


def test_the_chinese_agent_works_in_chinese_on_chinese_debtors(tmp_path: Path) -> None:
    build_demo(tmp_path / "small.db", cases=60)
    store = bootstrap.open_store(tmp_path / "small.db")
    try:
        with store.read() as session:
            wang = accounts.authenticate(session=session, username="wang", password=DEMO_PASSWORD)
            countries = session.exec(
                select(Debtor.country, Debtor.kind)
                .join(Case, col(Case.debtor_id) == col(Debtor.id))
                .join(Assignment, col(Assignment.case_id) == col(Case.id))
                .where(Assignment.to_user_id == wang.user_id)
            ).all()
    finally:
        store.dispose()
    assert (wang.role, wang.language, wang.time_zone) == ("agent", "zh_CN", "Asia/Shanghai")
    assert countries and set(countries) == {("CN", "person")}
