"""A replica's logs under a flood: one JSON object per line, request ids carried into the
workers' lines, and no secret, key or message text anywhere."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.callback import CallbackServer
from tests.faults.conftest import MakeReplica
from tests.faults.flood import Flood, create_api_channel, dsn_of, wait_idle
from tests.faults.processes import FAULT_SECRET_KEY
from tests.omni import ADMIN_KEY

SECRET = "log-scan-channel-secret-0123456789"
USERS = ["alice", "bruno", "chen"]


async def test_flood_logs_are_json_with_request_ids_and_no_secrets(
        fault_db: str, make_replica: MakeReplica, callback: CallbackServer) -> None:
    callback.secret = SECRET
    replica = make_replica(fault_db, "logs", log_level="INFO", log_format="json",
                           outbox_max_attempts="3").start()
    await replica.ready()
    channel_id = await create_api_channel(replica.url, callback.url, SECRET)
    flood = Flood([replica.url], channel_id, SECRET, USERS, per_user=60)
    await flood.run()
    await wait_idle(dsn_of(fault_db), 20)
    callback.script = [503] * 3  # the reply fails every attempt: retries, then a dead letter
    async with httpx.AsyncClient(base_url=replica.url, timeout=10, headers={
            "Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        thread = (await client.get("/v1/threads")).json()["items"][0]["id"]
        reply = await client.post(f"/v1/threads/{thread}/messages",
                                  json={"text": "secret-ish reply text"},
                                  headers={"X-Request-ID": "req-reply-42"})
        assert reply.status_code == 201
        assert reply.headers["x-request-id"] == "req-reply-42"
    await wait_idle(dsn_of(fault_db), 20)
    replica.terminate()
    await replica.exited(30)
    await asyncio.sleep(0)

    lines = [line for line in replica.output().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= entry.keys() for entry in entries)
    access = [e for e in entries if e["logger"] == "omniroute.access"]
    assert len(access) >= len(USERS) * 60
    assert all(e.get("request_id") and "status" in e for e in access)
    # The reply's request id reaches the outbox worker's lines about it.
    outbox = [e for e in entries if e["logger"] == "omniroute.outbox"]
    assert outbox and all(e.get("request_id") == "req-reply-42" for e in outbox), outbox
    assert any("dead letter" in e["msg"] for e in outbox)
    text = replica.output()
    for secret in (SECRET, ADMIN_KEY, FAULT_SECRET_KEY, "secret-ish reply text",
                   *(f"{user} #" for user in USERS)):
        assert secret not in text, secret
