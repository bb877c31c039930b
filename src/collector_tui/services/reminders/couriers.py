"""The send run's couriers: the delivery channels (delivery/) as the outbox hands them messages.

`couriers_from_settings` builds one per channel from `Settings.delivery`: SMS through the file or
HTTP gateway, e-mail through SMTP or as .eml files, letters as one PDF each under the outbox folder
plus one print batch per run (`finish`). Whether a courier may be handed a message again after a
crash (`idempotent`) is decided here, per adapter (services/reminders/outbox.py says why it
matters): the file adapters overwrite the file named by the key, the HTTP gateway receives the
key as Idempotency-Key, a letter is rewritten; an SMTP server cannot be asked whether it took a
message, so SMTP is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from collector_tui.config import Settings
from collector_tui.delivery.email import Mailer, build_email, text_to_html
from collector_tui.delivery.files import key_file_name, write_atomically
from collector_tui.delivery.pdf import (
    AddressBlock,
    Document,
    Heading,
    Para,
    print_batch,
    render_pdf,
)
from collector_tui.delivery.sms import SmsGateway, SmsMessage
from collector_tui.i18n import gettext as _
from collector_tui.services.reminders import channels
from collector_tui.services.reminders.outbox import Courier, Outgoing, Receipt

__all__ = [
    "EmailCourier",
    "LetterCourier",
    "SmsCourier",
    "couriers_from_settings",
    "letter_document",
]

DEFAULT_OPT_OUT = "To stop e-mails about this debt, reply with the word STOP."


class SmsCourier:
    idempotent = True

    def __init__(self, gateway: SmsGateway, sender: str) -> None:
        self.gateway = gateway
        self.sender = sender

    def send(self, message: Outgoing) -> Receipt:
        reference = self.gateway.send(
            SmsMessage(
                to_e164=message.to,
                sender=self.sender,
                text=message.text,
                idempotency_key=message.idempotency_key,
            )
        )
        return Receipt(reference=reference)


class EmailCourier:
    def __init__(
        self,
        mailer: Mailer,
        *,
        sender: str,
        sender_name: str,
        idempotent: bool,
    ) -> None:
        self.mailer = mailer
        self.sender = sender
        self.sender_name = sender_name
        self.idempotent = idempotent

    def send(self, message: Outgoing) -> Receipt:
        email = build_email(
            to=message.to,
            sender=self.sender,
            sender_name=self.sender_name,
            subject=message.subject or message.template,
            text=message.text,
            html_body=message.html or text_to_html(message.text),
            opt_out=message.opt_out or DEFAULT_OPT_OUT,
            idempotency_key=message.idempotency_key,
        )
        return Receipt(reference=self.mailer.send(email))


def letter_document(message: Outgoing, settings: Settings) -> Document:
    """A letter from its rendered text: the agency and the debtor's address, the subject as the
    heading, one paragraph per blank-line-separated block."""
    delivery = settings.delivery
    sender = tuple(
        line
        for line in (
            delivery.agency_name,
            *delivery.agency_address.splitlines(),
            delivery.agency_phone,
            delivery.agency_email,
        )
        if line.strip()
    )
    recipient = tuple(
        line.strip()
        for line in (message.recipient_name, *message.to.replace(",", "\n").splitlines())
        if line.strip()
    )
    blocks: list[Heading | Para | AddressBlock] = [
        AddressBlock(sender=sender, recipient=recipient, date_line=message.date_line)
    ]
    if message.subject:
        blocks.append(Heading(message.subject))
    for block in message.text.replace("\r\n", "\n").split("\n\n"):
        if block.strip():
            blocks.append(Para(block.strip()))
    return Document(
        title=message.subject or message.template,
        blocks=tuple(blocks),
        author=delivery.agency_name,
    )


class LetterCourier:
    """Letters as PDF files under `folder/letters` (one per letter, named by its key: a rerun
    rewrites the same file) and, at the end of a run, one print batch of them all under
    `folder/batches`."""

    idempotent = True

    def __init__(
        self,
        folder: Path,
        settings: Settings,
        *,
        stamp: str,
        document: Callable[[Outgoing, Settings], Document] = letter_document,
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.stamp = stamp
        self.document = document
        self.printed: list[bytes] = []

    def send(self, message: Outgoing) -> Receipt:
        from collector_tui.delivery.errors import DeliveryFailed

        try:
            data = (
                message.pdf
                if message.pdf is not None
                else render_pdf(self.document(message, self.settings))
            )
        except ValueError as error:
            raise DeliveryFailed(
                _("cannot render the letter: {error}").format(error=error), permanent=True
            ) from None
        try:
            path = write_atomically(
                self.folder / "letters", key_file_name(message.idempotency_key, ".pdf"), data
            )
        except OSError as error:
            raise DeliveryFailed(
                _("cannot write {folder}: {strerror}").format(
                    folder=self.folder, strerror=error.strerror
                )
            ) from None
        self.printed.append(data)
        return Receipt(
            reference=path.name, pdf_path=str(path), pdf_sha256=hashlib.sha256(data).hexdigest()
        )

    def finish(self) -> Path | None:
        """The run's print batch, when it made letters."""
        if not self.printed:
            return None
        data = print_batch(self.printed)
        self.printed = []
        return write_atomically(self.folder / "batches", f"print-batch-{self.stamp}.pdf", data)


def couriers_from_settings(
    settings: Settings, *, now: datetime, outbox_dir: Path | None = None
) -> Mapping[str, Courier]:
    """One courier per channel, as the config's `[delivery]` says; files under `outbox_dir`
    (default the config's outbox folder)."""
    delivery = settings.delivery
    folder = channels.outbox_folder(settings, outbox_dir)
    gateway = channels.sms_gateway(settings, folder)
    mailer = channels.mailer(settings, folder)
    sms, smtp = delivery.sms, delivery.smtp
    sender = smtp.sender or delivery.agency_email or "reminders@localhost"
    return {
        "sms": SmsCourier(gateway, sms.sender or delivery.agency_name),
        "email": EmailCourier(
            mailer, sender=sender, sender_name=delivery.agency_name, idempotent=not smtp.host
        ),
        "letter": LetterCourier(folder, settings, stamp=now.strftime("%Y%m%dT%H%M%SZ")),
    }
