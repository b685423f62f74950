"""Real `omniroute` processes and private servers for the fault tests.

Replicas run as `python -m router.cli serve` children so a test can kill -9 or SIGTERM them;
PostgreSQL and Redis that a test stops are private instances in a temporary directory, never
the machine's shared servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from tests.omni import ADMIN_KEY, free_socket

ROOT = Path(__file__).resolve().parent.parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
FAULT_SECRET_KEY = "fault-secret-key-please-ignore-0123456789"


def free_port() -> int:
    with contextlib.closing(free_socket()) as sock:
        return int(sock.getsockname()[1])


def replica_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a replica: this test run's settings, nothing inherited by accident."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env.update({"OMNIROUTE_DATABASE_URL": database_url,
                "OMNIROUTE_SECRET_KEY": FAULT_SECRET_KEY,
                "OMNIROUTE_ADMIN_API_KEY": ADMIN_KEY,
                "OMNIROUTE_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT)})
    env.update({f"OMNIROUTE_{k.upper()}": v for k, v in settings.items()})
    return env


@dataclass
class Replica:
    """One `omniroute serve` child process on a port of its own."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "router.cli", "serve", "--port", str(self.port), *self.args],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    async def ready(self, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"replica exited with {self.proc.returncode}: "
                                       f"{self.output()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.url + "/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"replica on {self.port} not ready: {self.output()[-2000:]}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    async def exited(self, timeout: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError("replica did not exit")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


async def create_empty_pg_database(admin_dsn: str, name: str) -> str:
    """A new database with no schema; its SQLAlchemy URL."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def drop_pg_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb into a temp dir, a free port)."""

    directory: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="omniroute-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*_as_postgres_user(), str(PG_BIN / "pg_ctl"),
                        "-D", str(self.directory / "data"),
                        "-l", str(self.directory / "server.log"), "-w", "-t", "30", *args],
                       check=True, capture_output=True)

    def init(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run([*_as_postgres_user(), str(PG_BIN / "initdb"),
                        "-D", str(self.directory / "data"),
                        "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
                       check=True, capture_output=True)
        with (self.directory / "data" / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.directory}'\n"
                       "fsync = off\nmax_connections = 200\nshared_buffers = 32MB\n")
        return self

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        """A fast shutdown: clients are disconnected, in-flight transactions rolled back."""
        self._ctl("stop", "-m", "fast")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def available(binary: Path | str) -> bool:
    return Path(binary).exists() if isinstance(binary, Path) else shutil.which(binary) is not None


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, stopped and started again by the test (its stream
    kept on disk across the restart, as a production Redis with appendonly keeps it)."""

    directory: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="omniroute-redis-")))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--appendfsync", "always",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise TimeoutError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
