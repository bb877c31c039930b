"""charges added to a case after placement

A supervisor adds legal costs, fees or interest to a case after it was placed, or waives one
(`case_charge`, services/casework/charges.py): the balance and its components move by it, and the
row keeps who did it, why and when, so statements and the audit can say where a cost came from.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_charge",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("component", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("voids_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["collection_case.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.ForeignKeyConstraint(["voids_id"], ["case_charge.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_charge", schema=None) as batch_op:
        batch_op.create_index("ix_case_charge_case", ["case_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_charge", schema=None) as batch_op:
        batch_op.drop_index("ix_case_charge_case")

    op.drop_table("case_charge")
