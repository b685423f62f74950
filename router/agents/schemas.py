"""Agent API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from router.auth.keys import Role
from router.ids import DbId

Presence = Literal["online", "away", "offline"]
# {"default": N, "<channel type>": N}; the channel types are checked against the connectors.
Capacity = dict[Annotated[str, Field(min_length=1, max_length=32)],
                Annotated[int, Field(ge=0, le=100_000)]]
Skill = Annotated[str, Field(min_length=1, max_length=100)]


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role = "agent"
    capacity: Capacity = Field(default_factory=dict, max_length=50)
    skills: list[Skill] = Field(default_factory=list, max_length=50)
    team_ids: list[DbId] = Field(default_factory=list, max_length=200)


class AgentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role | None = None
    capacity: Capacity | None = Field(default=None, max_length=50)
    skills: list[Skill] | None = Field(default=None, max_length=50)
    team_ids: list[DbId] | None = Field(default=None, max_length=200)
    presence: Presence | None = None
    active: StrictBool | None = Field(default=None, description="false: the agent left; their keys "
                                "stop working and they get no more cases")


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Presence


class AgentOut(BaseModel):
    id: int
    name: str
    email: str | None
    role: Role
    presence: Presence
    presence_changed_at: datetime
    capacity: dict[str, int]
    skills: list[str]
    team_ids: list[int]
    open_cases: int = Field(description="Open and pending cases assigned to the agent")
    open_cases_by_channel: dict[str, int] = Field(
        description="The same, per channel type")
    active: bool
    last_assigned_at: datetime | None
    created_at: datetime
    updated_at: datetime
