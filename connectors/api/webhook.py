"""`POST /v1/channels/{id}/inbound`: messenger bots forward their users' messages here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import ValidationError

from connectors.api.parse import parse_body
from connectors.api.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, check
from connectors.base import InboundGateway, WebhookRejected, get_gateway


class InvalidBody(WebhookRejected):
    def __init__(self, exc: ValidationError) -> None:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        super().__init__(422, "Invalid message", "invalid fields: " + ", ".join(fields))
        self.errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body",
                        "message": e["msg"]} for e in exc.errors()]


def build_router() -> APIRouter:
    router = APIRouter(tags=["channels"])

    @router.post(
        "/v1/channels/{channel_id}/inbound", status_code=status.HTTP_202_ACCEPTED,
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
        channel = await gateway.channel(channel_id, "api")
        body = await request.body()
        problem = check(str(channel.config["secret"]), request.headers.get(TIMESTAMP_HEADER),
                        request.headers.get(SIGNATURE_HEADER), body)
        if problem is not None:
            raise WebhookRejected(401, "Bad signature", problem)
        try:
            message = parse_body(body)
        except ValidationError as exc:
            raise InvalidBody(exc) from None
        await gateway.accept(channel, message.external_message_id, body, "application/json")
        return {"status": "accepted"}

    return router
