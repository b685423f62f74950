"""Teams (lines of support): views, checks of what they point at, deletion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import queue_event
from router.errors import Conflict, NotFound, Unprocessable
from router.models import BusinessHours, Case, Rule, SlaPolicy, Team, TeamMember

HELD = ("open", "pending")


async def team_views(session: AsyncSession, teams: Sequence[Team]) -> list[dict[str, Any]]:
    ids = sorted({t.id for t in teams})
    members: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for team_id, agent_id in await session.execute(
                select(TeamMember.team_id, TeamMember.agent_id)
                .where(TeamMember.team_id.in_(ids)).order_by(TeamMember.agent_id)):
            members[team_id].append(agent_id)
    return [_view(t, members[t.id]) for t in teams]


def _view(team: Team, member_ids: list[int]) -> dict[str, Any]:
    return {"id": team.id, "name": team.name, "line": team.line, "strategy": team.strategy,
            "sticky": team.sticky, "member_ids": member_ids,
            "business_hours_id": team.business_hours_id, "sla_policy_id": team.sla_policy_id,
            "overflow_team_id": team.overflow_team_id,
            "overflow_after_seconds": team.overflow_after_seconds,
            "release_on_offline": team.release_on_offline, "created_at": team.created_at,
            "updated_at": team.updated_at}


async def team_view(session: AsyncSession, team: Team) -> dict[str, Any]:
    return (await team_views(session, [team]))[0]


async def announce_team(session: AsyncSession, team: Team, type_: str = "team.updated") -> None:
    await session.flush()
    view = await team_view(session, team)
    queue_event(session, type_, {k: v.isoformat() if hasattr(v, "isoformat") else v
                                 for k, v in view.items()})


async def live_team(session: AsyncSession, team_id: int) -> Team:
    """A team that exists and is not deleted (a deleted one keeps its row for reports)."""
    team = await session.get(Team, team_id)
    if team is None or team.deleted_at is not None:
        raise NotFound(f"team {team_id} does not exist")
    return team


def _bad(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", extra={"errors": [
        {"field": field, "message": message}]})


async def name_free(session: AsyncSession, name: str, team_id: int | None) -> None:
    other = await session.scalar(select(Team.id).where(Team.name == name,
                                                       Team.deleted_at.is_(None)))
    if other is not None and other != team_id:
        raise Conflict(f"team {other} is already called {name!r}")


async def check_links(session: AsyncSession, team: Team) -> None:
    """Calendar, SLA policy and overflow team exist; overflow is never circular."""
    if team.business_hours_id is not None and await session.get(
            BusinessHours, team.business_hours_id) is None:
        raise _bad("business_hours_id", f"business hours {team.business_hours_id} do not exist")
    if team.sla_policy_id is not None and await session.get(
            SlaPolicy, team.sla_policy_id) is None:
        raise _bad("sla_policy_id", f"SLA policy {team.sla_policy_id} does not exist")
    if team.overflow_team_id is None:
        return
    if team.overflow_team_id == team.id:
        raise _bad("overflow_team_id", "a team cannot overflow into itself")
    if team.overflow_after_seconds is None:
        raise _bad("overflow_after_seconds",
                   "say after how many seconds of waiting a case overflows")
    chain = [team.id] if team.id is not None else []
    current: int | None = team.overflow_team_id
    while current is not None:
        if current in chain:
            path = " → ".join(str(i) for i in [*chain, current])
            raise _bad("overflow_team_id", f"overflow would go round in a circle: {path}")
        chain.append(current)
        nxt = await session.get(Team, current)
        if nxt is None or nxt.deleted_at is not None:
            if current == team.overflow_team_id:
                raise _bad("overflow_team_id", f"team {current} does not exist")
            break
        current = nxt.overflow_team_id


async def blockers(session: AsyncSession, team: Team) -> list[str]:
    """Why the team cannot be deleted now: work that would be lost, pointers that would dangle."""
    found: list[str] = []
    held = await session.scalar(select(func.count()).select_from(Case).where(
        Case.team_id == team.id, Case.status.in_(HELD)))
    if held:
        found.append(f"{held} open or pending case(s) (transfer them to another team first)")
    overflowing = list(await session.scalars(select(Team.id).where(
        Team.overflow_team_id == team.id, Team.deleted_at.is_(None)).order_by(Team.id)))
    if overflowing:
        found.append("team(s) " + ", ".join(map(str, overflowing)) + " overflow into it")
    rules = [r.id for r in await session.scalars(select(Rule).order_by(Rule.id))
             if _rule_sends_to(r, team.id)]
    if rules:
        found.append("rule(s) " + ", ".join(map(str, rules)) + " send cases to it")
    return found


def _rule_sends_to(rule: Rule, team_id: int) -> bool:
    for action in rule.then or []:
        if isinstance(action, dict) and action.get("action") == "set_team":
            value = action.get("value")
            if value == team_id or (isinstance(value, str) and value == str(team_id)):
                return True
    return False
