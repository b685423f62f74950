"""Admin API for channels: secrets are write-only, the response names the webhook URL."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, status

from connectors.base import DeliveryError, NotSupported
from router.auth.deps import AdminDep, AgentDep, CoreDep, ReadDep, SessionDep
from router.channels import service
from router.channels.schemas import ChannelCreate, ChannelCreated, ChannelOut, ChannelUpdate
from router.core import Core
from router.errors import Conflict, ProviderUnavailable
from router.models import ChannelRow
from router.models.base import utcnow
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/v1/channels", tags=["channels"])
log = logging.getLogger("omniroute.channels")


def channel_out(core: Core, row: ChannelRow, request: Request) -> dict[str, Any]:
    connector = core.connectors.get(row.type)
    sealed = sorted(connector.secret_fields) if connector and row.secrets_sealed else []
    return {
        "id": row.id, "type": row.type, "name": row.name, "config": dict(row.config),
        "secrets_set": sealed, "webhook_url": service.webhook_url(core, row, str(request.base_url)),
        "health": row.health, "health_reason": row.health_reason,
        "created_at": row.created_at, "updated_at": row.updated_at,
    }


@router.get("", summary="List channels", response_model=Page[ChannelOut],
            responses=problems(400, 401, 403, 422))
async def list_(
    request: Request, core: CoreDep, session: ReadDep, _: AgentDep,
    cursor: CursorQuery = None, limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Channels oldest first, secrets left out."""
    rows, next_cursor = await service.list_rows(session, cursor, limit)
    return {"items": [channel_out(core, row, request) for row in rows],
            "next_cursor": next_cursor}


@router.post("", summary="Create a channel", response_model=ChannelCreated,
             status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 422))
async def create(
    body: ChannelCreate, request: Request, core: CoreDep, session: SessionDep, _: AdminDep
) -> dict[str, Any]:
    """Validate the config for its type, seal secrets; generated secrets are shown only here."""
    row, generated = await service.create(core, session, body.type, body.name, body.config)
    out = channel_out(core, row, request)
    out["generated_secrets"] = generated
    out["config"] = {**out["config"], **generated}
    await _provider_setup(core, row)
    return out


@router.get("/{channel_id}", summary="Get a channel", response_model=ChannelOut,
            responses=problems(401, 404))
async def get(
    channel_id: str, request: Request, core: CoreDep, session: ReadDep, _: AgentDep
) -> dict[str, Any]:
    """One channel, with its health (a revoked provider token shows here)."""
    return channel_out(core, await service.get_row(session, channel_id), request)


@router.patch("/{channel_id}", summary="Update a channel", response_model=ChannelOut,
              responses=problems(401, 403, 404, 422))
async def update(
    channel_id: str, body: ChannelUpdate, request: Request, core: CoreDep, session: SessionDep,
    _: AdminDep,
) -> dict[str, Any]:
    """Rename or change config; secrets left out keep their stored value."""
    row = await service.get_row(session, channel_id)
    row = await service.update(core, session, row, body.name, body.config)
    if body.config is not None:
        row.health, row.health_reason = "ok", None
    core.gateway_cache_drop(row.id)
    await _provider_setup(core, row)
    return channel_out(core, row, request)


@router.delete("/{channel_id}", summary="Delete a channel", status_code=status.HTTP_204_NO_CONTENT,
               responses=problems(401, 403, 404))
async def delete(channel_id: str, core: CoreDep, session: SessionDep, _: AdminDep) -> None:
    """Stop receiving and sending on the channel; its messages stay in their threads."""
    row = await service.get_row(session, channel_id)
    row.deleted_at = utcnow()
    core.gateway_cache_drop(row.id)
    await core.receivers.stop(row.id)
    try:
        await core.connector(row.type).on_channel_deleted(service.to_channel(core, row))
    except Exception:
        log.warning("provider tear-down for channel %s failed", row.id, exc_info=True)


@router.get("/{channel_id}/templates", summary="List message templates",
            responses=problems(401, 404, 409, 502))
async def templates(
    channel_id: str, core: CoreDep, session: ReadDep, _: AgentDep
) -> dict[str, Any]:
    """Approved message templates from the provider (WhatsApp)."""
    row = await service.get_row(session, channel_id)
    try:
        items = await core.connector(row.type).templates(service.to_channel(core, row))
    except NotSupported as exc:
        raise Conflict(str(exc)) from None
    except DeliveryError as exc:
        if exc.channel_unhealthy:
            # A revoked token shows on the channel at once, not only at the next reply.
            async with core.unit() as writer:
                await service.mark_health(writer, row.id, False, exc.reason)
        raise ProviderUnavailable(
            f"{row.type} would not list the templates: {exc.reason}",
            extra={"retryable": exc.retryable}) from None
    return {"items": items, "next_cursor": None}


async def _provider_setup(core: Core, row: ChannelRow) -> None:
    channel = service.to_channel(core, row)
    try:
        await core.connector(row.type).on_channel_saved(channel, core.settings.public_url)
    except Exception as exc:
        # The channel is saved either way; its health tells the admin what the provider said.
        log.warning("provider set-up for channel %s failed: %s", row.id, type(exc).__name__)
        row.health, row.health_reason = "unhealthy", f"provider set-up failed: {exc}"
    await core.receivers.restart(channel)
