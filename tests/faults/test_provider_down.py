"""A provider that is down for a while (503s, or refusing connections), then back.

Replies queued meanwhile are retried with backoff, go out after recovery in each thread's
order, and the channel shows unhealthy while its deliveries fail; a reply dead-letters only
once it has used all its attempts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from router.models import OutboxItem
from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.conftest import MakeOmni
from tests.omni import OmniServer

SECRET = "provider-down-secret-0123"
BACKOFF_BASE = 0.05


async def _setup(omni: OmniServer, callback: CallbackServer) -> tuple[str, list[int]]:
    callback.secret = SECRET
    channel = await omni.create_channel("api", "bot", {
        "secret": SECRET, "callback_url": callback.url, "trusted": True})
    for user in ("ada", "bob"):
        answer = await post_inbound(omni.client, channel["id"], SECRET,
                                    inbound(user, f"{user}-1", f"hello from {user}"))
        assert answer.status_code in (200, 202), answer.text
    await omni.settle()
    threads = [t["id"] for t in (await omni.client.get("/v1/threads")).json()["items"]]
    assert len(threads) == 2
    return channel["id"], sorted(threads)


async def _reply(omni: OmniServer, thread: int, text: str) -> int:
    answer = await omni.client.post(f"/v1/threads/{thread}/messages", json={"text": text})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def _rows(omni: OmniServer) -> list[OutboxItem]:
    async with omni.core.reads() as session:
        return list(await session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


async def _health(omni: OmniServer, channel_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await omni.client.get(f"/v1/channels/{channel_id}")).json()
    return body


@pytest.mark.parametrize("outage", ["503", "refused"])
async def test_replies_wait_out_an_outage_and_go_in_order(
        make_omni: MakeOmni, callback: CallbackServer, outage: str) -> None:
    omni = await make_omni(outbox_backoff_base_seconds=BACKOFF_BASE,
                           outbox_backoff_max_seconds=0.4, outbox_max_attempts=50)
    channel_id, threads = await _setup(omni, callback)
    if outage == "503":
        callback.script = [503] * 10_000
    else:
        await callback.stop()
    queued = {thread: [await _reply(omni, thread, f"reply {thread}.{k}") for k in range(4)]
              for thread in threads}

    async def failing_a_while() -> bool:
        rows = await _rows(omni)
        return all(row.attempts >= 3 for row in rows if row.message_id in
                   (queued[threads[0]][0], queued[threads[1]][0]))

    await omni.wait_for(failing_a_while, timeout=20)
    rows = await _rows(omni)
    assert {row.state for row in rows} == {"pending"}
    for row in rows:
        if row.attempts:
            # Backoff: each failure pushes the next attempt out, doubling from the base.
            wait = (row.next_attempt_at - row.updated_at)
            assert wait >= timedelta(seconds=0.9 * min(0.4, BACKOFF_BASE * 2 ** (row.attempts - 1)))
        else:
            # Only the oldest reply of a thread is tried: the others wait behind it.
            assert row.message_id not in (queued[threads[0]][0], queued[threads[1]][0])
    health = await _health(omni, channel_id)
    assert health["health"] == "unhealthy"
    assert health["health_reason"].startswith("deliveries failing: ")

    if outage == "503":
        callback.script = []
    else:
        await callback.start()  # back on its old port
    await omni.settle(timeout=30)
    delivered: dict[int, list[int]] = {}
    by_message = {row.message_id: row.thread_id for row in await _rows(omni)}
    for payload in callback.received:
        delivered.setdefault(by_message[payload["message_id"]], []).append(
            payload["message_id"])
    assert delivered == queued  # every reply once, each thread in order
    assert {row.state for row in await _rows(omni)} == {"done"}
    assert (await _health(omni, channel_id))["health"] == "ok"


async def test_a_reply_dead_letters_only_after_its_limit(
        make_omni: MakeOmni, callback: CallbackServer) -> None:
    omni = await make_omni(outbox_backoff_base_seconds=0.02, outbox_backoff_max_seconds=0.05,
                           outbox_max_attempts=4)
    channel_id, threads = await _setup(omni, callback)
    callback.script = [503] * 10_000
    message_id = await _reply(omni, threads[0], "never arrives")
    seen: list[tuple[str, int]] = []

    async def dead() -> bool:
        row = (await _rows(omni))[0]
        if not seen or seen[-1] != (row.state, row.attempts):
            seen.append((row.state, row.attempts))
        return row.state == "dead"

    await omni.wait_for(dead, timeout=20)
    assert all(state == "pending" for state, attempts in seen if attempts < 4), seen
    assert seen[-1] == ("dead", 4)
    messages = (await omni.client.get(f"/v1/threads/{threads[0]}/messages")).json()["items"]
    failed = next(m for m in messages if m["id"] == message_id)
    assert failed["status"] == "failed" and "503" in failed["error"]
    assert callback.received == []
    assert (await _health(omni, channel_id))["health"] == "unhealthy"


async def test_telegram_replies_wait_out_a_bot_api_outage(make_omni: MakeOmni) -> None:
    """The same through the fake Bot API answering 502 for a while."""
    from tests.connectors.telegram.fake_bot_api import FakeBotApi
    from tests.connectors.telegram.fixtures import fixture
    from tests.connectors.telegram.flow import create_channel, post_update

    bot_api = FakeBotApi()
    await bot_api.start()
    try:
        omni = await make_omni(outbox_backoff_base_seconds=BACKOFF_BASE,
                               outbox_backoff_max_seconds=0.2, outbox_max_attempts=50)
        channel_id, secret = await create_channel(omni, bot_api)
        await post_update(omni, channel_id, secret, fixture("message__text"))
        await omni.settle()
        (thread,) = [t["id"] for t in (await omni.client.get("/v1/threads")).json()["items"]]
        bot_api.fail("sendMessage", 502, "Bad Gateway", times=6)
        texts = [f"telegram reply {k}" for k in range(3)]
        for text in texts:
            await _reply(omni, thread, text)

        async def unhealthy() -> bool:
            return (await _health(omni, channel_id))["health"] == "unhealthy"

        await omni.wait_for(unhealthy, timeout=20)
        await omni.settle(timeout=30)
        sent = [call.params["text"] for call in bot_api.calls_to("sendMessage")]
        # The six 502s all fell on the oldest reply (the others wait behind it), then each
        # went once, in order.
        assert sent == [texts[0]] * 7 + texts[1:]
        assert (await _health(omni, channel_id))["health"] == "ok"
    finally:
        await bot_api.stop()
