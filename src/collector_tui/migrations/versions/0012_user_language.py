"""users: the interface's language

Each user may choose the language of the app and the command line (`user set --lang zh_CN`); a
user without one gets the environment's (LC_ALL, LC_MESSAGES, LANG). Nullable, no default: an
existing user keeps what the terminal gives, as before. The user table is the master's, so a
laptop receives the column with the users in its briefcase and never writes it.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("language")
