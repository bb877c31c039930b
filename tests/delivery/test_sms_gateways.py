"""SMS: segments at the GSM-7 and UCS-2 boundaries; the file adapter; the HTTP adapter against a
real HTTP server on loopback (bearer token, idempotency header, 500, 400, a timeout)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from collector_tui.delivery.errors import DeliveryFailed
from collector_tui.delivery.sms import (
    FileSmsGateway,
    HttpSmsGateway,
    SmsMessage,
    sms_segments,
)

TOKEN = "s3cret-token-value"


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "characters"),
    [
        ("", "GSM-7", 1, 0),
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("@£$¥èé_ΔΦÑ" * 16, "GSM-7", 1, 160),  # the basic table's odd ones count one
        ("€" * 80, "GSM-7", 1, 160),  # the extension table counts two
        ("€" * 81, "GSM-7", 2, 162),
        ("{}[]~^|\\" * 10, "GSM-7", 1, 160),
        ("a" * 152 + "€", "GSM-7", 1, 154),
        # Past one message, an escape pair is never split: 152 + 2 does not fit 153.
        ("a" * 152 + "€" + "a" * 10, "GSM-7", 2, 164),
        ("a" * 69 + "ç", "UCS-2", 1, 70),  # ç is not GSM-7 (only Ç is): the whole text is UCS-2
        ("中" * 70, "UCS-2", 1, 70),
        ("中" * 71, "UCS-2", 2, 71),
        ("中" * 134, "UCS-2", 2, 134),
        ("中" * 135, "UCS-2", 3, 135),
        ("😀" * 35, "UCS-2", 1, 70),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, "UCS-2", 2, 72),
    ],
)
def test_segments(text: str, encoding: str, segments: int, characters: int) -> None:
    counted = sms_segments(text)
    assert (counted.encoding, counted.segments, counted.characters) == (
        encoding,
        segments,
        characters,
    )


def _message(key: str = "case-1-step-1", text: str = "Balance ¥1,000.00 — 请还款") -> SmsMessage:
    return SmsMessage(to_e164="+8613800138000", sender="ACME", text=text, idempotency_key=key)


def test_file_gateway_writes_one_file_per_key_and_overwrites_on_rerun(tmp_path: Path) -> None:
    gateway = FileSmsGateway(tmp_path / "sms")
    receipt = gateway.send(_message())
    again = gateway.send(_message())
    assert receipt == again
    files = list((tmp_path / "sms").iterdir())
    assert [f.name for f in files] == ["case-1-step-1.json"]
    record = json.loads(files[0].read_text(encoding="utf-8"))
    assert record["text"] == "Balance ¥1,000.00 — 请还款"
    assert record["encoding"] == "UCS-2" and record["to"] == "+8613800138000"
    # A key that is not a plain name does not choose the path.
    gateway.send(_message(key="../../etc/passwd"))
    assert len(list((tmp_path / "sms").iterdir())) == 2
    assert not (tmp_path / "etc").exists()


class _Gateway:
    """What the fake provider saw, and how it answers next."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        self.release = threading.Event()


@pytest.fixture
def gateway() -> Iterator[tuple[_Gateway, str]]:
    state = _Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": json.loads(body.decode("utf-8")),
                }
            )
            if state.delay:
                state.release.wait(state.delay)
            answer = json.dumps({"id": f"msg-{len(state.requests)}"}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                self.wfile.write(answer)
            except OSError:
                pass  # the client gave up (the timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_gateway_posts_json_with_token_and_idempotency_key(
    gateway: tuple[_Gateway, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = gateway
    monkeypatch.setenv("TEST_SMS_TOKEN", TOKEN)
    body = {
        "messages": [{"to": "${to}", "from": "${sender}", "body": "${text}"}],
        "ref": "$idempotency_key",
    }
    sender = HttpSmsGateway(url, "TEST_SMS_TOKEN", body, timeout_s=5)
    text = 'He said "pay" {now} ${text} \\ 请还款'
    receipt = sender.send(_message(text=text))
    assert receipt == "msg-1"
    seen = state.requests[0]
    assert seen["path"] == "/v1/messages"
    assert seen["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert seen["headers"]["Idempotency-Key"] == "case-1-step-1"
    assert seen["headers"]["Content-Type"].startswith("application/json")
    # The text is one JSON string, whatever quotes, braces or dollars it holds.
    assert seen["body"] == {
        "messages": [{"to": "+8613800138000", "from": "ACME", "body": text}],
        "ref": "case-1-step-1",
    }


@pytest.mark.parametrize(
    ("status", "permanent"), [(500, False), (503, False), (429, False), (400, True), (404, True)]
)
def test_http_gateway_failures(
    gateway: tuple[_Gateway, str], monkeypatch: pytest.MonkeyPatch, status: int, permanent: bool
) -> None:
    state, url = gateway
    state.status = status
    monkeypatch.setenv("TEST_SMS_TOKEN", TOKEN)
    with pytest.raises(DeliveryFailed) as caught:
        HttpSmsGateway(url, "TEST_SMS_TOKEN", timeout_s=5).send(_message())
    assert caught.value.permanent is permanent
    assert str(status) in caught.value.reason
    assert TOKEN not in str(caught.value)


def test_http_gateway_timeout_is_temporary(
    gateway: tuple[_Gateway, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = gateway
    state.delay = 5.0
    monkeypatch.setenv("TEST_SMS_TOKEN", TOKEN)
    with pytest.raises(DeliveryFailed) as caught:
        HttpSmsGateway(url, "TEST_SMS_TOKEN", timeout_s=0.3).send(_message())
    assert caught.value.permanent is False
    assert "did not answer" in caught.value.reason
    assert TOKEN not in str(caught.value)


def test_http_gateway_unreachable_or_without_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_SMS_TOKEN", raising=False)
    # A port nothing listens on: take one, then close it.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(DeliveryFailed, match="TEST_SMS_TOKEN") as caught:
        HttpSmsGateway(url, "TEST_SMS_TOKEN").send(_message())
    assert caught.value.permanent is False
    monkeypatch.setenv("TEST_SMS_TOKEN", TOKEN)
    with pytest.raises(DeliveryFailed, match="unreachable") as caught:
        HttpSmsGateway(url, "TEST_SMS_TOKEN", timeout_s=2).send(_message())
    assert caught.value.permanent is False
    with pytest.raises(ValueError, match="http"):
        HttpSmsGateway("file:///etc/passwd", "TEST_SMS_TOKEN")
