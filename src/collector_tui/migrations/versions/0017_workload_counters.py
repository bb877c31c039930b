"""workload counters: open cases, open balance and pending promises per agent and currency

`workload_counter` holds, for each (agent, currency), the open cases, their balance and the pending
promises on them: what the supervisors' workload view read by aggregating every case and every
pending promise (0.7 s at a million cases). The database keeps it: triggers on `collection_case`
and `promise` move the counters in the same statement as the change, whoever makes it (services,
the sync's apply, imports, the sweep, erasure, a hand-made fix). The unassigned cases count under
the nil UUID (a key column cannot be NULL). The table is then filled from a full recount.

`attempt_counter` holds each user's contact attempts (every activity but notes) and right-party
contacts per 15-minute UTC bucket, kept by triggers on `activity`: an agent's day (from local
midnight, which falls on a quarter hour in every zone) is then a sum of at most 96 rows instead of
a count of every attempt of the day. The right-party codes are frozen here as they are at this
revision (services/rules/dispositions.py). The index `ix_activity_voids` (partial: rows with
`voids_id`) finds the day's void notes and corrections at once.

The open statuses are frozen here as they are at this revision (models.OPEN_STATUSES): changing
them takes a migration that makes the triggers again and recounts.

A SQLite table rebuilt by a batch migration (a "move and copy") loses its triggers: a later
migration that rebuilds `collection_case` or `promise` must make these again (`workload check`
finds the drift; `--fix` recounts).

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "('new', 'active', 'promised', 'plan', 'dispute', 'legal')"
NIL_SQLITE = "'00000000000000000000000000000000'"  # a Uuid column on SQLite: 32 hex digits
NIL_PG = "'00000000-0000-0000-0000-000000000000'::uuid"
COLUMNS = "(agent_id, currency, open_cases, open_balance, pending_promises)"
ADD = (
    "ON CONFLICT (agent_id, currency) DO UPDATE SET "
    "open_cases = workload_counter.open_cases + excluded.open_cases, "
    "open_balance = workload_counter.open_balance + excluded.open_balance, "
    "pending_promises = workload_counter.pending_promises + excluded.pending_promises"
)
# services/rules/dispositions.py: the codes with right_party, at this revision.
RIGHT_PARTY = (
    "('callback', 'cease', 'dispute', 'hardship', 'paid', 'plan', 'promise', 'refused', "
    "'right_party')"
)
ATTEMPT_COLUMNS = "(user_id, bucket, attempts, contacts)"
ATTEMPT_ADD = (
    "ON CONFLICT (user_id, bucket) DO UPDATE SET "
    "attempts = attempt_counter.attempts + excluded.attempts, "
    "contacts = attempt_counter.contacts + excluded.contacts"
)
# The quarter hour of an instant as SQLite stores it ('2026-11-20 13:37:05.000000').
SQLITE_BUCKET = (
    "substr({x}, 1, 14) || printf('%02d', CAST(substr({x}, 15, 2) AS INTEGER) / 15 * 15) "
    "|| ':' || '00.000000'"  # not ':00...': op.execute would take it for a bind parameter
)
PG_BUCKET = "date_bin('15 minutes', {x}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
ATTEMPT_TRIGGERS = (
    "workload_activity_insert",
    "workload_activity_update",
    "workload_activity_delete",
)
TRIGGERS = (
    "workload_case_insert",
    "workload_case_update",
    "workload_case_delete",
    "workload_promise_insert",
    "workload_promise_update",
    "workload_promise_delete",
)


def _recount(nil: str) -> str:
    return (
        f"INSERT INTO workload_counter {COLUMNS} "
        "SELECT agent_id, currency, sum(open_cases), sum(open_balance), sum(pending_promises) "
        f"FROM (SELECT coalesce(assigned_to_id, {nil}) AS agent_id, currency, "
        "count(*) AS open_cases, sum(balance) AS open_balance, 0 AS pending_promises "
        f"FROM collection_case WHERE status IN {OPEN} GROUP BY 1, 2 "
        f"UNION ALL SELECT coalesce(c.assigned_to_id, {nil}), c.currency, 0, 0, count(*) "
        "FROM promise p JOIN collection_case c ON c.id = p.case_id "
        "WHERE p.status = 'pending' GROUP BY 1, 2) AS parts GROUP BY agent_id, currency"
    )


def _attempt_recount(bucket: str) -> str:
    return (
        f"INSERT INTO attempt_counter {ATTEMPT_COLUMNS} "
        f"SELECT user_id, {bucket.format(x='occurred_at')} AS quarter, count(*), "
        f"sum(CASE WHEN disposition IN {RIGHT_PARTY} THEN 1 ELSE 0 END) FROM activity "
        "WHERE user_id IS NOT NULL AND channel <> 'note' GROUP BY user_id, quarter"
    )


def _sqlite_attempt_triggers() -> list[str]:
    def bump(row: str, sign: str) -> str:
        return (
            f"INSERT INTO attempt_counter {ATTEMPT_COLUMNS} "
            f"SELECT {row}.user_id, {SQLITE_BUCKET.format(x=row + '.occurred_at')}, {sign}1, "
            f"{sign}(CASE WHEN {row}.disposition IN {RIGHT_PARTY} THEN 1 ELSE 0 END) "
            f"WHERE {row}.user_id IS NOT NULL AND {row}.channel <> 'note' {ATTEMPT_ADD};"
        )

    return [
        "CREATE TRIGGER workload_activity_insert AFTER INSERT ON activity "
        f"BEGIN {bump('NEW', '+')} END",
        "CREATE TRIGGER workload_activity_delete AFTER DELETE ON activity "
        f"BEGIN {bump('OLD', '-')} END",
        "CREATE TRIGGER workload_activity_update "
        "AFTER UPDATE OF user_id, occurred_at, channel, disposition ON activity "
        f"BEGIN {bump('OLD', '-')} {bump('NEW', '+')} END",
    ]


def _postgresql_attempt_triggers() -> list[str]:
    def bump(row: str, sign: str) -> str:
        return (
            f"IF {row}.user_id IS NOT NULL AND {row}.channel <> 'note' THEN "
            f"INSERT INTO attempt_counter {ATTEMPT_COLUMNS} VALUES ({row}.user_id, "
            f"{PG_BUCKET.format(x=row + '.occurred_at')}, {sign}1, "
            f"{sign}(CASE WHEN {row}.disposition IN {RIGHT_PARTY} THEN 1 ELSE 0 END)) "
            f"{ATTEMPT_ADD}; END IF;"
        )

    return [
        "CREATE OR REPLACE FUNCTION workload_attempt_counts() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {bump('OLD', '-')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {bump('NEW', '+')} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER workload_attempt_counts AFTER INSERT OR DELETE "
        "OR UPDATE OF user_id, occurred_at, channel, disposition ON activity "
        "FOR EACH ROW EXECUTE FUNCTION workload_attempt_counts()",
    ]


def _sqlite_triggers() -> list[str]:
    def opened(row: str) -> str:
        return f"(CASE WHEN {row}.status IN {OPEN} THEN 1 ELSE 0 END)"

    def balance(row: str) -> str:
        return f"(CASE WHEN {row}.status IN {OPEN} THEN {row}.balance ELSE 0 END)"

    def pending(case_id: str) -> str:
        return (
            f"(SELECT count(*) FROM promise WHERE promise.case_id = {case_id} "
            "AND promise.status = 'pending')"
        )

    same_key = "OLD.assigned_to_id IS NEW.assigned_to_id AND OLD.currency IS NEW.currency"

    def bump(row: str, sign: str, only_when: str = "1") -> str:
        # One case's whole contribution in (sign +) or out (sign -) of its key; its promises are
        # counted only when `only_when` holds.
        return (
            f"INSERT INTO workload_counter {COLUMNS} SELECT agent_id, currency, o, b, p FROM "
            f"(SELECT coalesce({row}.assigned_to_id, {NIL_SQLITE}) AS agent_id, "
            f"{row}.currency AS currency, {sign}{opened(row)} AS o, {sign}{balance(row)} AS b, "
            f"{sign}{pending(row + '.id')} AS p WHERE {only_when}) "
            f"WHERE o <> 0 OR b <> 0 OR p <> 0 {ADD};"
        )

    def promise_bump(row: str, sign: str) -> str:
        return (
            f"INSERT INTO workload_counter {COLUMNS} "
            f"SELECT coalesce(c.assigned_to_id, {NIL_SQLITE}), c.currency, 0, 0, {sign}1 "
            f"FROM collection_case AS c WHERE c.id = {row}.case_id "
            f"AND {row}.status = 'pending' {ADD};"
        )

    return [
        "CREATE TRIGGER workload_case_insert AFTER INSERT ON collection_case "
        f"BEGIN {bump('NEW', '+')} END",
        "CREATE TRIGGER workload_case_delete AFTER DELETE ON collection_case "
        f"BEGIN {bump('OLD', '-')} END",
        # A payment or a status change keeps the key: one row moves by the difference, without
        # counting the case's promises. A reassignment moves the whole contribution.
        "CREATE TRIGGER workload_case_update "
        "AFTER UPDATE OF status, balance, assigned_to_id, currency ON collection_case "
        "WHEN OLD.status IS NOT NEW.status OR OLD.balance IS NOT NEW.balance "
        "OR OLD.assigned_to_id IS NOT NEW.assigned_to_id OR OLD.currency IS NOT NEW.currency "
        f"BEGIN INSERT INTO workload_counter {COLUMNS} SELECT agent_id, currency, o, b, 0 FROM "
        f"(SELECT coalesce(NEW.assigned_to_id, {NIL_SQLITE}) AS agent_id, "
        f"NEW.currency AS currency, {opened('NEW')} - {opened('OLD')} AS o, "
        f"{balance('NEW')} - {balance('OLD')} AS b) "
        f"WHERE {same_key} AND (o <> 0 OR b <> 0) {ADD}; "
        f"{bump('OLD', '-', f'NOT ({same_key})')} "
        f"{bump('NEW', '+', f'NOT ({same_key})')} END",
        "CREATE TRIGGER workload_promise_insert AFTER INSERT ON promise "
        f"WHEN NEW.status = 'pending' BEGIN {promise_bump('NEW', '+')} END",
        "CREATE TRIGGER workload_promise_delete AFTER DELETE ON promise "
        f"WHEN OLD.status = 'pending' BEGIN {promise_bump('OLD', '-')} END",
        "CREATE TRIGGER workload_promise_update AFTER UPDATE OF status, case_id ON promise "
        "WHEN (OLD.status = 'pending') IS NOT (NEW.status = 'pending') "
        "OR OLD.case_id IS NOT NEW.case_id "
        f"BEGIN {promise_bump('OLD', '-')} {promise_bump('NEW', '+')} END",
    ]


def _postgresql_triggers() -> list[str]:
    opened = "(CASE WHEN {r}.status IN " + OPEN + " THEN 1 ELSE 0 END)"
    balance = "(CASE WHEN {r}.status IN " + OPEN + " THEN {r}.balance ELSE 0 END)"
    pending = (
        "(SELECT count(*) FROM promise WHERE promise.case_id = {r}.id "
        "AND promise.status = 'pending')"
    )

    def contribution(row: str, sign: str) -> str:
        return (
            f"PERFORM workload_bump(coalesce({row}.assigned_to_id, {NIL_PG}), {row}.currency, "
            f"{sign}{opened.format(r=row)}, {sign}{balance.format(r=row)}, "
            f"{sign}{pending.format(r=row)});"
        )

    def promise_bump(row: str, sign: str) -> str:
        return (
            f"IF {row}.status = 'pending' THEN "
            f"PERFORM workload_bump(coalesce(c.assigned_to_id, {NIL_PG}), c.currency, 0, 0, "
            f"{sign}1) FROM collection_case AS c WHERE c.id = {row}.case_id; END IF;"
        )

    return [
        "CREATE OR REPLACE FUNCTION workload_bump(agent uuid, cur varchar, d_open bigint, "
        "d_balance bigint, d_pending bigint) RETURNS void LANGUAGE sql AS $$ "
        f"INSERT INTO workload_counter {COLUMNS} "
        "SELECT agent, cur, d_open, d_balance, d_pending "
        "WHERE d_open <> 0 OR d_balance <> 0 OR d_pending <> 0 "
        f"{ADD} $$",
        "CREATE OR REPLACE FUNCTION workload_case_counts() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN "
        "IF TG_OP = 'UPDATE' AND OLD.assigned_to_id IS NOT DISTINCT FROM NEW.assigned_to_id "
        "AND OLD.currency = NEW.currency THEN "
        f"PERFORM workload_bump(coalesce(NEW.assigned_to_id, {NIL_PG}), NEW.currency, "
        f"{opened.format(r='NEW')} - {opened.format(r='OLD')}, "
        f"{balance.format(r='NEW')} - {balance.format(r='OLD')}, 0); RETURN NULL; END IF; "
        f"IF TG_OP <> 'INSERT' THEN {contribution('OLD', '-')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {contribution('NEW', '+')} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER workload_case_counts AFTER INSERT OR DELETE "
        "OR UPDATE OF status, balance, assigned_to_id, currency ON collection_case "
        "FOR EACH ROW EXECUTE FUNCTION workload_case_counts()",
        "CREATE OR REPLACE FUNCTION workload_promise_counts() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN "
        "IF TG_OP = 'UPDATE' AND OLD.case_id = NEW.case_id "
        "AND (OLD.status = 'pending') = (NEW.status = 'pending') THEN RETURN NULL; END IF; "
        f"IF TG_OP <> 'INSERT' THEN {promise_bump('OLD', '-')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {promise_bump('NEW', '+')} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER workload_promise_counts AFTER INSERT OR DELETE "
        "OR UPDATE OF status, case_id ON promise "
        "FOR EACH ROW EXECUTE FUNCTION workload_promise_counts()",
    ]


def upgrade() -> None:
    op.create_table(
        "workload_counter",
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("open_cases", sa.Integer(), server_default="0", nullable=False),
        sa.Column("open_balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pending_promises", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "currency"),
    )
    op.create_table(
        "attempt_counter",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bucket", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("contacts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("user_id", "bucket"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements, nil = _sqlite_triggers() + _sqlite_attempt_triggers(), NIL_SQLITE
        bucket = SQLITE_BUCKET
    elif dialect == "postgresql":
        statements, nil = _postgresql_triggers() + _postgresql_attempt_triggers(), NIL_PG
        bucket = PG_BUCKET
    else:  # pragma: no cover - the app runs on SQLite and PostgreSQL only
        raise NotImplementedError(dialect)
    for statement in statements:
        op.execute(statement)
    op.execute(_recount(nil))
    op.execute(_attempt_recount(bucket))
    # Void notes and corrections by instant: the workload's attempts of the day found the voided
    # ones with a look-up per attempt of the day (seconds at a million cases).
    op.create_index(
        "ix_activity_voids",
        "activity",
        ["occurred_at"],
        sqlite_where=sa.text("voids_id IS NOT NULL"),
        postgresql_where=sa.text("voids_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_activity_voids", table_name="activity")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS + ATTEMPT_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS workload_attempt_counts ON activity")
        op.execute("DROP FUNCTION IF EXISTS workload_attempt_counts()")
        op.execute("DROP TRIGGER IF EXISTS workload_case_counts ON collection_case")
        op.execute("DROP TRIGGER IF EXISTS workload_promise_counts ON promise")
        op.execute("DROP FUNCTION IF EXISTS workload_case_counts()")
        op.execute("DROP FUNCTION IF EXISTS workload_promise_counts()")
        op.execute("DROP FUNCTION IF EXISTS workload_bump(uuid, varchar, bigint, bigint, bigint)")
    op.drop_table("attempt_counter")
    op.drop_table("workload_counter")
