"""The worker in cycles: one row per thread per claim, leases between replicas, batch answers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import update

from connectors.base import SendResult
from router.models import OutboxItem
from router.models.base import utcnow
from router.outbox.outcomes import Outcome
from router.outbox.worker import OutboxWorker
from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.omni import OmniServer


async def _two_threads(omni: OmniServer, callback: CallbackServer) -> dict[str, int]:
    """Threads of customers a and b, with the app's own outbox worker stopped."""
    created = await omni.create_channel("api", "bot", {"callback_url": callback.url})
    callback.secret = created["generated_secrets"]["secret"]
    for user in ("a", "b"):
        await post_inbound(omni.client, created["id"], callback.secret,
                           inbound(user, f"m-{user}", "help"))
        await omni.settle()
    own = omni.core.workers["outbox"]
    own.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await own
    threads = sorted(t["id"] for t in (await omni.client.get("/v1/threads")).json()["items"])
    return dict(zip("ab", threads, strict=True))


async def _reply(omni: OmniServer, thread_id: int, text: str) -> int:
    response = await omni.client.post(f"/v1/threads/{thread_id}/messages", json={"text": text})
    assert response.status_code == 201, response.text
    message_id: int = response.json()["id"]
    return message_id


async def _outbound(omni: OmniServer, thread_id: int) -> dict[str, dict[str, Any]]:
    items = (await omni.client.get(f"/v1/threads/{thread_id}/messages")).json()["items"]
    return {m["text"]: m for m in items if m["direction"] == "outbound"}


async def _run(omni: OmniServer, worker: OutboxWorker) -> None:
    """Let `worker` deliver everything queued, then stop it."""
    task = asyncio.create_task(worker.run())
    try:
        await omni.settle()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.stop()


async def test_a_cycle_claims_the_oldest_row_of_each_thread_and_leases_it(
    omni: OmniServer, callback: CallbackServer
) -> None:
    threads = await _two_threads(omni, callback)
    for text in ("a1", "a2", "a3"):
        await _reply(omni, threads["a"], text)
    for text in ("b1", "b2"):
        await _reply(omni, threads["b"], text)
    worker, replica = OutboxWorker(omni.core), OutboxWorker(omni.core)
    claimed = await worker.cycle(100)
    assert sorted(row.outbound.text for row in claimed) == ["a1", "b1"]
    # The next rows of both threads wait for the first; the leased ones are not due.
    assert await worker.cycle(100) == []
    assert await replica.cycle(100) == []
    # The worker crashed: once its lease runs out, another replica takes the same rows.
    async with omni.core.unit() as session:
        await session.execute(update(OutboxItem).where(OutboxItem.state == "pending")
                              .values(next_attempt_at=utcnow()))
    taken = await replica.cycle(100)
    assert sorted(row.item_id for row in taken) == sorted(row.item_id for row in claimed)


async def test_replies_queued_together_go_out_in_order_per_thread(
    omni: OmniServer, callback: CallbackServer
) -> None:
    threads = await _two_threads(omni, callback)
    for n in range(1, 4):
        await _reply(omni, threads["a"], f"a{n}")
        await _reply(omni, threads["b"], f"b{n}")
    await _run(omni, OutboxWorker(omni.core))
    texts = [p["text"] for p in callback.received]
    assert [t for t in texts if t.startswith("a")] == ["a1", "a2", "a3"]
    assert [t for t in texts if t.startswith("b")] == ["b1", "b2", "b3"]
    for thread_id in threads.values():
        assert {m["status"] for m in (await _outbound(omni, thread_id)).values()} == {
            "delivered"}


async def test_a_permanent_failure_in_a_batch_leaves_the_others_alone(
    omni: OmniServer, callback: CallbackServer
) -> None:
    threads = await _two_threads(omni, callback)
    await _reply(omni, threads["a"], "a1")
    await _reply(omni, threads["b"], "b1")
    await _reply(omni, threads["a"], "a2")
    callback.script = [400]  # whichever of a1 and b1 arrives first is refused
    await _run(omni, OutboxWorker(omni.core))
    a, b = await _outbound(omni, threads["a"]), await _outbound(omni, threads["b"])
    firsts = [a["a1"], b["b1"]]
    assert sorted(m["status"] for m in firsts) == ["delivered", "failed"]
    assert "400" in next(m for m in firsts if m["status"] == "failed")["error"]
    assert a["a2"]["status"] == "delivered"
    assert sorted(p["text"] for p in callback.received) == sorted(
        [next(m["text"] for m in firsts if m["status"] == "delivered"), "a2"])


async def test_answers_are_recorded_one_by_one_when_the_batch_cannot_be(
    omni: OmniServer, callback: CallbackServer
) -> None:
    threads = await _two_threads(omni, callback)
    await _reply(omni, threads["a"], "a1")
    worker = OutboxWorker(omni.core)
    [row] = await worker.cycle(100)
    worker.outcomes += [
        Outcome(row.item_id, row.outbound.message_id, row.channel,
                result=SendResult("provider-1")),
        # An answer for a row that is gone makes the batch fail; it must not sink the other.
        Outcome(row.item_id + 1000, row.outbound.message_id + 1000, row.channel,
                result=SendResult("provider-2")),
    ]
    assert await worker.cycle(100) == []
    assert worker.outcomes == []
    message = (await _outbound(omni, threads["a"]))["a1"]
    assert (message["status"], message["external_id"]) == ("sent", "provider-1")


async def test_answers_received_before_a_stop_are_recorded(
    omni: OmniServer, callback: CallbackServer
) -> None:
    threads = await _two_threads(omni, callback)
    await _reply(omni, threads["b"], "b1")
    worker = OutboxWorker(omni.core)
    [row] = await worker.cycle(100)
    worker.outcomes.append(Outcome(row.item_id, row.outbound.message_id, row.channel,
                                   result=SendResult("provider-1", status="delivered")))
    await worker.stop()
    assert (await _outbound(omni, threads["b"]))["b1"]["status"] == "delivered"
    await omni.settle()
