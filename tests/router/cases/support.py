"""Set-up for case and assignment tests: agents and teams made through the models (their
endpoints are another branch's), an API channel, customers writing in."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from router.auth.keys import create_key
from router.models import Agent, Case, CaseEvent, Identity, Team, TeamMember, Thread
from tests.apichannel import inbound, post_inbound
from tests.omni import OmniServer

_ids = itertools.count(1)


async def make_agent(omni: OmniServer, name: str, *, presence: str = "online",
                     capacity: dict[str, int] | None = None) -> int:
    async with omni.core.unit() as session:
        agent = Agent(name=name, email=f"{name}@example.com", presence=presence,
                      capacity={"default": 2} if capacity is None else capacity, skills=[])
        session.add(agent)
        await session.flush()
        return agent.id


async def make_team(omni: OmniServer, name: str, members: list[int], *,
                    strategy: str = "round_robin", **fields: Any) -> int:
    async with omni.core.unit() as session:
        team = Team(name=name, strategy=strategy, settings={}, **fields)
        session.add(team)
        await session.flush()
        for agent_id in members:
            session.add(TeamMember(team_id=team.id, agent_id=agent_id))
        return team.id


async def agent_key(omni: OmniServer, agent_id: int) -> str:
    async with omni.core.unit() as session:
        row, key = await create_key(session, f"agent-{agent_id}", "agent")
        row.agent_id = agent_id
        return key


class Bot:
    """An API channel and the customers who write through it."""

    def __init__(self, omni: OmniServer, channel_id: str, secret: str) -> None:
        self.omni, self.channel_id, self.secret = omni, channel_id, secret

    @classmethod
    async def start(cls, omni: OmniServer, default_team: int | None = None,
                    name: str = "bot") -> Bot:
        config: dict[str, Any] = {}
        if default_team is not None:
            config["default_team_id"] = default_team
        created = await omni.create_channel("api", name, config)
        return cls(omni, created["id"], created["generated_secrets"]["secret"])

    async def says(self, user: str, text: str = "hello", *, settle: bool = True,
                   **extra: Any) -> None:
        answer = await post_inbound(self.omni.client, self.channel_id, self.secret,
                                    inbound(user, f"m-{next(_ids)}", text, **extra))
        assert answer.status_code == 202, answer.text
        if settle:
            await self.omni.settle()

    async def thread_of(self, user: str) -> dict[str, Any]:
        async with self.omni.core.reads() as session:
            identity = await session.scalar(select(Identity).where(
                Identity.value == f"{self.channel_id}:{user}"))
            assert identity is not None
            thread = await session.scalar(select(Thread).where(
                Thread.customer_id == identity.customer_id))
            assert thread is not None
            thread_id = thread.id
        got = await self.omni.client.get(f"/v1/threads/{thread_id}")
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body


async def cases(omni: OmniServer) -> list[Case]:
    async with omni.core.reads() as session:
        return list(await session.scalars(select(Case).order_by(Case.id)))


async def history(omni: OmniServer, case_id: int) -> list[str]:
    async with omni.core.reads() as session:
        return list(await session.scalars(select(CaseEvent.type).where(
            CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


async def held(omni: OmniServer) -> dict[int, int]:
    """Open and pending cases per assignee."""
    counts: dict[int, int] = {}
    for case in await cases(omni):
        if case.assignee_id is not None and case.status in ("open", "pending"):
            counts[case.assignee_id] = counts.get(case.assignee_id, 0) + 1
    return counts


async def set_status(omni: OmniServer, thread_id: int, status: str) -> dict[str, Any]:
    answer = await omni.client.patch(f"/v1/threads/{thread_id}", json={"status": status})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
