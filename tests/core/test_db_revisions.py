"""The schema revision check at every start gives Alembic's answers without importing Alembic (a
tenth of a second of the start-up budget, docs/decisions.md, performance) or reading the version
files: the database's revision from alembic_version, the head from db.SCHEMA_HEAD."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from collector_tui import bootstrap, db


def test_the_schema_head_constant_is_the_migrations_head() -> None:
    scripts = ScriptDirectory.from_config(db._alembic_config(bootstrap.make_engine("sqlite://")))
    heads = scripts.get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    assert db.SCHEMA_HEAD == heads[0], (
        f"a migration was added: set SCHEMA_HEAD = {heads[0]!r} in src/collector_tui/schema.py"
    )
    assert db.head_revision() == heads[0]


def test_current_revision_is_alembics_at_every_step(tmp_path) -> None:  # noqa: ANN001
    store = bootstrap.open_store(tmp_path / "steps.db")
    try:
        assert db.current_revision(store) is None
        scripts = ScriptDirectory.from_config(db._alembic_config(store.engine))
        for script in reversed(list(scripts.walk_revisions())):
            db.upgrade(store, script.revision)
            with store.engine.connect() as connection:
                expected = MigrationContext.configure(connection).get_current_revision()
            assert db.current_revision(store) == expected == script.revision
        assert db.current_revision(store) == db.head_revision(store)
    finally:
        store.dispose()


@pytest.mark.sqlite_only
def test_checking_the_revision_does_not_import_alembic(store: db.Store) -> None:
    path = store.engine.url.database
    code = (
        "import sys\n"
        "from collector_tui import bootstrap, db\n"
        f"store = bootstrap.open_store({path!r})\n"
        "assert db.current_revision(store) == db.head_revision(store) is not None\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
