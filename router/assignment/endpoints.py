"""Agent API for moving work: transfers (escalation to another line) and pulling the next case."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment.service import pull_next, transfer
from router.auth.deps import AgentDep, CoreDep, SessionDep
from router.cases.schemas import TransferIn
from router.errors import Forbidden
from router.ids import IdPath
from router.models import Agent, Team, Thread
from router.openapi_docs import problems
from router.outbox.service import ReplyRequest, queue_reply
from router.threads.schemas import ThreadOut
from router.threads.service import get_thread, thread_detail

router = APIRouter(tags=["assignment"])


@router.post("/v1/threads/{thread_id}/transfer", summary="Transfer a thread's case",
             response_model=ThreadOut, responses=problems(401, 404, 409, 422))
async def transfer_(thread_id: IdPath, body: TransferIn, core: CoreDep, session: SessionDep,
                    principal: AgentDep) -> dict[str, Any]:
    """Hand the case to another team and/or agent; an internal note says so and why."""
    thread = await get_thread(session, thread_id)
    case = await transfer(core, session, thread, team_id=body.team_id, agent_id=body.agent_id,
                          reason=body.reason, actor=principal.name)
    await queue_reply(core, session, thread, ReplyRequest(
        text=await _note(session, case.team_id, body.agent_id, body.reason), internal=True),
        principal.name)
    return await thread_detail(core, session, thread)


async def _note(session: AsyncSession, team_id: int | None, agent_id: int | None,
                reason: str) -> str:
    where: list[str] = []
    if agent_id is not None:
        agent = await session.get(Agent, agent_id)
        where.append(f"agent {agent.name if agent else agent_id}")
    if team_id is not None:
        team = await session.get(Team, team_id)
        if team is not None:
            where.append(f"team {team.name} (line {team.line})")
    return f"Transferred to {' in '.join(where) or 'the queue'}: {reason}"


@router.post("/v1/agents/me/next", summary="Take the next case from my queues",
             response_model=ThreadOut, responses={
                 204: {"description": "Nothing waits that fits your capacity"},
                 **problems(401, 403, 404, 409)})
async def next_case(core: CoreDep, session: SessionDep, principal: AgentDep) -> Any:
    """The head of your teams' queues that fits your capacity, assigned to you."""
    if principal.agent_id is None:
        raise Forbidden("this API key does not belong to an agent; use an agent's key")
    case = await pull_next(core, session, principal.agent_id)
    if case is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    thread = await session.get(Thread, case.thread_id)
    assert thread is not None
    return await thread_detail(core, session, thread)
