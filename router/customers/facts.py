"""CRM facts on a customer (tier, language, tags, attributes): from PATCH and trusted channels."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import CustomerFacts
from connectors.customer_facts import FactError, merge_attributes
from router.auth.keys import Principal
from router.core import queue_event
from router.customers.schemas import CustomerPatch
from router.errors import Conflict, Forbidden, Unprocessable
from router.models import Customer
from router.models.base import utcnow

log = logging.getLogger("omniroute.customers")
SUPERVISOR_FIELDS = frozenset({"tier", "attributes"})


def facts_view(customer: Customer) -> dict[str, Any]:
    return {"tier": customer.tier, "language": customer.language,
            "tags": list(customer.tags or []), "attributes": dict(customer.attributes or {})}


def apply_channel_facts(customer: Customer, facts: CustomerFacts) -> bool:
    """What a trusted channel said, applied; True when something changed.

    Never raises: a message is stored whatever its facts (attributes that would overflow the
    customer's bound are dropped and logged, without their values).
    """
    changed = False
    if facts.tier is not None and facts.tier != customer.tier:
        customer.tier = facts.tier
        changed = True
    if facts.attributes:
        try:
            merged = merge_attributes(customer.attributes or {}, facts.attributes)
        except FactError as exc:
            log.warning("customer %s: attributes from a trusted channel dropped: %s",
                        customer.id, exc)
            return changed
        if merged != (customer.attributes or {}):
            # A new object, so the JSON column sees the change.
            customer.attributes = merged
            changed = True
    return changed


async def patch_customer(session: AsyncSession, customer: Customer, patch: CustomerPatch,
                         principal: Principal) -> Customer:
    """Apply a PATCH: agents may set name, language and tags; tier and attributes (which steer
    routing and SLA) need a supervisor."""
    fields = patch.model_fields_set
    guarded = sorted(fields & SUPERVISOR_FIELDS)
    if guarded and not principal.at_least("supervisor"):
        raise Forbidden(f"changing {' and '.join(guarded)} needs the supervisor role; "
                        f"your key has {principal.role}")
    if customer.merged_into_id is not None:
        raise Conflict(f"customer {customer.id} is merged into {customer.merged_into_id}; "
                       "change that customer instead")
    if "name" in fields:
        customer.name = patch.name
    if "tier" in fields:
        customer.tier = patch.tier
    if "language" in fields:
        customer.language = patch.language
    if "tags" in fields:
        customer.tags = patch.tags or []
    if "attributes" in fields:
        if patch.attributes is None:
            customer.attributes = {}
        else:
            try:
                customer.attributes = merge_attributes(customer.attributes or {},
                                                       patch.attributes)
            except FactError as exc:
                raise Unprocessable(str(exc), extra={
                    "errors": [{"field": "attributes", "message": str(exc)}]}) from None
    customer.updated_at = utcnow()
    await session.flush()
    queue_event(session, "customer.updated", {"customer_id": customer.id, "name": customer.name,
                                              **facts_view(customer)})
    return customer
