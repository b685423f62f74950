"""API-channel body → InboundMessage."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from connectors.api.schemas import InboundBody
from connectors.base import (
    ActionEvent,
    Attachment,
    CustomerFacts,
    IdentityHint,
    InboundItem,
    InboundMessage,
    RawEvent,
)


def parse_body(raw: bytes) -> InboundBody:
    return InboundBody.model_validate_json(raw)


def parse_event(raw: RawEvent, trusted: bool) -> list[InboundItem]:
    try:
        body = parse_body(raw.payload)
    except ValidationError as exc:
        raise ValueError(f"invalid API-channel body: {exc.error_count()} errors") from exc
    hints: list[IdentityHint] = []
    if body.phone:
        hints.append(IdentityHint("phone", body.phone, verified=trusted))
    if body.email:
        hints.append(IdentityHint("email", body.email, verified=trusted))
    # Only a trusted channel speaks for the CRM; anyone else's claims are dropped here.
    facts = None
    if trusted and (body.tier is not None or body.attributes):
        facts = CustomerFacts(tier=body.tier, attributes=body.attributes or {})
    sent_at = body.sent_at or raw.received_at
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    if body.csat is not None:
        # A survey answer is an action on our message, not something the customer said.
        return [ActionEvent(channel_id=raw.channel_id, external_user_id=body.external_user_id,
                            action_id=body.csat.token, data=body.csat.token,
                            at=sent_at.astimezone(UTC),
                            external_message_id=body.external_message_id,
                            comment=body.csat.comment)]
    return [InboundMessage(
        channel_id=raw.channel_id,
        external_user_id=body.external_user_id,
        external_message_id=body.external_message_id,
        sent_at=sent_at.astimezone(UTC) if isinstance(sent_at, datetime) else sent_at,
        text=body.text,
        attachments=tuple(Attachment(kind="file", mime_type=a.mime_type, filename=a.filename,
                                     url=str(a.url)) for a in body.attachments),
        reply_to_external_id=body.reply_to_external_message_id,
        name=body.name,
        hints=tuple(hints),
        user_verified=True,
        customer_facts=facts,
    )]
