"""The command line's `Context.run`: a declared service in one unit on the run's store, with the
run's clock, and the user logged in only when the service acts as one."""

from __future__ import annotations

import argparse
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector_tui import db
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError
from collector_tui.services import accounts
from collector_tui.services.supervision import workload

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def context(tmp_path: Path, user: str | None) -> Context:
    args = argparse.Namespace(db=str(tmp_path / "test.db"), user=user, now=NOW)
    return Context(args=args, out=io.StringIO(), err=io.StringIO(), stdin=io.StringIO())


def test_run_logs_in_only_for_a_service_that_acts_as_someone(
    store: db.Store, users, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = context(tmp_path, None)
    # get_actor takes no actor: no user needed.
    assert nobody.run(accounts.get_actor, username="bob").username == "bob"
    # agent_workloads does: a run without --user refuses in the command line's words.
    with pytest.raises(CliError, match="give --user"):
        nobody.run(workload.agent_workloads)
    nobody.close()

    monkeypatch.setenv("COLLECTOR_PASSWORD", "demo")
    sam = context(tmp_path, "sam")
    rows = sam.run(workload.agent_workloads)
    assert {row.username for row in rows} >= {"alice", "bob"}
    assert sam.actor().username == "sam"  # logged in once, by the first run that needed it
    sam.close()
