"""From a rendered reminder to a channel: the configured gateway and mailer, the SMS and the
e-mail built from the templates' output (segments of a Chinese SMS, both e-mail parts)."""

from __future__ import annotations

import json
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from collector_tui import db
from collector_tui.config import DeliverySettings, Settings, SmsSettings, SmtpSettings
from collector_tui.delivery.email import FileMailer, SmtpMailer
from collector_tui.delivery.sms import FileSmsGateway, HttpSmsGateway, sms_segments
from collector_tui.services.reminders.channels import (
    email_message,
    letters_folder,
    mailer,
    sms_gateway,
    sms_message,
)
from collector_tui.services.reminders.fields import reminder_fields
from collector_tui.services.reminders.templates import load_template_book


def _settings(**delivery: object) -> Settings:
    values: dict[str, object] = {"agency_name": "Acme", "agency_phone": "400-800-1234"}
    values.update(delivery)
    return replace(Settings(), delivery=DeliverySettings(**values))  # type: ignore[arg-type]


def test_configured_channels(tmp_path: Path) -> None:
    default = _settings(outbox_dir=str(tmp_path / "out"))
    assert isinstance(sms_gateway(default), FileSmsGateway)
    assert isinstance(mailer(default), FileMailer)
    assert letters_folder(default) == tmp_path / "out" / "letters"
    assert letters_folder(default, tmp_path / "run") == tmp_path / "run" / "letters"
    wired = _settings(
        sms=SmsSettings(kind="http", url="https://sms.example/send"),
        smtp=SmtpSettings(host="smtp.example", sender="r@acme.example"),
    )
    assert isinstance(sms_gateway(wired), HttpSmsGateway)
    assert isinstance(mailer(wired), SmtpMailer)


def test_sms_and_email_from_rendered_templates(
    store: db.Store,
    place,
    now,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    settings = _settings(outbox_dir=str(tmp_path), agency_email="help@acme.example")
    case = place("ZH-5", debtor_name="王芳", language="zh")
    book = load_template_book(settings)
    with store.read() as session:
        fields = reminder_fields(session=session, case_id=case.id, now=now, settings=settings)
    sms = sms_message(
        book.render("reminder", "sms", "zh", fields),
        to_e164="+8613800138000",
        settings=settings,
        idempotency_key="ZH-5-reminder-sms",
    )
    assert sms.sender == "Acme" and "回复TD退订" in sms.text
    counted = sms_segments(sms.text)
    # Chinese goes as UCS-2; the shipped reminder fits one message with a short agency name.
    assert (counted.encoding, counted.segments) == ("UCS-2", 1)
    sms_gateway(settings).send(sms)
    written = json.loads((tmp_path / "sms" / "ZH-5-reminder-sms.json").read_text("utf-8"))
    assert written["text"] == sms.text and written["segments"] == 1

    mail = email_message(
        book.render("first_notice", "email", "zh", fields),
        to="wang@example.com",
        settings=settings,
        idempotency_key="ZH-5-first-email",
    )
    assert mail["From"] == "Acme <help@acme.example>"
    mailer(settings).send(mail)
    parsed = message_from_bytes(
        (tmp_path / "email" / "ZH-5-first-email.eml").read_bytes(), policy=policy.default
    )
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "关于您在ACME Bank的账户 ZH-5"
    for kind in ("plain", "html"):
        part = parsed.get_body((kind,))
        assert part is not None
        assert "尊敬的王芳" in part.get_content() and "退订" in part.get_content()
    with pytest.raises(ValueError):
        sms_message(
            book.render("reminder", "email", "zh", fields),
            to_e164="+8613800138000",
            settings=settings,
            idempotency_key="k",
        )
