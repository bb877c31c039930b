"""The briefcase: one agent's cases, scoped on the master, carried to a laptop (a pull).

`export_briefcase` reads, on the master, the cases assigned to the agent with everything the
laptop needs to work them offline: the debtor, phones, invoices, holds, the whole activity
history, promises, plans, payments and their allocations, follow-ups and assignment history; the
users (only the agent's own password hash: the others cannot log in on the laptop); the answers to
operations the laptop pushed; and the compliance context: the recent attempts on the same
debtors' other cases and on numbers they share, carried without notes or names, so the laptop's
queue counts every call the master would count (docs/decisions.md, compliance).

`apply_briefcase` writes it into the laptop (creating its `sync_state` on the first pull):

- an active case with no change waiting in the outbox is replaced by the master's rows (rows the
  master no longer has are removed), so after a pull the laptop's briefcase equals the master's;
- a case with changes still waiting keeps the laptop's rows until they are pushed;
- a case moved to someone else becomes read-only (out of the agent's queue, refused by the
  outbox listener), and once nothing of it waits in the outbox its personal data is deleted
  (SQLite `secure_delete` is on, so it leaves the file).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, func, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from collector_tui.config import Settings
from collector_tui.db import in_batches
from collector_tui.i18n import gettext as _
from collector_tui.models import TIER_NONE
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.sync import codec, hlc
from collector_tui.services.sync.devices import IssuedKey
from collector_tui.services.sync.state import LAPTOP, master_state

CHUNK = 500
# Answers older than this are not carried in a packet (the laptop has settled them long ago).
ANSWER_DAYS = 90
# A packet does not know the laptop's cases: moves away from the agent this recent are carried.
MOVED_DAYS = 365
# Conflicts and rejections stay on the laptop this long for `sync status` and the sync screen.
ANSWER_KEPT_DAYS = 30
CONTEXT_CLIENT = "~context"
CONTEXT_NAME = "(debtor not in this briefcase)"
UNUSABLE_HASH = "!offline"  # verify_password refuses it: only the agent logs in on a laptop
CASE_TABLES = codec.CASE_TABLES
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Briefcase:
    """What a pull carries, JSON-ready (rows are encoded by `codec`)."""

    master_id: uuid.UUID
    master_clock: str
    agent_id: uuid.UUID
    agent_username: str
    created_at: datetime
    case_ids: tuple[uuid.UUID, ...]
    rows: dict[str, list[dict[str, Any]]]
    context: dict[str, list[dict[str, Any]]]
    moved: dict[uuid.UUID, uuid.UUID | None]  # cases moved away: their owner now
    answers: tuple[dict[str, Any], ...]  # {op_id, outcome, message}
    window_days: int
    # A packet only: the device key the master made for a laptop created from it (devices.py).
    device: IssuedKey | None = None

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


@dataclass(frozen=True)
class PullResult:
    created: bool
    cases: int  # active in the briefcase after the pull
    refreshed: int
    kept_local: int  # changes still waiting: left as the laptop has them
    read_only: int
    purged: int
    context_cases: int
    answers: int


def _select_in(
    connection: Connection, table: Table, column: str, values: Collection[Any]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in in_batches(sorted(values, key=str)):
        statement = select(table).where(table.c[column].in_(batch))
        found.extend(dict(row) for row in connection.execute(statement).mappings())
    return found


def _by_id(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((codec.encode_row(row) for row in rows), key=lambda row: str(row["id"]))


def history_window_days(settings: Settings) -> int:
    """Days of attempts the longest rolling window of any pack in use needs (plus a day for
    local calendars that start before UTC's, as services/compliance does)."""
    from collector_tui.services.rules import compliance

    names = {"default", settings.default_pack}
    names.update(compliance.BUILTIN_COUNTRY_PACKS.values())
    names.update(settings.country_packs.values())
    if settings.packs_dir and Path(settings.packs_dir).expanduser().is_dir():
        names.update(path.stem for path in Path(settings.packs_dir).expanduser().glob("*.toml"))
    days = 1
    for name in names:
        try:
            days = max(days, compliance.load_pack(name, settings).history_days)
        except Exception:  # noqa: BLE001 - a broken override pack must not stop a pull
            continue
    return days + 1


# --- on the master ----------------------------------------------------------------------------


def case_rows(
    connection: Connection, case_ids: Collection[uuid.UUID]
) -> dict[str, list[dict[str, Any]]]:
    """Every row of these cases, by table (debtors and phones included), encoded and sorted."""
    tables = {name: codec.table(name) for name in codec.BRIEFCASE_TABLES}
    cases = _select_in(connection, tables["collection_case"], "id", case_ids)
    debtor_ids = {row["debtor_id"] for row in cases}
    rows: dict[str, list[dict[str, Any]]] = {
        "collection_case": _by_id(cases),
        "debtor": _by_id(_select_in(connection, tables["debtor"], "id", debtor_ids)),
    }
    for name in codec.DEBTOR_TABLES:
        rows[name] = _by_id(_select_in(connection, tables[name], "debtor_id", debtor_ids))
    for name in CASE_TABLES:
        rows[name] = _by_id(_select_in(connection, tables[name], "case_id", case_ids))
    payment_ids = {uuid.UUID(row["id"]) for row in rows["payment"]}
    rows["paymentallocation"] = _by_id(
        _select_in(connection, tables["paymentallocation"], "payment_id", payment_ids)
    )
    return rows


def _context(
    connection: Connection,
    case_ids: set[uuid.UUID],
    debtor_ids: set[uuid.UUID],
    numbers: set[str],
    since: datetime,
) -> dict[str, list[dict[str, Any]]]:
    """Recent attempts elsewhere that the laptop's compliance counts must see, stripped of
    notes; their cases and debtors as anonymous stand-ins."""
    activity = codec.table("activity")
    case = codec.table("collection_case")
    found: dict[uuid.UUID, dict[str, Any]] = {}
    conditions = []
    if debtor_ids:
        for batch in in_batches(sorted(debtor_ids, key=str)):
            conditions.append(case.c.debtor_id.in_(batch))
    if numbers:
        for number_batch in in_batches(sorted(numbers)):
            conditions.append(activity.c.phone_e164.in_(number_batch))
    if not conditions:
        return {}
    statement = (
        select(activity, case.c.debtor_id.label("case_debtor_id"))
        .join(case, case.c.id == activity.c.case_id)
        .where(
            activity.c.occurred_at >= since,
            activity.c.channel != "note",
            or_(*conditions),
        )
    )
    debtor_of_case: dict[uuid.UUID, uuid.UUID] = {}
    for row in connection.execute(statement).mappings():
        if row["case_id"] in case_ids:
            continue
        values = {key: row[key] for key in activity.c.keys()}
        found[values["id"]] = values
        debtor_of_case[values["case_id"]] = row["case_debtor_id"]
    # A correction and what it voids count for nothing: carry neither.
    voided = {row["voids_id"] for row in found.values() if row["voids_id"] is not None}
    if found:
        for batch in in_batches(sorted(found, key=str)):
            voided.update(
                connection.execute(
                    select(activity.c.voids_id).where(activity.c.voids_id.in_(batch))
                ).scalars()
            )
    rows = [
        {**row, "note": None, "phone_id": None, "duration_s": None}
        for key, row in found.items()
        if key not in voided and row["voids_id"] is None
    ]
    if not rows:
        return {}
    context_case_ids = {row["case_id"] for row in rows}
    cases = _select_in(connection, case, "id", context_case_ids)
    stand_in_cases = [
        {
            **row,
            "client": CONTEXT_CLIENT,
            "client_ref": str(row["id"]),
            "principal": 0,
            "fees": 0,
            "interest": 0,
            "balance": 0,
            "status": "closed",
            "queue_tier": TIER_NONE,
            "priority": 0,
            "score": 0,
            "score_factors": [],
            "next_action_at": None,
            "last_attempt_at": None,
            "last_contact_at": None,
            "routed_reason": None,
            "strategy": None,
            "strategy_group": None,
            "strategy_reason": None,
            "strategy_treatment": None,
        }
        for row in cases
    ]
    others = {debtor_of_case[case_id] for case_id in context_case_ids} - debtor_ids
    stand_in_debtors = [
        {
            **row,
            "name": CONTEXT_NAME,
            "address": None,
            "language": None,
            "risk_grade": None,
            "capacity_notes": None,
            "deceased": False,
            "bankrupt": False,
        }
        for row in _select_in(connection, codec.table("debtor"), "id", others)
    ]
    return {
        "debtor": _by_id(stand_in_debtors),
        "collection_case": _by_id(stand_in_cases),
        "activity": _by_id(rows),
    }


def export_briefcase(
    *,
    session: Session,
    now: datetime,
    agent_id: uuid.UUID,
    settings: Settings,
    laptop_cases: Collection[uuid.UUID] | None = None,
    waiting_ops: Collection[uuid.UUID] | None = None,
) -> Briefcase:
    """The agent's briefcase as the master has it now.

    `laptop_cases` (a direct pull knows them) says which moved cases to report; a packet does
    not know, and reports the moves of the last MOVED_DAYS. `waiting_ops` likewise picks the
    answers to carry; without it, the agent's answers of the last ANSWER_DAYS.
    """
    state = master_state(session=session, now=now)
    state.clock = hlc.receive(state.clock, hlc.of_instant(now))
    session.add(state)
    session.flush()
    connection = session.connection()
    users = codec.table("app_user")
    agent = connection.execute(select(users).where(users.c.id == agent_id)).mappings().first()
    if agent is None:
        raise InvalidInput(_("no such agent"))
    case = codec.table("collection_case")
    case_ids = set(
        connection.execute(select(case.c.id).where(case.c.assigned_to_id == agent_id)).scalars()
    )
    rows = case_rows(connection, case_ids)
    rows["app_user"] = _by_id(
        {
            **dict(row),
            "password_hash": row["password_hash"] if row["id"] == agent_id else UNUSABLE_HASH,
        }
        for row in connection.execute(select(users)).mappings()
    )

    window = history_window_days(settings)
    debtor_ids = {uuid.UUID(row["id"]) for row in rows["debtor"]}
    numbers = {row["e164"] for row in rows["phone"] if row["e164"]}
    context = _context(connection, case_ids, debtor_ids, numbers, now - timedelta(days=window))

    moved: dict[uuid.UUID, uuid.UUID | None] = {}
    if laptop_cases is not None:
        away = set(laptop_cases) - case_ids
        owners = {
            row["id"]: row["assigned_to_id"] for row in _select_in(connection, case, "id", away)
        }
        moved = {case_id: owners.get(case_id) for case_id in away}
    else:
        assignment = codec.table("assignment")
        recent = (
            set(
                connection.execute(
                    select(assignment.c.case_id).where(
                        assignment.c.from_user_id == agent_id,
                        assignment.c.at >= now - timedelta(days=MOVED_DAYS),
                    )
                ).scalars()
            )
            - case_ids
        )
        moved = {
            row["id"]: row["assigned_to_id"] for row in _select_in(connection, case, "id", recent)
        }

    applied = codec.table("sync_applied_op")
    answer_query = select(applied.c.op_id, applied.c.outcome, applied.c.message)
    if waiting_ops is not None:
        answers: list[Row[Any, Any, Any]] = []
        for batch in in_batches(sorted(waiting_ops, key=str)):
            answers.extend(connection.execute(answer_query.where(applied.c.op_id.in_(batch))).all())
    else:
        answers = list(
            connection.execute(
                answer_query.where(
                    applied.c.actor_id == agent_id,
                    applied.c.applied_at >= now - timedelta(days=ANSWER_DAYS),
                )
            ).all()
        )
    return Briefcase(
        master_id=state.device_id,
        master_clock=state.clock,
        agent_id=agent_id,
        agent_username=str(agent["username"]),
        created_at=now,
        case_ids=tuple(sorted(case_ids, key=str)),
        rows=rows,
        context=context,
        moved=moved,
        answers=tuple(
            {"op_id": str(op_id), "outcome": outcome, "message": message}
            for op_id, outcome, message in sorted(answers, key=lambda a: str(a[0]))
        ),
        window_days=window,
    )


# --- on the laptop ----------------------------------------------------------------------------


def _upsert(connection: Connection, name: str, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    table = codec.table(name)
    values = [codec.decode_row(name, row) for row in rows]
    for batch in in_batches(values):
        statement = sqlite_insert(table)
        keys = [column.name for column in table.primary_key.columns]
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
        )
        connection.execute(statement, batch)


def _ids(rows: Iterable[dict[str, Any]], key: str = "id") -> set[uuid.UUID]:
    return {
        value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        for value in (row[key] for row in rows)
    }


def _delete_missing(
    connection: Connection, name: str, column: str, owners: set[uuid.UUID], keep: set[uuid.UUID]
) -> None:
    """Delete the rows of `owners` (by `column`) that are not in `keep`."""
    table = codec.table(name)
    for batch in in_batches(sorted(owners, key=str)):
        present = set(
            connection.execute(select(table.c.id).where(table.c[column].in_(batch))).scalars()
        )
        gone = sorted(present - keep, key=str)
        for chunk in in_batches(gone):
            connection.execute(delete(table).where(table.c.id.in_(chunk)))


def _case_row_ids(connection: Connection, case_ids: set[uuid.UUID]) -> dict[str, set[uuid.UUID]]:
    found: dict[str, set[uuid.UUID]] = {}
    for name in CASE_TABLES:
        table = codec.table(name)
        found[name] = set()
        for batch in in_batches(sorted(case_ids, key=str)):
            found[name].update(
                connection.execute(select(table.c.id).where(table.c.case_id.in_(batch))).scalars()
            )
    allocation = codec.table("paymentallocation")
    found["paymentallocation"] = set()
    for batch in in_batches(sorted(found["payment"], key=str)):
        found["paymentallocation"].update(
            connection.execute(
                select(allocation.c.id).where(allocation.c.payment_id.in_(batch))
            ).scalars()
        )
    return found


def _drop_audit_of(connection: Connection, entity_ids: set[uuid.UUID]) -> None:
    """Remove the laptop's own copies of audit events about purged rows (already on the master:
    nothing of the case waits in the outbox). The append-only trigger stands aside for this
    one statement, inside the same transaction."""
    if not entity_ids:
        return
    audit = codec.table("auditevent")
    connection.exec_driver_sql("DROP TRIGGER IF EXISTS auditevent_no_delete")
    for batch in in_batches(sorted(str(i) for i in entity_ids)):
        connection.execute(delete(audit).where(audit.c.entity_id.in_(batch)))
    connection.exec_driver_sql(
        "CREATE TRIGGER auditevent_no_delete BEFORE DELETE ON auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )


def purge_cases(connection: Connection, case_ids: set[uuid.UUID]) -> None:
    """Delete the cases and everything of theirs from the laptop; debtors no case uses any more
    go too, and a debtor left only to compliance context becomes an anonymous stand-in."""
    if not case_ids:
        return
    case = codec.table("collection_case")
    debtor_ids: set[uuid.UUID] = set()
    for batch in in_batches(sorted(case_ids, key=str)):
        debtor_ids.update(
            connection.execute(select(case.c.debtor_id).where(case.c.id.in_(batch))).scalars()
        )
    rows = _case_row_ids(connection, case_ids)
    entity_ids = set(case_ids)
    for ids in rows.values():
        entity_ids.update(ids)
    for name in ("paymentallocation",):
        table = codec.table(name)
        for batch in in_batches(sorted(rows[name], key=str)):
            connection.execute(delete(table).where(table.c.id.in_(batch)))
    draft = codec.table("draft")
    for name in (*reversed(CASE_TABLES), "draft"):
        table = draft if name == "draft" else codec.table(name)
        for batch in in_batches(sorted(case_ids, key=str)):
            connection.execute(delete(table).where(table.c.case_id.in_(batch)))
    briefcase = codec.table("sync_briefcase")
    for batch in in_batches(sorted(case_ids, key=str)):
        connection.execute(delete(briefcase).where(briefcase.c.case_id.in_(batch)))
        connection.execute(delete(case).where(case.c.id.in_(batch)))
    _drop_audit_of(connection, entity_ids)
    _tidy_debtors(connection, debtor_ids)


def _tidy_debtors(connection: Connection, debtor_ids: set[uuid.UUID]) -> None:
    case = codec.table("collection_case")
    debtor = codec.table("debtor")
    briefcase = codec.table("sync_briefcase")
    for debtor_id in sorted(debtor_ids, key=str):
        users = (
            connection.execute(
                select(briefcase.c.state)
                .select_from(case.join(briefcase, briefcase.c.case_id == case.c.id, isouter=True))
                .where(case.c.debtor_id == debtor_id)
            )
            .scalars()
            .all()
        )
        if any(state in ("active", "read_only") for state in users):
            continue
        for name in reversed(codec.DEBTOR_TABLES):
            contacts = codec.table(name)
            connection.execute(delete(contacts).where(contacts.c.debtor_id == debtor_id))
        if users:
            connection.execute(
                update(debtor)
                .where(debtor.c.id == debtor_id)
                .values(
                    name=CONTEXT_NAME,
                    address=None,
                    language=None,
                    risk_grade=None,
                    capacity_notes=None,
                    deceased=False,
                    bankrupt=False,
                )
            )
        else:
            _drop_audit_of(connection, {debtor_id})
            connection.execute(delete(debtor).where(debtor.c.id == debtor_id))


def _waiting(connection: Connection) -> tuple[set[uuid.UUID], set[str]]:
    """(cases, debtor/phone ids) with operations not yet answered by the master."""
    outbox = codec.table("sync_outbox")
    cases: set[uuid.UUID] = set()
    others: set[str] = set()
    for case_id, entity, entity_id in connection.execute(
        select(outbox.c.case_id, outbox.c.entity, outbox.c.entity_id).where(
            outbox.c.state == "pending"
        )
    ):
        if case_id is not None:
            cases.add(case_id)
        if entity == "debtor" or entity in codec.DEBTOR_TABLES:
            others.add(entity_id)
    return cases, others


def _record_answers(
    connection: Connection, answers: Iterable[dict[str, Any]], now: datetime
) -> int:
    outbox = codec.table("sync_outbox")
    count = 0
    for answer in answers:
        if answer.get("outcome") not in ("accepted", "rejected", "conflict"):
            continue
        result = connection.execute(
            update(outbox)
            .where(outbox.c.op_id == uuid.UUID(str(answer["op_id"])), outbox.c.state == "pending")
            .values(
                state=answer["outcome"], answer=(answer.get("message") or None), answered_at=now
            )
        )
        count += result.rowcount or 0
    return count


def _check_laptop(connection: Connection, briefcase: Briefcase) -> tuple[bool, Any]:
    state = codec.table("sync_state")
    row = connection.execute(select(state)).mappings().first()
    if row is None:
        case = codec.table("collection_case")
        if connection.execute(select(func.count()).select_from(case)).scalar():
            raise Forbidden(
                _("this database already holds cases and is not a laptop: pull into a new file")
            )
        return True, None
    if row["role"] != LAPTOP:
        raise Forbidden(_("this database is a master, not a laptop: pull into a laptop's file"))
    if row["master_id"] is not None and row["master_id"] != briefcase.master_id:
        raise Forbidden(_("this laptop belongs to another master database"))
    if row["agent_id"] != briefcase.agent_id:
        raise Forbidden(_("this laptop is another agent's: each agent pulls into their own file"))
    return False, row


def apply_briefcase(
    *,
    connection: Connection,
    now: datetime,
    briefcase: Briefcase,
    master: str | None,
    progress: Progress | None = None,
) -> PullResult:
    """Write the briefcase into the laptop on `connection` (one transaction, SQLite)."""
    if connection.dialect.name != "sqlite":
        raise InvalidInput(_("a laptop is a SQLite file"))
    tell = progress or (lambda _text, _done: None)
    created, existing = _check_laptop(connection, briefcase)
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    if created:
        _create_state(connection, now, briefcase, master)
    answers = _record_answers(connection, briefcase.answers, now)
    tell(_("users"), 0.1)
    _upsert(connection, "app_user", briefcase.rows.get("app_user", []))

    briefcase_table = codec.table("sync_briefcase")
    held = dict(
        connection.execute(select(briefcase_table.c.case_id, briefcase_table.c.state)).all()
    )
    waiting_cases, waiting_other = _waiting(connection)
    incoming = set(briefcase.case_ids)
    kept_local = incoming & waiting_cases
    fresh = incoming - waiting_cases

    cases_in = _refresh_cases(connection, briefcase, fresh, waiting_other, tell)
    read_only, purge = _cases_moved_away(connection, briefcase, held, incoming, waiting_cases, tell)
    context_ids = _replace_context(connection, briefcase, held, incoming, read_only, cases_in, tell)
    _mark_briefcase(connection, briefcase, now, incoming, read_only, context_ids)

    # Settled: an accepted operation once the laptop holds the master's rows it went into, and
    # anything about a dropped case. Conflicts and rejections stay a while for `sync status`.
    _settle(connection, fresh, purge, now)
    _finish_state(connection, existing, briefcase, master, now)
    tell(_("done"), 1.0)
    return PullResult(
        created=created,
        cases=len(incoming),
        refreshed=len(fresh),
        kept_local=len(kept_local),
        read_only=len(read_only),
        purged=len(purge),
        context_cases=len(context_ids),
        answers=answers,
    )


def _create_state(
    connection: Connection, now: datetime, briefcase: Briefcase, master: str | None
) -> None:
    """The laptop's sync state, on its first pull."""
    state = codec.table("sync_state")
    connection.execute(
        state.insert().values(
            id=1,
            role=LAPTOP,
            device_id=uuid.uuid4(),
            master=master,
            master_id=briefcase.master_id,
            agent_id=briefcase.agent_id,
            clock=briefcase.master_clock,
            created_at=now,
        )
    )


def _refresh_cases(
    connection: Connection,
    briefcase: Briefcase,
    fresh: set[uuid.UUID],
    waiting_other: set[str],
    tell: Progress,
) -> list[dict[str, Any]]:
    """The rows of the cases refreshed from the master (those with no change waiting on the
    laptop): debtors, phones, cases and their rows, each table made equal to the master's. The
    case rows taken."""
    rows = briefcase.rows
    cases_in = [row for row in rows.get("collection_case", []) if uuid.UUID(row["id"]) in fresh]
    debtors_in = {uuid.UUID(row["debtor_id"]) for row in cases_in}
    debtor_rows = [
        row
        for row in rows.get("debtor", [])
        if uuid.UUID(row["id"]) in debtors_in and row["id"] not in waiting_other
    ]
    refreshed_debtors = _ids(debtor_rows)
    contact_rows = {
        name: [
            row
            for row in rows.get(name, [])
            if uuid.UUID(row["debtor_id"]) in refreshed_debtors and row["id"] not in waiting_other
        ]
        for name in codec.DEBTOR_TABLES
    }
    tell(_("debtors and phones"), 0.25)
    _upsert(connection, "debtor", debtor_rows)
    for name in codec.DEBTOR_TABLES:
        _upsert(connection, name, contact_rows[name])
    # A debtor with contact changes still to go keeps all its contact rows until they are answered.
    settled = refreshed_debtors - _debtors_with_waiting_phones(connection, waiting_other)
    for name in reversed(codec.DEBTOR_TABLES):
        _delete_missing(connection, name, "debtor_id", settled, _ids(contact_rows[name]))
    tell(_("cases"), 0.4)
    _upsert(connection, "collection_case", cases_in)
    # A case the laptop has as context becomes a real one (or the other way round) right here.
    for name in CASE_TABLES:
        tell(name, 0.4 + 0.04 * CASE_TABLES.index(name))
        table_rows = [row for row in rows.get(name, []) if uuid.UUID(row["case_id"]) in fresh]
        _upsert(connection, name, table_rows)
    payments_in = _ids(row for row in rows.get("payment", []) if uuid.UUID(row["case_id"]) in fresh)
    allocations = [
        row
        for row in rows.get("paymentallocation", [])
        if uuid.UUID(row["payment_id"]) in payments_in
    ]
    _upsert(connection, "paymentallocation", allocations)
    present = _case_row_ids(connection, fresh)
    for name in ("paymentallocation", *reversed(CASE_TABLES)):
        keep = (
            _ids(allocations)
            if name == "paymentallocation"
            else _ids(row for row in rows.get(name, []) if uuid.UUID(row["case_id"]) in fresh)
        )
        table = codec.table(name)
        for batch in in_batches(sorted(present[name] - keep, key=str)):
            connection.execute(delete(table).where(table.c.id.in_(batch)))
    return cases_in


def _cases_moved_away(
    connection: Connection,
    briefcase: Briefcase,
    held: dict[uuid.UUID, str],
    incoming: set[uuid.UUID],
    waiting_cases: set[uuid.UUID],
    tell: Progress,
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Cases no longer the agent's: kept read-only while changes wait on them, else purged.
    The read-only ones and the purged ones."""
    tell(_("cases moved away"), 0.8)
    laptop_cases = {case_id for case_id, s in held.items() if s in ("active", "read_only")}
    away = laptop_cases - incoming
    case_table = codec.table("collection_case")
    read_only = away & waiting_cases
    purge = away - waiting_cases
    for case_id in sorted(read_only, key=str):
        owner = briefcase.moved.get(case_id)
        connection.execute(
            update(case_table).where(case_table.c.id == case_id).values(assigned_to_id=owner)
        )
    purge_cases(connection, purge)
    return read_only, purge


def _replace_context(
    connection: Connection,
    briefcase: Briefcase,
    held: dict[uuid.UUID, str],
    incoming: set[uuid.UUID],
    read_only: set[uuid.UUID],
    cases_in: list[dict[str, Any]],
    tell: Progress,
) -> set[uuid.UUID]:
    """The compliance context (stand-in cases and their activities), replaced as a whole; then
    debtors no case points at any more. The context case ids."""
    briefcase_table = codec.table("sync_briefcase")
    case_table = codec.table("collection_case")
    tell(_("compliance context"), 0.9)
    old_context = {case_id for case_id, s in held.items() if s == "context"}
    context_cases_in = [
        row
        for row in briefcase.context.get("collection_case", [])
        if uuid.UUID(row["id"]) not in read_only | incoming
    ]
    context_ids = _ids(context_cases_in)
    if old_context:
        activity = codec.table("activity")
        stale = old_context - incoming
        for batch in in_batches(sorted(stale, key=str)):
            connection.execute(delete(activity).where(activity.c.case_id.in_(batch)))
        gone = stale - context_ids
        for batch in in_batches(sorted(gone, key=str)):
            connection.execute(delete(briefcase_table).where(briefcase_table.c.case_id.in_(batch)))
            connection.execute(delete(case_table).where(case_table.c.id.in_(batch)))
    real_debtors = set(
        connection.execute(
            select(case_table.c.debtor_id)
            .join(briefcase_table, briefcase_table.c.case_id == case_table.c.id)
            .where(briefcase_table.c.state.in_(("active", "read_only")))
        ).scalars()
    ) | {uuid.UUID(row["debtor_id"]) for row in cases_in}
    _upsert(
        connection,
        "debtor",
        [
            row
            for row in briefcase.context.get("debtor", [])
            if uuid.UUID(row["id"]) not in real_debtors
        ],
    )
    _upsert(connection, "collection_case", context_cases_in)
    _upsert(
        connection,
        "activity",
        [
            row
            for row in briefcase.context.get("activity", [])
            if uuid.UUID(row["case_id"]) in context_ids
        ],
    )
    # Debtors no case points at any more (their last stand-in went): gone with their phones.
    case_debtors = set(connection.execute(select(case_table.c.debtor_id)).scalars())
    debtor = codec.table("debtor")
    orphans = set(connection.execute(select(debtor.c.id)).scalars()) - case_debtors
    for batch in in_batches(sorted(orphans, key=str)):
        for name in reversed(codec.DEBTOR_TABLES):
            contacts = codec.table(name)
            connection.execute(delete(contacts).where(contacts.c.debtor_id.in_(batch)))
        connection.execute(delete(debtor).where(debtor.c.id.in_(batch)))
    return context_ids


def _mark_briefcase(
    connection: Connection,
    briefcase: Briefcase,
    now: datetime,
    incoming: set[uuid.UUID],
    read_only: set[uuid.UUID],
    context_ids: set[uuid.UUID],
) -> None:
    """The briefcase index: every case the laptop holds and why."""
    marks: list[dict[str, Any]] = []
    for case_id in incoming:
        marks.append(
            {
                "case_id": case_id,
                "state": "active",
                "owner_id": briefcase.agent_id,
                "reason": None,
                "pulled_at": now,
            }
        )
    for case_id in read_only:
        owner = briefcase.moved.get(case_id)
        marks.append(
            {
                "case_id": case_id,
                "state": "read_only",
                "owner_id": owner,
                "reason": "moved to another agent on the master",
                "pulled_at": now,
            }
        )
    for case_id in context_ids:
        marks.append(
            {
                "case_id": case_id,
                "state": "context",
                "owner_id": None,
                "reason": "compliance context",
                "pulled_at": now,
            }
        )
    _upsert(connection, "sync_briefcase", [codec.encode_row(mark) for mark in marks])


def _finish_state(
    connection: Connection,
    existing: Any,
    briefcase: Briefcase,
    master: str | None,
    now: datetime,
) -> None:
    """The laptop's clock moves past the master's; the time and source of this pull."""
    state = codec.table("sync_state")
    clock = existing["clock"] if existing is not None else briefcase.master_clock
    connection.execute(
        update(state)
        .where(state.c.id == 1)
        .values(
            clock=hlc.receive(clock, briefcase.master_clock),
            last_pull_at=now,
            master=master
            if master is not None
            else (existing["master"] if existing is not None else None),
        )
    )


def _settle(
    connection: Connection, fresh: set[uuid.UUID], purged: set[uuid.UUID], now: datetime
) -> None:
    outbox = codec.table("sync_outbox")
    answered = outbox.c.state != "pending"
    connection.execute(
        delete(outbox).where(answered, outbox.c.state == "accepted", outbox.c.case_id.is_(None))
    )
    connection.execute(
        delete(outbox).where(
            answered, outbox.c.answered_at < now - timedelta(days=ANSWER_KEPT_DAYS)
        )
    )
    for cases, accepted_only in ((fresh, True), (purged, False)):
        for batch in in_batches(sorted(cases, key=str)):
            statement = delete(outbox).where(answered, outbox.c.case_id.in_(batch))
            if accepted_only:
                statement = statement.where(outbox.c.state == "accepted")
            connection.execute(statement)


def _debtors_with_waiting_phones(connection: Connection, waiting_other: set[str]) -> set[uuid.UUID]:
    """The debtors with a contact row (phone, address, e-mail, third party) still to go."""
    if not waiting_other:
        return set()
    found: set[uuid.UUID] = set()
    for name in codec.DEBTOR_TABLES:
        table = codec.table(name)
        for batch in in_batches(sorted(waiting_other)):
            ids = [uuid.UUID(value) for value in batch]
            found.update(
                connection.execute(select(table.c.debtor_id).where(table.c.id.in_(ids))).scalars()
            )
    return found


def laptop_rows(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """The laptop's active briefcase as `case_rows` reads it (for checks and tests)."""
    briefcase = codec.table("sync_briefcase")
    active = set(
        connection.execute(
            select(briefcase.c.case_id).where(briefcase.c.state == "active")
        ).scalars()
    )
    return case_rows(connection, active)


__all__ = [
    "Briefcase",
    "PullResult",
    "apply_briefcase",
    "case_rows",
    "export_briefcase",
    "history_window_days",
    "laptop_rows",
    "purge_cases",
]
