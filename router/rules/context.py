"""What the engine reads (one new case's facts) and what it answers (one rule's actions).

Defined apart from the engine so the compiler can use them without an import cycle;
`router.rules.engine` re-exports them, and callers import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.models import Customer, Thread


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


def context_of(channel_type: str, channel_id: str, customer: Customer | None,
               thread: Thread | None, text: str, business_hours: bool | None) -> RuleContext:
    """The context for a message from `customer` (None: someone new) into `thread`."""
    return RuleContext(
        channel_type=channel_type, channel_id=channel_id,
        customer_tier=customer.tier if customer else None,
        customer_language=customer.language if customer else None,
        customer_tags=tuple(customer.tags or ()) if customer else (),
        customer_attributes=dict(customer.attributes or {}) if customer else {},
        message_text=text,
        thread_priority=thread.priority if thread else "normal",
        thread_tags=tuple(thread.tags or ()) if thread else (),
        business_hours=business_hours,
    )
