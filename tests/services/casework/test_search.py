"""Case search as agents type it: reference and name prefixes, phones in any format, indexed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from collector_tui.services.casework.search import search_cases


def _found(store: Any, actor: Any, typed: str) -> list[tuple[str, str]]:
    with store.read() as session:
        hits = search_cases(session=session, actor=actor, text=typed)
    return [(hit.client_ref, hit.matched) for hit in hits]


def test_a_reference_prefix_finds_the_longer_references(store, place, users) -> None:  # noqa: ANN001
    place("HX-61310")
    place("HX-61311")
    place("HX-7000")
    alice = users["alice"]
    assert _found(store, alice, "HX-6131") == [("HX-61310", "reference"), ("HX-61311", "reference")]
    assert _found(store, alice, "hx-61311") == [("HX-61311", "reference")]
    # The exact reference comes first, before the longer ones it is a prefix of.
    place("HX-6131")
    assert [ref for ref, _ in _found(store, alice, "HX-6131")] == [
        "HX-6131",
        "HX-61310",
        "HX-61311",
    ]


def test_names_by_prefix_latin_in_any_case_and_chinese_by_leading_characters(
    store,  # noqa: ANN001
    place,  # noqa: ANN001
    users,  # noqa: ANN001
) -> None:
    place("N-1", debtor_name="McDonald, Ronald")
    place("N-2", debtor_name="MCDONALD TRADING LTD")
    place("N-3", debtor_name="王小明")
    place("N-4", debtor_name="王大伟")
    place("N-5", debtor_name="深圳华信贸易有限公司")
    place("N-6", debtor_name="Émile Zola")
    alice = users["alice"]
    assert [ref for ref, _ in _found(store, alice, "mcdonald")] == ["N-2", "N-1"]
    assert [ref for ref, _ in _found(store, alice, "mCdOnAlD, r")] == ["N-1"]
    assert [ref for ref, _ in _found(store, alice, "王")] == ["N-4", "N-3"]
    assert _found(store, alice, "王小") == [("N-3", "name")]
    assert _found(store, alice, "深圳华信") == [("N-5", "name")]
    assert _found(store, alice, "émile") == [("N-6", "name")]
    assert _found(store, alice, "zola") == []  # a prefix of the name, not any part of it
    assert _found(store, users["bob"], "mcdonald") == []  # agents: their own cases only


@pytest.mark.parametrize(
    ("typed", "ref"),
    [
        ("138 0013 8000", "P-CN"),
        ("+86-138-0013-8000", "P-CN"),
        ("13800138000", "P-CN"),
        ("(212) 555-0123", "P-US"),
        ("212.555.0123", "P-US"),
        ("07911 123456", "P-GB"),
        ("+44 7911 123456", "P-GB"),
    ],
)
def test_phones_in_any_format(store, place, users, typed: str, ref: str) -> None:  # noqa: ANN001
    place("P-CN", phones=("+86 138 0013 8000",))
    place("P-US", country="US", currency="USD", phones=("212-555-0123",))
    place("P-GB", country="GB", currency="GBP", phones=("07911 123456",))
    assert _found(store, users["alice"], typed) == [(ref, "phone")]


def _plan(store: Any, statement: Any) -> str:
    with store.read() as session:
        compiled = statement.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        rows = session.exec(text(f"EXPLAIN QUERY PLAN {compiled}")).all()  # type: ignore[call-overload]
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.sqlite_only
def test_prefix_searches_use_the_indexes_not_a_scan(store, place) -> None:  # noqa: ANN001
    from sqlmodel import select

    from collector_tui.models import Case, Debtor
    from collector_tui.services.casework.search import name_prefix_clause, reference_prefix_clause

    place("HX-61310", debtor_name="McDonald, Ronald")
    names = _plan(store, select(Debtor.id).where(name_prefix_clause("mcd")))
    refs = _plan(store, select(Case.id).where(reference_prefix_clause("hx-6131")))
    assert "USING INDEX ix_debtor_name (name>? AND name<?)" in names, names
    assert "SCAN" not in names, names
    assert "USING INDEX ix_collection_case_client_ref (client_ref>? AND client_ref<?)" in refs, refs
    assert "SCAN" not in refs, refs


@pytest.mark.sqlite_only
@pytest.mark.parametrize("typed", ["HX-6131", "mcdonald, r", "王", "(212) 555-0123"])
def test_every_statement_of_a_search_reads_through_an_index(store, place, users, typed) -> None:  # noqa: ANN001
    from sqlalchemy import event

    place("HX-61310", debtor_name="McDonald, Ronald")
    statements: list[tuple[str, Any]] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = store.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for actor in (users["alice"], users["sam"]):
            with store.read() as session:
                search_cases(session=session, actor=actor, text=typed)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert statements
    with engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            steps = [str(row[-1]) for row in plan]
            scans = [s for s in steps if s.startswith("SCAN") and "USING" not in s]
            assert not scans, (statement, steps)
