"""`[delivery]` settings: read from TOML, validated with messages that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector_tui.config import DeliverySettings, SmsSettings, SmtpSettings, load_settings


def test_delivery_table_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        """
[delivery]
templates_dir = "~/team-templates"
outbox_dir = "/srv/outbox"
agency_name = "Acme Recoveries"
payment_details = "Bank: First Bank\\nAccount: 1"

[delivery.sms]
kind = "http"
url = "https://sms.example/v1/send"
token_env = "ACME_SMS_TOKEN"
sender = "ACME"
body_template = { to = "${to}", message = "${text}", ref = "${idempotency_key}" }

[delivery.smtp]
host = "smtp.example"
port = 2525
user_env = "ACME_SMTP_USER"
password_env = "ACME_SMTP_PASSWORD"
sender = "reminders@acme.example"
""",
        encoding="utf-8",
    )
    delivery = load_settings(path, use_environment=False).delivery
    assert delivery.sms.kind == "http" and delivery.sms.token_env == "ACME_SMS_TOKEN"
    assert delivery.sms.body_template["ref"] == "${idempotency_key}"
    assert delivery.smtp.port == 2525 and delivery.smtp.starttls is True
    assert delivery.outbox_path() == Path("/srv/outbox")
    assert delivery.payment_details == "Bank: First Bank\nAccount: 1"


def test_default_outbox_is_in_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert DeliverySettings().outbox_path() == tmp_path / "data" / "collector-tui" / "outbox"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SmsSettings(kind="pigeon"), "sms kind must be one of file, http"),
        (lambda: SmsSettings(kind="http"), "sms url must start with http"),
        (lambda: SmsSettings(kind="http", url="file:///etc/passwd"), "sms url"),
        (lambda: SmsSettings(token_env="sk-live-123 secret"), "environment variable"),
        (lambda: SmsSettings(body_template={"to": "${phone}"}), "not phone"),
        (lambda: SmsSettings(body_template={}), "must be a table"),
        (lambda: SmsSettings(timeout_s=0), "timeout_s"),
        (lambda: SmtpSettings(port=70000), "port"),
        (lambda: SmtpSettings(user_env="U"), "both user_env and password_env"),
        (lambda: SmtpSettings(host="smtp.example", sender="nobody"), "sender must be an e-mail"),
        (lambda: SmtpSettings(starttls="yes"), "starttls must be true or false"),  # type: ignore[arg-type]
        (lambda: DeliverySettings(agency_name=" "), "agency_name must not be empty"),
        (lambda: DeliverySettings(letter_font="font.otf"), "TrueType"),
        (lambda: DeliverySettings(outbox_dir=""), "outbox_dir must be a folder"),
    ],
)
def test_bad_delivery_settings(make, message: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_delivery_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[delivery.sms]\nkindd = 'file'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown setting 'kindd'"):
        load_settings(path, use_environment=False)
