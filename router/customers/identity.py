"""Who wrote this? Resolve a sender to an identity and a customer, linking only what is proven.

Auto-link rule: a contact detail links two customers only when both sides are verified
(WhatsApp wa_id, a Telegram contact the user shared themself, DKIM/SPF-passed mail, a web-chat
identity hash). Anything weaker becomes a merge suggestion an agent decides on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Channel, Connector, IdentityHint, InboundMessage
from router.customers.normalize import InvalidContact, normalize
from router.customers.repository import find_identity, live_customer, new_customer, thread_of
from router.models import Customer, Identity, MergeSuggestion, Thread

log = logging.getLogger("omniroute.identity")


@dataclass
class Resolved:
    identity: Identity
    customer: Customer
    created: bool
    # Customers that an auto-link asks to fold into `customer` (verified ⇄ verified matches).
    auto_merge_from: list[int]


def identity_value(channel: Channel, connector: Connector, external_user_id: str) -> str:
    if connector.identity_per_channel:
        return f"{channel.id}:{external_user_id}"
    try:
        return normalize(connector.identity_kind, external_user_id)
    except InvalidContact:
        return external_user_id.strip()


async def find_sender(
    session: AsyncSession, channel: Channel, connector: Connector, external_user_id: str
) -> tuple[Identity, Customer, Thread] | None:
    """A known sender on `channel` with the customer holding them now and its one thread."""
    value = identity_value(channel, connector, external_user_id)
    identity = await find_identity(session, connector.identity_kind, value)
    if identity is None:
        return None
    customer = await live_customer(session, identity.customer_id)
    return identity, customer, await thread_of(session, customer.id)


def clean_hints(hints: tuple[IdentityHint, ...]) -> list[IdentityHint]:
    clean: list[IdentityHint] = []
    for hint in hints:
        try:
            clean.append(IdentityHint(hint.kind, normalize(hint.kind, hint.value), hint.verified))
        except InvalidContact:
            log.info("ignoring a malformed %s hint", hint.kind)
    return clean


async def suggest(session: AsyncSession, customer_id: int, other_id: int, reason: str) -> None:
    if customer_id == other_id:
        return
    low, high = sorted((customer_id, other_id))
    exists = await session.scalar(
        select(MergeSuggestion.id).where(
            MergeSuggestion.customer_id == low, MergeSuggestion.other_customer_id == high
        )
    )
    if exists is None:
        session.add(MergeSuggestion(customer_id=low, other_customer_id=high, reason=reason))
        await session.flush()


async def resolve_sender(
    session: AsyncSession, channel: Channel, connector: Connector, msg: InboundMessage
) -> Resolved:
    kind = connector.identity_kind
    value = identity_value(channel, connector, msg.external_user_id)
    hints = clean_hints(msg.hints)
    identity = await find_identity(session, kind, value)
    created = False
    if identity is None:
        customer = await _customer_for_new_identity(session, hints, msg.user_verified)
        if customer is None:
            customer, _thread = await new_customer(session, msg.name)
        identity = Identity(
            customer_id=customer.id, kind=kind, value=value, verified=msg.user_verified,
            channel_id=channel.id, name=msg.name,
        )
        session.add(identity)
        await session.flush()
        created = True
    else:
        customer = await live_customer(session, identity.customer_id)
    record_inbound(identity, customer, channel, msg, created=created)
    auto_merge = await _attach_hints(session, customer, channel, hints, msg.user_verified)
    return Resolved(identity, customer, created, auto_merge)


def record_inbound(identity: Identity, customer: Customer, channel: Channel, msg: InboundMessage,
                   *, created: bool) -> None:
    """What a message tells about its sender: verified, name, last seen where."""
    if not created:
        if msg.user_verified and not identity.verified:
            identity.verified = True
        if msg.name:
            identity.name = msg.name
    if customer.name is None and msg.name:
        customer.name = msg.name
    # Reply windows (WhatsApp's 24 hours) count from when the customer wrote, as the provider
    # says (never later than receipt: router/ingest/clean.py), not from when we processed it:
    # a notification delivered late must not open a window the provider will refuse.
    if identity.last_inbound_at is None or msg.sent_at > identity.last_inbound_at:
        identity.last_inbound_at = msg.sent_at
    identity.last_inbound_channel_id = channel.id
    identity.reachable = True


async def _customer_for_new_identity(
    session: AsyncSession, hints: list[IdentityHint], sender_verified: bool
) -> Customer | None:
    if not sender_verified:
        return None
    for hint in hints:
        if not hint.verified:
            continue
        existing = await find_identity(session, hint.kind, hint.value)
        if existing is not None and existing.verified:
            return await live_customer(session, existing.customer_id)
    return None


async def _attach_hints(
    session: AsyncSession, customer: Customer, channel: Channel,
    hints: list[IdentityHint], sender_verified: bool,
) -> list[int]:
    auto_merge: list[int] = []
    for hint in hints:
        verified = hint.verified and sender_verified
        existing = await find_identity(session, hint.kind, hint.value)
        if existing is None:
            session.add(Identity(customer_id=customer.id, kind=hint.kind, value=hint.value,
                                 verified=verified, channel_id=channel.id))
            await session.flush()
            continue
        owner = await live_customer(session, existing.customer_id)
        if owner.id == customer.id:
            if verified and not existing.verified:
                existing.verified = True
            continue
        if verified and existing.verified:
            auto_merge.append(owner.id)
        else:
            await suggest(session, customer.id, owner.id,
                          f"same {hint.kind} {hint.value} (not verified on both sides)")
    return auto_merge
