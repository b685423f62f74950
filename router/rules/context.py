"""What the engine reads (one new case's facts) and what it answers (one rule's actions).

Defined apart from the engine so the compiler can use them without an import cycle;
`router.rules.engine` re-exports them, and callers import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
    # None: unknown, and then a time.business_hours condition is false either way.
    business_hours: bool | None


@dataclass(frozen=True)
class RuleAction:
    action: str
    # set_team / set_sla_policy / assign_agent: an id; set_priority: a priority name;
    # add_tags: a tuple of tags.
    value: Any


@dataclass(frozen=True)
class RuleMatch:
    rule_id: int | None
    actions: tuple[RuleAction, ...]


NO_MATCH = RuleMatch(rule_id=None, actions=())
