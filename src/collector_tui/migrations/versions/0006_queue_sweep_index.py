"""queue: an index for the promise sweep that opens every queue

The sweep looks for pending promises past their grace. With only (status, due_date) it read every
pending promise past its due date, nearly all still inside their grace, and then their cases: at a
million cases, tens of milliseconds per queue. (status, grace_days, due_date, case_id) answers it
with one seek per grace value and no row read (bench/README.md).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain CREATE INDEX (no batch mode): SQLite needs no table copy for an index.
    op.create_index(
        "ix_promise_sweep",
        "promise",
        ["status", "grace_days", "due_date", "case_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_promise_sweep", table_name="promise")
