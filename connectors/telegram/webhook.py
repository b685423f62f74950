"""`POST /webhooks/telegram/{channel_id}`: Telegram's webhook calls, checked by secret token."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from connectors.base import InboundGateway, WebhookRejected, get_gateway
from connectors.telegram.schemas import SECRET_HEADER
from connectors.webhooks import Webhook, WebhookAnswer, WebhookCall

PATH = "/webhooks/telegram/{channel_id}"
_SECRET = SECRET_HEADER.lower()


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


async def receive_update(gateway: InboundGateway, call: WebhookCall) -> WebhookAnswer:
    """Check the secret token, store the update, answer 200 (with a method call or none)."""
    channel = await gateway.channel(call.channel_id, "telegram")
    # Read as stored (validated on save, at least 16 characters): validating the whole
    # config again was a fifth of this handler's CPU.
    expected = channel.config.get("webhook_secret")
    given = call.headers.get(_SECRET, "")
    if not isinstance(expected, str) or not expected or not secrets.compare_digest(
            given.encode(), expected.encode()):
        raise WebhookRejected(403, "Bad secret token",
                              f"{SECRET_HEADER} is missing or does not match this channel")
    update = _update_of(call.body)
    await gateway.accept(channel, str(update["update_id"]), call.body, "application/json")
    return WebhookAnswer(200, _answer(update))


WEBHOOKS = (Webhook(PATH, receive_update),)


def build_router() -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post(
        PATH, summary="Receive a Telegram update",
        responses={400: {"description": "Not a Telegram update"},
                   403: {"description": "Missing or wrong X-Telegram-Bot-Api-Secret-Token"},
                   404: {"description": "No such Telegram channel"}},
    )
    async def receive(
        channel_id: str, request: Request,
        gateway: Annotated[InboundGateway, Depends(get_gateway)],
    ) -> JSONResponse:
        """Called by Telegram (setWebhook); the update is stored before the 200."""
        answer = await receive_update(gateway, WebhookCall(channel_id, request.headers,
                                                           await request.body()))
        return JSONResponse(dict(answer.body), status_code=answer.status)

    return router
