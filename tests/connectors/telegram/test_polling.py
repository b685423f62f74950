"""Long polling: the offset persists with the events, so restarts lose and repeat nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.base import Channel
from connectors.telegram import polling
from connectors.telegram.connector import TelegramConnector
from tests.connectors.telegram.conftest import channel_for
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.fixtures import fixture
from tests.memory_gateway import MemoryGateway, eventually


def update(update_id: int, text: str = "hello") -> dict[str, Any]:
    body = fixture("message__text")
    body["update_id"] = update_id
    body["message"]["message_id"] = update_id
    body["message"]["text"] = text
    return body


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "BACKOFF_START_SECONDS", 0.01)


class Poller:
    """One 'process': a fresh connector (fresh Bot, fresh HTTP session) running the receiver."""

    def __init__(self, channel: Channel, gateway: MemoryGateway) -> None:
        self.connector = TelegramConnector()
        factory = self.connector.receiver(channel)
        assert factory is not None

        async def run() -> None:
            await factory(channel, gateway)

        self.task: asyncio.Task[None] = asyncio.create_task(run())

    async def stop(self) -> None:
        self.task.cancel()
        # A receiver that already crashed (a test's doing) has nothing more to say here.
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self.task
        await self.connector.close()


@pytest.fixture
async def pollers() -> AsyncIterator[list[Poller]]:
    started: list[Poller] = []
    yield started
    for poller in started:
        await poller.stop()


def offsets(api: FakeBotApi) -> list[Any]:
    return [c.params.get("offset") for c in api.calls_to("getUpdates")]


async def test_restart_mid_stream_loses_and_repeats_nothing(
    bot_api: FakeBotApi, pollers: list[Poller]
) -> None:
    channel, gateway = channel_for(bot_api, mode="polling"), MemoryGateway()
    bot_api.push(update(101), update(102), update(103))
    pollers.append(first := Poller(channel, gateway))
    await eventually(lambda: len(gateway.stored) == 3)
    await first.stop()
    assert gateway.state[("ch_tg", "offset")] == "104"

    bot_api.push(update(104), update(105))
    calls_before = len(bot_api.calls_to("getUpdates"))
    pollers.append(Poller(channel, gateway))
    await eventually(lambda: len(gateway.stored) == 5)
    assert gateway.ids() == ["101", "102", "103", "104", "105"]
    # The new process starts from the stored offset, which also confirms 101-103 at Telegram.
    assert offsets(bot_api)[calls_before] == "104"
    assert json.loads(gateway.stored[3][1]) == update(104)


async def test_a_failed_store_keeps_the_offset_and_the_retry_gets_the_updates_again(
    bot_api: FakeBotApi, pollers: list[Poller]
) -> None:
    channel, gateway = channel_for(bot_api, mode="polling"), MemoryGateway()
    bot_api.push(update(201))
    pollers.append(first := Poller(channel, gateway))
    await eventually(lambda: len(gateway.stored) == 1)
    gateway.crash_next = True
    bot_api.push(update(202), update(203))
    with pytest.raises(ConnectionError):
        await first.task
    assert gateway.state[("ch_tg", "offset")] == "202"
    # The core's supervisor starts the receiver again.
    pollers.append(Poller(channel, gateway))
    await eventually(lambda: len(gateway.stored) == 3)
    assert gateway.ids() == ["201", "202", "203"]


async def test_network_trouble_backs_off_and_recovers(
    bot_api: FakeBotApi, pollers: list[Poller]
) -> None:
    channel, gateway = channel_for(bot_api, mode="polling"), MemoryGateway()
    bot_api.fail("getUpdates", 502, "Bad Gateway", times=2)
    bot_api.push(update(301))
    pollers.append(Poller(channel, gateway))
    await eventually(lambda: len(gateway.stored) == 1)
    assert gateway.ids() == ["301"]
    assert len(bot_api.calls_to("getUpdates")) >= 3
    # The channel showed the trouble while it lasted, and shows the recovery.
    assert [healthy for _, healthy, _ in gateway.health] == [False, False, True]
    assert "Bad Gateway" in str(gateway.health[0][2])


async def test_a_leftover_webhook_is_removed_before_polling(
    bot_api: FakeBotApi, pollers: list[Poller]
) -> None:
    channel, gateway = channel_for(bot_api, mode="polling"), MemoryGateway()
    bot_api.webhook_url = "https://old.example/webhooks/telegram/ch_tg"
    bot_api.push(update(401))
    pollers.append(Poller(channel, gateway))
    await eventually(lambda: len(gateway.stored) == 1)
    assert bot_api.webhook_url == ""
    assert bot_api.calls_to("getUpdates")[0].params["allowed_updates"] == [
        "message", "edited_message", "callback_query", "my_chat_member"]


async def test_a_webhook_set_behind_our_back_is_removed_again(
    bot_api: FakeBotApi, pollers: list[Poller]
) -> None:
    channel, gateway = channel_for(bot_api, mode="polling"), MemoryGateway()
    pollers.append(Poller(channel, gateway))
    await eventually(lambda: len(bot_api.calls_to("getUpdates")) >= 1)
    bot_api.webhook_url = "https://someone-else.example/hook"
    await eventually(lambda: len(bot_api.calls_to("deleteWebhook")) == 2)
    bot_api.push(update(501))
    await eventually(lambda: len(gateway.stored) == 1)
    assert bot_api.webhook_url == ""


async def test_button_presses_are_answered(bot_api: FakeBotApi, pollers: list[Poller]) -> None:
    channel, gateway = channel_for(bot_api, mode="polling"), MemoryGateway()
    bot_api.push(fixture("callback_query__button"))
    pollers.append(Poller(channel, gateway))
    await eventually(lambda: len(bot_api.calls_to("answerCallbackQuery")) == 1)
    assert gateway.ids() == ["734519260"]
    assert bot_api.calls_to("answerCallbackQuery")[0].params == {
        "callback_query_id": "2199501776433410151"}
