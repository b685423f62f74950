"""Queries on customers, identities and their threads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.errors import NotFound
from router.models import Case, Customer, Identity, Thread


async def find_identity(session: AsyncSession, kind: str, value: str) -> Identity | None:
    row: Identity | None = await session.scalar(
        select(Identity).where(Identity.kind == kind, Identity.value == value)
    )
    return row


# Built once (a batch asks this every time): identities of one kind, each with its
# customer, that one's thread and what the case lifecycle decides on of the thread's current
# case (so a known sender's message needs no query of its own, and no ORM object, for it).
SENDERS = (
    select(Identity, Customer, Thread, Case.status, Case.resolved_at, Case.assignee_id,
           Case.awaiting_since, Case.sla_policy_id)
    .join(Customer, Customer.id == Identity.customer_id)
    .join(Thread, Thread.customer_id == Customer.id)
    .outerjoin(Case, Case.id == Thread.case_id)
    .where(Identity.kind == bindparam("kind"),
           Identity.value.in_(bindparam("values", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class CaseRef:
    """The current case of a thread as far as a new message needs it."""

    id: int
    status: str
    resolved_at: datetime | None
    assignee_id: int | None
    awaiting_since: datetime | None
    # An SLA policy means the next-response clock needs the row when the customer writes
    # again after an answer.
    sla_policy_id: int | None = None


async def senders(
    session: AsyncSession, values: Mapping[str, set[str]]
) -> list[tuple[Identity, Customer, Thread, CaseRef | None]]:
    """Identities with these (kind → values), each with its customer, that one's thread and
    the thread's current case (its id, status, resolution time and assignee)."""
    found: list[tuple[Identity, Customer, Thread, CaseRef | None]] = []
    for kind, wanted in values.items():
        rows = await session.execute(SENDERS, {"kind": kind, "values": sorted(wanted)})
        for identity, customer, thread, status, resolved_at, assignee_id, since, policy in rows:
            ref = None
            if thread.case_id is not None and status is not None:
                ref = CaseRef(thread.case_id, status, resolved_at, assignee_id, since, policy)
            found.append((identity, customer, thread, ref))
    return found


async def thread_of(session: AsyncSession, customer_id: int) -> Thread:
    thread = await session.scalar(select(Thread).where(Thread.customer_id == customer_id))
    if thread is None:
        raise NotFound(f"customer {customer_id} has no thread")
    return thread


async def live_customer(session: AsyncSession, customer_id: int) -> Customer:
    """The customer, following merges to the one that holds its identities now."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    seen = {customer.id}
    while customer.merged_into_id is not None:
        nxt = await session.get(Customer, customer.merged_into_id)
        if nxt is None or nxt.id in seen:
            break
        seen.add(nxt.id)
        customer = nxt
    return customer


async def new_customer(session: AsyncSession, name: str | None) -> tuple[Customer, Thread]:
    customer = Customer(name=name)
    session.add(customer)
    await session.flush()
    thread = Thread(customer_id=customer.id, status="open", tags=[])
    session.add(thread)
    await session.flush()
    return customer, thread


async def identities_of(session: AsyncSession, customer_id: int) -> list[Identity]:
    result = await session.scalars(
        select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.id)
    )
    return list(result)
