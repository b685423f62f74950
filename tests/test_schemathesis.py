"""The committed OpenAPI document tells the truth about a running server (schemathesis).

`schemathesis run openapi/openapi.json --checks all` against `omniroute serve` on SQLite with an
admin key, bounded in time: an undocumented status or media type, a schema-valid request
refused, a schema-violating one accepted, a 405 without `Allow` or any 500 fails the suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Enough for every phase (coverage, fuzzing, stateful) to run on a shared CI machine.
BUDGET_SECONDS = 150
# One seed: a failure in CI replays on a laptop (`--seed` in the report).
SEED = "20261201"
# Revoking key 1 would revoke the run's own key: every later request would be a 401.
OWN_KEY = "revoke_v1_keys__key_id__delete"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "router.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def _wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("omniroute serve did not become ready")


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env |= {"OMNIROUTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/omniroute.db",
            "OMNIROUTE_SECRET_KEY": "schemathesis-" + "k" * 32, "PYTHONPATH": str(ROOT)}
    key = _cli(["keys", "create", "--name", "schemathesis", "--role", "admin"], env)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "router.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(url)
            run = subprocess.run(
                [str(SCHEMATHESIS), "--config-file", str(ROOT / "schemathesis.toml"), "run",
                 str(ROOT / "openapi" / "openapi.json"), "--url", url,
                 "-H", f"Authorization: Bearer {key}", "--checks", "all",
                 "--exclude-operation-id", OWN_KEY, "--max-examples", "5",
                 "--max-time", str(BUDGET_SECONDS), "--request-timeout", "20",
                 "--generation-database", "none", "--seed", SEED, "--no-color"],
                cwd=tmp_path, env=env, capture_output=True,
                text=True, timeout=BUDGET_SECONDS + 240, check=False)
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = run.stdout.replace(key, "[key]")
    assert run.returncode == 0, report[-20_000:] + run.stderr[-2_000:]
    # How many links a run follows depends on what its random creates got through, so it is
    # not asserted here; tests/router/test_openapi_answers.py checks the links themselves.
    assert "API Links:" in report, report[-5_000:]
