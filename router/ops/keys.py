"""Admin API for API keys (the CLI creates the first one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from router.auth.deps import AdminDep, ReadDep, SessionDep
from router.auth.keys import Role, create_key
from router.errors import NotFound
from router.ids import IdPath
from router.models import ApiKey
from router.models.base import utcnow
from router.openapi_docs import problems

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role


class KeyOut(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself; shown only in this response.")


def _view(row: ApiKey) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "role": row.role, "prefix": row.prefix,
            "created_at": row.created_at, "revoked_at": row.revoked_at}


@router.get("", summary="List API keys", response_model=list[KeyOut], responses=problems(401, 403))
async def list_(session: ReadDep, _: AdminDep) -> list[dict[str, Any]]:
    """Keys with their prefix and role; the keys themselves are never stored."""
    return [_view(r) for r in await session.scalars(select(ApiKey).order_by(ApiKey.id))]


@router.post("", summary="Create an API key", response_model=KeyCreated,
             status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 422))
async def create(body: KeyIn, session: SessionDep, _: AdminDep) -> dict[str, Any]:
    """A new key for an agent, supervisor or admin; shown once."""
    row, key = await create_key(session, body.name, body.role)
    return {**_view(row), "key": key}


@router.delete("/{key_id}", summary="Revoke an API key", status_code=status.HTTP_204_NO_CONTENT,
               responses=problems(401, 403, 404))
async def revoke(key_id: IdPath, session: SessionDep, _: AdminDep) -> None:
    """Revoked keys stop working on every replica within seconds."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    row.revoked_at = row.revoked_at or utcnow()
