"""Driving a WhatsApp channel of a real omniroute server the way Meta would."""

from __future__ import annotations

from typing import Any

import httpx

from tests.connectors.whatsapp.fixtures import fixture, just_sent, signed
from tests.omni import OmniServer
from tests.omni import messages as messages
from tests.omni import only_thread as only_thread
from tests.omni import stored_events as stored_events


async def create_channel(omni: OmniServer, config: dict[str, Any]) -> dict[str, Any]:
    return await omni.create_channel("whatsapp", "WhatsApp support", config)


async def post_body(omni: OmniServer, channel_id: str, body: bytes) -> httpx.Response:
    return await omni.client.post(f"/webhooks/whatsapp/{channel_id}", content=body,
                                  headers=signed(body))


async def post_fixture(omni: OmniServer, channel_id: str, name: str, *,
                       fresh: bool = False) -> httpx.Response:
    """The captured notification; `fresh`: as if its messages were written just now (their
    24-hour reply window is open)."""
    body = fixture(name)
    return await post_body(omni, channel_id, just_sent(body) if fresh else body)



