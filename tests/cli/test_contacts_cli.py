"""`contact add/set/retire/list` and `skiptrace export/import` through `main([...])`: the issue's
command shapes, one stderr line and nothing saved on bad input, the round trip of a skip trace."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from collector_tui import db
from collector_tui.models import (
    Activity,
    AuditEvent,
    Case,
    EmailAddress,
    Phone,
    PostalAddress,
)
from test_cli import NOW, Run, _one_error_line, clean_environment, db_path, run

__all__ = ["clean_environment", "db_path", "run"]  # fixtures of test_cli, used here by name

NEW = "+8613900139000"
CONTACT_KEYS = {"kind", "id", "value", "status", "consent", "source", "time_zones", "retired",
                "detail", "masked"}  # fmt: skip


def cli(run: Run, db_path: str, *args: str, user: str = "alice") -> tuple[int, str, str]:
    return run("--db", db_path, "--user", user, "--now", NOW, *args)


def counts(store: db.Store) -> dict[str, int]:
    with store.read() as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Phone, PostalAddress, EmailAddress, AuditEvent, Activity)
        }


def test_a_number_added_is_dialled_and_logged_at_once(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    case = place("C-1")
    code, out, err = cli(
        run, db_path, "contact", "add", "C-1", "--phone", "139 0013 9000", "--type", "mobile",
        "--consent", "sms", "--source", "debtor", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    added = json.loads(out)
    assert added["value"] == NEW and added["status"] == "valid" and added["kind"] == "phone"

    code, out, err = cli(
        run, db_path, "log", "C-1", "--disposition", "no_answer", "--phone", "13900139000"
    )
    assert (code, err) == (0, ""), err
    with store.read() as session:
        logged = session.exec(select(Activity).where(Activity.case_id == case.id)).one()
    assert logged.phone_e164 == NEW and str(logged.phone_id) == added["id"]

    code, out, err = cli(run, db_path, "contact", "list", "C-1", "--json")
    assert code == 0
    listed = json.loads(out)["contacts"]
    assert all(set(entry) == CONTACT_KEYS for entry in listed)
    new = next(entry for entry in listed if entry["value"] == NEW)
    assert new["consent"] == ["sms"] and new["source"] == "debtor"
    assert new["time_zones"] == ["Asia/Shanghai"] and new["detail"] == "mobile"


def test_email_and_address_and_hostile_text_shown_literally(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    place("C-2")
    hostile = "[bold red]Room 1[/] \x1b[31m; DROP TABLE phone; --"
    assert cli(run, db_path, "contact", "add", "C-2", "--email", "Li.Lei@Example.COM",
               "--consent", "email")[0] == 0  # fmt: skip
    assert cli(run, db_path, "contact", "add", "C-2", "--address", hostile)[0] == 0
    code, out, _ = cli(run, db_path, "contact", "list", "C-2")
    assert code == 0
    assert "Li.Lei@example.com" in out and "[bold red]Room 1[/]" in out and "\x1b" not in out
    code, out, _ = cli(run, db_path, "contact", "list", "C-2", "--json")
    entries = {entry["kind"]: entry for entry in json.loads(out)["contacts"]}
    assert entries["email"]["consent"] == ["email"]
    assert entries["address"]["value"] == hostile.strip()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--phone", "12345"), "number"),
        (("--phone", "+8613800138000"), "already on file"),
        (("--email", "not-an-email"), "e-mail"),
        (("--phone", NEW, "--consent", "call", "--consent-until", "2026-11-01T00:00:00Z"), "past"),
        (("--phone", NEW, "--consent", "email"), "consent"),
        (("--phone", NEW, "--source", "gossip"), "source"),
    ],
)
def test_bad_input_is_one_line_and_saves_nothing(
    run: Run,
    db_path: str,
    store: db.Store,
    place: Callable[..., Case],
    args: tuple[str, ...],
    words: str,
) -> None:
    place("C-3")
    before = counts(store)
    code, out, err = cli(run, db_path, "contact", "add", "C-3", *args)
    assert code == 1 and out == ""
    assert words in _one_error_line(err)
    assert counts(store) == before


def test_a_dnc_mark_takes_the_only_number_out_of_the_queue(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    place("C-4")
    code, out, err = cli(
        run, db_path, "contact", "set", "C-4", "+86 138 0013 8000", "--status", "dnc",
        "--how", "asked on the call", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["status"] == "dnc" and result["callable"] is False
    assert result["reason"] == "all numbers do-not-call or invalid"
    assert result["callable_at"] is None
    code, out, _ = cli(run, db_path, "queue", "--held", "--json")
    held = [entry for entry in json.loads(out) if entry["client_ref"] == "C-4"]
    assert held and held[0]["callable"] is False and held[0]["callable_at"] is None
    assert held[0]["reason"] == "all numbers do-not-call or invalid"
    # Lifting it is a supervisor's decision.
    code, _, err = cli(run, db_path, "contact", "set", "C-4", "+8613800138000", "--status", "valid")
    assert code == 1 and "supervisor" in _one_error_line(err)
    code, out, _ = cli(
        run, db_path, "contact", "set", "C-4", "+8613800138000", "--status", "valid", "--json",
        user="sam",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["status"] == "valid"


def test_unknown_contact_and_others_cases_are_refused(
    run: Run, db_path: str, place: Callable[..., Case], users: dict[str, Any]
) -> None:
    place("C-5")
    code, _, err = cli(run, db_path, "contact", "set", "C-5", "+8613700137000", "--status", "wrong")
    assert code == 1 and "not a contact" in _one_error_line(err)
    code, _, err = cli(run, db_path, "contact", "add", "C-5", "--phone", NEW, user="bob")
    assert code == 1 and "among your cases" in _one_error_line(err)
    code, _, err = cli(run, db_path, "contact", "add", "C-5")
    assert code == 2


def _fill(path: Path, found: dict[str, dict[str, str]]) -> Path:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update(found.get(row["client_ref"], {}))
    filled = path.with_name("found.csv")
    with filled.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return filled


def test_skip_trace_export_then_import_round_trip(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case], tmp_path: Path
) -> None:
    place("S-1")
    place("S-2", phones=())
    place("S-3")  # reachable: not exported
    assert cli(run, db_path, "contact", "set", "S-1", "+8613800138000", "--status", "wrong")[0] == 0
    exported = tmp_path / "trace.csv"

    code, out, err = cli(run, db_path, "skiptrace", "export", str(exported), user="sam")
    assert (code, err) == (0, "") and "2 cases" in out
    with exported.open(encoding="utf-8") as handle:
        rows = {row["client_ref"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"S-1", "S-2"}
    assert rows["S-1"]["reasons"] == "no callable number"
    assert "+8613800138000 (wrong)" in rows["S-1"]["numbers"]

    filled = _fill(
        exported,
        {
            "S-1": {"phone": "+86 139 0013 9000", "phone_type": "work", "email": "s1@example.com"},
            "S-2": {"phone": "13700137000", "address": "8 Found Street, Chengdu"},
        },
    )
    code, out, err = cli(run, db_path, "skiptrace", "import", str(filled), "--json", user="sam")
    assert (code, err) == (0, ""), err
    report = json.loads(out)
    assert (report["phones"], report["addresses"], report["emails"]) == (2, 1, 1)
    with store.read() as session:
        traced = session.exec(select(Phone).where(Phone.source == "skip trace")).all()
    assert {p.e164 for p in traced} == {NEW, "+8613700137000"}
    code, out, _ = cli(run, db_path, "skiptrace", "export", str(tmp_path / "again.csv"), user="sam")
    assert "0 cases" in out  # both reachable again

    before = counts(store)
    code, out, err = cli(run, db_path, "skiptrace", "import", str(filled), "--json", user="sam")
    assert code == 0 and json.loads(out)["duplicates"] == 4  # idempotent
    assert counts(store) == before


def test_skip_trace_import_is_all_or_nothing_with_line_numbers(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case], tmp_path: Path
) -> None:
    place("S-4")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "client_ref,phone,email\n"
        "S-4,+86 139 0013 9000,\n"
        "S-4,12345,\n"
        "NOPE,+86 137 0013 7000,\n"
        "S-4,,not an email\n",
        encoding="utf-8",
    )
    before = counts(store)
    code, out, err = cli(run, db_path, "skiptrace", "import", str(bad), user="sam")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith("collector-tui: error: 3 bad rows; first: line 3")
    assert "nothing was written" in lines[0]
    assert [line.split(":")[0] for line in lines[1:]] == ["line 3", "line 4", "line 5"]
    assert counts(store) == before


def test_third_parties_from_the_command_line(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    """A third party added with a number, their objection (the number becomes do-not-call), and a
    request to be called again refused after it; unknown names and relations write nothing."""
    place("T-1")
    code, out, err = cli(
        run, db_path, "contact", "add-party", "T-1", "Wang Fang", "--relation", "employer",
        "--phone", "139 0013 9000", "--note", "HR office", "--json",
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    added = json.loads(out)
    assert (added["kind"], added["value"]) == ("third_party", "Wang Fang")

    before = counts(store)
    code, out, err = cli(run, db_path, "contact", "add-party", "T-1", "Li", "--relation", "pal")
    assert code == 1 and "relation" in _one_error_line(err) and counts(store) == before
    code, _, err = cli(run, db_path, "contact", "objected", "T-1", "Nobody")
    assert code == 1 and "not a contact of this debtor" in _one_error_line(err)

    code, out, err = cli(
        run, db_path, "contact", "objected", "T-1", "Wang Fang", "--how", "said so on the call"
    )
    assert (code, err) == (0, ""), err
    assert out.startswith("objection recorded for third party Wang Fang on ")
    with store.read() as session:
        number = session.exec(select(Phone).where(Phone.e164 == NEW)).one()
    assert (number.status, number.do_not_call) == ("dnc", True)
    code, _, err = cli(run, db_path, "contact", "call-again", "T-1", "Wang Fang")
    assert code == 1 and "objected" in _one_error_line(err)


def test_cli_relations_are_the_models() -> None:
    from collector_tui.cli.contacts import RELATIONS
    from collector_tui.services.contacts.book import RELATIONS as BOOK_RELATIONS

    assert RELATIONS == BOOK_RELATIONS


def test_numbers_are_masked_for_supervisors_until_revealed_with_an_audit(
    run: Run, db_path: str, store: db.Store, place: Callable[..., Case]
) -> None:
    place("M-1", phones=("+86 138 0013 8000",))
    code, out, err = cli(run, db_path, "contact", "list", "M-1", "--json")  # alice, an agent
    assert (code, err) == (0, "")
    phone = next(e for e in json.loads(out)["contacts"] if e["kind"] == "phone")
    assert (phone["value"], phone["masked"]) == ("+8613800138000", False)

    code, out, err = cli(run, db_path, "contact", "list", "M-1", "--json", user="sam")
    phone = next(e for e in json.loads(out)["contacts"] if e["kind"] == "phone")
    assert (phone["value"], phone["masked"]) == ("138****8000", True)
    assert "13800138000" not in out
    with store.read() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "reveal")).all() == []

    code, out, err = cli(run, db_path, "contact", "list", "M-1", "--reveal", user="sam")
    assert (code, err) == (0, "") and "+8613800138000" in out
    with store.read() as session:
        reveals = session.exec(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
    assert len(reveals) == 1 and reveals[0].entity == "phone"
    assert "8000" not in repr((reveals[0].before, reveals[0].after))
