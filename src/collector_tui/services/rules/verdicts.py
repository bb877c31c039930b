"""Compliance verdicts cached per case, exact at every `now` (docs/decisions.md, queue).

Building a queue asks the compliance rules about a hundred candidates, and most of them are the
same cases with the same data as a minute before. A process keeps each verdict with the instant
until which time alone cannot change it (`compliance.verdict_lasts_until`: "held until the hours
open at 08:00", "callable until the hours close"), keyed by what the caller knows of the case (its
facts, its rule pack, the wait asked for). A cached verdict is used only for an instant in
[computed at, lasts until).

Data changes reach the cache through `verdict_change`, a log in the database itself: every flush
that touches an activity, a hold, a phone, a third party or a debtor appends the debtors (and the
numbers called: a number shared by two debtors has one daily count) in the same transaction, and
any other write to those tables (Core statements, bulk updates) appends a row that names no one,
which empties the cache. Before using the cache, a unit of work reads the rows after the last one
this process saw and forgets those debtors' verdicts; so writes from another process, a sync or
the command line are seen as surely as the process's own. The log is local derived data: never
captured or carried by sync (services/sync/codec.py, LOCAL_TABLES).

Only on SQLite, where writers take turns (BEGIN IMMEDIATE) and a row's number is its place in the
commit order; on PostgreSQL the verdicts are computed every time.
"""

from __future__ import annotations

import re
import threading
import uuid
import weakref
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, insert, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import Pool
from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.models import Activity, Case, Debtor, Hold, Phone, ThirdParty, VerdictChange
from collector_tui.services.rules import compliance
from collector_tui.services.rules.compliance import CaseFacts, Verdict

__all__ = ["cached_verdicts", "clear", "enabled"]

# Rows a verdict reads (compliance.evaluate_cases): a write to any other table leaves it alone.
WATCHED_TABLES = frozenset({"activity", "hold", "phone", "thirdparty", "debtor"})
_DML = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+\"?(\w+)",
    re.IGNORECASE,
)
# Most statements are reads: told apart by their first word before any pattern runs.
_NOT_WRITES = frozenset({"SELECT", "PRAGMA", "BEGIN", "COMMIT", "SAVEPO", "RELEAS", "ROLLBA"})
_KEEP_ROWS = 5000  # the log keeps this many rows; a process further behind empties its cache
_WROTE = "verdict_change_written"
_SEEN = "verdict_change_seen"

_enabled = True


def enabled(value: bool | None = None) -> bool:
    """Whether the cache is used (tests compare the queue with it and without it)."""
    global _enabled
    if value is not None:
        _enabled = value
    return _enabled


# --- Writing: the change log ----------------------------------------------------------------------

_flushing: ContextVar[bool] = ContextVar("verdict_flushing", default=False)


def _debtors_of_cases(session: OrmSession, case_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    unknown: list[uuid.UUID] = []
    for case_id in case_ids:
        case = session.identity_map.get((Case, (case_id,), None))
        if isinstance(case, Case):
            found.add(case.debtor_id)
        else:
            unknown.append(case_id)
    if unknown:
        connection = session.connection()
        for start in range(0, len(unknown), 500):
            found.update(
                row[0]
                for row in connection.execute(
                    select(Case.debtor_id).where(col(Case.id).in_(unknown[start : start + 500]))
                )
            )
    return found


def _old_values(obj: Any, name: str) -> list[Any]:
    from sqlalchemy import inspect

    history = inspect(obj).attrs[name].history
    return [*history.deleted]


def _changed(session: OrmSession) -> tuple[set[uuid.UUID], set[str]]:
    debtors: set[uuid.UUID] = set()
    numbers: set[str] = set()
    cases: set[uuid.UUID] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Activity):
            if obj.case_id is not None:
                cases.add(obj.case_id)
            cases.update(value for value in _old_values(obj, "case_id") if value is not None)
            if obj.phone_e164:
                numbers.add(obj.phone_e164)
        elif isinstance(obj, Hold):
            if obj.case_id is not None:
                cases.add(obj.case_id)
        elif isinstance(obj, Phone | ThirdParty):
            debtors.add(obj.debtor_id)
            debtors.update(value for value in _old_values(obj, "debtor_id") if value is not None)
            if isinstance(obj, Phone):
                numbers.update(
                    value for value in (obj.e164, *_old_values(obj, "e164")) if value is not None
                )
        elif isinstance(obj, Debtor):
            debtors.add(obj.id)
    if cases:
        debtors |= _debtors_of_cases(session, cases)
    return debtors, numbers


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, _context: Any, _instances: Any) -> None:
    _flushing.set(True)


@event.listens_for(OrmSession, "after_flush")
def _after_flush(session: OrmSession, _context: Any) -> None:
    debtors, numbers = _changed(session)
    if not debtors and not numbers:
        return
    rows: list[dict[str, Any]] = [{"debtor_id": d, "e164": None} for d in sorted(debtors)]
    rows += [{"debtor_id": None, "e164": n} for n in sorted(numbers)]
    _append(session.connection(), rows)


@event.listens_for(OrmSession, "after_flush_postexec")
def _after_flush_postexec(session: OrmSession, _context: Any) -> None:
    _flushing.set(False)


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    _flushing.set(False)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_over(connection: Any) -> None:
    connection.info.pop(_WROTE, None)


@event.listens_for(Pool, "reset")
def _returned(_dbapi_connection: Any, record: Any, _state: Any) -> None:
    # A connection back in the pool without a commit or rollback of ours (the pool rolls back).
    record.info.pop(_WROTE, None)


def _append(connection: Any, rows: list[dict[str, Any]]) -> None:
    if connection.dialect.name != "sqlite":
        return
    # Until this transaction ends, its own log rows are not yet anyone's history: a rollback
    # would take them back and hand their numbers to other rows.
    connection.info[_WROTE] = True
    try:
        # One multi-row INSERT; its last rowid is the newest row's number on SQLite.
        last = connection.execute(insert(VerdictChange).values(rows)).lastrowid
        if last is not None and last % 500 < len(rows):
            connection.execute(
                VerdictChange.__table__.delete().where(  # type: ignore[attr-defined]
                    col(VerdictChange.seq) <= last - _KEEP_ROWS
                )
            )
    except DBAPIError:
        # A database before migration 0016 (the migrations themselves write rows): no table, and
        # no process can cache verdicts for it either.
        pass


@event.listens_for(Engine, "after_cursor_execute")
def _after_execute(
    connection: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
) -> None:
    # Writes the ORM flush does not describe (Core statements, bulk updates): anyone may have
    # changed, so the cache empties.
    if statement[:6].upper() in _NOT_WRITES or _flushing.get():
        return
    if connection.dialect.name != "sqlite":
        return
    match = _DML.match(statement)
    if match is None or match.group(1).lower() not in WATCHED_TABLES:
        return
    _flushing.set(True)  # the row below is a write too
    try:
        _append(connection, [{"debtor_id": None, "e164": None}])
    finally:
        _flushing.set(False)


def forget_numbers(session: Session) -> None:
    """Erasure: no phone number stays in the change log. A row naming a number becomes a row
    that empties every cache (a process that has not read it yet forgets more than needed, never
    less); the file's old pages go with the erasure's checkpoint."""
    session.execute(
        update(VerdictChange)
        .where(col(VerdictChange.e164).is_not(None))
        .values(e164=None, debtor_id=None)
    )


# --- Reading: the cache ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cached:
    key: tuple[Any, ...]
    verdict: Verdict
    since: datetime
    until: datetime
    debtor_id: uuid.UUID
    numbers: tuple[str, ...]


@dataclass
class _Cache:
    seq: int | None = None
    entries: dict[uuid.UUID, _Cached] = field(default_factory=dict)
    by_debtor: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    by_number: dict[str, set[uuid.UUID]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, seq: int | None) -> None:
        self.seq = seq
        self.entries.clear()
        self.by_debtor.clear()
        self.by_number.clear()

    def forget_debtor(self, debtor_id: uuid.UUID) -> None:
        for case_id in self.by_debtor.pop(debtor_id, ()):
            self.entries.pop(case_id, None)

    def put(self, case_id: uuid.UUID, cached: _Cached) -> None:
        self.entries[case_id] = cached
        self.by_debtor.setdefault(cached.debtor_id, set()).add(case_id)
        for number in cached.numbers:
            self.by_number.setdefault(number, set()).add(cached.debtor_id)


_caches: weakref.WeakKeyDictionary[Any, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def clear() -> None:
    """Forget every cached verdict of every database (tests)."""
    with _caches_lock:
        _caches.clear()


def _cache_of(session: Session) -> _Cache | None:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not isinstance(bind, Engine):
        return None
    pool = bind.pool  # shared by the engine and its execution_options() copies
    with _caches_lock:
        cache = _caches.get(pool)
        if cache is None:
            cache = _caches[pool] = _Cache()
        return cache


def _catch_up(session: Session, cache: _Cache) -> bool:
    usable = _read_log(session, cache)
    if usable:
        session.info[_SEEN] = (session.get_transaction(), cache.seq)
    return usable


def _read_log(session: Session, cache: _Cache) -> bool:
    """Bring the cache to what this unit of work sees; False when it sees an older state than the
    cache holds (a long read begun before another thread's writes): then it must not be used."""
    connection = session.connection()
    # Once per transaction: what it sees of the log changes only by its own writes, and after
    # those the cache is not used (see cached_verdicts).
    seen = session.info.get(_SEEN)
    if seen is not None and seen[0] is session.get_transaction() and seen[1] == cache.seq:
        return True
    last = connection.execute(select(func.max(VerdictChange.seq))).scalar() or 0
    if cache.seq is None:
        cache.reset(last)
        return True
    if last < cache.seq:
        return False
    if last == cache.seq:
        return True
    rows = connection.execute(
        select(VerdictChange.seq, VerdictChange.debtor_id, VerdictChange.e164)
        .where(col(VerdictChange.seq) > cache.seq)
        .order_by(col(VerdictChange.seq))
    ).all()
    if not rows or rows[0][0] != cache.seq + 1:
        cache.reset(last)  # the log was pruned past what this process saw
        return True
    for _seq, debtor_id, e164 in rows:
        if debtor_id is None and e164 is None:
            cache.reset(last)
            return True
        if debtor_id is not None:
            cache.forget_debtor(debtor_id)
        if e164 is not None:
            for sharing in cache.by_number.pop(e164, set()):
                cache.forget_debtor(sharing)
    cache.seq = last
    return True


def _before_first_callable(
    cases: Sequence[CaseFacts], found: Mapping[uuid.UUID, Verdict], missing: list[CaseFacts]
) -> list[CaseFacts]:
    # The cases to evaluate: those lacking a verdict before the first cached callable one.
    lacking = {case.case_id for case in missing}
    wanted: list[CaseFacts] = []
    for case in cases:
        if case.case_id in lacking:
            wanted.append(case)
        elif found[case.case_id].callable:
            break
    return wanted


def cached_verdicts(
    *,
    session: Session,
    cases: Sequence[CaseFacts],
    now: datetime,
    settings: Settings,
    not_before: Mapping[uuid.UUID, datetime] | None = None,
    first_callable: bool = False,
) -> dict[uuid.UUID, Verdict]:
    """`compliance.evaluate_cases`, answered from the cache where it holds at `now`.

    With `first_callable`, only the verdicts of `cases` up to the first callable one, in their
    order, are wanted ("next case"): the cases after the first cached callable one are not
    evaluated, and may be left out of the answer. A call right after a save typically finds every
    candidate cached but the one that moved up into the page: evaluating it cost a fixed set of
    queries for a verdict nobody reads."""
    if not cases:
        return {}
    cache = _cache_of(session) if _enabled else None
    if cache is not None and (session.new or session.dirty or session.deleted):
        session.flush()  # as the queries below would (autoflush)
    if cache is None or session.connection().info.get(_WROTE):
        # Without a cache, or in a unit of work that changed compliance data not yet committed
        # (its verdicts are nobody else's).
        return compliance.evaluate_cases(
            session=session, cases=cases, now=now, settings=settings, not_before=not_before
        )
    now = now.astimezone(UTC)
    waits = not_before or {}
    packs = {
        country: compliance.pack_for_country(country, settings)
        for country in {case.country for case in cases}
    }
    # What the verdict is a function of, besides the data the log watches and the time.
    keys = {case.case_id: (case, packs[case.country], waits.get(case.case_id)) for case in cases}
    found: dict[uuid.UUID, Verdict] = {}
    missing: list[CaseFacts] = []
    with cache.lock:
        usable = _catch_up(session, cache)
        seq = cache.seq
        if usable:
            for case in cases:
                cached = cache.entries.get(case.case_id)
                if (
                    cached is not None
                    and cached.key == keys[case.case_id]
                    and cached.since <= now < cached.until
                ):
                    found[case.case_id] = cached.verdict
                else:
                    missing.append(case)
        else:
            missing = list(cases)
    if first_callable and missing:
        missing = _before_first_callable(cases, found, missing)
    if not missing:
        return found
    lasting: dict[uuid.UUID, tuple[datetime, tuple[str, ...]]] = {}
    fresh = compliance.evaluate_cases(
        session=session,
        cases=missing,
        now=now,
        settings=settings,
        not_before={c.case_id: waits[c.case_id] for c in missing if c.case_id in waits},
        lasting=lasting,
    )
    if usable:
        with cache.lock:
            if cache.seq == seq:  # no other thread moved the cache on meanwhile
                for case in missing:
                    until, numbers = lasting[case.case_id]
                    cache.put(
                        case.case_id,
                        _Cached(
                            keys[case.case_id],
                            fresh[case.case_id],
                            now,
                            until,
                            case.debtor_id,
                            numbers,
                        ),
                    )
    found.update(fresh)
    return found
