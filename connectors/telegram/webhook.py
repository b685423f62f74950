"""`POST /webhooks/telegram/{channel_id}`: Telegram's webhook calls, checked by secret token."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from connectors.base import InboundGateway, WebhookRejected, get_gateway
from connectors.telegram.schemas import SECRET_HEADER, channel_config


def _update_of(body: bytes) -> dict[str, Any]:
    try:
        update = json.loads(body)
    except ValueError:
        raise WebhookRejected(400, "Invalid update", "the body is not JSON") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise WebhookRejected(400, "Invalid update",
                              "a Telegram update is an object with an integer update_id")
    return update


def _answer(update: dict[str, Any]) -> dict[str, Any]:
    """Telegram lets a webhook answer with one method call: stop the button's spinner."""
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("id"), str):
        return {"method": "answerCallbackQuery", "callback_query_id": query["id"]}
    return {}


def build_router() -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post(
        "/webhooks/telegram/{channel_id}", summary="Receive a Telegram update",
        responses={400: {"description": "Not a Telegram update"},
                   403: {"description": "Missing or wrong X-Telegram-Bot-Api-Secret-Token"},
                   404: {"description": "No such Telegram channel"}},
    )
    async def receive(
        channel_id: str, request: Request,
        gateway: Annotated[InboundGateway, Depends(get_gateway)],
    ) -> JSONResponse:
        """Called by Telegram (setWebhook); the update is stored before the 200."""
        channel = await gateway.channel(channel_id, "telegram")
        expected = channel_config(channel).webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected(403, "Bad secret token",
                                  f"{SECRET_HEADER} is missing or does not match this channel")
        body = await request.body()
        update = _update_of(body)
        await gateway.accept(channel, str(update["update_id"]), body, "application/json")
        return JSONResponse(_answer(update))

    return router
