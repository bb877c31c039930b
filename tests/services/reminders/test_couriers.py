"""The send run through the real channels: e-mails counted at a real SMTP server on loopback
(aiosmtpd), SMS written by the file gateway, letters as PDF files and one print batch."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader
from sqlmodel import select

from collector_tui.config import DeliverySettings, Settings, SmtpSettings
from collector_tui.models import Activity, EmailAddress, Phone, Reminder
from collector_tui.services.reminders import outbox
from collector_tui.services.reminders.couriers import EmailCourier, couriers_from_settings
from collector_tui.services.reminders.sequences import clear_rules_cache

MORNING = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
EMAIL_ONLY = """
[sequences.mail]
steps = [{ day = 0, channel = "email", template = "reminder" }]
[sequences.letter]
steps = [{ day = 0, channel = "letter", template = "reminder" }]

[[rules]]
sequence = "letter"
priority = 5
client = ["Letters Ltd"]

[[rules]]
sequence = "mail"
"""


class Inbox:
    def __init__(self) -> None:
        self.keys: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.startswith("X-Reminder-Key:"):
                self.keys.append(line.split(":", 1)[1].strip())
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def render(session: Any, case: Any, row: Any, now: Any, settings: Any) -> outbox.Rendered:
    text = f"Dear {case.client_ref},\n\nPlease pay.\n\n请尽快还款。"
    return outbox.Rendered(subject=f"Reminder {case.client_ref}", text=text, html=None)


def settings_for(tmp_path: Path, port: int | None = None) -> Settings:
    path = tmp_path / "sequences.toml"
    path.write_text(EMAIL_ONLY, encoding="utf-8")
    clear_rules_cache()
    smtp = (
        SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="agency@example.com")
        if port
        else SmtpSettings()
    )
    return Settings(
        reminder_rules=str(path),
        delivery=DeliverySettings(outbox_dir=str(tmp_path / "outbox"), smtp=smtp),
    )


def reachable_cases(store: Any, place: Any, count: int, **options: Any) -> None:
    for n in range(count):
        case = place(f"E-{n}", address=f"{n} Nanjing Road\nShanghai", **options)
        with store.write() as session:
            session.add(
                EmailAddress(
                    debtor_id=case.debtor_id,
                    address=f"e{n}@example.com",
                    opt_in=True,
                    created_at=MORNING,
                    updated_at=MORNING,
                )
            )
            for phone in session.exec(select(Phone).where(Phone.debtor_id == case.debtor_id)):
                phone.sms_consent = True
                session.add(phone)


class Killed(EmailCourier):
    """The real SMTP courier, and the run killed right after the n-th e-mail went out."""

    def __init__(self, inner: EmailCourier, after: int) -> None:
        super().__init__(
            inner.mailer, sender=inner.sender, sender_name=inner.sender_name, idempotent=False
        )
        self.after = after
        self.count = 0

    def send(self, message: outbox.Outgoing) -> outbox.Receipt:
        receipt = super().send(message)
        self.count += 1
        if self.count >= self.after:
            raise KeyboardInterrupt
        return receipt


def test_killed_run_then_rerun_every_email_arrives_once_at_the_smtp_server(
    store,
    place,
    users,
    tmp_path,
    smtp_server,  # noqa: ANN001
) -> None:
    port, inbox = smtp_server
    settings = settings_for(tmp_path, port)
    reachable_cases(store, place, 6)
    real = couriers_from_settings(settings, now=MORNING)
    killed = Killed(real["email"], after=3)  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        outbox.send_due(
            store=store,
            now=MORNING,
            settings=settings,
            actor=users["sam"],
            couriers={**real, "email": killed},
            render=render,
        )
    assert len(inbox.keys) == 3
    report = outbox.send_due(
        store=store,
        now=MORNING,
        settings=settings,
        actor=users["sam"],
        couriers=couriers_from_settings(settings, now=MORNING),
        render=render,
    )
    # The one handed to SMTP when the run died is not sent again: a supervisor checks it.
    assert (report.sent, report.uncertain) == (3, 1)
    assert len(inbox.keys) == len(set(inbox.keys)) == 6
    with store.read() as session:
        statuses = sorted(r.status for r in session.exec(select(Reminder)))
        assert statuses == ["sent"] * 5 + ["uncertain"]
        notes = session.exec(select(Activity.note).where(Activity.channel == "email")).all()
        assert len(notes) == 5 and all("请尽快还款" in (note or "") for note in notes)


def test_smtp_refusing_a_recipient_is_a_failure_not_a_send(store, place, users, tmp_path) -> None:  # noqa: ANN001
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there
    settings = settings_for(tmp_path, port)
    reachable_cases(store, place, 1)
    report = outbox.send_due(
        store=store,
        now=MORNING,
        settings=settings,
        actor=users["sam"],
        couriers=couriers_from_settings(settings, now=MORNING),
        render=render,
    )
    assert (report.sent, report.retrying) == (0, 1)
    with store.read() as session:
        [row] = session.exec(select(Reminder)).all()
        assert row.status == "queued" and row.tries == 1 and "SMTP" in (row.reason or "")
        assert session.exec(select(Activity)).all() == []


def test_letters_one_pdf_each_and_a_print_batch(store, place, users, tmp_path) -> None:  # noqa: ANN001
    settings = settings_for(tmp_path)
    reachable_cases(store, place, 2, client="Letters Ltd")
    report = outbox.send_due(
        store=store,
        now=MORNING,
        settings=settings,
        actor=users["sam"],
        couriers=couriers_from_settings(settings, now=MORNING),
        render=render,
    )
    assert report.sent == 2 and len(report.files) == 1
    letters = sorted((tmp_path / "outbox" / "letters").iterdir())
    assert len(letters) == 2
    text = PdfReader(letters[0]).pages[0].extract_text()
    assert "请尽快还款" in text and "Nanjing Road" in text
    assert len(PdfReader(report.files[0]).pages) == 2
    with store.read() as session:
        rows = session.exec(select(Reminder)).all()
        assert all(r.pdf_path and len(r.pdf_sha256 or "") == 64 for r in rows)
        notes = session.exec(select(Activity.note).where(Activity.channel == "letter")).all()
        assert all("sha256" in (note or "") for note in notes)


class _Gateway:
    """A loopback HTTP SMS gateway: answers 500 to the first request, then 200."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.keys: list[str] = []
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                gateway.keys.append(self.headers.get("Idempotency-Key", ""))
                status = 500 if len(gateway.keys) == 1 else 200
                body = b'{"id": "msg-1"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_sms_through_an_http_gateway_answering_500_then_ok(
    store,
    place,
    users,
    tmp_path,
    monkeypatch,  # noqa: ANN001
) -> None:
    from datetime import timedelta

    from collector_tui.config import SmsSettings

    gateway = _Gateway()
    try:
        path = tmp_path / "sequences.toml"
        path.write_text(
            '[sequences.s]\nsteps = [{ day = 0, channel = "sms", template = "reminder" }]\n'
            '[[rules]]\nsequence = "s"\n',
            encoding="utf-8",
        )
        clear_rules_cache()
        monkeypatch.setenv("COLLECTOR_SMS_TOKEN", "secret-token")
        settings = Settings(
            reminder_rules=str(path),
            reminder_retry_min=5,
            delivery=DeliverySettings(
                outbox_dir=str(tmp_path / "outbox"),
                sms=SmsSettings(kind="http", url=gateway.url, sender="ACME"),
            ),
        )
        reachable_cases(store, place, 1)

        def send(at: datetime) -> outbox.RunReport:
            return outbox.send_due(
                store=store,
                now=at,
                settings=settings,
                actor=users["sam"],
                couriers=couriers_from_settings(settings, now=at),
            )

        assert send(MORNING).retrying == 1
        assert send(MORNING + timedelta(minutes=5)).sent == 1
        assert send(MORNING + timedelta(minutes=10)).sent == 0
        assert len(gateway.keys) == 2 and gateway.keys[0] == gateway.keys[1] != ""
        with store.read() as session:
            [row] = session.exec(select(Reminder)).all()
            assert (row.status, row.tries) == ("sent", 2)
            [sms] = session.exec(select(Activity).where(Activity.channel == "sms")).all()
            assert sms.phone_e164 == "+8613800138000" and sms.note
    finally:
        gateway.close()
