"""Rows the rule tests point at (teams, agents, SLA policies) and keys of each role."""

from __future__ import annotations

from typing import Any

import httpx

from router.models import Agent, SlaPolicy, Team
from tests.omni import OmniServer


async def make_targets(omni: OmniServer) -> dict[str, int]:
    """A line-2 team, an agent and an SLA policy, written directly (their APIs live elsewhere)."""
    async with omni.core.unit() as session:
        team = Team(name="Line 2", line=2)
        agent = Agent(name="Sam", email="sam@example.com", capacity={"default": 5})
        retired = Agent(name="Ex", email="ex@example.com", active=False)
        policy = SlaPolicy(name="Paid", targets=[{"first_response_seconds": 600}])
        session.add_all([team, agent, retired, policy])
        await session.flush()
        return {"team": team.id, "agent": agent.id, "retired": retired.id, "policy": policy.id}


async def client_with_role(omni: OmniServer, role: str) -> httpx.AsyncClient:
    created = await omni.client.post("/v1/keys", json={"name": f"{role} key", "role": role})
    assert created.status_code == 201, created.text
    return httpx.AsyncClient(base_url=omni.url, timeout=30,
                             headers={"Authorization": f"Bearer {created.json()['key']}"})


def rule(name: str, when: dict[str, Any], then: list[dict[str, Any]],
         **extra: Any) -> dict[str, Any]:
    return {"name": name, "when": when, "then": then, **extra}


def cond(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}
