"""Where a process is wired together: the database every face opens, with the listeners the
services need on it.

The core (`db.py`) knows nothing of services. A laptop's outbox (services.sync.capture) must see
every write made through an engine, in the writer's own transaction, so an engine is watched the
moment it is made — here, and only here. Faces (the TUI, the CLI, the demo builder, the bench and
the tests) open databases through this module, never through `db.make_engine` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from collector_tui import db
from collector_tui.services.sync.capture import watch


def make_engine(target: str | Path, **kwargs: Any) -> Engine:
    engine = db.make_engine(target, **kwargs)
    watch(engine)  # only SQLite files can become laptops; others are left alone
    return engine


def open_store(target: str | Path, **kwargs: Any) -> db.Store:
    return db.Store(make_engine(target, **kwargs))
