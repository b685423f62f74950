"""`POST /v1/channels/{id}/inbound`: messenger bots forward their users' messages here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import ValidationError

from connectors.api.parse import parse_body
from connectors.api.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, check
from connectors.base import InboundGateway, WebhookRejected, get_gateway
from connectors.webhooks import Webhook, WebhookAnswer, WebhookCall

PATH = "/v1/channels/{channel_id}/inbound"
ACCEPTED = WebhookAnswer(status.HTTP_202_ACCEPTED, {"status": "accepted"})
_TIMESTAMP, _SIGNATURE = TIMESTAMP_HEADER.lower(), SIGNATURE_HEADER.lower()


class InvalidBody(WebhookRejected):
    def __init__(self, exc: ValidationError) -> None:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        super().__init__(422, "Invalid message", "invalid fields: " + ", ".join(fields))
        self.errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body",
                        "message": e["msg"]} for e in exc.errors()]


async def receive_message(gateway: InboundGateway, call: WebhookCall) -> WebhookAnswer:
    """Check the channel's signature and the body, store the raw event, then 202."""
    channel = await gateway.channel(call.channel_id, "api")
    problem = check(str(channel.config["secret"]), call.headers.get(_TIMESTAMP),
                    call.headers.get(_SIGNATURE), call.body)
    if problem is not None:
        raise WebhookRejected(401, "Bad signature", problem)
    try:
        message = parse_body(call.body)
    except ValidationError as exc:
        raise InvalidBody(exc) from None
    await gateway.accept(channel, message.external_message_id, call.body, "application/json")
    return ACCEPTED


WEBHOOKS = (Webhook(PATH, receive_message),)


def build_router() -> APIRouter:
    router = APIRouter(tags=["channels"])

    @router.post(
        PATH, status_code=status.HTTP_202_ACCEPTED,
        summary="Forward a message into an API channel",
        responses={401: {"description": "Missing, stale or forged signature"},
                   404: {"description": "No such API channel"},
                   413: {"description": "Body over the size limit"},
                   422: {"description": "Invalid message body"}},
    )
    async def inbound(
        channel_id: str, request: Request,
        gateway: Annotated[InboundGateway, Depends(get_gateway)],
    ) -> dict[str, str]:
        """Signed with the channel's secret (X-Omniroute-Timestamp/-Signature); stored, then
        202. Sending the same external_message_id again is a no-op."""
        call = WebhookCall(channel_id, request.headers, await request.body())
        return dict((await receive_message(gateway, call)).body)

    return router
