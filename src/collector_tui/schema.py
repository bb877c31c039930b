"""The schema revision this program needs, readable without SQLAlchemy: the command line checks a
file's revision with sqlite3 alone before the app's first screen (cli/context.py `open_later`),
and db.py's check at every other start compares with the same value.

SCHEMA_HEAD is the newest migration's revision, written here when a migration is added
(tests/core/test_db_revisions.py keeps it equal to the migrations' head as Alembic computes it,
and says the value to write)."""

from __future__ import annotations

SCHEMA_HEAD = "0018"
