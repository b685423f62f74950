"""`POST /webhooks/email/{channel_id}`: one raw RFC 5322 message from an MTA pipe or a
provider's raw-MIME forward, authenticated by the channel's `inbound_secret`."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from connectors.base import InboundGateway, WebhookRejected, get_gateway
from connectors.email.parse import event_id

# Larger than any mail a receiving server accepts (typically 25-50 MB), so nothing real is cut.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
ACCEPTED_TYPES = {"message/rfc822", "message/global", "application/octet-stream", "text/plain"}


def check_bearer(expected: str, authorization: str | None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise WebhookRejected(401, "Missing credentials",
                              "send the channel's inbound_secret as 'Authorization: Bearer …'")
    if not expected or not secrets.compare_digest(token.strip().encode(), expected.encode()):
        raise WebhookRejected(401, "Bad credentials",
                              "the bearer token is not this channel's inbound_secret")


def build_router() -> APIRouter:
    router = APIRouter(tags=["channels"])

    @router.post(
        "/webhooks/email/{channel_id}", status_code=status.HTTP_200_OK,
        summary="Deliver one raw e-mail into an e-mail channel",
        # Above the service-wide body limit (OMNIROUTE_MAX_BODY_BYTES, 1 MiB by default):
        # router/middleware.py's BodyLimit honours a route's own max_body_size.
        max_body_size=MAX_MESSAGE_BYTES,
        responses={401: {"description": "Missing or wrong inbound_secret"},
                   404: {"description": "No such e-mail channel"},
                   413: {"description": "Message over the size limit"},
                   415: {"description": "Body is not a message/rfc822"},
                   422: {"description": "Empty or non-mail body"}},
    )
    async def inbound(
        channel_id: str, request: Request,
        gateway: Annotated[InboundGateway, Depends(get_gateway)],
    ) -> dict[str, str]:
        """The message as `message/rfc822`, `Authorization: Bearer <inbound_secret>`; stored,
        then 200. The same Message-ID again is a no-op."""
        channel = await gateway.channel(channel_id, "email")
        check_bearer(str(channel.config.get("inbound_secret") or ""),
                     request.headers.get("authorization"))
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in ACCEPTED_TYPES:
            raise WebhookRejected(415, "Unsupported media type",
                                  f"send the mail as message/rfc822, not {content_type}")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_MESSAGE_BYTES:
            raise WebhookRejected(413, "Message too large",
                                  f"messages over {MAX_MESSAGE_BYTES} bytes are refused")
        body = await request.body()
        if len(body) > MAX_MESSAGE_BYTES:
            raise WebhookRejected(413, "Message too large",
                                  f"messages over {MAX_MESSAGE_BYTES} bytes are refused")
        header_block = body[:65536].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        if not body.strip() or b":" not in header_block:
            raise WebhookRejected(422, "Not an e-mail",
                                  "the body must be one RFC 5322 message with headers")
        key = event_id(body)
        await gateway.accept(channel, key, body, "message/rfc822")
        return {"status": "accepted", "external_event_id": key}

    return router
