"""kill -9 one of two replicas in the middle of a flood: nothing acknowledged is lost or doubled.

Inbound: a raw event is acknowledged only after its commit, and a batch's claim (FOR UPDATE
SKIP LOCKED) dies with its connection, so the survivor processes everything. Outbound: a
reply the dead replica had claimed comes due again when its lease ends; if the provider had
already taken it, it is sent a second time. That is the one at-least-once edge, and it is
acceptable where the provider dedupes: the API channel's callback carries our `message_id`
(bots dedupe on it); Telegram and WhatsApp do not dedupe, so there a replica dying inside a
send can repeat that one reply.
"""

from __future__ import annotations

import asyncio

from tests.callback import CallbackServer
from tests.faults.conftest import MakeReplica
from tests.faults.flood import (
    Flood,
    Replies,
    assert_every_message_once_in_order,
    assert_replies_delivered_in_order,
    create_api_channel,
    dsn_of,
    landed,
    thread_ids,
    wait_idle,
)

USERS = [f"sender{i}" for i in range(6)]
PER_USER = 400
SECRET = "flood-secret-0123456789"


async def test_kill_9_a_replica_mid_flood(fault_db: str, make_replica: MakeReplica,
                                          callback: CallbackServer) -> None:
    callback.secret, callback.delay = SECRET, 0.02
    one, two = make_replica(fault_db, "one").start(), make_replica(fault_db, "two").start()
    await asyncio.gather(one.ready(), two.ready())
    channel_id = await create_api_channel(one.url, callback.url, SECRET)
    dsn = dsn_of(fault_db)

    first = Flood([one.url, two.url], channel_id, SECRET, USERS, per_user=1)
    await first.run()
    await wait_idle(dsn, 20)
    threads = await thread_ids(dsn)
    assert len(threads) == len(USERS)

    flood = Flood([one.url, two.url], channel_id, SECRET, USERS, per_user=PER_USER)
    flood.acked.update(first.acked)
    replies = Replies([one.url, two.url])
    flooding = asyncio.create_task(flood.run(start=1))
    replying = asyncio.create_task(replies.run(threads, per_thread=25, pause=0.05))
    while flood.total_acked < len(USERS) * PER_USER // 3:
        assert not flooding.done()
        await asyncio.sleep(0.05)
    one.kill()
    await asyncio.gather(flooding, replying)
    assert flood.refused > 0  # the flood really ran into the dead replica
    await wait_idle(dsn, 40)

    assert_every_message_once_in_order(flood, await landed(dsn))
    assert sum(len(ids) for ids in replies.queued.values()) > 100
    # At most the sends the dead replica had under way can repeat.
    assert_replies_delivered_in_order(replies, callback.received, allowed_duplicates=32)
    assert callback.bad_signatures == 0
