"""Reminder templates: the shipped ones render in English and Chinese from a real case; hostile
data prints literally; a bad template is refused when loaded, with its file and line; the
sandbox refuses what the load check would not see (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from collector_tui import db
from collector_tui.config import DeliverySettings, Settings
from collector_tui.services.casework.cases import InvoiceInput
from collector_tui.services.reminders.fields import ReminderFields, reminder_fields
from collector_tui.services.reminders.templates import (
    CHANNELS,
    TemplateError,
    UnknownTemplate,
    load_template_book,
)

HOSTILE = "{{ 7*7 }} <script>alert(1)</script> {% raw %} # | \\ 名"


def _settings(tmp_path: Path | None = None, **delivery: object) -> Settings:
    values: dict[str, object] = {
        "agency_name": "Acme Recoveries",
        "agency_address": "1 Main Street\nSpringfield, IL 62701",
        "agency_phone": "+1 800 555 0100",
        "agency_email": "help@acme.example",
        "payment_details": "Bank: First Bank\nAccount: 12345678\nReference: your account number",
    }
    if tmp_path is not None:
        values["templates_dir"] = str(tmp_path)
    values.update(delivery)
    return replace(Settings(), delivery=DeliverySettings(**values))  # type: ignore[arg-type]


def _fields(store: db.Store, case_id, now, settings: Settings) -> ReminderFields:  # noqa: ANN001
    with store.read() as session:
        return reminder_fields(session=session, case_id=case_id, now=now, settings=settings)


def test_every_shipped_template_renders_in_both_languages(store: db.Store, place, now) -> None:  # noqa: ANN001
    settings = _settings()
    book = load_template_book(settings)
    chinese = place(
        "ZH-1",
        debtor_name="张伟",
        language="zh",
        invoices=(InvoiceInput("发票-1", date(2026, 9, 1), 100_000),),
    )
    english = place("EN-1", country="US", currency="USD", language="en", phones=())
    for case, language, marker in ((chinese, "zh", "张伟"), (english, "en", "Debtor EN-1")):
        fields = _fields(store, case.id, now, settings)
        assert fields.debtor_language == language
        for channel in CHANNELS:
            for name in ("first_notice", "reminder", "broken_promise"):
                rendered = book.render(name, channel, fields.debtor_language, fields)
                assert rendered.language == language, (channel, name)
                assert "{{" not in rendered.text and "{%" not in rendered.text
                if channel != "sms":
                    assert rendered.subject
                    assert marker in rendered.text
                if channel == "email":
                    assert rendered.opt_out and rendered.html
                if channel == "sms":
                    assert ("STOP" if language == "en" else "退订") in rendered.text
    zh = _fields(store, chinese.id, now, settings)
    assert zh.collectible == "¥1,000.00"  # CNY written the zh_CN way
    assert zh.invoices[0].number == "发票-1"
    assert "2026年11月20日" == zh.today


def test_language_falls_back_to_english(store: db.Store, place, now) -> None:  # noqa: ANN001
    settings = _settings()
    book = load_template_book(settings)
    fields = _fields(
        store, place("FR-1", language="fr", country="FR", currency="EUR").id, now, settings
    )
    rendered = book.render("reminder", "email", fields.debtor_language, fields)
    assert rendered.language == "en"
    assert "1 000,00 €" in rendered.text.replace("\u202f", " ").replace("\xa0", " ")
    # The validation notice exists in English only: a Chinese debtor would get English.
    assert book.languages("validation_notice", "letter") == ("en",)
    with pytest.raises(UnknownTemplate):
        book.render("no_such", "sms", "en", fields)


def test_hostile_debtor_name_renders_literally(store: db.Store, place, now) -> None:  # noqa: ANN001
    settings = _settings()
    book = load_template_book(settings)
    case = place("H-1", debtor_name=HOSTILE + "\nSubject: injected\n\n# heading", language="en")
    fields = _fields(store, case.id, now, settings)
    email = book.render("first_notice", "email", "en", fields)
    assert HOSTILE in email.text  # printed, not evaluated: no 49, the raw tag as text
    assert "49" not in email.text
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "{{ 7*7 }}" in email.html
    # A newline in the data is a space: it adds no header and starts no paragraph.
    assert email.subject == "Your ACME Bank account H-1"
    assert "Subject: injected # heading" in email.text
    letter = book.render("first_notice", "letter", "en", fields)
    assert "\\#" in letter.text and "\\|" in letter.text  # escaped for the letter's layout


def _team(tmp_path: Path, relative: str, text: str) -> Path:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("relative", "text", "line", "message"),
    [
        ("sms/typo.en.txt", "Hello {{ debtor_name }},\nyou owe {{ balanse }}.", 2, "balanse"),
        ("sms/deep.en.txt", "{% if promise %}\n{{ promise.amout }}{% endif %}", 2, "promise.amout"),
        ("sms/loop.en.txt", "{% for i in invoices %}\n\n{{ i.numbr }}{% endfor %}", 3, "i.numbr"),
        ("sms/syntax.en.txt", "ok\n{% if debtor_name %}\nno end", 3, "endif"),
        ("sms/filter.en.txt", "\n{{ debtor_name | nosuchfilter }}", 2, "nosuchfilter"),
        ("sms/escape.en.txt", "x\n{{ ''.__class__ }}", 2, "__class__"),
        ("sms/include.en.txt", "{% include debtor_name %}", 1, "include"),
        ("email/nosubject.en.txt", "Opt-out: x\n\nbody", 1, "Subject"),
        ("letter/body.en.txt", "Dear {{ debtor_name }}\n", 1, "Title"),
    ],
)
def test_a_bad_team_template_is_refused_when_loaded(
    tmp_path: Path, relative: str, text: str, line: int, message: str
) -> None:
    path = _team(tmp_path, relative, text)
    with pytest.raises(TemplateError) as caught:
        load_template_book(_settings(tmp_path))
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_a_badly_named_file_or_missing_folder_is_refused(tmp_path: Path) -> None:
    _team(tmp_path, "sms/Reminder.txt", "hi")
    with pytest.raises(TemplateError, match="<name>.<lang>.txt"):
        load_template_book(_settings(tmp_path))
    with pytest.raises(TemplateError, match="not found"):
        load_template_book(_settings(tmp_path / "missing"))


def test_team_template_overrides_shipped_and_adds_new(
    store: db.Store,
    place,
    now,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    _team(
        tmp_path,
        "email/reminder.en.txt",
        "Subject: Team {{ client_ref }}\nOpt-out: Reply STOP\n\n"
        "{% for i in invoices %}{{ loop.index }}. {{ i.number }}\n{% endfor %}Bye",
    )
    _team(tmp_path, "sms/nudge.zh.txt", "{% set who = debtor_name %}你好{{ who }}")
    settings = _settings(tmp_path)
    book = load_template_book(settings)
    assert "nudge" in book.names("sms")
    case = place(
        "T-1",
        language="en",
        invoices=(InvoiceInput("I-9", date(2026, 9, 1), 100_000),),
    )
    fields = _fields(store, case.id, now, settings)
    email = book.render("reminder", "email", "en", fields)
    assert email.subject == "Team T-1" and email.opt_out == "Reply STOP"
    assert email.text == "1. I-9\nBye"
    # The shipped HTML part does not outlive the team's text: the HTML is made from it.
    assert "Team" not in email.html and "I-9" in email.html
    assert book.render("nudge", "sms", "zh-CN", fields).text == "你好Debtor T-1"


def test_the_sandbox_refuses_what_reaches_it() -> None:
    # The load check refuses `__class__` by name; the sandbox is the second wall, for anything a
    # check by name cannot see (a method reached through a filter, an attribute built at run time).
    from collector_tui.services.reminders import templates

    env = templates._ENVIRONMENTS["text"]
    assert isinstance(env, ImmutableSandboxedEnvironment)
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__ }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ x|attr('__class__') }}").render(x="")
    with pytest.raises(SecurityError):
        env.from_string("{% set l = [1] %}{{ l.append(2) }}").render()


def test_a_template_that_would_exhaust_memory_fails_with_its_line(
    store: db.Store,
    place,
    now,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    path = _team(
        tmp_path,
        "sms/bomb.en.txt",
        "{% with n = 10 %}{{ n }}{% endwith %}\n{{ debtor_name * 10**9 }}",
    )
    _team(tmp_path, "sms/power.en.txt", "{{ 9 ** 999 }}")
    _team(tmp_path, "sms/count.en.txt", "{% for i in range(10**9) %}x{% endfor %}")
    settings = _settings(tmp_path)
    book = load_template_book(settings)
    fields = _fields(store, place("B-1", language="en").id, now, settings)
    with pytest.raises(TemplateError, match="too long") as caught:
        book.render("bomb", "sms", "en", fields)
    assert (caught.value.path, caught.value.line) == (str(path), 2)
    with pytest.raises(TemplateError, match="too large"):
        book.render("power", "sms", "en", fields)
    with pytest.raises(TemplateError, match="Range too big"):
        book.render("count", "sms", "en", fields)
