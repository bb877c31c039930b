"""sync trust: device keys, received packets, rejected operations kept for review

Laptops sign what they send with an ed25519 key made at their first pull; the master keeps the
public half per device and user (`sync_device`) and the ids of the packets it took
(`sync_received_packet`, so a replay is refused). A rejected operation keeps what it carried
(`sync_applied_op.payload`) until a supervisor has looked at it.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_device",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("registered_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", collector_tui.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", collector_tui.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sync_device_user_id"), "sync_device", ["user_id"], unique=False)
    op.create_table(
        "sync_received_packet",
        sa.Column("packet_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("received_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("packet_id"),
    )
    op.create_index(
        op.f("ix_sync_received_packet_device_id"),
        "sync_received_packet",
        ["device_id"],
        unique=False,
    )
    with op.batch_alter_table("sync_applied_op", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("reviewed_at", collector_tui.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("device_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("device_key")
    with op.batch_alter_table("sync_applied_op", schema=None) as batch_op:
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("payload")
    op.drop_index(op.f("ix_sync_received_packet_device_id"), table_name="sync_received_packet")
    op.drop_table("sync_received_packet")
    op.drop_index(op.f("ix_sync_device_user_id"), table_name="sync_device")
    op.drop_table("sync_device")
