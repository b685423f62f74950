"""Processes the bench drives: `omniroute serve`, the one-insert baseline, the fake provider.

Every process is started by us, remembered by pid, and stopped by that pid only.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
# A tag keeps parallel bench runs (several people on one box) out of each other's files and
# databases: OMNIROUTE_BENCH_TAG=alice writes bench/out-alice/ and omniroute_bench_alice.
TAG = os.environ.get("OMNIROUTE_BENCH_TAG", "")
OUT = ROOT / "bench" / (f"out-{TAG}" if TAG else "out")
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("OMNIROUTE_BENCH_PG", "postgresql://root@127.0.0.1:5432/test")
SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789abcdef"
ADMIN_KEY = "omr_bench_admin_key_0123456789"
FD_LIMIT = 20_000


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, FD_LIMIT), hard))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Store:
    """One database the bench owns: a SQLite file or a PostgreSQL database it created."""

    kind: str  # "sqlite" | "postgresql"
    url: str
    name: str

    @classmethod
    def fresh(cls, kind: str, name: str) -> Store:
        OUT.mkdir(parents=True, exist_ok=True)
        name = f"{name}_{TAG}" if TAG else name
        if kind == "sqlite":
            path = OUT / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            return cls(kind, f"sqlite+aiosqlite:///{path}", name)
        asyncio.run(_recreate_pg(name))
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return cls(kind, f"{base}/{name}", name)

    def env(self) -> dict[str, str]:
        return {**os.environ, "OMNIROUTE_DATABASE_URL": self.url,
                "OMNIROUTE_SECRET_KEY": SECRET_KEY, "OMNIROUTE_ADMIN_API_KEY": ADMIN_KEY,
                "OMNIROUTE_LOG_LEVEL": os.environ.get("OMNIROUTE_BENCH_LOG_LEVEL", "warning")}

    def migrate(self) -> None:
        subprocess.run([str(BIN / "omniroute"), "migrate"], env=self.env(), cwd=ROOT,
                       check=True, capture_output=True, timeout=300)

    def drop(self) -> None:
        if self.kind == "postgresql":
            asyncio.run(_drop_pg(self.name))


async def _recreate_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class Process:
    """A child process we started; stopped by its own pid, bounded in time."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = OUT / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=raise_fd_limit)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"{self.name}: no VmRSS")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class HttpServer(Process):
    def __init__(self, name: str, argv: list[str], port: int,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(name, argv, env)
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def wait_ready(self, path: str = "/healthz", timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            try:
                if httpx.get(self.base + path, timeout=1.0).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready in {timeout}s:\n{self.tail()}")


def start_omniroute(store: Store, name: str, *args: str) -> HttpServer:
    """`omniroute serve` (with `--workers-process`: its workers in a child process)."""
    port = free_port()
    server = HttpServer(name, [str(BIN / "omniroute"), "serve", "--host", "127.0.0.1",
                               "--port", str(port), *args], port, store.env())
    server.wait_ready()
    return server


def start_baseline(store: Store, name: str, module: str = "bench.baseline_app") -> HttpServer:
    """The SQLAlchemy one-insert baseline, or (module bench.raw_baseline_app) the raw one."""
    port = free_port()
    server = HttpServer(name, [sys.executable, "-m", module, "--port", str(port)],
                        port, store.env())
    server.wait_ready("/healthz")
    return server


def start_fake_provider(name: str = "fake-provider") -> HttpServer:
    port = free_port()
    server = HttpServer(name, [sys.executable, "-m", "bench.fake_provider", "--port", str(port)],
                        port)
    server.wait_ready("/stats")
    return server


def admin(server: HttpServer) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=30.0,
                        headers={"Authorization": f"Bearer {ADMIN_KEY}"})


def create_api_channel(server: HttpServer, name: str, callback_url: str) -> tuple[str, str]:
    """(channel id, secret) of a new trusted API channel."""
    with admin(server) as client:
        answer = client.post("/v1/channels", json={
            "type": "api", "name": name,
            "config": {"trusted": True, "callback_url": callback_url}})
        answer.raise_for_status()
        body = answer.json()
    return str(body["id"]), str(body["generated_secrets"]["secret"])


def create_telegram_channel(server: HttpServer, name: str, api_base_url: str) -> tuple[str, str]:
    """(channel id, webhook secret) of a new webhook-mode Telegram channel (fake Bot API)."""
    with admin(server) as client:
        answer = client.post("/v1/channels", json={
            "type": "telegram", "name": name,
            "config": {"bot_token": "123456:AAbenchbenchbenchbenchbench", "mode": "webhook",
                       "api_base_url": api_base_url}})
        answer.raise_for_status()
        body = answer.json()
    return str(body["id"]), str(body["generated_secrets"]["webhook_secret"])


def sql(store: Store, statement: str, **params: Any) -> list[Any]:
    """Run one statement against the store and return its rows (bench bookkeeping only)."""

    async def run() -> list[Any]:
        engine = create_async_engine(store.url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return list(result.fetchall()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())
