"""strategies: the applied strategy set, and each case's strategy, group and treatment

`strategy_set` keeps every strategy file applied (its text and the parsed rules), versioned: the
newest is in force, so a bad file refused at `strategy apply` leaves the previous set working. On
the case: the strategy that treats it, its test group (champion or challenger), why (the rule that
matched) and the treatment in force for it (services/strategies).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "strategy_set",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("applied_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["applied_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    # Plain ADD COLUMN, not a batch copy of the table: the copy would drop the workload
    # counters' triggers on collection_case (migration 0017).
    op.add_column(
        "collection_case",
        sa.Column("strategy", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.add_column(
        "collection_case",
        sa.Column("strategy_group", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    )
    op.add_column(
        "collection_case",
        sa.Column("strategy_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    )
    op.add_column("collection_case", sa.Column("strategy_treatment", sa.JSON(), nullable=True))


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35+), for the same reason as above.
    for name in ("strategy_treatment", "strategy_reason", "strategy_group", "strategy"):
        op.drop_column("collection_case", name)
    op.drop_table("strategy_set")
