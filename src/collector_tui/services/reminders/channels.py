"""The configured channels: the SMS gateway and the mailer `[delivery]` names, and where the file
channels and the letters write (the outbox folder, or the one a command is given)."""

from __future__ import annotations

from pathlib import Path

from collector_tui.config import Settings
from collector_tui.delivery.email import FileMailer, Mailer, SmtpMailer
from collector_tui.delivery.sms import FileSmsGateway, HttpSmsGateway, SmsGateway

__all__ = ["letters_folder", "mailer", "outbox_folder", "sms_gateway"]


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
