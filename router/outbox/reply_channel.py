"""Which channel a reply takes: the customer's chain of reachable channels, latest first.

Both functions read the customer's identities once and the channels they name once; the
choice itself is made in memory (a reply's POST holds SQLite's write lock while it runs).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from router.core import Core
from router.models import ChannelRow, Identity
from router.outbox.health import DELIVERY_REASON

# Kinds any channel of the type can write to, whoever the customer wrote to first.
UNIVERSAL_KINDS = frozenset({"email"})


def recipient_id(identity: Identity, channel_id: str) -> str:
    prefix = channel_id + ":"
    return identity.value[len(prefix):] if identity.value.startswith(prefix) else identity.value


async def customer_identities(session: AsyncSession, customer_id: int) -> list[Identity]:
    """All the customer's identities, most recently written from first."""
    return list(await session.scalars(
        select(Identity).where(Identity.customer_id == customer_id)
        .order_by(Identity.last_inbound_at.desc().nulls_last(), Identity.id.desc())))


def pick_identity(
    core: Core, identities: Sequence[Identity], channel: ChannelRow
) -> Identity | None:
    """The identity (of `identities`, in their order) a message on `channel` goes to."""
    connector = core.connectors.get(channel.type)
    if connector is None:
        return None
    kind = connector.identity_kind
    for identity in identities:
        if identity.kind != kind:
            continue
        if kind in UNIVERSAL_KINDS and not connector.identity_per_channel:
            return identity
        if channel.id in (identity.channel_id, identity.last_inbound_channel_id):
            return identity
    return None


async def identity_for_channel(
    core: Core, session: AsyncSession, customer_id: int, channel: ChannelRow
) -> Identity | None:
    """The customer's identity a message on `channel` goes to, or None if they have none."""
    return pick_identity(core, await customer_identities(session, customer_id), channel)


def _usable_health() -> ColumnElement[bool]:
    """Healthy, or only failing deliveries for now: a provider outage queues replies (they
    go out in order once it is back) instead of refusing them or moving them elsewhere."""
    return or_(ChannelRow.health == "ok",
               ChannelRow.health_reason.startswith(DELIVERY_REASON, autoescape=True))


async def channel_chain(
    core: Core, session: AsyncSession, customer_id: int, exclude: set[str]
) -> list[tuple[ChannelRow, Identity]]:
    """Reachable (channel, identity) pairs for the customer, most recently used first."""
    # One query: every identity with the usable channels it names (none: a NULL row).
    rows = await session.execute(
        select(Identity, ChannelRow)
        .outerjoin(ChannelRow, and_(
            or_(ChannelRow.id == Identity.last_inbound_channel_id,
                ChannelRow.id == Identity.channel_id),
            ChannelRow.deleted_at.is_(None), _usable_health()))
        .where(Identity.customer_id == customer_id)
        .order_by(Identity.last_inbound_at.desc().nulls_last(), Identity.id.desc()))
    identities: list[Identity] = []
    usable: dict[str, ChannelRow] = {}
    for identity, row in rows:
        if not identities or identities[-1] is not identity:
            identities.append(identity)
        if row is not None:
            usable[row.id] = row
    reachable = [i for i in identities if i.reachable]
    universal = any(i.kind in UNIVERSAL_KINDS for i in reachable)
    if universal:
        # The e-mail fallback below walks every usable channel, oldest first.
        usable = {row.id: row for row in await session.scalars(
            select(ChannelRow).where(ChannelRow.deleted_at.is_(None), _usable_health())
            .order_by(ChannelRow.created_at, ChannelRow.id))}
    chain: list[tuple[ChannelRow, Identity]] = []
    seen: set[str] = set(exclude)

    def consider(row: ChannelRow) -> None:
        target = pick_identity(core, identities, row)
        if target is not None and target.reachable:
            seen.add(row.id)
            chain.append((row, target))

    for identity in reachable:
        for channel_id in (identity.last_inbound_channel_id, identity.channel_id):
            if channel_id is None or channel_id in seen or channel_id not in usable:
                continue
            consider(usable[channel_id])
    if universal:
        # A customer known only by e-mail address can still be written to from any e-mail
        # channel (the web-chat visitor who left their address, for instance).
        for row in usable.values():
            if row.id in seen or row.type not in core.connectors:
                continue
            if core.connectors[row.type].identity_kind not in UNIVERSAL_KINDS:
                continue
            consider(row)
    return chain
