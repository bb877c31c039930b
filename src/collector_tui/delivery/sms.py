"""SMS: segment counting (GSM-7 / UCS-2) and the gateways that take a message.

A gateway's `send(message)` returns a receipt (the provider's id, or the file written) and raises
DeliveryFailed: `permanent` when the same message would be refused again (a 4xx answer), not
permanent when a later try may work (a 5xx answer, a timeout, no connection).
"""

from __future__ import annotations

import json
import math
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Literal, Protocol

from collector_tui.delivery.errors import DeliveryFailed
from collector_tui.delivery.files import key_file_name, write_atomically
from collector_tui.i18n import gettext as _

__all__ = [
    "DEFAULT_BODY_TEMPLATE",
    "FileSmsGateway",
    "HttpSmsGateway",
    "SmsGateway",
    "SmsMessage",
    "SmsSegments",
    "sms_segments",
]

# GSM 03.38: the basic character set (one septet each) and the extension table (an escape plus
# one septet: two each). ESC itself is not a character a message can contain.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

# One message, and each part of a concatenated one (the user data header takes the difference).
_GSM_SINGLE, _GSM_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsSegments:
    """How a text travels: its encoding, how many SMS it takes, and its length in the encoding's
    units (septets for GSM-7, an extension character counting two; UTF-16 code units for UCS-2,
    an emoji counting two)."""

    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    characters: int


def sms_segments(text: str) -> SmsSegments:
    if all(char in _GSM_BASIC or char in _GSM_EXTENSION for char in text):
        units = [2 if char in _GSM_EXTENSION else 1 for char in text]
        return SmsSegments("GSM-7", _count(units, _GSM_SINGLE, _GSM_PART), sum(units))
    # UCS-2 as phones really send it: UTF-16, a character outside the BMP taking a surrogate pair.
    units = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsSegments("UCS-2", _count(units, _UCS2_SINGLE, _UCS2_PART), sum(units))


def _count(units: list[int], single: int, part: int) -> int:
    total = sum(units)
    if total <= single:
        return 1
    # An escape pair or a surrogate pair is never split across two parts: pack greedily.
    segments, used = 1, 0
    for width in units:
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return max(segments, math.ceil(total / part))


@dataclass(frozen=True)
class SmsMessage:
    to_e164: str
    sender: str
    text: str
    # The same message sent twice carries the same key: a gateway (or the file adapter) that has
    # it already does not deliver it again.
    idempotency_key: str


class SmsGateway(Protocol):
    def send(self, message: SmsMessage) -> str: ...


class FileSmsGateway:
    """Writes what would be sent: one JSON file per message, named by its idempotency key."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def send(self, message: SmsMessage) -> str:
        counted = sms_segments(message.text)
        record = {
            "to": message.to_e164,
            "sender": message.sender,
            "text": message.text,
            "idempotency_key": message.idempotency_key,
            "encoding": counted.encoding,
            "segments": counted.segments,
        }
        data = (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        try:
            path = write_atomically(
                self.folder, key_file_name(message.idempotency_key, ".json"), data
            )
        except OSError as error:
            raise DeliveryFailed(
                _("cannot write {folder}: {strerror}").format(
                    folder=self.folder, strerror=error.strerror
                )
            ) from error
        return str(path)


# `${to}`, `${sender}`, `${text}`, `${idempotency_key}` (config.SmsSettings checks the names).
DEFAULT_BODY_TEMPLATE: dict[str, Any] = {"to": "${to}", "from": "${sender}", "text": "${text}"}


def _fill(template: Any, values: dict[str, str]) -> Any:
    # Substituted into the decoded structure, then encoded: a message text with quotes or
    # braces stays one JSON string. string.Template has no attribute access, unlike str.format.
    if isinstance(template, str):
        return Template(template).substitute(values)
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    return template


class HttpSmsGateway:
    """A generic HTTP JSON gateway: POST the filled body template to `url` with the bearer token
    from the environment variable `token_env` and the message's `Idempotency-Key` header.

    The token is read at each send (a rotated secret needs no restart) and never appears in a
    message or a log line."""

    def __init__(
        self,
        url: str,
        token_env: str,
        body_template: dict[str, Any] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the SMS gateway URL must start with http:// or https://")
        self.url = url
        self.token_env = token_env
        self.body_template = body_template if body_template is not None else DEFAULT_BODY_TEMPLATE
        self.timeout_s = timeout_s

    def send(self, message: SmsMessage) -> str:
        token = os.environ.get(self.token_env, "")
        if not token:
            # Not permanent: the message is fine, the operator sets the variable and it goes.
            raise DeliveryFailed(
                _("the SMS gateway token ({token_env}) is not set").format(token_env=self.token_env)
            )
        values = {
            "to": message.to_e164,
            "sender": message.sender,
            "text": message.text,
            "idempotency_key": message.idempotency_key,
        }
        body = json.dumps(_fill(self.body_template, values), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": message.idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
                answer = response.read(65536)
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
            # 408 and 429 say "later", like a 5xx; any other 4xx refuses this message for good.
            permanent = 400 <= status < 500 and status not in (408, 429)
            raise DeliveryFailed(
                _("SMS gateway answered {status} {reason}").format(
                    status=status, reason=_reason(error.reason)
                ),
                permanent=permanent,
            ) from None
        except TimeoutError:
            raise DeliveryFailed(
                _("SMS gateway did not answer in {timeout_s:g} s").format(timeout_s=self.timeout_s)
            ) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                raise DeliveryFailed(
                    _("SMS gateway did not answer in {timeout_s:g} s").format(
                        timeout_s=self.timeout_s
                    )
                ) from None
            raise DeliveryFailed(
                _("SMS gateway unreachable: {reason}").format(reason=_reason(reason))
            ) from None
        except OSError as error:
            raise DeliveryFailed(
                _("SMS gateway unreachable: {error}").format(error=_reason(error))
            ) from None
        return _receipt(answer) or f"http {status} {message.idempotency_key}"


def _reason(reason: object) -> str:
    text = " ".join(str(reason).split())
    return text[:120]


def _receipt(answer: bytes) -> str:
    """The provider's message id when the answer is a JSON object that has one."""
    try:
        decoded = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    if isinstance(decoded, dict):
        for key in ("id", "message_id", "messageId", "sid"):
            value = decoded.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return ""
