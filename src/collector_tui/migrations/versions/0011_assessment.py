"""assessments of the debtor's capacity to pay; fitted probability-of-payment models

`assessment` keeps every assessment made on a case as its own row (append-only: the case and its
debtor show the latest): a person's monthly income and essential expenses in minor units of the
case's currency and what is left, a company's standing as the agent reads it, and the risk grade
set with its reason. `risk_model` keeps each fitted model, versioned, with its validation figures.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def _instant(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, collector_tui.models.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        _instant("assessed_at"),
        sa.Column("assessed_by_id", sa.Uuid(), nullable=True),
        _text("kind", 16, nullable=False),
        _text("currency", 3),
        sa.Column("income", sa.BigInteger(), nullable=True),
        sa.Column("housing", sa.BigInteger(), nullable=True),
        sa.Column("family", sa.BigInteger(), nullable=True),
        sa.Column("other_debts", sa.BigInteger(), nullable=True),
        sa.Column("disposable", sa.BigInteger(), nullable=True),
        _text("revenue_trend", 16),
        sa.Column("other_creditors", sa.Integer(), nullable=True),
        _text("trading_status", 16),
        _text("insolvency_signals", 500),
        _text("judgement", 2000),
        _text("grade", 2),
        _text("grade_before", 2),
        _text("reason", 500),
        sa.Column("review_by", sa.Date(), nullable=True),
        _instant("created_at"),
        sa.ForeignKeyConstraint(["case_id"], ["collection_case.id"]),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtor.id"]),
        sa.ForeignKeyConstraint(["assessed_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index("ix_assessment_case_time", ["case_id", "assessed_at"], unique=False)
        batch_op.create_index(
            "ix_assessment_debtor_time", ["debtor_id", "assessed_at"], unique=False
        )

    op.create_table(
        "risk_model",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _instant("fitted_at"),
        sa.Column("fitted_by_id", sa.Uuid(), nullable=True),
        sa.Column("n_train", sa.Integer(), nullable=False),
        sa.Column("n_test", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("coefficients", sa.JSON(), nullable=False),
        sa.Column("auc", sa.Float(), nullable=True),
        sa.Column("calibration", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["fitted_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )


def downgrade() -> None:
    op.drop_table("risk_model")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_debtor_time")
        batch_op.drop_index("ix_assessment_case_time")
    op.drop_table("assessment")
