"""Driving a Telegram channel of a real omniroute server the way Telegram would."""

from __future__ import annotations

import json
from typing import Any

import httpx

from connectors.telegram.schemas import SECRET_HEADER
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.omni import OmniServer
from tests.omni import messages as messages
from tests.omni import only_thread as only_thread
from tests.omni import stored_events as stored_events


async def create_channel(omni: OmniServer, api: FakeBotApi,
                         mode: str = "webhook") -> tuple[str, str]:
    """(channel id, generated webhook secret)."""
    created = await omni.create_channel("telegram", "Acme Support", {
        "bot_token": TOKEN, "mode": mode, "api_base_url": api.url})
    return created["id"], created["generated_secrets"]["webhook_secret"]


async def post_update(omni: OmniServer, channel_id: str, secret: str | None,
                      update: dict[str, Any] | bytes) -> httpx.Response:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    return await omni.client.post(f"/webhooks/telegram/{channel_id}", content=body,
                                  headers=headers)





async def only_customer(omni: OmniServer) -> dict[str, Any]:
    customers = (await omni.client.get("/v1/customers")).json()["items"]
    assert len(customers) == 1, customers
    customer: dict[str, Any] = customers[0]
    return customer
