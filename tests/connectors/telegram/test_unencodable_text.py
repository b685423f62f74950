"""Text no encoder accepts (lone surrogates, NUL) is repaired where a connector hands it over.

A Telegram name or text with a lone surrogate (`\\ud800`, which JSON may carry) used to be
stored, and then the thread's messages were a 500 forever and every live stream died on the
event, again after each reconnect.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.fixtures import fixture
from tests.connectors.telegram.flow import create_channel, post_update
from tests.omni import OmniServer, only_thread

BAD_TEXT = "Where is my order?\ud800 \udcf6 ok"
REPAIRED = "Where is my order?\ufffd \ufffd ok"


async def _read_sse(client: httpx.AsyncClient, want: int,
                    headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with client.stream("GET", "/v1/events", headers=headers or {},
                             params={"types": "message.created"}) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) >= want:
                    break
    return events


def _update(update_id: int, message_id: int, text: str, first_name: str) -> bytes:
    update = fixture("message__text")
    update["update_id"] = update_id
    update["message"]["message_id"] = message_id
    update["message"]["text"] = text
    update["message"]["from"]["first_name"] = first_name
    update["message"].pop("entities", None)
    # json.dumps escapes the lone surrogates as \ud800, exactly as a sender's JSON carries them.
    return json.dumps(update).encode()


async def test_a_lone_surrogate_is_repaired_and_the_thread_and_streams_survive(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    reader = asyncio.create_task(_read_sse(omni.client, 3))
    await asyncio.sleep(0.2)
    for n, (text, name) in enumerate([("before", "Amelia"), (BAD_TEXT, "Am\ud800elia"),
                                      ("after", "Amelia")]):
        response = await post_update(omni, channel_id, secret,
                                     _update(700 + n, 2000 + n, text, name))
        assert response.status_code == 200, response.text
        await omni.settle()
    live = await asyncio.wait_for(reader, 10)
    assert [e["data"]["text"] for e in live] == ["before", REPAIRED, "after"]

    thread = await only_thread(omni)
    page = await omni.client.get(f"/v1/threads/{thread['id']}/messages")
    assert page.status_code == 200, page.text
    assert [m["text"] for m in page.json()["items"]] == ["before", REPAIRED, "after"]
    customers = (await omni.client.get("/v1/customers")).json()["items"]
    assert customers[0]["name"] == "Amelia Kovač"
    # Reconnecting from before the bad event replays it and what followed.
    resumed = await asyncio.wait_for(
        _read_sse(omni.client, 2, {"Last-Event-ID": live[0]["id"]}), 10)
    assert [e["data"]["text"] for e in resumed] == [REPAIRED, "after"]
