"""phone time zones: unbounded text on PostgreSQL

A US toll-free number lists every zone of the North American plan: 42 names, 727 characters, more
than the VARCHAR(500) of 0001. PostgreSQL enforces the length and refused such a phone; SQLite never
enforces it, so its table is left as it is (rewriting the phone table there would buy nothing).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "phone",
            "time_zones",
            type_=sa.Text(),
            existing_type=sa.String(length=500),
            existing_nullable=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "phone",
            "time_zones",
            type_=sa.String(length=500),
            existing_type=sa.Text(),
            existing_nullable=False,
        )
