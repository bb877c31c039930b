"""The command line in English and Chinese: --lang, the user's own language, the environment's;
refusals on one stderr line in the language of the run; machine output (--json) unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import select

from collector_tui import db
from collector_tui.models import AuditEvent, User

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("root")


def _refused(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 1 and out == "", (out, err)
    assert err.count("\n") == 1, err
    return err


def _language_of(store: db.Store, name: str) -> str | None:
    with store.read() as session:
        return session.exec(select(User.language).where(User.username == name)).one()


def test_an_error_in_english_then_in_chinese(run: Run, users) -> None:  # noqa: ANN001
    assert _refused(run("user", "limit", "nobody", "10")) == (
        "collector-tui: error: no user named 'nobody'\n"
    )
    assert _refused(run("--lang", "zh_CN", "user", "limit", "nobody", "10")) == (
        "collector-tui：错误：没有名为 'nobody' 的用户\n"
    )


def test_a_usage_mistake_in_both(run: Run, users) -> None:  # noqa: ANN001
    code, _, err = run("user", "limit", "alice", "lots")
    assert code == 2 and "not a whole percent: 'lots' (see collector-tui --help)" in err
    code, _, err = run("user", "limit", "alice", "lots", "--lang", "zh_CN")
    assert code == 2 and "不是整数百分比：'lots'（见 collector-tui --help）" in err
    # argparse's own words too.
    code, _, err = run("--lang", "zh_CN", "user", "add", "li", "--role", "boss")
    assert code == 2 and "参数 --role：无效的选项：'boss'" in err
    code, _, err = run("user", "add", "li", "--role", "boss")
    assert code == 2 and "argument --role: invalid choice: 'boss'" in err


def test_an_unknown_language_is_a_usage_mistake(run: Run, users) -> None:  # noqa: ANN001
    code, _, err = run("--lang", "fr", "queue")
    assert code == 2 and "unknown language 'fr': use en, zh_CN" in err


def test_the_environment_gives_the_default(
    run: Run,
    users,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert "没有名为" in _refused(run("user", "limit", "nobody", "10"))
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert "no user named" in _refused(run("user", "limit", "nobody", "10"))


def test_user_add_and_set_keep_the_users_language(
    run: Run,
    store: db.Store,
    users,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLLECTOR_NEW_PASSWORD", "demo")
    code, out, err = run("user", "add", "li", "--role", "agent", "--lang", "zh_CN", "--json")
    assert (code, err) == (0, "")
    # The JSON keys are the same in every language.
    assert set(json.loads(out)) == {"user_id", "username", "display_name", "role", "time_zone"}
    assert _language_of(store, "li") == "zh_CN"
    # li's own runs speak Chinese; --lang still wins for one run.
    assert "没有名为" in _refused(run("user", "limit", "nobody", "10", user="li"))
    assert "no user named" in _refused(
        run("--lang", "en", "user", "limit", "nobody", "10", user="li")
    )
    # A user sets their own; another's needs an admin.
    code, out, _ = run("user", "set", "li", "--lang", "en", user="li")
    assert (code, out) == (0, "li now uses English\n")
    assert _language_of(store, "li") == "en"
    assert "only an admin can change another user's language" in _refused(
        run("user", "set", "bob", "--lang", "zh_CN", user="alice")
    )
    code, out, _ = run("user", "set", "bob", "--lang", "zh_CN", "--json")
    assert code == 0 and json.loads(out) == {"username": "bob", "language": "zh_CN"}
    code, _, _ = run("user", "set", "bob", "--lang", "none")
    assert code == 0 and _language_of(store, "bob") is None
    with store.read() as session:
        changes = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "user", AuditEvent.action == "update")
        ).all()
    # The clock is fixed (--now): the events share one instant, so their order is not asserted.
    assert sorted((repr(e.before), repr(e.after)) for e in changes) == sorted(
        (repr(before), repr(after))
        for before, after in [
            ({"language": "zh_CN"}, {"language": "en"}),
            ({"language": None}, {"language": "zh_CN"}),
            ({"language": "zh_CN"}, {"language": None}),
        ]
    )


def test_json_is_the_same_in_every_language(run: Run, users, place) -> None:  # noqa: ANN001
    place("REF-1", balance=10_000)
    english = run("queue", "--json", user="alice")
    chinese = run("--lang", "zh_CN", "queue", "--json", user="alice")
    assert english[0] == 0 and english == chinese


def test_export_cases_headers_in_chinese_only_when_asked(
    run: Run,
    users,  # noqa: ANN001
    place,  # noqa: ANN001
    tmp_path,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from collector_tui.services.reporting.exports import CASE_COLUMNS

    place("REF-1", balance=10_000)
    english, chinese, by_locale = (tmp_path / n for n in ("en.csv", "zh.csv", "env.csv"))
    assert run("export", "cases", str(english), user="sam")[0] == 0
    assert run("export", "cases", str(chinese), "--lang", "zh_CN", user="sam")[0] == 0
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # a Chinese terminal: the contract stays English
    assert run("export", "cases", str(by_locale), user="sam")[0] == 0
    en_lines = english.read_text(encoding="utf-8").splitlines()
    zh_lines = chinese.read_text(encoding="utf-8").splitlines()
    assert en_lines[0] == ",".join(CASE_COLUMNS)
    assert by_locale.read_text(encoding="utf-8") == english.read_text(encoding="utf-8")
    assert zh_lines[0].startswith("案件ID,客户,客户编号,债务人,类型,国家,币种,本金,费用,利息,余额")
    assert zh_lines[1:] == en_lines[1:]
