"""`omniroute serve --workers-process`: webhooks answered by the server, processed and
delivered by its worker process, live events back through the server, both stopped together."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.faults.processes import Replica, replica_env
from tests.omni import ADMIN_KEY

SECRET = "worker-process-secret-0123"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def _first_event(client: httpx.AsyncClient, text: str) -> dict[str, object]:
    async with client.stream("GET", "/v1/events",
                             params={"types": "message.created"}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and text in line:
                event: dict[str, object] = json.loads(line[6:])
                return event
    raise AssertionError("the stream ended")


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
async def test_serve_with_a_worker_process(store: str, database_url: str, tmp_path: Path,
                                           callback: CallbackServer) -> None:
    callback.secret = SECRET
    replica = Replica(replica_env(database_url), tmp_path / "serve.log",
                      args=("--workers-process",)).start()
    try:
        await replica.ready()
        assert replica.proc is not None
        (worker_pid,) = _children(replica.proc.pid)
        async with httpx.AsyncClient(base_url=replica.url, timeout=20, headers={
                "Authorization": f"Bearer {ADMIN_KEY}"}) as client:
            checks = (await client.get("/readyz")).json()["checks"]
            assert checks["worker_process"] == "ok" and "inbound" not in checks
            channel = (await client.post("/v1/channels", json={
                "type": "api", "name": "bot",
                "config": {"secret": SECRET, "callback_url": callback.url}})).json()["id"]
            listening = asyncio.create_task(_first_event(client, "hello worker"))
            await asyncio.sleep(0.3)
            answer = await post_inbound(client, channel, SECRET,
                                        inbound("ada", "m1", "hello worker"))
            assert answer.status_code == 202
            event = await asyncio.wait_for(listening, 15)
            thread_id = event["data"]["thread_id"]  # type: ignore[index]
            reply = await client.post(f"/v1/threads/{thread_id}/messages",
                                      json={"text": "from the worker"})
            assert reply.status_code == 201
            for _ in range(150):
                if callback.received:
                    break
                await asyncio.sleep(0.1)
            assert [p["text"] for p in callback.received] == ["from the worker"]
        replica.terminate()
        await replica.exited(40)
        assert _gone(worker_pid)  # the server stopped its worker before it exited
        assert "Traceback" not in replica.output(), replica.output()[-3000:]
    finally:
        replica.stop()


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "State:\tZ" in status.read_text()
