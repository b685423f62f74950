"""Agents, teams, agent-bound keys and routed threads for tests (routing set by hand)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select, update

from router.models import Case, Thread
from tests.apichannel import inbound, post_inbound
from tests.omni import OmniServer


async def make_agent(omni: OmniServer, name: str, **fields: Any) -> dict[str, Any]:
    response = await omni.client.post("/v1/agents", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_team(omni: OmniServer, name: str, **fields: Any) -> dict[str, Any]:
    response = await omni.client.post("/v1/teams", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_key(omni: OmniServer, name: str, **fields: Any) -> str:
    response = await omni.client.post("/v1/keys", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def client_for(omni: OmniServer, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=omni.url, headers={"Authorization": f"Bearer {key}"},
                             timeout=30)


async def api_channel(omni: OmniServer) -> tuple[str, str]:
    created = await omni.create_channel("api", "bot", {})
    return created["id"], created["generated_secrets"]["secret"]


async def customer_thread(omni: OmniServer, channel: tuple[str, str], user: str,
                          text: str = "hello", **extra: Any) -> dict[str, Any]:
    """A customer writes once; their thread (found by the admin key)."""
    response = await post_inbound(omni.client, channel[0], channel[1],
                                  inbound(user, f"{user}-1", text, name=user, **extra))
    assert response.status_code in (200, 202), response.text
    await omni.settle()
    customers = (await omni.client.get("/v1/customers", params={"q": user})).json()["items"]
    assert customers, user
    thread: dict[str, Any] = (await omni.client.get(
        f"/v1/threads/{customers[0]['thread_id']}")).json()
    return thread


async def route(omni: OmniServer, thread_id: int, team_id: int | None,
                assignee_id: int | None = None, **columns: Any) -> None:
    """Set a thread's team and assignee, and its current case's, as the assignment engine
    would (a merge or a status change copies the case's onto the thread again)."""
    async with omni.core.unit() as session:
        await session.execute(update(Thread).where(Thread.id == thread_id).values(
            team_id=team_id, assignee_id=assignee_id, **columns))
        case_id = await session.scalar(select(Thread.case_id).where(Thread.id == thread_id))
        if case_id is not None:
            await session.execute(update(Case).where(Case.id == case_id).values(
                team_id=team_id, assignee_id=assignee_id))


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.03)
