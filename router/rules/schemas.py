"""Rule API shapes: `{id, name, position, enabled, when, then}` (ARCHITECTURE.md, support layer).

The shapes are checked here; what a condition or action means (fields, ops, values, that a
team exists) is checked by the compiler and the service, which name the failing part.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from connectors.customer_facts import clean_text
from router.ids import DbId
from router.rules.compile import MAX_ACTIONS, MAX_CONDITIONS

MAX_POSITION = 1_000_000_000


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    name = clean_text(value)
    if not name:
        raise ValueError("the name must not be blank")
    return name


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=200, description="channel.type, channel.id, customer.tier, "
                       "customer.language, customer.tags, customer.attributes.<key>, "
                       "message.text, thread.priority, thread.tags, time.business_hours")
    op: str = Field(max_length=32, description="eq, ne, in, contains, contains_any, matches "
                    "(regex), gt, lt — which ones depends on the field")
    value: Any = Field(default=None, description="A string, number, boolean or a list, "
                       "as the op needs")


class When(BaseModel):
    """Exactly one of `all` (every condition; empty matches everything) or `any`."""

    model_config = ConfigDict(extra="forbid")

    all: list[Condition] | None = Field(default=None, max_length=MAX_CONDITIONS)
    any: list[Condition] | None = Field(default=None, max_length=MAX_CONDITIONS)

    @model_validator(mode="after")
    def _one_mode(self) -> When:
        if (self.all is None) == (self.any is None):
            raise ValueError('give exactly one of "all" or "any"')
        return self

    def stored(self) -> dict[str, Any]:
        mode, conditions = ("all", self.all) if self.all is not None else ("any", self.any)
        return {mode: [c.model_dump() for c in conditions or []]}


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=32, description="set_team, set_priority, add_tags, "
                        "set_sla_policy, assign_agent")
    value: Any = Field(description="A team/SLA policy/agent id, a priority, or a list of tags")


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=MAX_POSITION,
                                 description="Lower runs first; default: after the last rule")
    enabled: StrictBool = True
    when: When
    then: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)

    _clean_name = field_validator("name")(_name)


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=MAX_POSITION)
    enabled: StrictBool | None = None
    when: When | None = None
    then: list[Action] | None = Field(default=None, min_length=1, max_length=MAX_ACTIONS)

    _clean_name = field_validator("name")(_name)


class RuleOut(BaseModel):
    id: int
    name: str
    position: int
    enabled: bool
    when: dict[str, list[Condition]]
    then: list[Action]
    created_at: datetime
    updated_at: datetime


class RuleTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_id: str = Field(min_length=1, max_length=32)
    text: str = Field(default="", max_length=65_536)
    customer_id: DbId | None = Field(default=None, description="Whose tier, language, tags, "
                                     "attributes and thread the rules read; none: a new customer")
    business_hours: StrictBool | None = Field(default=None, description="Whether it is business "
                                        "hours; null: unknown (time.business_hours is false)")


class RuleTestOut(BaseModel):
    rule_id: int | None
    rule_name: str | None = None
    actions: list[Action]
