"""Polling through a real omniroute: stopping the server mid-stream loses and repeats nothing."""

from __future__ import annotations

from typing import Any

from tests.conftest import MakeOmni
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.fixtures import fixture
from tests.connectors.telegram.flow import create_channel, messages, stored_events
from tests.omni import OmniServer


def update(n: int) -> dict[str, Any]:
    body = fixture("message__text")
    body["update_id"] = 900 + n
    body["message"]["message_id"] = 3000 + n
    body["message"]["date"] += n
    body["message"]["text"] = f"message {n}"
    body["message"].pop("entities")
    return body


async def texts(omni: OmniServer) -> list[str]:
    threads = (await omni.client.get("/v1/threads")).json()["items"]
    if not threads:
        return []
    return [m["text"] for m in await messages(omni, threads[0]["id"])]


async def test_restart_mid_stream(make_omni: MakeOmni, bot_api: FakeBotApi) -> None:
    first = await make_omni()
    channel_id, _ = await create_channel(first, bot_api, mode="polling")
    bot_api.push(update(1), update(2), update(3))

    async def three() -> bool:
        return len(await texts(first)) == 3

    await first.wait_for(three)
    await first.stop()

    bot_api.push(update(4), update(5))
    polls_before = len(bot_api.calls_to("getUpdates"))
    second = await make_omni()

    async def five() -> bool:
        return len(await texts(second)) == 5

    await second.wait_for(five)
    assert await texts(second) == [f"message {n}" for n in range(1, 6)]
    assert await stored_events(second, channel_id) == 5
    # The new process asked from the stored offset: updates 901-903 were never served again.
    assert bot_api.calls_to("getUpdates")[polls_before].params["offset"] == "904"
