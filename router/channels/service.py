"""Channel configuration: validation by the connector's model, secrets sealed at rest."""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Channel, Connector
from router.core import Core
from router.errors import NotFound, Unprocessable
from router.ids import MAX_ID
from router.models import ChannelRow, Team
from router.models.base import utcnow
from router.pagination import BadCursor, decode_cursor, split_page

CACHE_SECONDS = 5.0


def new_channel_id() -> str:
    return "ch_" + secrets.token_hex(8)


def webhook_url(core: Core, row: ChannelRow, request_base: str = "") -> str:
    """Where the provider must send this channel's webhooks: OMNIROUTE_PUBLIC_URL, else the
    address the admin reached us on."""
    base = (core.settings.public_url or request_base).rstrip("/")
    if row.type == "api":
        return f"{base}/v1/channels/{row.id}/inbound"
    return f"{base}/webhooks/{row.type}/{row.id}"


def _validation_problem(exc: ValidationError) -> Unprocessable:
    errors = [
        {"field": "config." + ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    return Unprocessable(f"invalid channel config: {fields}", extra={"errors": errors})


# Config keys of every channel, whatever its type: the core's, not the connector's.
DEFAULT_TEAM = "default_team_id"


def validate_config(connector: Connector, config: dict[str, Any]) -> dict[str, Any]:
    config = dict(config)
    default_team = config.pop(DEFAULT_TEAM, None)
    try:
        model = connector.config_model.model_validate(config)
    except ValidationError as exc:
        raise _validation_problem(exc) from None
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    if default_team is not None:
        if isinstance(default_team, bool) or not isinstance(default_team, int) or not (
                0 < default_team <= MAX_ID):
            raise Unprocessable(
                "invalid channel config: config.default_team_id must be a team id",
                extra={"errors": [{"field": "config.default_team_id",
                                   "message": "not a team id"}]})
        dumped[DEFAULT_TEAM] = default_team
    return dumped


async def check_default_team(session: AsyncSession, config: dict[str, Any]) -> None:
    """New cases on the channel that no rule routes go to this team: it must exist."""
    team_id = config.get(DEFAULT_TEAM)
    if team_id is not None and await session.get(Team, team_id) is None:
        raise Unprocessable(
            f"invalid channel config: team {team_id} (config.default_team_id) does not exist",
            extra={"errors": [{"field": "config.default_team_id", "message": "unknown team"}]})


def split_secrets(
    connector: Connector, full: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    public = {k: v for k, v in full.items() if k not in connector.secret_fields}
    sealed = {k: v for k, v in full.items() if k in connector.secret_fields}
    return public, sealed


class ChannelCache:
    """Decrypted channels for the hot webhook path; a short TTL keeps replicas in step."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Channel]] = {}

    def get(self, channel_id: str) -> Channel | None:
        hit = self._entries.get(channel_id)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, channel: Channel) -> None:
        self._entries[channel.id] = (time.monotonic() + CACHE_SECONDS, channel)

    def drop(self, channel_id: str) -> None:
        self._entries.pop(channel_id, None)


def to_channel(core: Core, row: ChannelRow) -> Channel:
    config = dict(row.config)
    if row.secrets_sealed:
        config.update(core.box.open(row.secrets_sealed))
    return Channel(id=row.id, type=row.type, name=row.name, config=config,
                   webhook_url=webhook_url(core, row))


async def get_row(session: AsyncSession, channel_id: str) -> ChannelRow:
    row = await session.get(ChannelRow, channel_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"channel {channel_id} does not exist")
    return row


async def load_channel(core: Core, session: AsyncSession, channel_id: str) -> Channel:
    return to_channel(core, await get_row(session, channel_id))


async def create(
    core: Core, session: AsyncSession, type_: str, name: str, config: dict[str, Any]
) -> tuple[ChannelRow, dict[str, str]]:
    connector = core.connectors.get(type_)
    if connector is None:
        known = ", ".join(sorted(core.connectors))
        raise Unprocessable(f"unknown channel type {type_!r}; known types: {known}",
                            extra={"errors": [{"field": "type", "message": "unknown type"}]})
    generated = {
        key: secrets.token_urlsafe(32)
        for key in connector.generated_secrets
        if not config.get(key)
    }
    full = validate_config(connector, {**config, **generated})
    await check_default_team(session, full)
    public, sealed = split_secrets(connector, full)
    row = ChannelRow(id=new_channel_id(), type=type_, name=name, config=public,
                     secrets_sealed=core.box.seal(sealed) if sealed else None)
    session.add(row)
    await session.flush()
    return row, generated


async def update(
    core: Core, session: AsyncSession, row: ChannelRow, name: str | None,
    config: dict[str, Any] | None,
) -> ChannelRow:
    if name is not None:
        row.name = name
    if config is not None:
        connector = core.connector(row.type)
        current = to_channel(core, row).config
        full = validate_config(connector, {**current, **config})
        if config.get(DEFAULT_TEAM) is None and DEFAULT_TEAM in config:
            full.pop(DEFAULT_TEAM, None)  # null clears it
        await check_default_team(session, full)
        public, sealed = split_secrets(connector, full)
        row.config = public
        row.secrets_sealed = core.box.seal(sealed) if sealed else None
    row.updated_at = utcnow()
    await session.flush()
    return row


async def list_rows(session: AsyncSession, cursor: str | None,
                    limit: int) -> tuple[list[ChannelRow], str | None]:
    """A page of live channels, oldest first, and the cursor after it."""
    query = select(ChannelRow).where(ChannelRow.deleted_at.is_(None))
    if cursor is not None:
        at_raw, last_id = decode_cursor(cursor, 2)
        try:
            at = datetime.fromisoformat(str(at_raw))
        except ValueError:
            raise BadCursor("this cursor was not issued by this API") from None
        if not isinstance(last_id, str) or len(last_id) > 32:
            raise BadCursor("this cursor was not issued by this API")
        query = query.where(or_(ChannelRow.created_at > at,
                                and_(ChannelRow.created_at == at, ChannelRow.id > last_id)))
    rows = list(await session.scalars(
        query.order_by(ChannelRow.created_at, ChannelRow.id).limit(limit + 1)))
    return split_page(rows, limit, lambda r: [r.created_at.isoformat(), r.id])


async def mark_health(
    session: AsyncSession, channel_id: str, healthy: bool, reason: str | None
) -> None:
    row = await session.get(ChannelRow, channel_id)
    if row is not None:
        row.health = "ok" if healthy else "unhealthy"
        row.health_reason = reason
