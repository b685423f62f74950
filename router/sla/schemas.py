"""API shapes of business-hours calendars and SLA policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from router.ids import DbId

Weekly = dict[str, list[list[str]]]


class BusinessHoursCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(min_length=1, max_length=64, description="IANA, e.g. Europe/Moscow")
    weekly: Weekly = Field(description='{"mon": [["09:00", "13:00"], ["14:00", "18:00"]], …}; '
                           "a missing day is closed; an interval may end at 24:00 but not "
                           "cross midnight")
    holidays: list[str] = Field(default_factory=list, max_length=1000,
                                description="Closed dates, YYYY-MM-DD")
    holiday_country: str | None = Field(default=None, max_length=8,
                                        description="Also closed on this country's public "
                                        "holidays (ISO 3166-1 alpha-2, e.g. RU)")


class BusinessHoursUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    weekly: Weekly | None = None
    holidays: list[str] | None = Field(default=None, max_length=1000)
    holiday_country: str | None = Field(default=None, max_length=8)


class BusinessHoursOut(BaseModel):
    id: int
    name: str
    timezone: str
    weekly: Weekly
    holidays: list[str]
    holiday_country: str | None
    created_at: datetime
    updated_at: datetime


class SlaTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_type: str | None = Field(default=None, max_length=32)
    priority: str | None = Field(default=None, max_length=16)
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None


class BreachAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(description="raise_priority | add_tag | notify_supervisor | "
                        "transfer_team")
    value: Any = Field(default=None, description="raise_priority: the priority to raise to "
                       "(default one level up); add_tag: the tag; notify_supervisor: an agent "
                       "id with the supervisor or admin role; transfer_team: a team id")
    metrics: list[str] | None = Field(default=None, description="Only on breaches of these "
                                      "metrics (first_response, next_response, resolution)")


class SlaPolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    business_hours_id: DbId | None = Field(default=None, description="None: calendar time")
    targets: list[SlaTarget] = Field(default_factory=list, max_length=200)
    warn_before_seconds: int = 0
    on_breach: list[BreachAction] = Field(default_factory=list, max_length=50)
    default: StrictBool = Field(default=False, description="The policy of cases no rule, team or "
                          "experiment gave one (setting it clears the flag elsewhere)")


class SlaPolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    business_hours_id: DbId | None = None
    targets: list[SlaTarget] | None = Field(default=None, max_length=200)
    warn_before_seconds: int | None = None
    on_breach: list[BreachAction] | None = Field(default=None, max_length=50)
    default: StrictBool | None = None


class SlaPolicyOut(BaseModel):
    id: int
    name: str
    business_hours_id: DbId | None
    targets: list[dict[str, Any]]
    warn_before_seconds: int
    on_breach: list[dict[str, Any]]
    default: bool
    created_at: datetime
    updated_at: datetime
