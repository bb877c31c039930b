"""privacy: erasure on request redacts audit values; the master keeps the recovery key

The master keeps the team's recovery public key (`sync_state.recovery_key`): an encrypted laptop
file made by `sync pull` is sealed to it, so a supervisor can open a laptop whose password was
forgotten.

Erasure on request:

`erase CASE` removes a debtor's personal data from closed cases. The audit trail keeps who did
what and when, but not the erased values: an event's `before`/`after` may be rewritten once
`erased_at` is set, while its id, instant, user, entity and action stay (the triggers check).
Deleting an event stays refused.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collector_tui.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit events are append-only"
# An update is a redaction: the event's facts unchanged and the redaction's instant set.
REDACTION = (
    "NEW.erased_at IS NOT NULL AND NEW.id = OLD.id AND NEW.at = OLD.at "
    "AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id AND NEW.entity = OLD.entity "
    "AND NEW.entity_id = OLD.entity_id AND NEW.action = OLD.action"
)


def upgrade() -> None:
    op.add_column(
        "sync_state",
        sa.Column("recovery_key", sa.String(length=64), nullable=True),
    )
    # A plain ADD COLUMN (no batch copy of the table): the triggers stay in place.
    op.add_column(
        "auditevent",
        sa.Column("erased_at", collector_tui.models.UTCDateTime(timezone=True), nullable=True),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS auditevent_no_update")
        op.execute(
            "CREATE TRIGGER auditevent_no_update BEFORE UPDATE ON auditevent "
            f"WHEN NOT ({REDACTION.replace('IS NOT DISTINCT FROM', 'IS')}) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION auditevent_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN IF TG_OP = 'UPDATE' AND {REDACTION} THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{MESSAGE}'; END $$"
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch_op:
        batch_op.drop_column("recovery_key")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION auditevent_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.drop_column("auditevent", "erased_at")
        return
    # SQLite copies the table to drop a column, and its triggers do not come along.
    with op.batch_alter_table("auditevent") as batch_op:
        batch_op.drop_column("erased_at")
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS auditevent_no_{action.lower()}")
        op.execute(
            f"CREATE TRIGGER auditevent_no_{action.lower()} BEFORE {action} ON auditevent "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
