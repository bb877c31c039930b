"""verdict cache: the change log that keeps cached compliance verdicts exact, the waiting index

`verdict_change` lists the debtors (and numbers) whose compliance inputs a write touched, in the
order written; a process that caches verdicts (services/rules/verdicts.py) reads the rows after
the last one it saw and forgets those debtors' verdicts. Local derived data: never synced.
`ix_case_waiting` lets the queue count an agent's cases waiting for a later time without reading
every open case of the agent.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verdict_change",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=True),
        sa.Column("e164", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    # Additive, like 0006's index: a plain CREATE INDEX, no table copy.
    op.create_index(
        "ix_case_waiting",
        "collection_case",
        ["assigned_to_id", "next_action_at", "priority"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_case_waiting", table_name="collection_case")
    op.drop_table("verdict_change")
