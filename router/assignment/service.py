# Placeholder on branch agents only: the lead merges the real module from branch cases.
"""Hooks the agents and teams domains call inside their unit of work (branch cases fills them)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core


async def on_agent_available(core: Core, session: AsyncSession, agent_id: int) -> None:
    """An agent came online, got more capacity or joined a team: they may take queued cases."""
    return None


async def on_agent_unavailable(core: Core, session: AsyncSession, agent_id: int) -> None:
    """An agent went away or offline or left a team: release their cases if the team says so."""
    return None


async def on_team_changed(core: Core, session: AsyncSession, team_id: int) -> None:
    """A team's strategy, members or overflow changed: its queue may move."""
    return None
