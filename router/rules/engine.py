# Placeholder on branch cases only: the lead merges the real module from branch rules.
"""Routing rules compiled for evaluation: the interface the case lifecycle calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class RuleContext:
    channel_type: str
    channel_id: str
    customer_tier: str | None
    customer_language: str | None
    customer_tags: tuple[str, ...]
    customer_attributes: Mapping[str, Any]
    message_text: str
    thread_priority: str
    thread_tags: tuple[str, ...]
    business_hours: bool | None


@dataclass(frozen=True)
class RuleAction:
    action: str
    value: Any


@dataclass(frozen=True)
class RuleMatch:
    rule_id: int | None
    actions: tuple[RuleAction, ...]


NO_MATCH = RuleMatch(rule_id=None, actions=())


class CompiledRules:
    """The enabled rules in position order; this placeholder holds none."""

    def evaluate(self, ctx: RuleContext) -> RuleMatch:
        """The first matching rule's actions (here: never a match)."""
        return NO_MATCH


_EMPTY = CompiledRules()


async def load_rules(session: AsyncSession) -> CompiledRules:
    """The compiled rules (cached; the real module checks for changes with one tiny query)."""
    return _EMPTY
