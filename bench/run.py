"""omniroute bench: `python bench/run.py [--quick] [--only ingest,scale,memory] [--stores ...]`.

`--only outbound` measures just the replies through the outbox (logged, kept in results.json).

Starts `omniroute serve` (and the one-insert baseline) as normal processes on loopback, drives
them with wrk and asyncio clients in their own processes, and writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench import measure, report
from bench.seed import seed
from bench.servers import (
    OUT,
    ROOT,
    HttpServer,
    Store,
    create_api_channel,
    create_telegram_channel,
    raise_fd_limit,
    start_baseline,
    start_fake_provider,
    start_omniroute,
)
from bench.workload import Target

RAW = "bench.raw_baseline_app"
FULL = {"wrk_seconds": 8, "connections": 64, "users": 1000, "rate": 500, "rate_low": 100,
        "rate_seconds": 10, "replies_per_thread": 1, "reply_concurrency": 32,
        "scale": [(1_000, 10_000), (100_000, 1_000_000)], "read_samples": 1000, "read_rounds": 10,
        "hold": 10_000}
QUICK = {"wrk_seconds": 4, "connections": 64, "users": 500, "rate": 500, "rate_low": 100,
         "rate_seconds": 5, "replies_per_thread": 1, "reply_concurrency": 32,
         "scale": [(1_000, 10_000), (100_000, 1_000_000)], "read_samples": 400, "read_rounds": 4,
         "hold": 10_000}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def ingest(kind: str, cfg: dict[str, Any], provider: HttpServer) -> dict[str, Any]:
    """Baseline, omniroute, baseline again (drift check), then latency and outbound."""
    run = secrets.token_hex(2)
    store = Store.fresh(kind, "omniroute_bench")
    if kind == "postgresql":
        store.migrate()
    out: dict[str, Any] = {"store": kind}
    secs, conns, users = cfg["wrk_seconds"], cfg["connections"], cfg["users"]
    bare = Target("baseline", "bench", "")

    def baseline(label: str, module: str = "bench.baseline_app") -> dict[str, Any]:
        server = start_baseline(store, f"{label}-{kind}", module)
        try:
            measure.run_wrk(server, bare, f"{label}w{run}", 2, conns, users)
            return measure.run_wrk(server, bare, f"{label}{run}", secs, conns, users)
        finally:
            server.stop()

    log(f"{kind}: baselines (one insert per request: SQLAlchemy, then the raw driver)")
    out["baseline_before"] = baseline("b1")
    out["raw_baseline_before"] = baseline("rb1", RAW)
    server = start_omniroute(store, f"omniroute-{kind}")
    try:
        channel_id, secret = create_api_channel(server, "bench bot", provider.base + "/cb")
        api = Target("api", channel_id, secret)
        log(f"{kind}: omniroute API channel, wrk {secs}s at {conns} connections")
        measure.run_wrk(server, api, f"w{run}", 2, conns, users)
        measure.wait_drained(store, 120)
        tag = f"r{run}"
        out["omniroute"] = measure.run_wrk(server, api, tag, secs, conns, users)
        out["drain_seconds"] = measure.wait_drained(store, 300)
        out["outcome"] = measure.ingest_outcome(store, channel_id, tag)
        telegram = telegram_targets(server, provider)
        if telegram is not None:
            log(f"{kind}: omniroute Telegram webhook, wrk {secs}s at {conns} connections")
            measure.run_wrk(server, telegram[0], f"tw{run}", 2, conns, users)
            measure.wait_drained(store, 120)
            out["telegram"] = {"wrk": measure.run_wrk(server, telegram[1], f"tr{run}", secs,
                                                      conns, users)}
            out["telegram"]["drain_seconds"] = measure.wait_drained(store, 300)
            out["telegram"]["outcome"] = measure.ingest_outcome(
                store, telegram[1].channel_id, None)
        log(f"{kind}: fixed rate {cfg['rate']}/s for {cfg['rate_seconds']}s with an SSE agent")
        out["latency"] = measure.fixed_rate(server, api, f"l{run}", cfg["rate"],
                                            cfg["rate_seconds"], users)
        measure.wait_drained(store, 120)
        out["latency_outcome"] = measure.ingest_outcome(store, channel_id, f"l{run}")
        log(f"{kind}: fixed rate {cfg['rate_low']}/s (below the processing rate)")
        out["latency_low"] = measure.fixed_rate(server, api, f"k{run}", cfg["rate_low"],
                                                cfg["rate_seconds"], users)
        measure.wait_drained(store, 120)
        out["latency_low_outcome"] = measure.ingest_outcome(store, channel_id, f"k{run}")
        if telegram is not None:
            log(f"{kind}: Telegram at {cfg['rate']}/s for {cfg['rate_seconds']}s")
            out["telegram"]["latency"] = measure.fixed_rate(
                server, telegram[2], f"tl{run}", cfg["rate"], cfg["rate_seconds"], users)
            measure.wait_drained(store, 120)
            out["telegram"]["latency_outcome"] = measure.ingest_outcome(
                store, telegram[2].channel_id, None)
        threads = measure.threads_of(store, channel_id)
        log(f"{kind}: outbound, {len(threads)} threads x {cfg['replies_per_thread']} replies")
        out["outbound"] = measure.outbound(server, provider, threads, cfg["replies_per_thread"],
                                           cfg["reply_concurrency"], timeout=300)
        out["rss_mb"] = server.rss_mb()
    finally:
        server.stop()
    out["workers_process"] = workers_process(kind, cfg, store, provider, run)
    log(f"{kind}: baselines again")
    out["baseline_after"] = baseline("b2")
    out["raw_baseline_after"] = baseline("rb2", RAW)
    store.drop()
    return out


def workers_process(kind: str, cfg: dict[str, Any], store: Store, provider: HttpServer,
                    run: str) -> dict[str, Any]:
    """The same API-channel throughput and latency with `serve --workers-process`: the
    server's loop only acknowledges, the child process processes (the second core)."""
    out: dict[str, Any] = {"store": kind, "workers_process": True}
    secs, conns, users = cfg["wrk_seconds"], cfg["connections"], cfg["users"]
    server = start_omniroute(store, f"omniroute-wp-{kind}", "--workers-process")
    try:
        channel_id, secret = create_api_channel(server, "bench bot wp", provider.base + "/cb")
        api = Target("api", channel_id, secret)
        log(f"{kind}: worker process: wrk {secs}s at {conns} connections")
        measure.run_wrk(server, api, f"pw{run}", 2, conns, users)
        measure.wait_drained(store, 120)
        out["omniroute"] = measure.run_wrk(server, api, f"p{run}", secs, conns, users)
        out["drain_seconds"] = measure.wait_drained(store, 300)
        out["outcome"] = measure.ingest_outcome(store, channel_id, f"p{run}")
        log(f"{kind}: worker process: fixed rate {cfg['rate']}/s for {cfg['rate_seconds']}s")
        out["latency"] = measure.fixed_rate(server, api, f"pl{run}", cfg["rate"],
                                            cfg["rate_seconds"], users)
        measure.wait_drained(store, 120)
        out["latency_outcome"] = measure.ingest_outcome(store, channel_id, f"pl{run}")
    finally:
        server.stop(timeout=40)
    return out


def outbound_only(kind: str, cfg: dict[str, Any], provider: HttpServer) -> dict[str, Any]:
    """Only section 5's figures: one wrk burst makes the threads, then the replies go out."""
    store = Store.fresh(kind, "omniroute_bench_outbound")
    if kind == "postgresql":
        store.migrate()
    server = start_omniroute(store, f"omniroute-outbound-{kind}")
    try:
        channel_id, secret = create_api_channel(server, "bench bot", provider.base + "/cb")
        measure.run_wrk(server, Target("api", channel_id, secret), f"o{secrets.token_hex(2)}",
                        cfg["wrk_seconds"], cfg["connections"], cfg["users"])
        measure.wait_drained(store, 300)
        threads = measure.threads_of(store, channel_id)
        log(f"{kind}: outbound, {len(threads)} threads x {cfg['replies_per_thread']} replies")
        out = measure.outbound(server, provider, threads, cfg["replies_per_thread"],
                               cfg["reply_concurrency"], timeout=300)
    finally:
        server.stop()
    store.drop()
    log(f"{kind}: {out['posted']} replies, POST {out['post_rate']:.0f}/s "
        f"(p50 {out['post']['p50_ms']:.1f} ms, p99 {out['post']['p99_ms']:.1f} ms), "
        f"{out['delivered']} delivered at {out['delivery_rate']:.1f}/s")
    return {"store": kind, "outbound": out}


def telegram_targets(server: HttpServer, provider: HttpServer) -> list[Target] | None:
    """Three Telegram channels (warm-up, throughput, latency), or None without the connector."""
    try:
        made = [create_telegram_channel(server, f"bench tg {n}", provider.base) for n in range(3)]
    except httpx.HTTPStatusError as exc:
        log(f"no Telegram webhook to measure: {exc.response.status_code} {exc.response.text}")
        return None
    return [Target("telegram", channel_id, secret) for channel_id, secret in made]


def scale(kind: str, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Every size seeded into its own database and served at once; the reads take turns
    between them, so the 1M ÷ 10k ratio compares requests made in the same moments."""
    sizes: list[dict[str, Any]] = []
    servers: list[HttpServer] = []
    stores: list[Store] = []
    try:
        for customers, messages in cfg["scale"]:
            store = Store.fresh(kind, f"omniroute_bench_scale_{messages}")
            stores.append(store)
            store.migrate()
            log(f"{kind}: seeding {messages:,} messages across {customers:,} customers")
            sizes.append({"customers": customers, "messages": messages,
                          "seed_seconds": seed(store, customers, messages)})
            servers.append(start_omniroute(store, f"omniroute-scale-{kind}-{messages}"))
        log(f"{kind}: reads, {len(servers)} servers taking turns")
        reads = measure.scale_reads(
            [(server, size["customers"]) for server, size in zip(servers, sizes, strict=True)],
            cfg["read_samples"], cfg["read_rounds"])
    finally:
        for server in servers:
            server.stop()
        for store in stores:
            store.drop()
    return [{**size, **read} for size, read in zip(sizes, reads, strict=True)]


def memory(cfg: dict[str, Any], provider: HttpServer) -> dict[str, Any]:
    store = Store.fresh("sqlite", "omniroute_bench_memory")
    server = start_omniroute(store, "omniroute-memory")
    try:
        channel_id, secret = create_api_channel(server, "bench bot", provider.base + "/cb")
        api = Target("api", channel_id, secret)
        log(f"memory: {cfg['hold']:,} open SSE connections")
        return measure.hold_connections(server, cfg["hold"],
                                        lambda: measure.send_signed(server, api, "fanout"))
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 5 minutes)")
    parser.add_argument("--only", default="ingest,scale,memory")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the report from bench/out/results.json")
    args = parser.parse_args()
    if args.render:
        saved = json.loads((OUT / "results.json").read_text())
        Path(args.output).write_text(report.render(saved))
        return 0
    raise_fd_limit()
    OUT.mkdir(parents=True, exist_ok=True)
    cfg = QUICK if args.quick else FULL
    only = set(args.only.split(","))
    stores = args.stores.split(",")
    started = time.time()
    results: dict[str, Any] = {"config": cfg, "quick": args.quick, "machine": machine()}
    provider = start_fake_provider()
    try:
        if "ingest" in only:
            results["ingest"] = [ingest(kind, cfg, provider) for kind in stores]
        if "scale" in only:
            results["scale"] = {kind: scale(kind, cfg) for kind in stores}
        if "memory" in only:
            results["memory"] = memory(cfg, provider)
        if "outbound" in only:
            # Section 5 alone, for iterating on the outbox; it is not part of the report.
            results["outbound"] = [outbound_only(kind, cfg, provider) for kind in stores]
    finally:
        provider.stop()
    results["seconds"] = time.time() - started
    measure.write_json(OUT / "results.json", results)
    Path(args.output).write_text(report.render(results))
    log(f"wrote {args.output} in {results['seconds']:.0f}s")
    return 0


def machine() -> dict[str, Any]:
    import os

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                   time.gmtime())}


if __name__ == "__main__":
    sys.exit(main())
