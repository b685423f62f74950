"""Loading WhatsApp fixtures and signing them the way Meta does."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from connectors.base import RawEvent
from connectors.whatsapp.webhook import event_id, signature

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whatsapp"
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
APP_SECRET = "test-app-secret-0123456789"
ACCESS_TOKEN = "EAAtest-access-token"
CHANNEL_ID = "ch_whatsapp"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def just_sent(body: bytes, ago_seconds: int = 0) -> bytes:
    """A captured notification as Meta delivers it right away: its messages written
    `ago_seconds` before now (reply windows count from that time, not from our receipt)."""
    notification = json.loads(body)
    stamp = str(int(time.time()) - ago_seconds)
    for entry in notification.get("entry", []):
        for change in entry.get("changes", []):
            for message in change.get("value", {}).get("messages", []):
                message["timestamp"] = stamp
    return json.dumps(notification).encode()


def raw_event(name: str, phone_number_id: str = PHONE_NUMBER_ID) -> RawEvent:
    body = fixture(name)
    return RawEvent(id=1, channel_id=CHANNEL_ID, external_event_id=event_id(body), payload=body,
                    content_type="application/json",
                    received_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
                    channel_config={"phone_number_id": phone_number_id})


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": signature(secret, body)}
