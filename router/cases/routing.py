"""Routing a case: the rules' first match (or the channel's default team) applied to it.

Evaluated on each new case and on each reopen by the customer. `time.business_hours` is
read, before any rule has chosen a team, from a calendar no rule decides: the channel's
default team's business hours, else those of the default SLA policy; with neither it is
unknown (None) and a rule on it does not match. Calendars are read once per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Channel
from router.cases.views import PRIORITY_RANK, NewCase
from router.models import Case, Customer, Thread
from router.models.agents import Team
from router.models.sla import BusinessHours, SlaPolicy
from router.rules.engine import CompiledRules, RuleContext
from router.sla.calendar import is_open
from router.sla.context import calendar_of

DEFAULT_TEAM_KEY = "default_team_id"


@dataclass
class Route:
    """What the rules decided for one case."""

    rule_id: int | None = None
    team_id: int | None = None
    priority: str | None = None
    tags: list[str] = field(default_factory=list)
    sla_policy_id: int | None = None
    agent_id: int | None = None


def context(channel: Channel, customer: Customer, thread: Thread, text: str,
            business_hours: bool | None = None) -> RuleContext:
    return RuleContext(
        channel_type=channel.type, channel_id=channel.id, customer_tier=customer.tier,
        customer_language=customer.language, customer_tags=tuple(customer.tags or ()),
        customer_attributes=dict(customer.attributes or {}), message_text=text,
        thread_priority=thread.priority, thread_tags=tuple(thread.tags or ()),
        business_hours=business_hours)


class OpenHours:
    """Whether it is business hours now for a channel (see the module's docstring); one
    inbound batch asks through one of these, so each channel is worked out once
    (`default_policy_id`: as the batch read it)."""

    def __init__(self, session: AsyncSession, now: datetime,
                 default_policy_id: int | None) -> None:
        self.session = session
        self.now = now
        self.default_policy_id = default_policy_id
        self._by_channel: dict[str, bool | None] = {}

    async def _hours_id(self, channel: Channel) -> int | None:
        team_id = default_team(channel)
        if team_id is not None:
            team = await self.session.get(Team, team_id)
            if team is not None and team.business_hours_id is not None:
                return team.business_hours_id
        if self.default_policy_id is None:
            return None
        policy = await self.session.get(SlaPolicy, self.default_policy_id)
        return policy.business_hours_id if policy is not None else None

    async def of(self, channel: Channel) -> bool | None:
        if channel.id not in self._by_channel:
            hours_id = await self._hours_id(channel)
            row = await self.session.get(BusinessHours, hours_id) if hours_id else None
            self._by_channel[channel.id] = (
                None if row is None else is_open(calendar_of(row), self.now))
        return self._by_channel[channel.id]


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def default_team(channel: Channel) -> int | None:
    return _as_id(channel.config.get(DEFAULT_TEAM_KEY))


def route(rules: CompiledRules, ctx: RuleContext, channel: Channel) -> Route:
    """The first matching rule's actions; no match: the channel's default team, else none."""
    match = rules.evaluate(ctx)
    if match.rule_id is None and not match.actions:
        return Route(team_id=default_team(channel))
    out = Route(rule_id=match.rule_id)
    for action in match.actions:
        if action.action == "set_team":
            out.team_id = _as_id(action.value)
        elif action.action == "set_priority" and action.value in PRIORITY_RANK:
            out.priority = str(action.value)
        elif action.action == "add_tags":
            values = action.value if isinstance(action.value, list | tuple) else [action.value]
            out.tags.extend(str(v) for v in values if str(v).strip())
        elif action.action == "set_sla_policy":
            out.sla_policy_id = _as_id(action.value)
        elif action.action == "assign_agent":
            out.agent_id = _as_id(action.value)
    if out.team_id is None:
        out.team_id = default_team(channel)
    return out


def apply(case: Case | NewCase, found: Route) -> None:
    """Put the route on the case (a reopened case keeps its team unless a rule moves it)."""
    case.rule_id = found.rule_id
    if found.team_id is not None:
        case.team_id = found.team_id
    if found.priority is not None:
        case.priority = found.priority
        if isinstance(case, Case):
            case.priority_rank = PRIORITY_RANK[found.priority]
    if found.tags:
        case.tags = sorted(set(case.tags or []) | set(found.tags))
    if found.sla_policy_id is not None:
        case.sla_policy_id = found.sla_policy_id
