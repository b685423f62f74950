"""Agents: views with their teams and load, creation and changes, presence changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment import service as assignment
from router.core import Core, after_commit, queue_event
from router.customers.normalize import InvalidContact, normalize_email
from router.errors import Conflict, NotFound, Unprocessable
from router.models import Agent, Case, TeamMember
from router.models.base import utcnow

# Cases an agent holds: the customer of a pending case is expected back.
HELD = ("open", "pending")


async def agent_views(session: AsyncSession, agents: Sequence[Agent]) -> list[dict[str, Any]]:
    """Agents as the API shows them: two grouped queries for teams and load, whatever the count."""
    ids = sorted({a.id for a in agents})
    teams: dict[int, list[int]] = {i: [] for i in ids}
    by_channel: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for team_id, agent_id in await session.execute(
                select(TeamMember.team_id, TeamMember.agent_id)
                .where(TeamMember.agent_id.in_(ids)).order_by(TeamMember.team_id)):
            teams[agent_id].append(team_id)
        for assignee_id, channel_type, count in await session.execute(
                select(Case.assignee_id, Case.channel_type, func.count())
                .where(Case.assignee_id.in_(ids), Case.status.in_(HELD))
                .group_by(Case.assignee_id, Case.channel_type)):
            if assignee_id is None:
                continue
            kind = channel_type or "unknown"
            load = by_channel[assignee_id]
            load[kind] = load.get(kind, 0) + int(count)
    return [_view(a, teams[a.id], by_channel[a.id]) for a in agents]


def _view(agent: Agent, team_ids: list[int], by_channel: dict[str, int]) -> dict[str, Any]:
    return {
        "id": agent.id, "name": agent.name, "email": agent.email, "role": agent.role,
        "presence": agent.presence, "presence_changed_at": agent.presence_changed_at,
        "capacity": dict(agent.capacity or {}), "skills": list(agent.skills or []),
        "team_ids": team_ids, "open_cases": sum(by_channel.values()),
        "open_cases_by_channel": by_channel, "active": agent.active,
        "last_assigned_at": agent.last_assigned_at, "created_at": agent.created_at,
        "updated_at": agent.updated_at,
    }


async def agent_view(session: AsyncSession, agent: Agent) -> dict[str, Any]:
    return (await agent_views(session, [agent]))[0]


def jsonable(view: dict[str, Any]) -> dict[str, Any]:
    """An agent view as event data (datetimes as ISO text)."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in view.items()}


async def announce(core: Core, session: AsyncSession, agent: Agent) -> None:
    """agent.updated on the live stream (streams follow their own agent's teams from it), and
    every key re-read after commit (role, teams, deactivation)."""
    await session.flush()
    queue_event(session, "agent.updated", jsonable(await agent_view(session, agent)))
    after_commit(session, core.key_cache.clear)


async def get_agent(session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} does not exist")
    return agent


def clean_email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        return normalize_email(raw)
    except InvalidContact:
        raise Unprocessable(f"{raw!r} is not an e-mail address", extra={"errors": [
            {"field": "email", "message": "not an e-mail address"}]}) from None


def check_capacity(core: Core, capacity: dict[str, int]) -> dict[str, int]:
    """Keys are "default" or a registered channel type; values are checked by the schema."""
    unknown = sorted(k for k in capacity if k != "default" and k not in core.connectors)
    if unknown:
        known = ", ".join(["default", *sorted(core.connectors)])
        raise Unprocessable(
            f"capacity names unknown channel types: {', '.join(unknown)} (known: {known})",
            extra={"errors": [{"field": f"capacity.{k}", "message": "unknown channel type"}
                              for k in unknown]})
    return dict(capacity)


def more_room(before: dict[str, int], after: dict[str, int]) -> bool:
    """Whether any pool grew (a new pool counts: it splits off from the default)."""
    return any(after[k] > before.get(k, -1) for k in after) or (
        "default" not in after and "default" in before)


async def flush_unique(session: AsyncSession, email: str | None) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"another agent already has the e-mail address {email}") from None


async def email_taken(session: AsyncSession, email: str | None, agent_id: int | None) -> None:
    if email is None:
        return
    other = await session.scalar(select(Agent.id).where(Agent.email == email))
    if other is not None and other != agent_id:
        raise Conflict(f"agent {other} already has the e-mail address {email}")


async def set_presence(core: Core, session: AsyncSession, agent: Agent, status: str, *,
                       by: str) -> bool:
    """Change presence, say so on the live stream and tell assignment; False if unchanged."""
    previous = agent.presence
    if previous == status:
        return False
    now = utcnow()
    agent.presence = status
    agent.presence_changed_at = now
    await session.flush()
    queue_event(session, "agent.presence", {
        "agent_id": agent.id, "status": status, "previous": previous, "by": by,
        "at": now.isoformat()})
    if status == "online":
        await assignment.on_agent_available(core, session, agent.id)
    else:
        await assignment.on_agent_unavailable(core, session, agent.id)
    return True


async def declare_presence(core: Core, session: AsyncSession, agent: Agent, status: str,
                           by: str) -> None:
    """Presence said by the agent (or their supervisor). Online or away with no live stream
    anywhere starts the grace timer: presence follows the agent UI's stream, and nobody
    should be handed cases for good by one call from a client that went away."""
    await set_presence(core, session, agent, status, by=by)
    agent.offline_due_at = None
    if status != "offline" and not await core.presence.live_anywhere(session, agent.id):
        agent.offline_due_at = utcnow() + timedelta(
            seconds=core.settings.presence_grace_seconds)
        core.presence.note_due(agent.offline_due_at)


class KeyWithoutAgent(Conflict):
    slug, title = "key-without-agent", "The key belongs to no agent"


async def agent_of(session: AsyncSession, agent_id: int | None) -> Agent:
    """The caller's own agent (`/v1/agents/me`)."""
    if agent_id is None:
        raise KeyWithoutAgent("this API key belongs to no agent; create one with "
                              "POST /v1/keys {\"agent_id\": ...}")
    return await get_agent(session, agent_id)
