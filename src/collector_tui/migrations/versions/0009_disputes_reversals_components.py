"""invoice disputes, payment reversals, balance components

An invoice can be disputed, whole or in part (`invoice_dispute`): the disputed amount leaves the
collectible balance until the dispute is resolved. A payment can be reversed (bounced, chargeback,
error) by a new payment row that voids it (`payment.reversal_reason`). What is owed is kept by
invoice and component (principal, fees, interest, costs: `balance_component`), and where each
payment went (`payment_part`), so a reversal puts back exactly what its payment took.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "balance_component",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("component", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("balance_component", schema=None) as batch_op:
        batch_op.create_index("ix_balance_component_case", ["case_id", "invoice_id"], unique=False)

    op.create_table(
        "invoice_dispute",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("resolve_by", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("credited", sa.BigInteger(), nullable=False),
        sa.Column("opened_by_id", sa.Uuid(), nullable=True),
        sa.Column("opened_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", collector_tui.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("follow_up_id", sa.Uuid(), nullable=True),
        sa.Column("hold_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["followup.id"],
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["hold.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoice_dispute", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_dispute_case", ["case_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invoice_dispute_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index("ix_invoice_dispute_open", ["status", "resolve_by"], unique=False)

    op.create_table(
        "payment_part",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("component", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_part", schema=None) as batch_op:
        batch_op.create_index("ix_payment_part_case", ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_part_payment_id"), ["payment_id"], unique=False
        )

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reversal_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("reversal_reason")

    with op.batch_alter_table("payment_part", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_part_payment_id"))
        batch_op.drop_index("ix_payment_part_case")

    op.drop_table("payment_part")
    with op.batch_alter_table("invoice_dispute", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_dispute_open")
        batch_op.drop_index(batch_op.f("ix_invoice_dispute_invoice_id"))
        batch_op.drop_index("ix_invoice_dispute_case")

    op.drop_table("invoice_dispute")
    with op.batch_alter_table("balance_component", schema=None) as batch_op:
        batch_op.drop_index("ix_balance_component_case")

    op.drop_table("balance_component")
