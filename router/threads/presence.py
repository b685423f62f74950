"""A customer typing on a channel that says so (web chat): agents on the thread see it live."""

from __future__ import annotations

from sqlalchemy import select

from connectors.base import Channel
from router.core import Core
from router.customers.identity import identity_value
from router.customers.repository import find_identity, live_customer
from router.models import Thread


async def customer_typing(core: Core, channel: Channel, external_user_id: str) -> None:
    """Publish `customer.typing` for the sender's thread; nothing is stored (it is momentary)."""
    connector = core.connector(channel.type)
    value = identity_value(channel, connector, external_user_id)
    async with core.reads() as session:
        identity = await find_identity(session, connector.identity_kind, value)
        if identity is None:
            return
        customer = await live_customer(session, identity.customer_id)
        thread_id = await session.scalar(
            select(Thread.id).where(Thread.customer_id == customer.id))
    if thread_id is None:
        return
    await core.bus.publish([("customer.typing", {
        "thread_id": thread_id, "customer_id": customer.id, "channel_id": channel.id,
        "identity_id": identity.id})])
