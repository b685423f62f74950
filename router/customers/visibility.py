"""Which of a customer's identities a sender may read back (a web-chat visitor's history).

A merge folds two customers into one thread, but an agent's merge proves nothing to the
customer's side: it may have been accepted from a suggestion a visitor caused by typing
someone's e-mail into the pre-chat form. So a sender sees its own identity's conversation
(what it said and what was sent to it); a verified sender also sees the customer's other
verified identities, minus whatever a manual merge that is still in effect brought in from
the other side. Automatic merges are verified ⇄ verified links, the same person by proof.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import Identity, Merge


async def visible_identities(session: AsyncSession, identity: Identity,
                             customer_id: int) -> set[int]:
    """Ids of the identities whose messages `identity` may see in `customer_id`'s thread."""
    if not identity.verified:
        return {identity.id}
    visible = set(await session.scalars(select(Identity.id).where(
        Identity.customer_id == customer_id, Identity.verified.is_(True))))
    visible.add(identity.id)
    for moved in await _manual_merges_in_effect(session, customer_id):
        # Each manual merge splits what was there into two sides; keep the sender's side.
        visible = visible & moved if identity.id in moved else visible - moved
    return visible


async def _manual_merges_in_effect(session: AsyncSession, customer_id: int) -> list[set[int]]:
    """The identity ids each manual, not undone merge into this customer (or, through a
    chain, into a customer merged into it) moved over."""
    found: list[set[int]] = []
    frontier = {customer_id}
    seen = set(frontier)
    while frontier:
        rows = list(await session.scalars(select(Merge).where(
            Merge.target_customer_id.in_(sorted(frontier)), Merge.undone_at.is_(None))))
        frontier = {row.source_customer_id for row in rows} - seen
        seen |= frontier
        found.extend({int(i) for i in row.snapshot.get("identity_ids", [])}
                     for row in rows if not row.automatic)
    return found
