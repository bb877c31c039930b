"""The configured channels: the SMS gateway and the mailer `[delivery]` names, and where the file
channels and the letters write (the outbox folder, or the one a command is given)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from collector_tui.config import Settings
from collector_tui.delivery.email import FileMailer, Mailer, SmtpMailer, build_email
from collector_tui.delivery.sms import FileSmsGateway, HttpSmsGateway, SmsGateway, SmsMessage
from collector_tui.services.reminders.templates import RenderedReminder

__all__ = [
    "email_message",
    "letters_folder",
    "mailer",
    "outbox_folder",
    "sms_gateway",
    "sms_message",
]


def outbox_folder(settings: Settings, outbox: Path | str | None = None) -> Path:
    return Path(outbox).expanduser() if outbox else settings.delivery.outbox_path()


def letters_folder(settings: Settings, outbox: Path | str | None = None) -> Path:
    return outbox_folder(settings, outbox) / "letters"


def sms_gateway(settings: Settings, outbox: Path | str | None = None) -> SmsGateway:
    """The HTTP gateway when `[delivery.sms] kind = "http"`, else files under `<outbox>/sms`."""
    sms = settings.delivery.sms
    if sms.kind == "http" and sms.url:
        return HttpSmsGateway(sms.url, sms.token_env, sms.body_template, sms.timeout_s)
    return FileSmsGateway(outbox_folder(settings, outbox) / "sms")


def mailer(settings: Settings, outbox: Path | str | None = None) -> Mailer:
    """SMTP when `[delivery.smtp] host` is set, else .eml files under `<outbox>/email`."""
    smtp = settings.delivery.smtp
    if smtp.host:
        return SmtpMailer(
            smtp.host,
            smtp.port,
            starttls=smtp.starttls,
            user_env=smtp.user_env,
            password_env=smtp.password_env,
            sender=smtp.sender,
            timeout_s=smtp.timeout_s,
        )
    return FileMailer(outbox_folder(settings, outbox) / "email")


def sms_message(
    rendered: RenderedReminder, *, to_e164: str, settings: Settings, idempotency_key: str
) -> SmsMessage:
    """The rendered SMS, from the configured sender (else the agency's name)."""
    if rendered.channel != "sms":
        raise ValueError(f"a {rendered.channel} reminder is not an SMS")
    sender = settings.delivery.sms.sender or settings.delivery.agency_name
    return SmsMessage(
        to_e164=to_e164, sender=sender, text=rendered.text, idempotency_key=idempotency_key
    )


def email_message(
    rendered: RenderedReminder, *, to: str, settings: Settings, idempotency_key: str
) -> EmailMessage:
    """The rendered e-mail as multipart text + HTML, from the SMTP sender (else the agency's
    address), signed with the agency's name, the template's opt-out line ending both parts."""
    if rendered.channel != "email":
        raise ValueError(f"a {rendered.channel} reminder is not an e-mail")
    delivery = settings.delivery
    return build_email(
        to=to,
        sender=delivery.smtp.sender or delivery.agency_email or "reminders@localhost",
        sender_name=delivery.agency_name,
        subject=rendered.subject,
        text=rendered.text,
        html_body=rendered.html,
        opt_out=rendered.opt_out,
        idempotency_key=idempotency_key,
    )
