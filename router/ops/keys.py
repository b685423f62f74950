"""Admin API for API keys (the CLI creates the first one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.auth.deps import AdminDep, CoreDep, ReadDep, SessionDep
from router.auth.keys import Role, create_key, lesser
from router.core import after_commit
from router.errors import NotFound, Unprocessable
from router.ids import DbId, IdPath
from router.models import Agent, ApiKey
from router.models.base import utcnow
from router.openapi_docs import problems

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role | None = Field(default=None, description="Required unless `agent_id` is given "
                              "(then it defaults to the agent's role, and may not exceed it)")
    agent_id: DbId | None = Field(default=None, description="The key acts as this agent")


class KeyOut(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str
    agent_id: int | None
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself; shown only in this response.")


def _view(row: ApiKey) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "role": row.role, "prefix": row.prefix,
            "agent_id": row.agent_id, "created_at": row.created_at, "revoked_at": row.revoked_at}


@router.get("", summary="List API keys", response_model=list[KeyOut], responses=problems(401, 403))
async def list_(session: ReadDep, _: AdminDep) -> list[dict[str, Any]]:
    """Keys with their prefix and role; the keys themselves are never stored."""
    return [_view(r) for r in await session.scalars(select(ApiKey).order_by(ApiKey.id))]


@router.post("", summary="Create an API key", response_model=KeyCreated,
             status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 422))
async def create(body: KeyIn, session: SessionDep, _: AdminDep) -> dict[str, Any]:
    """A new key for an agent, supervisor or admin, or one that acts as an agent; shown once."""
    role = await key_role(session, body.role, body.agent_id)
    row, key = await create_key(session, body.name, role, body.agent_id)
    return {**_view(row), "key": key}


async def key_role(session: AsyncSession, role: Role | None, agent_id: int | None) -> Role:
    """The role of a new key: as asked, and never above the agent it belongs to."""
    if agent_id is None:
        if role is None:
            raise Unprocessable("say the key's role (admin, supervisor or agent)", extra={
                "errors": [{"field": "role", "message": "required without agent_id"}]})
        return role
    agent = await session.get(Agent, agent_id)
    if agent is None or not agent.active:
        raise Unprocessable(f"agent {agent_id} does not exist or is deactivated", extra={
            "errors": [{"field": "agent_id", "message": "no such active agent"}]})
    agent_role: Role = agent.role  # type: ignore[assignment]
    if role is None:
        return agent_role
    if lesser(role, agent_role) != role:
        raise Unprocessable(f"agent {agent_id} is {agent_role}; their key cannot be {role}",
                            extra={"errors": [{"field": "role", "message": "above the agent"}]})
    return role


@router.delete("/{key_id}", summary="Revoke an API key", status_code=status.HTTP_204_NO_CONTENT,
               responses=problems(401, 403, 404))
async def revoke(key_id: IdPath, core: CoreDep, session: SessionDep, _: AdminDep) -> None:
    """Revoked keys stop working at once here and on every other replica within seconds."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    row.revoked_at = row.revoked_at or utcnow()
    after_commit(session, core.key_cache.clear)
