"""Load clients, each run in its own process: `python -m bench.client <mode> ['<json args>']`
(without the second argument the JSON is read from stdin).

rate    open-loop sends at a fixed rate; ack latency, and webhook → SSE event latency
reads   sequential GETs, several servers taking turns; per-server, per-group latency
replies agent replies at a fixed concurrency
hold    N open SSE connections; prints READY, then reports how many saw one event
Every mode prints one line of JSON on stdout and is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.workload import Target, message_key, request


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p90_ms": pct(ms, 90), "p99_ms": pct(ms, 99),
            "max_ms": max(ms) if ms else float("nan")}


async def _sse_reader(session: aiohttp.ClientSession, base: str, key: str,
                      seen: dict[str, float], connected: asyncio.Event) -> None:
    async with session.get(f"{base}/v1/events?types=message.created",
                           headers={"Authorization": f"Bearer {key}"},
                           timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as resp:
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            if line.startswith(": connected"):
                connected.set()
            elif line.startswith("data: "):
                now = time.perf_counter()
                event = json.loads(line[6:])
                text = event.get("data", {}).get("text") or ""
                seen.setdefault(text.split(" ", 1)[0], now)


async def rate(args: dict[str, Any]) -> dict[str, Any]:
    base, tag, users = args["base"], args["tag"], int(args["users"])
    target = Target(**args["target"])
    per_second, seconds = float(args["rate"]), float(args["seconds"])
    count = int(per_second * seconds)
    seen: dict[str, float] = {}
    sent = [0.0] * count
    acked = [0.0] * count
    status = [0] * count
    limit = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=limit,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        reader = None
        if args.get("sse_key"):
            connected = asyncio.Event()
            reader = asyncio.create_task(
                _sse_reader(session, base, args["sse_key"], seen, connected))
            await asyncio.wait_for(connected.wait(), 10)

        async def one(i: int) -> None:
            headers, body = request(target, tag, i, users)
            sent[i] = time.perf_counter()
            try:
                async with session.post(base + target.path, data=body, headers=headers) as resp:
                    await resp.read()
                    status[i] = resp.status
            except (aiohttp.ClientError, TimeoutError):
                status[i] = -1
            acked[i] = time.perf_counter()

        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        tasks = []
        late = 0
        for i in range(count):
            delay = start + i / per_second - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                late += 1
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        send_seconds = max(acked) - min(sent)
        ok = [i for i in range(count) if status[i] in (200, 202)]
        if reader is not None:
            deadline = time.monotonic() + float(args.get("event_wait", 60))
            wanted = {message_key(tag, i) for i in ok}
            while time.monotonic() < deadline and not wanted.issubset(seen):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            reader.cancel()
    result: dict[str, Any] = {
        "sent": count, "ok": len(ok), "late_sends": late,
        "achieved_rate": count / send_seconds if send_seconds > 0 else 0.0,
        "ack": summary_ms([acked[i] - sent[i] for i in ok]),
        "statuses": sorted({s for s in status}),
    }
    if args.get("sse_key"):
        e2e = [seen[message_key(tag, i)] - sent[i] for i in ok if message_key(tag, i) in seen]
        result["e2e"] = summary_ms(e2e)
        result["events_missing"] = len(ok) - len(e2e)
    return result


async def reads(args: dict[str, Any]) -> list[dict[str, Any]]:
    """args["sides"]: [{"base", "groups": {name: [path, ...]}}, ...]; each path fetched once,
    one at a time, the sides taking turns in `rounds` slices (so noise on the box falls on
    every side alike); per side and group, the latency."""
    key, rounds, warmup = args["key"], int(args.get("rounds", 1)), int(args.get("warmup", 20))
    sides = args["sides"]
    seen = [{name: _Tally() for name in side["groups"]} for side in sides]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"},
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def get(base: str, path: str) -> tuple[int, bytes]:
            async with session.get(base + path) as resp:
                return resp.status, await resp.read()

        for side in sides:
            for paths in side["groups"].values():
                for path in paths[:warmup]:
                    await get(side["base"], path)
        for round_ in range(rounds):
            for side, tally in zip(sides, seen, strict=True):
                for name, paths in side["groups"].items():
                    step = -(-len(paths) // rounds)
                    for path in paths[round_ * step:(round_ + 1) * step]:
                        started = time.perf_counter()
                        status, body = await get(side["base"], path)
                        tally[name].add(time.perf_counter() - started, status, body)
    return [{name: t.summary() for name, t in tally.items()} for tally in seen]


@dataclass
class _Tally:
    """One side's one group of reads: latencies, answers other than 200, items returned."""

    times: list[float] = field(default_factory=list)
    errors: int = 0
    items: int = 0

    def add(self, seconds: float, status: int, body: bytes) -> None:
        self.times.append(seconds)
        if status != 200:
            self.errors += 1
        else:
            self.items += len(json.loads(body)["items"])

    def summary(self) -> dict[str, Any]:
        return {**summary_ms(self.times), "errors": self.errors,
                "mean_items": self.items / max(1, len(self.times))}


async def replies(args: dict[str, Any]) -> dict[str, Any]:
    base, key = args["base"], args["key"]
    thread_ids: list[int] = args["thread_ids"]
    concurrency = int(args["concurrency"])
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for n, thread_id in enumerate(thread_ids):
        queue.put_nowait((n, thread_id))
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"},
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def worker() -> None:
            while not queue.empty():
                n, thread_id = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(f"{base}/v1/threads/{thread_id}/messages",
                                        json={"text": f"Reply {n}: it ships today."}) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        started_wall = time.time()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"posted": len(thread_ids), "statuses": statuses, "seconds": elapsed,
            "started_at": started_wall, "post_rate": len(thread_ids) / elapsed,
            "post": summary_ms(latencies)}


async def hold(args: dict[str, Any]) -> dict[str, Any]:
    """Open N SSE connections with bare sockets (the client's own memory stays small)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port, key, total = int(args["port"]), args["key"], int(args["connections"])
    head = (f"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            "Accept: text/event-stream\r\n\r\n").encode()
    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    failed = 0
    started = time.perf_counter()

    async def open_one() -> None:
        nonlocal failed
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            await reader.readuntil(b": connected\n\n")
            streams.append((reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            failed += 1

    deadline = time.monotonic() + float(args.get("open_seconds", 180))
    while len(streams) + failed < total and time.monotonic() < deadline:
        batch = min(250, total - len(streams) - failed)
        await asyncio.gather(*(open_one() for _ in range(batch)))
    open_seconds = time.perf_counter() - started
    print(f"READY {len(streams)}", flush=True)
    seen_at: list[float] = []

    async def watch(reader: asyncio.StreamReader) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"event: message.created"):
                seen_at.append(time.perf_counter())
                return

    watchers = [asyncio.create_task(watch(r)) for r, _ in streams]
    await asyncio.wait(watchers, timeout=float(args.get("event_wait", 60)))
    for task in watchers:
        task.cancel()
    for _, writer in streams:
        writer.close()
    spread = (max(seen_at) - min(seen_at)) if seen_at else float("nan")
    return {"opened": len(streams), "failed": failed, "open_seconds": open_seconds,
            "saw_event": len(seen_at), "fanout_spread_ms": spread * 1000}


MODES = {"rate": rate, "reads": reads, "replies": replies, "hold": hold}


def main() -> None:
    mode = sys.argv[1]
    raw = sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(MODES[mode](json.loads(raw)))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
