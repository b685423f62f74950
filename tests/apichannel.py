"""Helpers for driving the API channel like a bot would."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from connectors.api.signature import signed_headers


async def post_inbound(
    client: httpx.AsyncClient, channel_id: str, secret: str, body: dict[str, Any],
    *, timestamp: float | None = None,
) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json",
               **signed_headers(secret, raw,
                                now=timestamp if timestamp is not None else time.time())}
    return await client.post(f"/v1/channels/{channel_id}/inbound", content=raw, headers=headers)


def inbound(user: str, message: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"external_user_id": user, "external_message_id": message, "text": text, **extra}
