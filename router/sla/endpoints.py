"""Business hours and SLA policies: supervisors and admins write, agents read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from router.auth.deps import AgentDep, CoreDep, ReadDep, SessionDep, SupervisorDep
from router.ids import IdPath
from router.models.sla import BusinessHours, SlaPolicy
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page
from router.sla import service
from router.sla.schemas import (
    BusinessHoursCreate,
    BusinessHoursOut,
    BusinessHoursUpdate,
    SlaPolicyCreate,
    SlaPolicyOut,
    SlaPolicyUpdate,
)

hours_router = APIRouter(prefix="/v1/business-hours", tags=["sla"])
policies_router = APIRouter(prefix="/v1/sla-policies", tags=["sla"])


@hours_router.post("", summary="Create business hours", response_model=BusinessHoursOut,
                   status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 422))
async def create_hours(body: BusinessHoursCreate, session: SessionDep,
                       _: SupervisorDep) -> dict[str, Any]:
    """A calendar: time zone, weekly intervals (split shifts allowed), holidays."""
    return service.hours_view(await service.create_hours(session, body))


@hours_router.get("", summary="List business hours", response_model=Page[BusinessHoursOut],
                  responses=problems(400, 401))
async def list_hours(session: ReadDep, _: AgentDep, limit: LimitQuery = 50,
                     cursor: CursorQuery = None) -> dict[str, Any]:
    """Every calendar, oldest first."""
    rows, next_cursor = await service.page_of(session, BusinessHours, limit, cursor)
    return {"items": [service.hours_view(r) for r in rows], "next_cursor": next_cursor}


@hours_router.get("/{hours_id}", summary="Get business hours", response_model=BusinessHoursOut,
                  responses=problems(401, 404))
async def get_hours(hours_id: IdPath, session: ReadDep, _: AgentDep) -> dict[str, Any]:
    """One calendar."""
    return service.hours_view(await service.get_hours(session, hours_id))


@hours_router.patch("/{hours_id}", summary="Update business hours",
                    response_model=BusinessHoursOut, responses=problems(401, 403, 404, 422))
async def update_hours(hours_id: IdPath, body: BusinessHoursUpdate, session: SessionDep,
                       _: SupervisorDep) -> dict[str, Any]:
    """Change a calendar; running due times keep their value, new ones use the change."""
    row = await service.get_hours(session, hours_id)
    return service.hours_view(await service.update_hours(session, row, body))


@hours_router.delete("/{hours_id}", summary="Delete business hours",
                     status_code=status.HTTP_204_NO_CONTENT,
                     responses=problems(401, 403, 404, 409))
async def delete_hours(hours_id: IdPath, session: SessionDep, _: SupervisorDep) -> None:
    """Delete a calendar no policy or team uses."""
    await service.delete_hours(session, await service.get_hours(session, hours_id))


@policies_router.post("", summary="Create an SLA policy", response_model=SlaPolicyOut,
                      status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 422))
async def create_policy(body: SlaPolicyCreate, core: CoreDep, session: SessionDep,
                        _: SupervisorDep) -> dict[str, Any]:
    """Targets per channel type and priority (most specific wins), warning, breach actions."""
    row = await service.create_policy(session, body, set(core.connectors))
    return service.policy_view(row)


@policies_router.get("", summary="List SLA policies", response_model=Page[SlaPolicyOut],
                     responses=problems(400, 401))
async def list_policies(session: ReadDep, _: AgentDep, limit: LimitQuery = 50,
                        cursor: CursorQuery = None) -> dict[str, Any]:
    """Every SLA policy, oldest first."""
    rows, next_cursor = await service.page_of(session, SlaPolicy, limit, cursor)
    return {"items": [service.policy_view(r) for r in rows], "next_cursor": next_cursor}


@policies_router.get("/{policy_id}", summary="Get an SLA policy", response_model=SlaPolicyOut,
                     responses=problems(401, 404))
async def get_policy(policy_id: IdPath, session: ReadDep, _: AgentDep) -> dict[str, Any]:
    """One SLA policy."""
    return service.policy_view(await service.get_policy(session, policy_id))


@policies_router.patch("/{policy_id}", summary="Update an SLA policy",
                       response_model=SlaPolicyOut, responses=problems(401, 403, 404, 422))
async def update_policy(policy_id: IdPath, body: SlaPolicyUpdate, core: CoreDep,
                        session: SessionDep, _: SupervisorDep) -> dict[str, Any]:
    """Change a policy; a removed target stops its running timers (they fire as stale)."""
    row = await service.get_policy(session, policy_id)
    return service.policy_view(await service.update_policy(session, row, body,
                                                           set(core.connectors)))
