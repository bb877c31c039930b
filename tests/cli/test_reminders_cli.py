"""`remind plan / send / list / queue / cancel` (in-process through `cli.main`, on the test
database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.models import EmailAddress, Phone, Reminder
from collector_tui.services.reminders import outbox, run_lease
from collector_tui.services.reminders.sequences import clear_rules_cache
from conftest import CLI_NOW_TEXT

Run = Callable[..., tuple[int, str, str]]
RULES = """
[sequences.test]
steps = [
  { day = 0, channel = "letter", template = "first_notice", priority = 10 },
  { day = 7, channel = "sms", template = "reminder" },
]

[[rules]]
sequence = "test"
"""


@pytest.fixture
def run(cli_runner: Callable[[str], Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    runner = cli_runner("sam")
    rules = tmp_path / "sequences.toml"
    rules.write_text(RULES, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        f'reminder_rules = "{rules}"\n[delivery]\noutbox_dir = "{tmp_path / "outbox"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("COLLECTOR_CONFIG", str(config))
    clear_rules_cache()
    return runner


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


def _refused(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert code == 1, (out, err)
    assert err.count("\n") == 1 and message in err, err


@pytest.fixture
def reachable(store: db.Store, place):  # noqa: ANN001, ANN201
    case = place("CLI-1", address="1 Bund Road, Shanghai")
    with store.write() as session:
        for phone in session.exec(select(Phone)):
            phone.sms_consent = True
            session.add(phone)
    return case


def test_plan_json_shape(run: Run, reachable) -> None:  # noqa: ANN001
    planned = json.loads(_ok(run("remind", "plan", "--json")))
    assert planned == [
        {
            "case_id": str(reachable.id),
            "client_ref": "CLI-1",
            "channel": "letter",
            "template": "first_notice",
            "due": "2026-10-01",
            "action": "send",
            "reason": None,
        },
        {
            "case_id": str(reachable.id),
            "client_ref": "CLI-1",
            "channel": "sms",
            "template": "reminder",
            "due": "2026-10-08",
            "action": "skip",
            # 14:30 UTC is 22:30 in Shanghai: past the cn pack's hours.
            "reason": "outside contact hours: 22:30 in Asia/Shanghai (hours 08:00–22:00, cn)",
        },
    ]
    text = _ok(run("remind", "plan", "--channel", "sms"))
    assert "22:30 in Asia/Shanghai" in text and "0 to send, 1 skipped" in text


def test_queue_list_cancel(run: Run, store: db.Store, reachable) -> None:  # noqa: ANN001
    with store.write() as session:
        session.add(
            EmailAddress(
                debtor_id=reachable.debtor_id,
                address="cli@example.com",
                opt_in=True,
                created_at=reachable.created_at,
                updated_at=reachable.created_at,
            )
        )
    queued = json.loads(
        _ok(
            run(
                "remind", "queue", "CLI-1", "--channel", "email", "--template", "reminder",
                "--json", user="alice",
            )
        )
    )  # fmt: skip
    assert queued["status"] == "queued" and queued["destination"] == "cli@example.com"
    _refused(
        run(
            "remind", "queue", "CLI-1", "--channel", "email", "--template", "reminder", user="alice"
        ),
        "already queued",
    )
    listed = json.loads(_ok(run("remind", "list", "--status", "queued", "--json")))
    assert [entry["id"] for entry in listed] == [queued["id"]]
    _refused(run("remind", "cancel", queued["id"], "--reason", "x", user="alice"), "supervisor")
    assert "cancelled" in _ok(run("remind", "cancel", queued["id"], "--reason", "sent by post"))
    with store.read() as session:
        assert session.exec(select(Reminder.status)).all() == ["cancelled"]


def test_bad_input_one_line(run: Run, reachable, tmp_path: Path) -> None:  # noqa: ANN001
    _refused(run("remind", "cancel", "not-an-id", "--reason", "whatever"), "not a reminder id")
    _refused(run("remind", "send", user="alice"), "supervisor")
    (tmp_path / "sequences.toml").write_text(RULES.replace('"sms"', '"fax"'), encoding="utf-8")
    clear_rules_cache()
    _refused(run("remind", "plan"), "steps[2].channel: 'fax' is not one of")


def test_send_writes_letters_and_a_print_batch_then_nothing_twice(
    run: Run,
    store: db.Store,
    place,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    place("CLI-2", address="88 Nanjing Road\nShanghai", language="zh")
    report = json.loads(_ok(run("remind", "send", "--json")))
    assert (report["queued"], report["sent"]) == (1, 1)
    [batch] = report["files"]
    letters = list((tmp_path / "outbox" / "letters").iterdir())
    assert len(letters) == 1 and Path(batch).exists()
    from pypdf import PdfReader

    text = PdfReader(letters[0]).pages[0].extract_text()
    assert "Debtor CLI-2" in text and "Nanjing Road" in text
    again = json.loads(_ok(run("remind", "send", "--json")))
    assert (again["queued"], again["sent"], again["files"]) == (0, 0, [])
    listed = json.loads(_ok(run("remind", "list", "--status", "sent", "--json")))
    assert [entry["template"] for entry in listed] == ["first_notice"]
    assert listed[0]["pdf_path"] == str(letters[0])
    _ok(run("remind", "list"))


def test_remind_send_says_who_holds_the_outbox_and_takes_it_over_on_request(
    run: Run,
    store: db.Store,
    reachable,  # noqa: ANN001
) -> None:
    # What a run killed outright leaves: the outbox's lease taken and never given back.
    with store.write() as session:
        run_lease.acquire(
            session,
            lease=run_lease.new_lease(outbox.SEND_RUN, "bob"),
            now=datetime.fromisoformat(CLI_NOW_TEXT),
            minutes=10,
        )
    code, out, err = run("remind", "send")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "another send run holds the outbox: bob on" in err
    assert "--take-over" in err
    code, out, err = run("remind", "send", "--take-over")
    assert code == 0, err
    assert out.startswith("queued 1, sent 1,")
