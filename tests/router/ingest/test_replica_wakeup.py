"""An API-only replica (no workers) wakes the inbound workers of the other replicas."""

from __future__ import annotations

import functools
import secrets

import pytest

import router.app
from router.ingest.worker import run_inbound_worker
from tests.apichannel import inbound, post_inbound
from tests.conftest import MakeOmni


async def test_events_stored_by_an_api_only_replica_are_processed_elsewhere_at_once(
        make_omni: MakeOmni, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Workers that only polled would not look again for an hour.
    monkeypatch.setattr(router.app, "run_inbound_worker",
                        functools.partial(run_inbound_worker, poll_seconds=3600))
    stream = f"omniroute:test:{secrets.token_hex(4)}"
    workers = await make_omni(redis_url=redis_url, redis_stream=stream)
    api_only = await make_omni(redis_url=redis_url, redis_stream=stream, run_workers=False)
    created = await api_only.create_channel("api", "bot", {})
    for n in range(3):
        answer = await post_inbound(api_only.client, created["id"],
                                    created["generated_secrets"]["secret"],
                                    inbound("u", f"m-{n}", f"hello {n}"))
        assert answer.status_code == 202

    async def all_in_the_thread() -> bool:
        threads = (await workers.client.get("/v1/threads")).json()["items"]
        if not threads:
            return False
        page = (await workers.client.get(f"/v1/threads/{threads[0]['id']}/messages")).json()
        return len(page["items"]) == 3

    await workers.wait_for(all_in_the_thread, timeout=20)
