"""The `omniroute` command: migrate, keys create (printed once, stored hashed), openapi."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from router.crypto import hash_api_key

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_migrate_and_create_a_key(tmp_path: Path) -> None:
    env = {**os.environ, "OMNIROUTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/o.db"}
    migrated = run(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    created = run(["keys", "create", "--name", "ops", "--role", "admin"], env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("omr_")
    assert "shown only now" in created.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "o.db") as db:
        rows = db.execute("SELECT name, role, key_hash FROM api_keys").fetchall()
    assert rows == [("ops", "admin", hash_api_key(key))]
    bad = run(["keys", "create", "--name", "x", "--role", "king"], env)
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr


def test_openapi_prints_the_spec() -> None:
    printed = run(["openapi"], dict(os.environ))
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    assert "/v1/threads/{thread_id}/messages" in document["paths"]


def test_serve_runs_with_nothing_but_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
                            cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready = None
        for _ in range(200):
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.HTTPError:
                import time

                time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, ready
        assert (tmp_path / "omniroute.db").exists()
        assert (tmp_path / "omniroute.key").exists()
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert "generated one and stored it" in output
