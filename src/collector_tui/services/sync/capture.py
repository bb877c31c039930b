"""The laptop's outbox: every local change recorded in the same transaction that makes it.

A listener on every ORM Session's `before_flush` looks at what is about to be written. On a
database that is not a laptop (no `sync_state` row with role `laptop`) it does nothing after one
cached look. On a laptop it:

- refuses a change to a case that is not active in the briefcase (reassigned away: read-only;
  compliance context; or a case the laptop never had, such as a placement) with a clear message;
- writes one `sync_outbox` row per inserted, updated or deleted row (op id, transaction id,
  hybrid logical clock, device, actor, kind, table, row id, case, base version, payload) with Core
  statements on the flush's own connection, so a rollback (of the transaction or a service's
  savepoint) takes the operations with it and a commit keeps both.

The existing services need no change: whatever they write is captured. Writes made by the sync
itself (a pull) use Core statements, which never flush, so they are never captured.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, event, insert, inspect, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from collector_tui.clock import SystemClock
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    Activity,
    Assessment,
    Case,
    FollowUp,
    Hold,
    Payment,
    PaymentPlan,
    Promise,
    Settlement,
    SyncBriefcaseCase,
    SyncOutboxOp,
    SyncState,
)
from collector_tui.services.errors import Forbidden
from collector_tui.services.sync import codec, hlc, policy

# Audit entity names (services/audit.record) -> the table whose row carries the case id.
AUDIT_ENTITIES: dict[str, type[Any]] = {
    "case": Case,
    "activity": Activity,
    "promise": Promise,
    "plan": PaymentPlan,
    "payment": Payment,
    "follow_up": FollowUp,
    "hold": Hold,
    "settlement": Settlement,
    "assessment": Assessment,
}
# Lazy (i18n.N_): worded in the language current when the refusal is raised.
READ_ONLY_MESSAGE = N_(
    "case {ref} was moved to another agent on the master: it is read-only on this laptop"
)
NOT_CARRIED_CASE = N_(
    "this laptop works on its briefcase only: a change to case {ref} is done on the master"
)
NOT_CARRIED_DEBTOR = N_(
    "this laptop works on its briefcase only: a change to this debtor is done on the master"
)
NOT_CARRIED_USERS = N_(
    "this laptop works on its briefcase only: managing users is done on the master"
)
NOT_CARRIED_PLACING = N_(
    "this laptop works on its briefcase only: placing a case is done on the master"
)

_UNKNOWN = object()
# Connection pool -> the laptop's identity (device, agent) or None for a database that is not a
# laptop. Keyed by pool because a Store's write units use `engine.execution_options(...)`, a
# different Engine object sharing the same pool.
_engines: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_TXN_KEY = "collector_sync_txn"


def watch(engine: Engine) -> None:
    """Capture changes made through `engine` if its database is (or becomes) a laptop."""
    if engine.dialect.name == "sqlite":
        _engines.setdefault(engine.pool, _UNKNOWN)


def forget(engine: Engine) -> None:
    """Look again at the next flush (after a pull made the database a laptop)."""
    if engine.pool in _engines:
        _engines[engine.pool] = _UNKNOWN


def _engine_of(session: Session) -> Engine | None:
    bind = session.bind
    if isinstance(bind, Connection):
        return bind.engine
    return bind if isinstance(bind, Engine) else None


def _laptop(session: Session, engine: Engine) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    known = _engines.get(engine.pool)
    if known is not _UNKNOWN:
        return known
    state = SyncState.__table__  # type: ignore[attr-defined]
    try:
        row = (
            session.connection()
            .execute(select(state.c.role, state.c.device_id, state.c.agent_id))
            .first()
        )
    except (OperationalError, ProgrammingError):
        return None  # a database before the sync migration: not a laptop; look again later
    found = (row.device_id, row.agent_id) if row is not None and row.role == "laptop" else None
    _engines[engine.pool] = found
    return found


# --- what is about to be written ------------------------------------------------------------


def _table_name(obj: Any) -> str | None:
    table = getattr(obj, "__table__", None)
    return getattr(table, "name", None)


def _case_id(session: Session, obj: Any, table: str) -> uuid.UUID | None:
    if table == "collection_case":
        return obj.id  # type: ignore[no-any-return]
    case_id = getattr(obj, "case_id", None)
    if case_id is not None:
        return case_id  # type: ignore[no-any-return]
    with session.no_autoflush:
        if table == "paymentallocation":
            payment = session.get(Payment, obj.payment_id)
            return payment.case_id if payment is not None else None
        if table == "auditevent":
            model = AUDIT_ENTITIES.get(obj.entity)
            if model is None:
                return None
            try:
                key = uuid.UUID(str(obj.entity_id))
            except ValueError:
                return None
            if model is Case:
                return key
            # The row may be flushed with its event (a save's rows and their audit events go out
            # in one flush): then it is still pending, and no SELECT would find it.
            row = next((o for o in session.new if isinstance(o, model) and o.id == key), None)
            if row is None:
                row = session.get(model, key)
            return getattr(row, "case_id", None)
    return None


def _debtor_id(obj: Any, table: str) -> uuid.UUID | None:
    if table == "debtor":
        return obj.id  # type: ignore[no-any-return]
    if table in codec.DEBTOR_TABLES:
        return obj.debtor_id  # type: ignore[no-any-return]
    return None


def _changes(obj: Any, table: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(new values, old values) of the columns that change, by column name."""
    state = inspect(obj)
    new: dict[str, Any] = {}
    old: dict[str, Any] = {}
    for column in obj.__table__.columns:
        history = state.attrs[column.key].history
        if not history.has_changes():
            continue
        new[column.name] = codec.encode_value(history.added[0] if history.added else None)
        old[column.name] = codec.encode_value(history.deleted[0] if history.deleted else None)
    skip = policy.ignored(table)
    if all(name in skip for name in new):
        return {}, {}
    return new, old


def _wall_time(objects: Iterable[Any]) -> datetime:
    """When the flush's change happened by the services' own clock (their `now` stamps)."""
    stamps: list[datetime] = []
    for obj in objects:
        for name in ("updated_at", "created_at", "at"):
            value = getattr(obj, name, None)
            if isinstance(value, datetime):
                stamps.append(value)
                break
    return max(stamps) if stamps else SystemClock().now()


def _txn_id(session: Session) -> uuid.UUID:
    root = session.get_transaction()
    marker = session.info.get(_TXN_KEY)
    if marker is None or marker[0] is not root:
        marker = (root, uuid.uuid4())
        session.info[_TXN_KEY] = marker
    return marker[1]


def _guard(
    session: Session,
    cases: dict[uuid.UUID, str],
    debtors: set[uuid.UUID],
) -> None:
    """Refuse changes outside the active briefcase."""
    connection = session.connection()
    briefcase = SyncBriefcaseCase.__table__  # type: ignore[attr-defined]
    if cases:
        states: dict[uuid.UUID, str] = dict(
            connection.execute(
                select(briefcase.c.case_id, briefcase.c.state).where(
                    briefcase.c.case_id.in_(list(cases))
                )
            ).all()
        )
        for case_id, ref in cases.items():
            state = states.get(case_id)
            if state == "active":
                continue
            if state == "read_only":
                raise Forbidden(_(READ_ONLY_MESSAGE).format(ref=ref))
            raise Forbidden(_(NOT_CARRIED_CASE).format(ref=ref))
    if debtors:
        case_table = Case.__table__  # type: ignore[attr-defined]
        active = set(
            connection.execute(
                select(case_table.c.debtor_id)
                .join(
                    briefcase,
                    and_(briefcase.c.case_id == case_table.c.id, briefcase.c.state == "active"),
                )
                .where(case_table.c.debtor_id.in_(list(debtors)))
            ).scalars()
        )
        if debtors - active:
            raise Forbidden(_(NOT_CARRIED_DEBTOR))


def _case_ref(session: Session, case_id: uuid.UUID) -> str:
    with session.no_autoflush:
        case = session.get(Case, case_id)
    return case.client_ref if case is not None else str(case_id)


def _base_versions(session: Session, table: str, ids: list[str]) -> dict[str, int | None]:
    """The version each row had when it came from the master: that of its first operation not
    yet settled by a pull, if any."""
    if not ids:
        return {}
    outbox = SyncOutboxOp.__table__  # type: ignore[attr-defined]
    found: dict[str, int | None] = {}
    for entity_id, base in session.connection().execute(
        select(outbox.c.entity_id, outbox.c.base_version)
        .where(
            outbox.c.entity == table,
            outbox.c.entity_id.in_(ids),
            outbox.c.state.in_(("pending", "accepted")),
        )
        .order_by(outbox.c.hlc)
    ):
        found.setdefault(entity_id, base)
    return found


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    engine = _engine_of(session)
    if engine is None or engine.pool not in _engines:
        return
    laptop = _laptop(session, engine)
    if laptop is None:
        return
    device_id, agent_id = laptop

    # (kind, table, obj, payload, base version)
    pending: list[tuple[str, str, Any, dict[str, Any], int | None]] = []
    for obj in session.new:
        table = _table_name(obj)
        if table is None or table in codec.LOCAL_TABLES:
            continue
        pending.append(("insert", table, obj, {"row": codec.row_values(obj)}, None))
    for obj in session.dirty:
        table = _table_name(obj)
        if table is None or table in codec.LOCAL_TABLES:
            continue
        if not session.is_modified(obj, include_collections=False):
            continue
        new, old = _changes(obj, table)
        if not new:
            continue
        pending.append(
            ("update", table, obj, {"set": new, "was": old}, getattr(obj, "version", None))
        )
    for obj in session.deleted:
        table = _table_name(obj)
        if table is None or table in codec.LOCAL_TABLES:
            continue
        pending.append(
            ("delete", table, obj, {"row": codec.row_values(obj)}, getattr(obj, "version", None))
        )
    if not pending:
        return

    case_of = {id(obj): _case_id(session, obj, table) for _, table, obj, _, _ in pending}
    guarded: dict[uuid.UUID, str] = {}
    debtors: set[uuid.UUID] = set()
    for kind, table, obj, _change, _version in pending:
        if table == "auditevent":
            continue  # it follows the change it records, which is checked itself
        if table == "app_user":
            raise Forbidden(_(NOT_CARRIED_USERS))
        if table == "collection_case" and kind == "insert":
            raise Forbidden(_(NOT_CARRIED_PLACING))
        case_id = case_of[id(obj)]
        if case_id is not None:
            guarded.setdefault(case_id, "")
        debtor_id = _debtor_id(obj, table)
        if debtor_id is not None:
            debtors.add(debtor_id)
    for case_id in guarded:
        guarded[case_id] = _case_ref(session, case_id)
    _guard(session, guarded, debtors)

    bases: dict[tuple[str, str], int | None] = {}
    by_table: dict[str, list[str]] = {}
    for kind, table, obj, _change, _version in pending:
        if kind != "insert":
            by_table.setdefault(table, []).append(str(obj.id))
    for table, ids in by_table.items():
        for entity_id, base in _base_versions(session, table, ids).items():
            bases[(table, entity_id)] = base

    connection = session.connection()
    state = SyncState.__table__  # type: ignore[attr-defined]
    clock = connection.execute(select(state.c.clock).where(state.c.id == 1)).scalar() or ""
    wall = _wall_time(obj for _, _, obj, _, _ in pending)
    node = device_id.hex
    txn_id = _txn_id(session)
    # A laptop carries one agent's credentials: whoever changes it is that agent.
    actor_id = agent_id
    rows: list[dict[str, Any]] = []
    for kind, table, obj, payload, version in pending:
        clock = hlc.tick(clock, wall, node)
        entity_id = str(obj.id)
        base = bases.get((table, entity_id), version) if kind != "insert" else None
        rows.append(
            {
                "op_id": uuid.uuid4(),
                "txn_id": txn_id,
                "hlc": clock,
                "device_id": device_id,
                "actor_id": actor_id,
                "kind": kind,
                "entity": table,
                "entity_id": entity_id,
                "case_id": case_of[id(obj)],
                "base_version": base,
                "payload": payload,
                "created_at": wall,
                "state": "pending",
            }
        )
    connection.execute(insert(SyncOutboxOp.__table__), rows)  # type: ignore[attr-defined]
    connection.execute(update(state).where(state.c.id == 1).values(clock=clock))
