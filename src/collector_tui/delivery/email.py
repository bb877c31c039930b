"""E-mail: a multipart/alternative message (text and HTML, each with its opt-out line), sent by
SMTP or written as an .eml file.

An SMTP server that refuses the recipient with a 5xx code has bounced the message: that is a
permanent DeliveryFailed (retrying cannot help). A 4xx answer, a timeout or a dropped connection
is temporary.
"""

from __future__ import annotations

import hashlib
import html
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Protocol

from collector_tui.delivery.errors import DeliveryFailed
from collector_tui.delivery.files import key_file_name, write_atomically
from collector_tui.i18n import gettext as _

__all__ = [
    "FileMailer",
    "Mailer",
    "SmtpMailer",
    "build_email",
    "message_id_for",
    "text_to_html",
]


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The same Message-ID for the same reminder, so a resent copy is recognisably the same."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def text_to_html(text: str) -> str:
    """A plain text as HTML paragraphs (blank lines separate them), every character escaped."""
    paragraphs = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in block.strip().split("\n")) + "</p>"
        for block in paragraphs
    )


def build_email(
    *,
    to: str,
    sender: str,
    subject: str,
    text: str,
    html_body: str,
    opt_out: str,
    idempotency_key: str,
    sender_name: str = "",
) -> EmailMessage:
    """The reminder as multipart/alternative: the text part, then the HTML part (an HTML body
    fragment, already escaped by its template); `opt_out` ends both.

    Header values are set through EmailMessage, which refuses a newline in them, so no text from
    a case can add a header."""
    if not opt_out.strip():
        raise ValueError("an e-mail reminder needs an opt-out line")
    domain = sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id_for(idempotency_key, domain)
    message["X-Reminder-Key"] = idempotency_key
    message.set_content(f"{text.rstrip()}\n\n--\n{opt_out.strip()}\n", subtype="plain")
    document = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        f"{html_body.strip()}\n"
        f'<hr>\n<p class="opt-out">{html.escape(opt_out.strip())}</p>\n'
        "</body></html>\n"
    )
    message.add_alternative(document, subtype="html")
    return message


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str: ...


class FileMailer:
    """Writes what would be sent: one .eml file per message, named by its reminder key."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> str:
        key = str(message.get("X-Reminder-Key") or message["Message-ID"] or "message")
        try:
            path = write_atomically(self.folder, key_file_name(key, ".eml"), message.as_bytes())
        except OSError as error:
            raise DeliveryFailed(
                _("cannot write {folder}: {strerror}").format(
                    folder=self.folder, strerror=error.strerror
                )
            ) from error
        return str(path)


class SmtpMailer:
    """Sends through an SMTP server: STARTTLS when `starttls`, a login when `user_env` names an
    environment variable (the password from `password_env`); the secrets are read at each send
    and never appear in a message."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        starttls: bool = True,
        user_env: str | None = None,
        password_env: str | None = None,
        sender: str = "",
        timeout_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.user_env = user_env
        self.password_env = password_env
        self.sender = sender
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context

    def send(self, message: EmailMessage) -> str:
        user = os.environ.get(self.user_env, "") if self.user_env else ""
        password = os.environ.get(self.password_env, "") if self.password_env else ""
        if self.user_env and not (user and password):
            raise DeliveryFailed(
                _("the SMTP login ({user_env}, {password_env}) is not set").format(
                    user_env=self.user_env, password_env=self.password_env
                )
            )
        envelope_from = self.sender or str(message["From"])
        recipients = [str(message["To"])]
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if user:
                    smtp.login(user, password)
                refused = smtp.send_message(message, from_addr=envelope_from, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as error:
            code, answer = next(iter(error.recipients.values()))
            raise _refusal("recipient refused", code, answer) from None
        except smtplib.SMTPSenderRefused as error:
            raise _refusal("sender refused", error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPDataError as error:
            raise _refusal("message refused", error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryFailed(
                _("SMTP login refused ({smtp_code})").format(smtp_code=error.smtp_code)
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryFailed(_("the SMTP server does not offer STARTTLS")) from None
        except TimeoutError:
            raise DeliveryFailed(
                _("SMTP server did not answer in {timeout_s:g} s").format(timeout_s=self.timeout_s)
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(_("SMTP: {error}").format(error=_short(error))) from None
        if refused:
            code, answer = next(iter(refused.values()))
            raise _refusal("recipient refused", code, answer)
        return str(message["Message-ID"])


def _refusal(what: str, code: int, answer: bytes | str) -> DeliveryFailed:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    # 5xx is the server's final word (a bounce); 4xx asks to try again later.
    return DeliveryFailed(
        _("{what}: {code} {text}").format(what=what, code=code, text=_short(text)),
        permanent=500 <= code < 600,
    )


def _short(value: object) -> str:
    return " ".join(str(value).split())[:160]
