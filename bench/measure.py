"""One measurement each: wrk ingest, fixed-rate latency, outbound, scale reads, memory."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.seed import hot_threads
from bench.servers import ADMIN_KEY, OUT, ROOT, HttpServer, Store
from bench.workload import Target, request, write_wrk_lines
from router.models import Identity, InboundEvent, Message, Thread

WRK_SCRIPT = ROOT / "bench" / "wrk" / "signed.lua"


def run_wrk(server: HttpServer, target: Target, tag: str, seconds: float, connections: int,
            users: int, max_rate: int = 6000) -> dict[str, Any]:
    lines = OUT / f"wrk-{tag}.txt"
    write_wrk_lines(lines, target, tag, int(max_rate * seconds) + 1000, users)
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(WRK_SCRIPT), server.base + target.path, "--", str(lines), "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=True)
    lines.unlink()
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result: dict[str, Any] = json.loads(line[8:])
            result["rate"] = result["ok"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError(f"wrk said:\n{done.stdout}\n{done.stderr}")


def run_client(mode: str, args: dict[str, Any], timeout: float) -> Any:
    # The arguments go through stdin: a scale run's paths outgrow a command line.
    done = subprocess.run([sys.executable, "-m", "bench.client", mode], input=json.dumps(args),
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"client {mode} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


def _db(store: Store, query: Any) -> Any:
    async def run() -> Any:
        engine = create_async_engine(store.url)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(query)).all()
        finally:
            await engine.dispose()

    return asyncio.run(run())


def wait_drained(store: Store, timeout: float) -> float:
    """Seconds until no raw event waits for the inbound worker (bounded by `timeout`)."""
    started = time.perf_counter()
    waiting = select(func.count()).select_from(InboundEvent).where(
        InboundEvent.state == "received")
    while time.perf_counter() - started < timeout:
        if _db(store, waiting)[0][0] == 0:
            break
        time.sleep(0.25)
    return time.perf_counter() - started


def ingest_outcome(store: Store, channel_id: str, tag: str | None) -> dict[str, Any]:
    """What a run left in the database: raw events, their states, messages in threads.

    With a tag, only that run's messages count; without, everything on the channel does.
    """
    events = InboundEvent.__table__.c
    event_filter = [events.channel_id == channel_id]
    message_filter = [Message.channel_id == channel_id, Message.direction == "inbound"]
    if tag is not None:
        event_filter.append(events.external_event_id.like(f"{tag}-m%"))
        message_filter.append(Message.external_id.like(f"{tag}-m%"))
    rows = _db(store, select(events.state, func.count(), func.min(events.received_at),
                             func.max(events.processed_at))
               .where(*event_filter).group_by(events.state))
    states = {state: count for state, count, _, _ in rows}
    first = min((r[2] for r in rows), default=None)
    last = max((r[3] for r in rows if r[3] is not None), default=None)
    messages = _db(store, select(func.count()).select_from(Message).where(*message_filter))[0][0]
    stored = sum(states.values())
    span = (last - first).total_seconds() if first and last else float("nan")
    return {"stored": stored, "states": states, "in_threads": messages,
            "pipeline_seconds": span, "pipeline_rate": messages / span if span else 0.0}


def threads_of(store: Store, channel_id: str) -> list[int]:
    rows = _db(store, select(Thread.id).join(Identity, Identity.customer_id == Thread.customer_id)
               .where(Identity.channel_id == channel_id,
                      Identity.value.like(f"{channel_id}:u%")))
    return sorted(r[0] for r in rows)


def fixed_rate(server: HttpServer, target: Target, tag: str, per_second: int, seconds: float,
               users: int) -> dict[str, Any]:
    return run_client("rate", {
        "base": server.base, "target": asdict(target), "tag": tag, "rate": per_second,
        "seconds": seconds, "users": users, "sse_key": ADMIN_KEY, "event_wait": 150,
    }, timeout=seconds + 240)


def outbound(server: HttpServer, provider: HttpServer, thread_ids: list[int], per_thread: int,
             concurrency: int, timeout: float) -> dict[str, Any]:
    httpx.post(provider.base + "/reset").raise_for_status()
    order = [t for _ in range(per_thread) for t in thread_ids]
    posted = run_client("replies", {"base": server.base, "key": ADMIN_KEY,
                                    "thread_ids": order, "concurrency": concurrency},
                        timeout=timeout + 60)
    deadline = time.monotonic() + timeout
    stats: dict[str, Any] = {}
    while time.monotonic() < deadline:
        stats = httpx.get(provider.base + "/stats").json()
        if stats["count"] >= len(order):
            break
        time.sleep(0.25)
    span = stats["last"] - posted["started_at"]
    return {**posted, "delivered": stats["count"], "delivery_seconds": span,
            "delivery_rate": stats["count"] / span if span > 0 else 0.0}


def scale_reads(sides: list[tuple[HttpServer, int]], samples: int,
                rounds: int) -> list[dict[str, Any]]:
    """Thread pages and inbox lists from each (server, customers), the servers taking turns."""
    rng = random.Random(7)
    out = []
    for server, customers in sides:
        hot = hot_threads(customers)
        threads = [rng.choice(hot) if n % 2 else rng.randint(1, customers)
                   for n in range(samples)]
        out.append({"base": server.base, "groups": {
            "thread_page": [f"/v1/threads/{t}/messages?limit=50" for t in threads],
            "inbox": ["/v1/threads?status=open&limit=50"] * samples,
        }})
    result: list[dict[str, Any]] = run_client(
        "reads", {"key": ADMIN_KEY, "sides": out, "warmup": 20, "rounds": rounds}, timeout=900)
    return result


def hold_connections(server: HttpServer, connections: int, send_one: Any) -> dict[str, Any]:
    """RSS of the server with `connections` SSE clients open; then one event fans out."""
    idle = server.rss_mb()
    args = {"port": server.port, "key": ADMIN_KEY, "connections": connections,
            "open_seconds": 240, "event_wait": 60}
    proc = subprocess.Popen([sys.executable, "-m", "bench.client", "hold", json.dumps(args)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().strip()
        time.sleep(2.0)
        held = server.rss_mb()
        send_one()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    result: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
    if not result:
        raise RuntimeError(f"hold client failed: {ready}\n{err[-3000:]}")
    after = server.rss_mb()
    return {**result, "rss_idle_mb": idle, "rss_held_mb": held, "rss_after_event_mb": after,
            "kb_per_connection": (held - idle) * 1024 / max(1, result["opened"])}


def send_signed(server: HttpServer, target: Target, tag: str) -> None:
    headers, body = request(target, tag, 0, 1)
    httpx.post(server.base + target.path, content=body, headers=headers).raise_for_status()


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str))
