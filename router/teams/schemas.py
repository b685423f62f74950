"""Team API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from router.ids import DbId

Strategy = Literal["round_robin", "least_loaded", "manual"]
# Ten lines of support are already bureaucracy; a hundred is surely a typo.
MAX_LINE = 100
MAX_SECONDS = 365 * 24 * 3600


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    line: int = Field(default=1, ge=1, le=MAX_LINE)
    strategy: Strategy = "round_robin"
    sticky: StrictBool = False
    member_ids: list[DbId] = Field(default_factory=list, max_length=1000)
    business_hours_id: DbId | None = None
    sla_policy_id: DbId | None = None
    overflow_team_id: DbId | None = None
    overflow_after_seconds: int | None = Field(default=None, ge=0, le=MAX_SECONDS)
    release_on_offline: StrictBool = False


class TeamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    line: int | None = Field(default=None, ge=1, le=MAX_LINE)
    strategy: Strategy | None = None
    sticky: StrictBool | None = None
    member_ids: list[DbId] | None = Field(default=None, max_length=1000)
    business_hours_id: DbId | None = None
    sla_policy_id: DbId | None = None
    overflow_team_id: DbId | None = None
    overflow_after_seconds: int | None = Field(default=None, ge=0, le=MAX_SECONDS)
    release_on_offline: StrictBool | None = None


class TeamOut(BaseModel):
    id: int
    name: str
    line: int
    strategy: Strategy
    sticky: bool
    member_ids: list[int]
    business_hours_id: int | None
    sla_policy_id: int | None
    overflow_team_id: int | None
    overflow_after_seconds: int | None
    release_on_offline: bool
    created_at: datetime
    updated_at: datetime
