"""`/webhooks/whatsapp/{channel_id}`: Meta's verification handshake and signed notifications."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from connectors.base import InboundGateway, WebhookRejected, get_gateway
from connectors.webhooks import Webhook, WebhookAnswer, WebhookCall
from connectors.whatsapp.parse import OBJECT

PATH = "/webhooks/whatsapp/{channel_id}"
SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE = SIGNATURE_HEADER.lower()
ACCEPTED = WebhookAnswer(200, {"status": "accepted"})
GatewayDep = Annotated[InboundGateway, Depends(get_gateway)]


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_problem(app_secret: str, given: str | None, body: bytes) -> str | None:
    """None when `given` is Meta's signature of `body`, else why it is not."""
    if not given:
        return f"the {SIGNATURE_HEADER} header is missing"
    if not hmac.compare_digest(signature(app_secret, body).encode(), given.strip().encode()):
        return f"{SIGNATURE_HEADER} does not match the body signed with the app secret"
    return None


def event_id(body: bytes) -> str:
    """Notifications carry no id of their own; Meta's retries resend the same bytes."""
    return hashlib.sha256(body).hexdigest()


def _is_notification(body: bytes) -> bool:
    try:
        decoded = json.loads(body)
    except ValueError:
        return False
    return isinstance(decoded, dict) and decoded.get("object") == OBJECT


async def receive_notification(gateway: InboundGateway, call: WebhookCall) -> WebhookAnswer:
    """Check Meta's signature, store the notification, answer 200 at once."""
    channel = await gateway.channel(call.channel_id, "whatsapp")
    problem = signature_problem(str(channel.config["app_secret"]), call.headers.get(_SIGNATURE),
                                call.body)
    if problem is not None:
        raise WebhookRejected(401, "Bad signature", problem)
    if not _is_notification(call.body):
        raise WebhookRejected(400, "Not a WhatsApp notification",
                              f'the body must be a JSON object with "object": "{OBJECT}"')
    await gateway.accept(channel, event_id(call.body), call.body, "application/json")
    return ACCEPTED


WEBHOOKS = (Webhook(PATH, receive_notification),)


def build_router() -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.get(
        PATH, response_class=PlainTextResponse,
        summary="WhatsApp webhook verification",
        responses={403: {"description": "Wrong mode or verify token"},
                   404: {"description": "No such WhatsApp channel"}},
    )
    async def verify(
        channel_id: str,
        gateway: GatewayDep,
        mode: Annotated[str | None, Query(alias="hub.mode")] = None,
        token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
        challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
    ) -> PlainTextResponse:
        """Meta's subscription handshake: echoes hub.challenge when the verify token matches."""
        channel = await gateway.channel(channel_id, "whatsapp")
        expected = str(channel.config["verify_token"]).encode()
        if mode != "subscribe" or token is None or challenge is None:
            raise WebhookRejected(403, "Verification refused",
                                  "expected hub.mode=subscribe with hub.verify_token and "
                                  "hub.challenge")
        if not hmac.compare_digest(expected, token.encode()):
            raise WebhookRejected(403, "Verification refused",
                                  "hub.verify_token does not match this channel's verify_token")
        return PlainTextResponse(challenge)

    @router.post(
        PATH, summary="Receive WhatsApp notifications",
        responses={400: {"description": "Not a WhatsApp Business Account notification"},
                   401: {"description": "Missing or forged X-Hub-Signature-256"},
                   404: {"description": "No such WhatsApp channel"}},
    )
    async def receive(channel_id: str, request: Request, gateway: GatewayDep) -> dict[str, str]:
        """Checks Meta's signature, stores the notification, answers 200 at once."""
        call = WebhookCall(channel_id, request.headers, await request.body())
        return dict((await receive_notification(gateway, call)).body)

    return router
