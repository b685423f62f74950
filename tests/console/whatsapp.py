"""Meta's webhook payloads for the console scenarios: fixtures with a fresh time and id."""

from __future__ import annotations

import json
import time

from tests.connectors.whatsapp.fixtures import fixture
from tests.connectors.whatsapp.flow import post_body
from tests.omni import OmniServer

OUTBOUND_FIXTURE_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQ0QkE0RTc4QjE0MjE3MjcA"


def customer_text(text: str, wamid: str, sent_at: float | None = None,
                  wa_id: str | None = None, name: str | None = None) -> bytes:
    """text__basic (from Sheena Nelson unless `wa_id`/`name` say otherwise), saying `text` now
    (the SLA clock starts at this time)."""
    body = json.loads(fixture("text__basic"))
    value = body["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    if wa_id is not None:
        value["contacts"][0]["wa_id"] = message["from"] = wa_id
    if name is not None:
        value["contacts"][0]["profile"]["name"] = name
    message["id"] = wamid
    message["timestamp"] = str(int(sent_at or time.time()))
    message["text"]["body"] = text
    return json.dumps(body).encode()


def status(wamid: str, name: str) -> bytes:
    """status__<name> for one of our outbound messages."""
    body = json.loads(fixture(f"status__{name}"))
    entry = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    entry["id"] = wamid
    entry["timestamp"] = str(int(time.time()))
    return json.dumps(body).encode()


async def customer_writes(omni: OmniServer, channel_id: str, text: str, wamid: str) -> None:
    response = await post_body(omni, channel_id, customer_text(text, wamid))
    assert response.status_code == 200, response.text


async def provider_reports(omni: OmniServer, channel_id: str, wamid: str, name: str) -> None:
    response = await post_body(omni, channel_id, status(wamid, name))
    assert response.status_code == 200, response.text
