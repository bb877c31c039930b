"""reminders: the outbox of SMS, e-mail and letters

One row per reminder due on a case (`reminder`), from a sequence step or queued by hand, with its
status through the send run (queued, sending, sent, failed, uncertain, skipped, cancelled), the
reason it was skipped or failed, its tries and next try, what was sent (text, or a letter's PDF
path and hash) and the activity that records it. The idempotency key is unique: a step is queued
once and a message delivered once however often the run is repeated.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, collector_tui.models.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        _text("channel", 8, nullable=False),
        _text("template", 64, nullable=False),
        _text("language", 16, nullable=False),
        _text("sequence", 64),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        _text("destination", 500),
        sa.Column("destination_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            server_default="queued",
            nullable=False,
        ),
        _text("reason", 500),
        sa.Column("tries", sa.Integer(), server_default="0", nullable=False),
        _instant("next_try_at"),
        _text("subject", 500),
        sa.Column("body", sa.Text(), nullable=True),
        _text("pdf_path", 1000),
        _text("pdf_sha256", 64),
        _text("provider_ref", 200),
        _text("idempotency_key", 200, nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        _instant("created_at", nullable=False),
        _instant("updated_at", nullable=False),
        _instant("sent_at"),
        sa.Column("activity_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["collection_case.id"]),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtor.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_run", ["status", "next_try_at"], unique=False)
        batch_op.create_index("ix_reminder_case", ["case_id", "created_at"], unique=False)
        batch_op.create_index("ix_reminder_debtor_sent", ["debtor_id", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_debtor_sent")
        batch_op.drop_index("ix_reminder_case")
        batch_op.drop_index("ix_reminder_run")
    op.drop_table("reminder")
