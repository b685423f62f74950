"""Loading the e-mail fixtures and the channel config they were written against."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import RawEvent

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"
# The channel the fixtures were addressed to: our MTA stamps Authentication-Results as
# mx.acme.example, and our outbound Message-IDs / Reply-To tokens are in acme.example.
CONFIG: dict[str, Any] = {
    "address": "support@acme.example",
    "display_name": "Acme Support",
    "authserv_id": "mx.acme.example",
    "inbound_secret": "inbound-secret-0123456789abcdef",
    "smtp": {"host": "127.0.0.1", "port": 25, "security": "plain", "username": ""},
    "max_attachment_bytes": 100,
}
RECEIVED_AT = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def raw_event(payload: bytes, config: dict[str, Any] | None = None) -> RawEvent:
    return RawEvent(id=1, channel_id="ch_email", external_event_id="x", payload=payload,
                    content_type="message/rfc822", received_at=RECEIVED_AT,
                    channel_config=config if config is not None else CONFIG)


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.eml"))
