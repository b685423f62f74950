"""A customer typing on a channel that says so (web chat): agents on the thread see it live."""

from __future__ import annotations

from connectors.base import Channel
from router.core import Core
from router.customers.identity import find_sender


async def customer_typing(core: Core, channel: Channel, external_user_id: str) -> None:
    """Publish `customer.typing` for the sender's thread; nothing is stored (it is momentary)."""
    async with core.reads() as session:
        found = await find_sender(session, channel, core.connector(channel.type),
                                  external_user_id)
    if found is None:
        return
    identity, customer, thread = found
    await core.bus.publish([("customer.typing", {
        "thread_id": thread.id, "customer_id": customer.id, "channel_id": channel.id,
        "identity_id": identity.id, "team_id": thread.team_id, "assignee_id": thread.assignee_id})])
