"""E-mail: multipart text + HTML with the opt-out line in both, received by a real SMTP server on
loopback (aiosmtpd); a refused recipient is a permanent failure (bounce), a 4xx a temporary one;
STARTTLS and a login from the environment; the file mailer."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from collector_tui.delivery.email import FileMailer, SmtpMailer, build_email
from collector_tui.delivery.errors import DeliveryFailed

OPT_OUT = "To stop e-mails about this account, reply UNSUBSCRIBE."


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("bounce@"):
            return "550 5.1.1 No such user"
        if address.startswith("later@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def _free_port() -> int:
    # aiosmtpd's Controller checks it is up by connecting to its port: it needs a real number.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _email(to: str = "debtor@example.com", key: str = "case-1-step-2") -> EmailMessage:
    return build_email(
        to=to,
        sender="reminders@agency.example",
        sender_name="Acme Recoveries",
        subject="Reminder: ¥1,000.00 due\non account 7",
        text="尊敬的张伟：\n\nDear {{ 7*7 }} <script>,\nplease pay.",
        html_body="<p>尊敬的张伟：</p><p>Dear {{ 7*7 }} &lt;script&gt;, please pay.</p>",
        opt_out=OPT_OUT,
        idempotency_key=key,
    )


def test_smtp_delivers_multipart_with_opt_out_in_both_parts(smtp: tuple[_Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SmtpMailer("127.0.0.1", port, starttls=False, sender="bounces@agency.example")
    receipt = mailer.send(_email())
    assert len(inbox.messages) == 1
    mail_from, recipients, received = inbox.messages[0]
    assert mail_from == "bounces@agency.example" and recipients == ["debtor@example.com"]
    assert receipt == received["Message-ID"]
    assert received.get_content_type() == "multipart/alternative"
    # The subject's newline could not become a header.
    assert received["Subject"] == "Reminder: ¥1,000.00 due on account 7"
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and html is not None
    text_content, html_content = text.get_content(), html.get_content()
    assert "尊敬的张伟" in text_content and OPT_OUT in text_content
    assert "尊敬的张伟" in html_content and OPT_OUT in html_content
    assert "<script>" not in html_content
    # The same reminder has the same Message-ID: a resend is recognisably the same message.
    assert _email()["Message-ID"] == received["Message-ID"]
    assert _email(key="other")["Message-ID"] != received["Message-ID"]


def test_refused_recipient_is_a_permanent_failure(smtp: tuple[_Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SmtpMailer("127.0.0.1", port, starttls=False)
    with pytest.raises(DeliveryFailed) as caught:
        mailer.send(_email(to="bounce@example.com"))
    assert caught.value.permanent is True
    assert "550" in caught.value.reason
    with pytest.raises(DeliveryFailed) as caught:
        mailer.send(_email(to="later@example.com"))
    assert caught.value.permanent is False
    assert "451" in caught.value.reason
    assert inbox.messages == []


def test_unreachable_server_is_temporary() -> None:
    port = _free_port()
    with pytest.raises(DeliveryFailed) as caught:
        SmtpMailer("127.0.0.1", port, starttls=False, timeout_s=2).send(_email())
    assert caught.value.permanent is False


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_and_login_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd answers 535 itself (its default, handled=True, answers nothing and
        # the client waited for its 30 s timeout).
        return AuthResult(success=auth_data.password == b"pw-from-env", handled=False)

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setenv("TEST_SMTP_USER", "agency")
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "pw-from-env")
        mailer = SmtpMailer(
            "127.0.0.1",
            port,
            starttls=True,
            user_env="TEST_SMTP_USER",
            password_env="TEST_SMTP_PASSWORD",
            ssl_context=client_context,
        )
        mailer.send(_email())
        assert logins == [(b"agency", b"pw-from-env")]
        assert len(inbox.messages) == 1
        # A wrong password: refused, temporary (the operator fixes it), and never in the message.
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-secret")
        with pytest.raises(DeliveryFailed) as caught:
            mailer.send(_email())
        assert caught.value.permanent is False and "wrong-secret" not in str(caught.value)
        assert "login refused (535)" in str(caught.value)
        monkeypatch.delenv("TEST_SMTP_PASSWORD")
        with pytest.raises(DeliveryFailed, match="TEST_SMTP_PASSWORD"):
            mailer.send(_email())
    finally:
        controller.stop()


def test_file_mailer_writes_one_eml_per_reminder(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "email")
    first = mailer.send(_email())
    assert mailer.send(_email()) == first
    files = list((tmp_path / "email").iterdir())
    assert [f.name for f in files] == ["case-1-step-2.eml"]
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None and OPT_OUT in body.get_content()


def test_an_email_needs_an_opt_out_line() -> None:
    with pytest.raises(ValueError, match="opt-out"):
        build_email(
            to="a@example.com",
            sender="b@example.com",
            subject="s",
            text="t",
            html_body="<p>t</p>",
            opt_out=" ",
            idempotency_key="k",
        )
