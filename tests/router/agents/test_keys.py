"""Keys that belong to an agent act as that agent, never above them, and die with them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from router.crypto import hash_api_key
from tests.omni import OmniServer
from tests.people import client_for, make_agent, make_key, make_team

ROOT = Path(__file__).resolve().parents[3]


async def test_an_agent_key_acts_as_its_agent(omni: OmniServer) -> None:
    team = await make_team(omni, "Line 1")
    ada = await make_agent(omni, "Ada", team_ids=[team["id"]])
    created = await omni.client.post("/v1/keys", json={"name": "ada's laptop",
                                                        "agent_id": ada["id"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "agent" and body["agent_id"] == ada["id"]
    assert body["key"].startswith("omr_")
    listed = (await omni.client.get("/v1/keys")).json()
    assert [k["agent_id"] for k in listed] == [ada["id"]]
    assert all("key" not in k for k in listed)
    async with client_for(omni, body["key"]) as ada_client:
        me = await ada_client.get("/v1/agents/me")
        assert me.status_code == 200
        assert me.json()["id"] == ada["id"] and me.json()["team_ids"] == [team["id"]]
        # Replies are signed with the agent's name.
        assert (await ada_client.get("/v1/keys")).status_code == 403


async def test_me_needs_a_key_that_belongs_to_an_agent(omni: OmniServer) -> None:
    key = await make_key(omni, "shared", role="agent")
    async with client_for(omni, key) as shared:
        for response in (await shared.get("/v1/agents/me"),
                         await shared.put("/v1/agents/me/presence", json={"status": "online"})):
            assert response.status_code == 409
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/key-without-agent")
    assert (await omni.client.get("/v1/agents/me")).status_code == 409  # bootstrap admin


async def test_a_key_never_outranks_its_agent(omni: OmniServer) -> None:
    lead = await make_agent(omni, "Lead", role="supervisor")
    above = await omni.client.post("/v1/keys", json={"name": "k", "role": "admin",
                                                     "agent_id": lead["id"]})
    assert above.status_code == 422 and "supervisor" in above.json()["detail"]
    nobody = await omni.client.post("/v1/keys", json={"name": "k", "agent_id": 4242})
    assert nobody.status_code == 422
    no_role = await omni.client.post("/v1/keys", json={"name": "k"})
    assert no_role.status_code == 422
    assert (await omni.client.get("/v1/keys")).json() == []

    key = await make_key(omni, "lead", role="supervisor", agent_id=lead["id"])
    async with client_for(omni, key) as client:
        assert (await client.post("/v1/teams", json={"name": "T1"})).status_code == 201
        # Demoted: the key follows at once (the cache is dropped with the change).
        demoted = await omni.client.patch(f"/v1/agents/{lead['id']}", json={"role": "agent"})
        assert demoted.status_code == 200
        assert (await client.post("/v1/teams", json={"name": "T2"})).status_code == 403
        assert (await client.get("/v1/agents/me")).json()["role"] == "agent"


async def test_a_deactivated_agents_keys_stop_working(omni: OmniServer) -> None:
    ada = await make_agent(omni, "Ada")
    key = await make_key(omni, "ada", agent_id=ada["id"])
    async with client_for(omni, key) as client:
        assert (await client.get("/v1/agents/me")).status_code == 200
        gone = await omni.client.patch(f"/v1/agents/{ada['id']}", json={"active": False})
        assert gone.status_code == 200 and gone.json()["active"] is False
        assert (await client.get("/v1/agents/me")).status_code == 401
    again = await omni.client.post("/v1/keys", json={"name": "k", "agent_id": ada["id"]})
    assert again.status_code == 422


async def test_revoking_takes_effect_at_once_on_this_replica(omni: OmniServer) -> None:
    created = (await omni.client.post("/v1/keys", json={"name": "k", "role": "agent"})).json()
    async with client_for(omni, created["key"]) as client:
        assert (await client.get("/v1/threads")).status_code == 200
        assert (await omni.client.delete(f"/v1/keys/{created['id']}")).status_code == 204
        assert (await client.get("/v1/threads")).status_code == 401


def test_the_cli_creates_a_key_for_an_agent(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    env = {**os.environ, "OMNIROUTE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "router.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    assert run("migrate").returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO agents (name, role, presence, presence_changed_at, capacity,"
                     " skills, active, created_at, updated_at) VALUES ('Ada', 'supervisor',"
                     " 'offline', '2026-01-01', '{}', '[]', 1, '2026-01-01', '2026-01-01')")
    created = run("keys", "create", "--name", "ada", "--agent-id", "1")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT role, agent_id, key_hash FROM api_keys").fetchall()
    assert rows == [("supervisor", 1, hash_api_key(key))]
    refused = run("keys", "create", "--name", "x", "--role", "admin", "--agent-id", "1")
    assert refused.returncode == 2 and "cannot be admin" in refused.stderr
    assert run("keys", "create", "--name", "y").returncode == 2
