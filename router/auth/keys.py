"""API keys: creation (shown once), lookup by hash, roles."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.crypto import hash_api_key
from router.models import Agent, ApiKey, TeamMember

Role = Literal["admin", "supervisor", "agent"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")
KEY_PREFIX = "omr_"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    key_id: int | None
    # The agent the key belongs to, and their teams (what they may see: router/access/).
    agent_id: int | None = None
    team_ids: frozenset[int] = frozenset()

    def at_least(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def lesser(a: Role, b: Role) -> Role:
    return a if ROLES.index(a) <= ROLES.index(b) else b


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(session: AsyncSession, name: str, role: Role,
                     agent_id: int | None = None) -> tuple[ApiKey, str]:
    key = new_key()
    row = ApiKey(name=name, role=role, key_hash=hash_api_key(key), prefix=key[:10],
                 agent_id=agent_id)
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

    def clear(self) -> None:
        """Forget every key (an agent, a membership or a key changed): the next request of
        each reads the store again. Other replicas catch up within TTL."""
        self._hits.clear()


async def find_principal(session: AsyncSession, digest: str) -> Principal | None:
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
    )
    if row is None:
        return None
    role: Role = row.role  # type: ignore[assignment]
    if row.agent_id is None:
        return Principal(name=row.name, role=role, key_id=row.id)
    agent = await session.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        return None  # a deactivated agent's keys stop working with them
    teams = await session.scalars(
        select(TeamMember.team_id).where(TeamMember.agent_id == agent.id))
    # The key never outranks its agent, even after the agent was demoted.
    agent_role: Role = agent.role  # type: ignore[assignment]
    return Principal(name=agent.name, role=lesser(role, agent_role), key_id=row.id,
                     agent_id=agent.id, team_ids=frozenset(teams))
