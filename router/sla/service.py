"""Business hours and SLA policies: create, read, change (never commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from router.errors import Conflict, NotFound
from router.models.agents import Team
from router.models.sla import BusinessHours, Experiment, SlaPolicy
from router.pagination import cursor_id, decode_cursor, split_page
from router.sla import validation as check
from router.sla.schemas import (
    BusinessHoursCreate,
    BusinessHoursUpdate,
    SlaPolicyCreate,
    SlaPolicyUpdate,
)


def hours_view(row: BusinessHours) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "timezone": row.timezone, "weekly": row.weekly,
            "holidays": row.holidays, "holiday_country": row.holiday_country,
            "created_at": row.created_at, "updated_at": row.updated_at}


def policy_view(row: SlaPolicy) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "business_hours_id": row.business_hours_id,
            "targets": row.targets, "warn_before_seconds": row.warn_before_seconds,
            "on_breach": row.on_breach, "default": bool(row.is_default),
            "created_at": row.created_at, "updated_at": row.updated_at}


async def page_of(session: AsyncSession,
                  model: type[BusinessHours] | type[SlaPolicy] | type[Experiment],
                  limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """One page by id (the SLA and experiment lists)."""
    query = select(model).order_by(model.id).limit(limit + 1)
    if cursor:
        query = query.where(model.id > cursor_id(decode_cursor(cursor, 1)[0]))
    rows = list((await session.scalars(query)).all())
    return split_page(rows, limit, lambda row: [row.id])


async def get_hours(session: AsyncSession, hours_id: int) -> BusinessHours:
    row = await session.get(BusinessHours, hours_id)
    if row is None:
        raise NotFound(f"no business hours with id {hours_id}")
    return row


async def create_hours(session: AsyncSession, body: BusinessHoursCreate) -> BusinessHours:
    country = body.holiday_country.upper() if body.holiday_country else None
    check.check_calendar(body.timezone, body.weekly, body.holidays, country)
    row = BusinessHours(name=body.name, timezone=body.timezone, weekly=body.weekly,
                        holidays=sorted(set(body.holidays)), holiday_country=country)
    session.add(row)
    await session.flush()
    return row


async def update_hours(session: AsyncSession, row: BusinessHours,
                       body: BusinessHoursUpdate) -> BusinessHours:
    fields = body.model_fields_set
    timezone = body.timezone if body.timezone is not None else row.timezone
    weekly = body.weekly if body.weekly is not None else row.weekly
    holidays = body.holidays if body.holidays is not None else row.holidays
    country = row.holiday_country
    if "holiday_country" in fields:
        country = body.holiday_country.upper() if body.holiday_country else None
    check.check_calendar(timezone, weekly, holidays, country)
    if body.name is not None:
        row.name = body.name
    row.timezone, row.weekly, row.holidays = timezone, weekly, sorted(set(holidays))
    row.holiday_country = country
    await session.flush()
    return row


async def delete_hours(session: AsyncSession, row: BusinessHours) -> None:
    """Refused while a policy or team counts in this calendar."""
    used = await session.scalar(select(SlaPolicy.id).where(
        SlaPolicy.business_hours_id == row.id).limit(1))
    team = await session.scalar(select(Team.id).where(Team.business_hours_id == row.id)
                                .limit(1))
    if used is not None or team is not None:
        what = f"SLA policy {used}" if used is not None else f"team {team}"
        raise Conflict(f"business hours {row.id} are used by {what}; change that first")
    await session.delete(row)
    await session.flush()


async def get_policy(session: AsyncSession, policy_id: int) -> SlaPolicy:
    row = await session.get(SlaPolicy, policy_id)
    if row is None:
        raise NotFound(f"no SLA policy with id {policy_id}")
    return row


async def _only_default(session: AsyncSession, row: SlaPolicy) -> None:
    await session.execute(update(SlaPolicy).where(SlaPolicy.id != row.id,
                                                  SlaPolicy.is_default.is_(True))
                          .values(is_default=False))


async def create_policy(session: AsyncSession, body: SlaPolicyCreate,
                        channel_types: set[str]) -> SlaPolicy:
    await check.check_business_hours(session, body.business_hours_id)
    row = SlaPolicy(name=body.name, business_hours_id=body.business_hours_id,
                    targets=check.check_targets(body.targets, channel_types),
                    warn_before_seconds=check.check_warn_before(body.warn_before_seconds),
                    on_breach=await check.check_actions(session, body.on_breach),
                    is_default=body.default)
    session.add(row)
    await session.flush()
    if body.default:
        await _only_default(session, row)
    return row


async def update_policy(session: AsyncSession, row: SlaPolicy, body: SlaPolicyUpdate,
                        channel_types: set[str]) -> SlaPolicy:
    """A change applies to running cases at their next timer: removed targets stop firing."""
    fields = body.model_fields_set
    if "business_hours_id" in fields:
        await check.check_business_hours(session, body.business_hours_id)
    targets = (check.check_targets(body.targets, channel_types) if body.targets is not None
               else None)
    warn = (check.check_warn_before(body.warn_before_seconds)
            if body.warn_before_seconds is not None else None)
    actions = (await check.check_actions(session, body.on_breach)
               if body.on_breach is not None else None)
    if body.name is not None:
        row.name = body.name
    if "business_hours_id" in fields:
        row.business_hours_id = body.business_hours_id
    if targets is not None:
        row.targets = targets
    if warn is not None:
        row.warn_before_seconds = warn
    if actions is not None:
        row.on_breach = actions
    if body.default is not None:
        row.is_default = body.default
    await session.flush()
    if body.default:
        await _only_default(session, row)
    return row
