"""Checks on calendars and policies that need the database or the channel registry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from router.errors import Unprocessable
from router.ids import MAX_ID
from router.models.agents import Agent, Team
from router.models.sla import BusinessHours
from router.sla.actions import ACTIONS
from router.sla.calendar import CalendarError, build_calendar
from router.sla.clock import METRICS, PRIORITIES
from router.sla.schemas import BreachAction, SlaTarget

# A year: longer targets are a unit mistake (milliseconds, say), not a service level.
MAX_TARGET_SECONDS = 366 * 24 * 3600


def invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", extra={"errors": [{"field": field,
                                                                   "message": message}]})


def check_calendar(timezone: str, weekly: dict[str, list[list[str]]], holidays: list[str],
                   country: str | None) -> None:
    try:
        build_calendar(timezone, weekly, holidays, country)
    except CalendarError as exc:
        text = str(exc)
        field = ("timezone" if "time zone" in text else "holiday_country" if "country" in text
                 else "holidays" if "holiday" in text else "weekly")
        raise invalid(field, text) from None


def check_targets(targets: list[SlaTarget], channel_types: set[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str | None, str | None]] = set()
    for n, target in enumerate(targets):
        where = f"targets[{n}]"
        if target.channel_type is not None and target.channel_type not in channel_types:
            raise invalid(f"{where}.channel_type", f"unknown channel type "
                          f"'{target.channel_type}'; known: {', '.join(sorted(channel_types))}")
        if target.priority is not None and target.priority not in PRIORITIES:
            raise invalid(f"{where}.priority", f"unknown priority '{target.priority}'; use "
                          f"{', '.join(PRIORITIES)}")
        key = (target.channel_type, target.priority)
        if key in seen:
            raise invalid(where, "another target has the same channel_type and priority")
        seen.add(key)
        values = target.model_dump(exclude_none=True)
        seconds = [m for m in METRICS if f"{m}_seconds" in values]
        if not seconds:
            raise invalid(where, "set at least one of first_response_seconds, "
                          "next_response_seconds, resolution_seconds")
        for metric in seconds:
            value = values[f"{metric}_seconds"]
            if not 0 < value <= MAX_TARGET_SECONDS:
                raise invalid(f"{where}.{metric}_seconds",
                              f"must be between 1 and {MAX_TARGET_SECONDS} seconds")
        out.append(values)
    return out


def check_warn_before(value: int) -> int:
    if not 0 <= value <= MAX_TARGET_SECONDS:
        raise invalid("warn_before_seconds", "must be between 0 and "
                      f"{MAX_TARGET_SECONDS} seconds")
    return value


async def check_business_hours(session: AsyncSession, hours_id: int | None) -> None:
    if hours_id is not None and await session.get(BusinessHours, hours_id) is None:
        raise invalid("business_hours_id", f"no business hours with id {hours_id}")


async def check_actions(session: AsyncSession, actions: list[BreachAction]) -> list[
        dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, action in enumerate(actions):
        where = f"on_breach[{n}]"
        value = action.value
        if action.action not in ACTIONS:
            raise invalid(f"{where}.action", f"unknown action '{action.action}'; use "
                          f"{', '.join(ACTIONS)}")
        for metric in action.metrics or []:
            if metric not in METRICS:
                raise invalid(f"{where}.metrics", f"unknown metric '{metric}'; use "
                              f"{', '.join(METRICS)}")
        if action.action == "raise_priority" and value is not None and value not in PRIORITIES:
            raise invalid(f"{where}.value", f"unknown priority {value!r}; use "
                          f"{', '.join(PRIORITIES)} or leave it out for one level up")
        if action.action == "add_tag" and not (isinstance(value, str) and 0 < len(value) <= 100):
            raise invalid(f"{where}.value", "the tag to add (1-100 characters)")
        if action.action in ("transfer_team", "notify_supervisor"):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
                raise invalid(f"{where}.value", "an id (a positive integer)")
            if action.action == "transfer_team" and await session.get(Team, value) is None:
                raise invalid(f"{where}.value", f"no team with id {value}")
            if action.action == "notify_supervisor":
                agent = await session.get(Agent, value)
                if agent is None or agent.role not in ("supervisor", "admin"):
                    raise invalid(f"{where}.value",
                                  f"no agent with id {value} and the supervisor role")
        out.append(action.model_dump(exclude_none=True))
    return out
