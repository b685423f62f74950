"""Rule rows and the rule set's version token."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import ConfigVersion, Rule
from router.models.base import utcnow

RULES_VERSION = "rules"
VERSION_QUERY = select(ConfigVersion.token).where(
    ConfigVersion.name == RULES_VERSION)
ENABLED_RULES = (select(Rule.id, Rule.when, Rule.then).where(Rule.enabled.is_(True))
                 .order_by(Rule.position, Rule.id))


async def rules_version(session: AsyncSession) -> str | None:
    """The token of the rule set as committed (None before the first change)."""
    token: str | None = await session.scalar(VERSION_QUERY)
    return token


async def bump_rules_version(session: AsyncSession) -> None:
    """Replace the token in the caller's transaction: every replica recompiles after commit.

    On PostgreSQL the upsert also takes the row's lock, so concurrent rule changes queue.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    token, now = secrets.token_hex(16), utcnow()
    statement = insert(ConfigVersion).values(name=RULES_VERSION, token=token, changed_at=now)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[ConfigVersion.name], set_={"token": token, "changed_at": now}))


async def enabled_rules(session: AsyncSession) -> list[tuple[int, Any, Any]]:
    rows = await session.execute(ENABLED_RULES)
    return [(row.id, row.when, row.then) for row in rows]


async def next_position(session: AsyncSession) -> int:
    last = await session.scalar(select(func.max(Rule.position)))
    return 0 if last is None else int(last) + 1


async def page_of_rules(session: AsyncSession, after: tuple[int, int] | None, limit: int,
                        enabled: bool | None) -> list[Rule]:
    query = select(Rule)
    if enabled is not None:
        query = query.where(Rule.enabled.is_(enabled))
    if after is not None:
        position, rule_id = after
        query = query.where((Rule.position > position)
                            | ((Rule.position == position) & (Rule.id > rule_id)))
    rows = await session.scalars(query.order_by(Rule.position, Rule.id).limit(limit + 1))
    return list(rows)
