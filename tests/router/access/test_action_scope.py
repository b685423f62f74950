"""A customer's button press reaches only the streams that may see their thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.fixtures import fixture_bytes
from tests.connectors.telegram.flow import create_channel, only_thread, post_update
from tests.omni import ADMIN_KEY, OmniServer
from tests.people import eventually, make_agent, make_key, make_team, route
from tests.router.access.test_access_matrix import sse


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


async def test_a_button_press_is_scoped_like_its_thread(omni: OmniServer,
                                                        bot_api: FakeBotApi) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    assert (await post_update(omni, channel_id, secret,
                              fixture_bytes("message__text"))).status_code == 200
    await omni.settle()
    thread = await only_thread(omni)
    a, b = await make_team(omni, "A"), await make_team(omni, "B")
    await route(omni, thread["id"], b["id"])
    outsider = await make_agent(omni, "Outsider", team_ids=[a["id"]])
    insider = await make_agent(omni, "Insider", team_ids=[b["id"]])
    seen: dict[str, list[dict[str, Any]]] = {"admin": [], "outsider": [], "insider": []}
    keys = {"admin": ADMIN_KEY,
            "outsider": await make_key(omni, "o", agent_id=outsider["id"]),
            "insider": await make_key(omni, "i", agent_id=insider["id"])}
    async with sse(omni, keys["admin"], seen["admin"]), \
            sse(omni, keys["outsider"], seen["outsider"]), \
            sse(omni, keys["insider"], seen["insider"]):
        assert (await post_update(omni, channel_id, secret,
                                  fixture_bytes("callback_query__button"))).status_code == 200
        await omni.settle()
        marker = await make_agent(omni, "marker")

        async def everyone_caught_up() -> bool:
            return all(any(e["type"] == "agent.updated" and e["data"]["id"] == marker["id"]
                           for e in events) for events in seen.values())
        await eventually(everyone_caught_up)

    def presses(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e["data"] for e in events if e["type"] == "action.received"]

    assert [p["customer_id"] for p in presses(seen["admin"])] == [thread["customer_id"]]
    assert [p["team_id"] for p in presses(seen["insider"])] == [b["id"]]
    assert presses(seen["outsider"]) == []
