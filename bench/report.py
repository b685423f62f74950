"""bench/RESULTS.md from one run's results (figures only; the analysis is in NOTES below)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NOTES = Path(__file__).with_name("NOTES.md")


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def _baseline_rate(run: dict[str, Any], prefix: str = "") -> float:
    rates = [float(run[prefix + k]["rate"]) for k in ("baseline_before", "baseline_after")
             if prefix + k in run]
    return sum(rates) / len(rates) if rates else float("nan")


def _raw(run: dict[str, Any]) -> str:
    """The raw-driver baseline's before / after rates, or n/a for runs made before it."""
    if "raw_baseline_before" not in run:
        return "n/a"
    r1 = run["raw_baseline_before"]
    r2 = run.get("raw_baseline_after", r1)
    return f"{_f(r1['rate'], 0)} / {_f(r2['rate'], 0)}"


def ingest_section(runs: list[dict[str, Any]], cfg: dict[str, Any]) -> list[str]:
    out = ["## 1-2. Ingest throughput vs. the one-insert baseline", "",
           f"wrk, {cfg['connections']} connections, {cfg['wrk_seconds']} s, {cfg['users']} "
           "senders (known after a 2 s warm-up); the baseline ran just before and just after "
           "omniroute on the same store; the ratio uses their mean.", "",
           "Two baselines, each one durable insert and one commit per request: the SQLAlchemy "
           "one (FastAPI + SQLAlchemy Core, bench/baseline_app.py) and the leanest plausible "
           "one (plain ASGI + the raw driver, aiosqlite / asyncpg, bench/raw_baseline_app.py). "
           "The ratio to the raw one is the honest figure.", "",
           "| store | webhook | SQLAlchemy baseline msg/s (before / after) "
           "| raw-driver baseline msg/s (before / after) | omniroute acks/s "
           "| ratio vs SQLAlchemy | **ratio vs raw driver** | "
           "ack p50 / p99 ms | baseline p50 / p99 ms | stored | in threads | "
           "drain after run s | pipeline msg/s (first ack → last in thread) | target ≥ 0.8x |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        b1 = run["baseline_before"]
        b2 = run.get("baseline_after", b1)
        base = _baseline_rate(run)
        raw = _baseline_rate(run, "raw_")
        paths = [("API channel", run["omniroute"], run["outcome"], run["drain_seconds"])]
        if "telegram" in run:
            tg = run["telegram"]
            paths.append(("Telegram webhook", tg["wrk"], tg["outcome"], tg["drain_seconds"]))
        if "workers_process" in run:
            wp = run["workers_process"]
            paths.append(("API channel (worker process)", wp["omniroute"], wp["outcome"],
                          wp["drain_seconds"]))
        for label, o, outcome, drain in paths:
            ratio = o["rate"] / base
            out.append(
                f"| {run['store']} | {label} "
                f"| {_f(b1['rate'], 0)} / {_f(b2['rate'], 0)} | {_raw(run)} "
                f"| {_f(o['rate'], 0)} | {ratio:.2f}x | **{o['rate'] / raw:.2f}x** "
                f"| {_f(o['p50_us'] / 1000)} / {_f(o['p99_us'] / 1000)} "
                f"| {_f(b1['p50_us'] / 1000)} / {_f(b1['p99_us'] / 1000)} "
                f"| {_f(outcome['stored'])} (acked {_f(o['ok'])}, non-2xx {_f(o['bad'])}) "
                f"| {_f(outcome['in_threads'])} | {_f(drain)} "
                f"| {_f(outcome['pipeline_rate'], 0)} | {_ok(ratio >= 0.8)} |")
    out += ["", "“stored” may exceed “acked” by at most the requests in flight when wrk "
            "stopped (stored, but the answer was never read). Every stored event must reach a "
            "thread: “in threads” = “stored”.", "",
            "What limits ours against the raw driver: per request, the signature check (HMAC "
            "over the body), the channel lookup and the webhook's own validation, and the hand-"
            "off to the group-commit writer task; per stored event, the processing the baseline "
            "never does (parse, identity, thread, message, events), which in one process shares "
            "the event loop and the core with the acknowledgements — on SQLite it also shares "
            "the one writer. The separate worker process (rows marked “worker process”) moves "
            "that processing off the loop that answers webhooks.", ""]
    return out


def latency_section(runs: list[dict[str, Any]], cfg: dict[str, Any]) -> list[str]:
    out = [f"## 3. Latency at {cfg['rate']} msg/s, and at {cfg.get('rate_low')} msg/s (open "
           f"loop, {cfg['rate_seconds']} s, one SSE agent connected)", "",
           "| store | webhook @ offered rate | achieved msg/s | ack p50 / p90 / p99 ms | "
           "target ack p99 < 50 | "
           "webhook → SSE event p50 / p90 / p99 ms | target p99 < 100 | events missing | "
           "in threads / acked |", "|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        paths = [(f"API channel @ {cfg['rate']}/s", run["latency"], run["latency_outcome"])]
        if "telegram" in run:
            paths.append((f"Telegram webhook @ {cfg['rate']}/s", run["telegram"]["latency"],
                          run["telegram"]["latency_outcome"]))
        if "latency_low" in run:
            paths.append((f"API channel @ {cfg['rate_low']}/s", run["latency_low"],
                          run["latency_low_outcome"]))
        if "workers_process" in run:
            paths.append((f"API channel @ {cfg['rate']}/s (worker process)",
                          run["workers_process"]["latency"],
                          run["workers_process"]["latency_outcome"]))
        for label, lat, outcome in paths:
            ack, e2e = lat["ack"], lat["e2e"]
            out.append(
                f"| {run['store']} | {label} | {_f(lat['achieved_rate'], 0)} "
                f"| {_f(ack['p50_ms'])} / {_f(ack['p90_ms'])} / {_f(ack['p99_ms'])} "
                f"| {_ok(ack['p99_ms'] < 50)} "
                f"| {_f(e2e['p50_ms'])} / {_f(e2e['p90_ms'])} / {_f(e2e['p99_ms'])} "
                f"| {_ok(e2e['p99_ms'] < 100)} | {lat['events_missing']} "
                f"| {_f(outcome['in_threads'])} / {_f(lat['ok'])} |")
    return [*out, ""]


def outbound_section(runs: list[dict[str, Any]]) -> list[str]:
    out = ["## 5. Outbound: agent replies → outbox → fake bot on loopback", "",
           "| store | replies | POST /messages per s (p50 / p99 ms) | delivered | "
           "delivered per s (first POST → last callback) | ratio to one-insert baseline |",
           "|---|---|---|---|---|---|"]
    for run in runs:
        ob = run["outbound"]
        out.append(
            f"| {run['store']} | {_f(ob['posted'])} | {_f(ob['post_rate'], 0)} "
            f"({_f(ob['post']['p50_ms'])} / {_f(ob['post']['p99_ms'])}) | {_f(ob['delivered'])} "
            f"| {_f(ob['delivery_rate'], 0)} | {ob['delivery_rate'] / _baseline_rate(run):.2f}x |")
    return [*out, ""]


def scale_section(scale: dict[str, list[dict[str, Any]]], rounds: int) -> list[str]:
    out = ["## 4. Scale: thread page (latest 50) and inbox (open threads, first page)", "",
           "Sequential requests, one at a time; half the thread pages from the 1 % hot threads "
           "(~100 messages each), half from random threads. Both sizes are served at once and "
           f"the reads take turns between them ({rounds} slices each), so the ratio compares "
           "requests made in the same moments.", "",
           "| store | messages / customers | seed s | thread page p50 / p99 ms | "
           "inbox p50 / p99 ms | target p99 < 20 |", "|---|---|---|---|---|---|"]
    ratios = []
    for kind, sizes in scale.items():
        for size in sizes:
            page, inbox = size["thread_page"], size["inbox"]
            out.append(
                f"| {kind} | {_f(size['messages'])} / {_f(size['customers'])} "
                f"| {_f(size['seed_seconds'])} | {_f(page['p50_ms'])} / {_f(page['p99_ms'])} "
                f"| {_f(inbox['p50_ms'])} / {_f(inbox['p99_ms'])} "
                f"| {_ok(page['p99_ms'] < 20 and inbox['p99_ms'] < 20)} |")
        if len(sizes) == 2:
            small, big = sizes
            ratios.append((kind, big["thread_page"]["p99_ms"] / small["thread_page"]["p99_ms"],
                           big["inbox"]["p99_ms"] / small["inbox"]["p99_ms"],
                           big["thread_page"]["p50_ms"] / small["thread_page"]["p50_ms"],
                           big["inbox"]["p50_ms"] / small["inbox"]["p50_ms"]))
    out += ["", "| store | thread page 1M ÷ 10k p99 (p50) | inbox 1M ÷ 10k p99 (p50) | "
            "target ≤ 1.5 |", "|---|---|---|---|"]
    for kind, page99, inbox99, page50, inbox50 in ratios:
        out.append(f"| {kind} | **{page99:.2f}** ({page50:.2f}) | **{inbox99:.2f}** "
                   f"({inbox50:.2f}) | {_ok(max(page99, inbox99) <= 1.5)} |")
    return [*out, ""]


def memory_section(mem: dict[str, Any]) -> list[str]:
    return [
        "## 6. Memory: one worker with open SSE connections", "",
        "| connections open | RSS idle MB | RSS held MB | per connection KB | "
        "saw one event (of open) | fan-out spread ms | target < 200 MB |",
        "|---|---|---|---|---|---|---|",
        f"| {_f(mem['opened'])} (failed {mem['failed']}, {_f(mem['open_seconds'])} s to open) "
        f"| {_f(mem['rss_idle_mb'])} | {_f(mem['rss_held_mb'])} "
        f"| {_f(mem['kb_per_connection'])} | {_f(mem['saw_event'])} "
        f"| {_f(mem['fanout_spread_ms'], 0)} | {_ok(mem['rss_held_mb'] < 200)} |", ""]


def render(results: dict[str, Any]) -> str:
    cfg, machine = results["config"], results["machine"]
    out = ["# omniroute bench results", "",
           f"`python bench/run.py{' --quick' if results['quick'] else ''}` — "
           f"{machine['date']}, {machine['cpus']} CPUs, Python {machine['python']}, "
           f"{machine['platform']}; whole run {results['seconds'] / 60:.1f} min. "
           "Everything on loopback, server and load generators on the same noisy 2-core box: "
           "read the ratios (same run) first, the absolute numbers for context.", ""]
    if "ingest" in results:
        out += ingest_section(results["ingest"], cfg)
        out += latency_section(results["ingest"], cfg)
    if "scale" in results:
        out += scale_section(results["scale"], results["config"].get("read_rounds", 1))
    if "ingest" in results:
        out += outbound_section(results["ingest"])
    if "memory" in results:
        out += memory_section(results["memory"])
    if NOTES.exists():
        out += [NOTES.read_text()]
    return "\n".join(out) + "\n"
