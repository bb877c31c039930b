"""run lease: one reminders' send run at a time

`run_lease` holds the name of a run that must not go twice at once, the run holding it, who and
where that is, and until when. Two send runs started together would both hand the same reminder
to its channel and record it twice; the lease lets the second one refuse with a message naming the
first.

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
        "run_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder_label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("acquired_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("run_lease")
