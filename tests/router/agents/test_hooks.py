"""The agents and teams endpoints tell the assignment engine when room may have appeared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import router.assignment.service as assignment
from router.core import Core
from tests.omni import OmniServer
from tests.people import client_for, make_agent, make_key, make_team

Calls = list[tuple[str, int]]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    seen: Calls = []

    def record(name: str):  # type: ignore[no-untyped-def]
        async def hook(core: Core, session: AsyncSession, id_: int) -> None:
            assert isinstance(session, AsyncSession) and session.in_transaction()
            seen.append((name, id_))
        return hook

    for name in ("on_agent_available", "on_agent_unavailable", "on_team_changed"):
        monkeypatch.setattr(assignment, name, record(name))
    yield seen


async def test_presence_and_capacity_changes_call_the_hooks(omni: OmniServer,
                                                            calls: Calls) -> None:
    ada = await make_agent(omni, "Ada", capacity={"default": 2})
    async with client_for(omni, await make_key(omni, "ada", agent_id=ada["id"])) as client:
        await client.put("/v1/agents/me/presence", json={"status": "online"})
        await client.put("/v1/agents/me/presence", json={"status": "online"})  # no change
        await client.put("/v1/agents/me/presence", json={"status": "away"})
        await client.put("/v1/agents/me/presence", json={"status": "online"})
    assert calls == [("on_agent_available", ada["id"]), ("on_agent_unavailable", ada["id"]),
                     ("on_agent_available", ada["id"])]
    calls.clear()
    await omni.client.patch(f"/v1/agents/{ada['id']}", json={"capacity": {"default": 1}})
    assert calls == []
    await omni.client.patch(f"/v1/agents/{ada['id']}",
                            json={"capacity": {"default": 1, "email": 5}})
    assert calls == [("on_agent_available", ada["id"])]
    calls.clear()
    await omni.client.patch(f"/v1/agents/{ada['id']}", json={"active": False})
    assert calls == [("on_agent_unavailable", ada["id"])]


async def test_membership_and_team_changes_call_the_hooks(omni: OmniServer,
                                                          calls: Calls) -> None:
    ada = await make_agent(omni, "Ada")
    bob = await make_agent(omni, "Bob")
    team = await make_team(omni, "Line 1", member_ids=[ada["id"]])
    t = team["id"]
    assert calls == [("on_agent_available", ada["id"]), ("on_team_changed", t)]
    calls.clear()
    await omni.client.patch(f"/v1/teams/{t}", json={"member_ids": [bob["id"]]})
    assert calls == [("on_agent_unavailable", ada["id"]), ("on_agent_available", bob["id"]),
                     ("on_team_changed", t)]
    calls.clear()
    await omni.client.patch(f"/v1/teams/{t}", json={"strategy": "least_loaded"})
    assert calls == [("on_team_changed", t)]
    calls.clear()
    await omni.client.patch(f"/v1/teams/{t}", json={"line": 2, "name": "Line 2"})
    assert calls == []
    await omni.client.patch(f"/v1/agents/{ada['id']}", json={"team_ids": [t]})
    assert calls == [("on_agent_available", ada["id"]), ("on_team_changed", t)]
    calls.clear()
    other = await make_team(omni, "Line 3")
    calls.clear()
    await omni.client.patch(f"/v1/teams/{t}", json={"overflow_team_id": other["id"],
                                                    "overflow_after_seconds": 300})
    assert calls == [("on_team_changed", t)]
