"""API keys: creation (shown once), lookup by hash, roles."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.crypto import hash_api_key
from router.models import ApiKey

Role = Literal["admin", "supervisor", "agent"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")
KEY_PREFIX = "omr_"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    key_id: int | None
    # The agent this key belongs to (it then acts as that agent), if any.
    agent_id: int | None = None

    def at_least(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(session: AsyncSession, name: str, role: Role) -> tuple[ApiKey, str]:
    key = new_key()
    row = ApiKey(name=name, role=role, key_hash=hash_api_key(key), prefix=key[:10])
    session.add(row)
    await session.flush()
    return row, key


class KeyCache:
    """Recently verified keys; revocation takes effect within TTL seconds on every replica."""

    TTL = 10.0

    def __init__(self) -> None:
        self._hits: dict[str, tuple[float, Principal | None]] = {}

    def get(self, digest: str) -> tuple[bool, Principal | None]:
        hit = self._hits.get(digest)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, digest: str, principal: Principal | None) -> None:
        if len(self._hits) > 10_000:
            self._hits.clear()
        self._hits[digest] = (time.monotonic() + self.TTL, principal)


async def find_principal(session: AsyncSession, digest: str) -> Principal | None:
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
    )
    if row is None:
        return None
    role: Role = row.role  # type: ignore[assignment]
    return Principal(name=row.name, role=role, key_id=row.id, agent_id=row.agent_id)
