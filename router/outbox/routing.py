"""Which channel a reply takes: the customer's chain of reachable channels, latest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core
from router.models import ChannelRow, Identity

# Kinds any channel of the type can write to, whoever the customer wrote to first.
UNIVERSAL_KINDS = frozenset({"email"})


def recipient_id(identity: Identity, channel_id: str) -> str:
    prefix = channel_id + ":"
    return identity.value[len(prefix):] if identity.value.startswith(prefix) else identity.value


async def identity_for_channel(
    core: Core, session: AsyncSession, customer_id: int, channel: ChannelRow
) -> Identity | None:
    """The customer's identity a message on `channel` goes to, or None if they have none."""
    connector = core.connectors.get(channel.type)
    if connector is None:
        return None
    kind = connector.identity_kind
    rows = list(await session.scalars(
        select(Identity).where(Identity.customer_id == customer_id, Identity.kind == kind)
        .order_by(Identity.last_inbound_at.desc().nulls_last(), Identity.id.desc())))
    for identity in rows:
        if kind in UNIVERSAL_KINDS and not connector.identity_per_channel:
            return identity
        if channel.id in (identity.channel_id, identity.last_inbound_channel_id):
            return identity
    return None


async def channel_chain(
    core: Core, session: AsyncSession, customer_id: int, exclude: set[str]
) -> list[tuple[ChannelRow, Identity]]:
    """Reachable (channel, identity) pairs for the customer, most recently used first."""
    identities = list(await session.scalars(
        select(Identity).where(Identity.customer_id == customer_id, Identity.reachable.is_(True))
        .order_by(Identity.last_inbound_at.desc().nulls_last(), Identity.id.desc())))
    chain: list[tuple[ChannelRow, Identity]] = []
    seen: set[str] = set(exclude)
    for identity in identities:
        for channel_id in (identity.last_inbound_channel_id, identity.channel_id):
            if channel_id is None or channel_id in seen:
                continue
            row = await session.get(ChannelRow, channel_id)
            if row is None or row.deleted_at is not None or row.health != "ok":
                continue
            target = await identity_for_channel(core, session, customer_id, row)
            if target is not None and target.reachable:
                seen.add(channel_id)
                chain.append((row, target))
    if any(i.kind in UNIVERSAL_KINDS for i in identities):
        # A customer known only by e-mail address can still be written to from any e-mail
        # channel (the web-chat visitor who left their address, for instance).
        for row in await session.scalars(select(ChannelRow).where(
                ChannelRow.deleted_at.is_(None), ChannelRow.health == "ok")):
            if row.id in seen or row.type not in core.connectors:
                continue
            if core.connectors[row.type].identity_kind not in UNIVERSAL_KINDS:
                continue
            target = await identity_for_channel(core, session, customer_id, row)
            if target is not None and target.reachable:
                seen.add(row.id)
                chain.append((row, target))
    return chain
