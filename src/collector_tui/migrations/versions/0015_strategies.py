"""strategies: the applied strategy set, and each case's strategy, group and treatment

`strategy_set` keeps every strategy file applied (its text and the parsed rules), versioned: the
newest is in force, so a bad file refused at `strategy apply` leaves the previous set working. On
the case: the strategy that treats it, its test group (champion or challenger), why (the rule that
matched) and the treatment in force for it (services/strategies).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0015"
down_revision: str | None = "0014"
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
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("strategy", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("strategy_group", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "strategy_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
            )
        )
        batch_op.add_column(sa.Column("strategy_treatment", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.drop_column("strategy_treatment")
        batch_op.drop_column("strategy_reason")
        batch_op.drop_column("strategy_group")
        batch_op.drop_column("strategy")
    op.drop_table("strategy_set")
