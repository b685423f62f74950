"""Cases and policies made directly in the store for SLA tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from router.core import Core
from router.models import Agent, Case, Customer, Team, Thread
from router.models.base import utcnow
from router.models.sla import SlaTimer
from router.sla import lifecycle
from tests.omni import OmniServer


async def make_policy(omni: OmniServer, **body: Any) -> dict[str, Any]:
    response = await omni.client.post("/v1/sla-policies", json={"name": "p", **body})
    assert response.status_code == 201, response.text
    policy: dict[str, Any] = response.json()
    return policy


async def make_team(core: Core, name: str) -> int:
    async with core.unit() as session:
        team = Team(name=name)
        session.add(team)
        await session.flush()
        return team.id


async def make_agent(core: Core, name: str, role: str) -> int:
    async with core.unit() as session:
        agent = Agent(name=name, role=role, capacity={}, skills=[])
        session.add(agent)
        await session.flush()
        return agent.id


async def open_case(core: Core, channel_type: str, *, policy_id: int | None = None,
                    message_at: datetime | None = None, team_id: int | None = None,
                    **fields: Any) -> int:
    """A customer, their thread and a new case whose SLA clock started at `message_at`."""
    now = utcnow()
    async with core.unit() as session:
        customer = Customer(name="c", tags=[], attributes={})
        session.add(customer)
        await session.flush()
        thread = Thread(customer_id=customer.id, tags=[], team_id=team_id)
        session.add(thread)
        await session.flush()
        case = Case(thread_id=thread.id, customer_id=customer.id, channel_type=channel_type,
                    sla_policy_id=policy_id, team_id=team_id, tags=[], breaches=[], **fields)
        session.add(case)
        await session.flush()
        thread.case_id = case.id
        await lifecycle.case_opened(session, case, message_at or now, now, now)
        return case.id


async def case_row(core: Core, case_id: int) -> Case:
    async with core.reads() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


def published(omni: OmniServer, type_: str) -> list[dict[str, Any]]:
    """Events of one type this replica published (its replay buffer)."""
    return [e.data for e in omni.core.bus._buffer if e.type == type_]  # type: ignore[attr-defined]


async def timers_of(omni: OmniServer, case_id: int) -> list[tuple[str, str]]:
    """The case's armed (unfired) timers as sorted (metric, kind) pairs."""
    async with omni.core.reads() as session:
        rows = await session.execute(select(SlaTimer.metric, SlaTimer.kind).where(
            SlaTimer.case_id == case_id, SlaTimer.fired_at.is_(None)))
        return sorted((metric, kind) for metric, kind in rows)
