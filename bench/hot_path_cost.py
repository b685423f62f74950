"""CPU cost of one API-channel webhook on the hot path, the handler alone (no HTTP server,
no database): `python -m bench.hot_path_cost [requests]`.

The gateway is a stub that stores nothing, so what is timed is what the hot path itself
does per request: the rate-limit check, headers, body, signature check, parsing, the answer.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import statistics
import sys
import time
from typing import Any

from connectors.api.signature import signed_headers
from connectors.base import Channel
from connectors.registry import load_connectors
from router.ingest.hot_path import WebhookHotPath
from router.metrics import Metrics
from router.settings import Settings

SECRET = "bench-secret-0123456789abcdef"
CHANNEL = Channel(id="ch_bench", type="api", name="bench", config={"secret": SECRET})


class StubGateway:
    async def channel(self, channel_id: str, channel_type: str) -> Channel:
        return CHANNEL

    async def accept(self, channel: Channel, external_event_id: str, payload: bytes,
                     content_type: str) -> None:
        return None


def _hot_path() -> WebhookHotPath:
    args: list[Any] = [load_connectors(), Metrics(), 1_048_576]
    if len(inspect.signature(WebhookHotPath.__init__).parameters) > 4:  # with rate limits
        from router.ratelimit.webhooks import WebhookThrottle

        # Every request counted, none refused: a limit's check costs the same at any value.
        args.append(WebhookThrottle(Settings(rate_limit_webhook_source="1000000000/second",
                                             rate_limit_webhook_channel="1000000000/second")))
    return WebhookHotPath(*args)


async def run(requests: int) -> list[float]:
    hot_path, gateway = _hot_path(), StubGateway()
    hook, channel_id = hot_path.find({"type": "http", "method": "POST",
                                      "path": f"/v1/channels/{CHANNEL.id}/inbound"}) or (None, "")
    assert hook is not None
    calls = []
    for n in range(requests):
        body = json.dumps({"external_user_id": f"u{n % 1000}", "external_message_id": f"m{n}",
                           "text": "Where is my order?"}).encode()
        headers = [(k.lower().encode(), v.encode()) for k, v in
                   {"content-type": "application/json", "content-length": str(len(body)),
                    **signed_headers(SECRET, body, now=time.time())}.items()]
        calls.append((body, headers))

    statuses: dict[int, int] = {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    rounds: list[float] = []
    for _round in range(9):
        # CPU time of this process: the box is shared, wall time would count others' work.
        started = time.process_time()
        for body, headers in calls:
            scope = {"type": "http", "method": "POST", "path": f"/v1/channels/{channel_id}/inbound",
                     "headers": headers, "client": ("127.0.0.1", 5555)}

            async def receive(body: bytes = body) -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            await hot_path.serve(gateway, hook, channel_id, scope, receive, send)  # type: ignore[arg-type]
        rounds.append((time.process_time() - started) / requests * 1e6)
    assert set(statuses) == {202}, statuses
    return rounds


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = asyncio.run(run(requests))
    print(f"hot-path handler: CPU {min(rounds):.1f} µs per request at best, "
          f"{statistics.median(rounds):.1f} median ({len(rounds)} rounds of {requests:,})")


if __name__ == "__main__":
    main()
