"""Regenerate migrations/versions/0001_initial.py from the models (before the first release only).

Once a schema has shipped, never regenerate: add a new revision with
`alembic -c ... revision --autogenerate` instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from collector_tui import bootstrap, db

VERSIONS = Path(db.__file__).parent / "migrations" / "versions"


def main() -> None:
    initial = VERSIONS / "0001_initial.py"
    initial.unlink(missing_ok=True)
    later = sorted(VERSIONS.glob("0*.py"))
    with tempfile.TemporaryDirectory() as folder:
        # Later revisions point at 0001; set them aside so Alembic can load the directory.
        for path in later:
            path.rename(Path(folder) / path.name)
        store = bootstrap.open_store(Path(folder) / "empty.db")
        config = db._alembic_config(store.engine)
        # Later hand-written revisions build on 0001; autogenerate against an empty database.
        command.revision(
            config,
            message="initial schema",
            autogenerate=True,
            rev_id="0001",
            head="base",
            splice=True,
        )
        for path in later:
            (Path(folder) / path.name).rename(VERSIONS / path.name)
    generated = next(VERSIONS.glob("0001_*.py"))
    generated.rename(initial)
    print(f"wrote {initial}")


if __name__ == "__main__":
    main()
