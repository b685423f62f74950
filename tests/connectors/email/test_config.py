"""The e-mail channel's config: passwords end up in sealed top-level keys; acknowledgements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import Channel, InboundMessage
from connectors.email.connector import EmailConnector
from connectors.email.schemas import EmailChannelConfig

BASE: dict[str, Any] = {
    "address": "Support@ACME.example",
    "smtp": {"host": "smtp.acme.example", "port": 587, "security": "starttls",
             "username": "support@acme.example", "password": "smtp-pw"},
    "imap": {"host": "imap.acme.example", "port": 993, "security": "ssl",
             "username": "support@acme.example", "password": "imap-pw"},
    "inbound_secret": "inbound-secret-0123456789abcdef",
}


def test_nested_passwords_move_to_the_sealed_top_level_keys() -> None:
    dumped = EmailChannelConfig.model_validate(BASE).model_dump(mode="json", exclude_none=True)
    assert dumped["imap_password"] == "imap-pw"
    assert dumped["smtp_password"] == "smtp-pw"
    assert "password" not in dumped["imap"]
    assert "password" not in dumped["smtp"]
    assert dumped["address"] == "Support@acme.example"
    public = {k for k in dumped if k not in EmailConnector.secret_fields}
    assert not public & {"imap_password", "smtp_password", "inbound_secret"}


def test_the_contract_names_the_secrets() -> None:
    assert EmailConnector.secret_fields == {"inbound_secret", "imap_password", "smtp_password"}
    assert EmailConnector.generated_secrets == {"inbound_secret"}
    assert EmailConnector.identity_kind == "email"
    assert EmailConnector.identity_per_channel is False


@pytest.mark.parametrize(("change", "field"), [
    ({"address": "not an address"}, "address"),
    ({"ack_template": "We answer within {hours} hours"}, "ack_template"),
    ({"smtp": {"host": "x", "security": "tls-please"}}, "smtp.security"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_config_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EmailChannelConfig.model_validate({**BASE, **change})
    assert field in {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


def _channel(**config: Any) -> Channel:
    dumped = EmailChannelConfig.model_validate({**BASE, **config}).model_dump(mode="json")
    return Channel(id="ch_email", type="email", name="mail", config=dumped)


def _inbound(automatic: bool = False) -> InboundMessage:
    return InboundMessage(channel_id="ch_email", external_user_id="jane.doe@example.org",
                          external_message_id="<a@example.org>",
                          sent_at=datetime(2025, 3, 3, tzinfo=UTC), text="hi",
                          automatic=automatic)


def test_acknowledgement_fills_in_the_response_time() -> None:
    ack = EmailConnector().acknowledgement(
        _channel(ack_template="Got it! We reply within {response_time}.",
                 ack_response_time="4 hours", ack_interval_minutes=90), _inbound())
    assert ack is not None
    assert ack.text == "Got it! We reply within 4 hours."
    assert ack.min_interval == timedelta(minutes=90)


def test_no_acknowledgement_for_automatic_mail_or_an_empty_template() -> None:
    assert EmailConnector().acknowledgement(_channel(), _inbound(automatic=True)) is None
    assert EmailConnector().acknowledgement(_channel(ack_template=""), _inbound()) is None
