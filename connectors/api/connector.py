"""The generic API channel: bots forward messages in, replies go to their callback URL."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from fastapi import APIRouter
from pydantic import BaseModel, ValidationError

from connectors.api.parse import parse_event
from connectors.api.schemas import ApiChannelConfig, CallbackAnswer
from connectors.api.signature import signed_headers
from connectors.api.webhook import WEBHOOKS, build_router
from connectors.base import (
    BaseConnector,
    Channel,
    ChannelLimits,
    DeliveryError,
    IdentityKind,
    InboundItem,
    OutboundMessage,
    RawEvent,
    SendResult,
)
from connectors.webhooks import Webhook

if TYPE_CHECKING:
    # httpx (with click and pygments from its CLI module) loads on the first callback.
    import httpx


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


class ApiConnector(BaseConnector):
    type: ClassVar[str] = "api"
    # A bot decides its own limits; ours only guard against absurd payloads.
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_text_length=65_536)
    identity_kind: ClassVar[IdentityKind] = "api"
    identity_per_channel: ClassVar[bool] = True
    config_model: ClassVar[builtins.type[BaseModel]] = ApiChannelConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret"})
    generated_secrets: ClassVar[frozenset[str]] = frozenset({"secret"})

    def __init__(self) -> None:
        self._http: httpx.AsyncClient | None = None

    def routes(self) -> APIRouter:
        return build_router()

    def webhooks(self) -> Sequence[Webhook]:
        return WEBHOOKS

    def parse(self, raw: RawEvent) -> list[InboundItem]:
        return parse_event(raw, trusted=bool(raw.channel_config.get("trusted", False)))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            # httpx keeps 20 idle connections by default; the outbox sends up to 32 at once to
            # one bot, and reopening connections beyond 20 cost more CPU than the sends.
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(20.0, connect=5.0),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=64))
        return self._http

    async def send(self, channel: Channel, msg: OutboundMessage) -> SendResult:
        url = channel.config.get("callback_url")
        if not url:
            raise DeliveryError("this API channel has no callback_url to deliver to",
                                retryable=False)
        payload = {
            "message_id": msg.message_id,
            "thread_id": msg.thread_id,
            "external_user_id": msg.recipient.external_user_id,
            "text": msg.text,
            "attachments": [{"url": a.url, "mime_type": a.mime_type, "filename": a.filename}
                            for a in msg.attachments],
            "reply_to_external_message_id": msg.reply_to_external_id,
            "buttons": [{"id": b.id, "title": b.title} for b in msg.buttons],
            "template": dict(msg.template) if msg.template else None,
            "automatic": msg.automatic,
        }
        if msg.survey is not None:
            # The bot shows the scores its own way and posts the chosen token back (signed,
            # to the inbound URL) as {"csat": {"token": ..., "comment": ...}}.
            payload["csat_request"] = dict(msg.survey)
        import httpx

        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   **signed_headers(str(channel.config["secret"]), body)}
        try:
            response = await self._client().post(str(url), content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"callback unreachable: {type(exc).__name__}",
                                retryable=True) from exc
        if response.status_code == 429:
            raise DeliveryError("the bot asked us to slow down (429)", retryable=True,
                                retry_after=_retry_after(response))
        if response.status_code >= 500 or response.status_code == 408:
            raise DeliveryError(f"the bot answered {response.status_code}", retryable=True,
                                retry_after=_retry_after(response))
        if response.status_code >= 300:
            raise DeliveryError(
                f"the bot refused the message: {response.status_code} {response.text[:300]}",
                retryable=False)
        external_id = f"api-{msg.message_id}"
        try:
            answer = CallbackAnswer.model_validate_json(response.content or b"{}")
            external_id = answer.external_message_id or external_id
        except ValidationError:
            pass
        return SendResult(external_id=external_id, status="delivered")
