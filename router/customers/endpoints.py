"""Agent API for customers: search, identities, merge and undo, suggestions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from router.access.scope import customer_scope, sees_everything, visible_customer
from router.auth.deps import AgentDep, CoreDep, ReadDep, SessionDep
from router.auth.keys import Principal
from router.customers.facts import patch_customer
from router.customers.merge import merge_customers, undo_merge
from router.customers.schemas import (
    CustomerOut,
    CustomerPatch,
    MergeIn,
    MergeOut,
    SuggestionOut,
)
from router.customers.service import (
    customer_view,
    merge_view,
    merges_of,
    search,
    suggestions_for,
)
from router.errors import NotFound
from router.ids import IdPath
from router.models import Merge
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(tags=["customers"])


@router.get("/v1/customers", summary="List or search customers",
            response_model=Page[CustomerOut], responses=problems(400, 401, 422))
async def list_(
    core: CoreDep, session: ReadDep, principal: AgentDep,
    q: Annotated[str | None, Query(max_length=320, description="Name, phone or e-mail")] = None,
    cursor: CursorQuery = None, limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Customers, newest first; `q` matches a name, a phone (any format) or an e-mail."""
    items, next_cursor = await search(core, session, q, cursor, limit,
                                      scope=customer_scope(principal))
    return {"items": items, "next_cursor": next_cursor}


@router.get("/v1/customers/{customer_id}", summary="Get a customer with identities",
            response_model=CustomerOut, responses=problems(401, 404, 422))
async def get(customer_id: IdPath, core: CoreDep, session: ReadDep,
              principal: AgentDep) -> dict[str, Any]:
    """One customer, their thread id, every identity they are known by, and reply windows."""
    return await customer_view(core, session,
                               await visible_customer(session, principal, customer_id))


@router.patch("/v1/customers/{customer_id}", summary="Update a customer's CRM facts",
              response_model=CustomerOut, responses=problems(401, 403, 404, 409, 422))
async def patch(
    customer_id: IdPath, body: CustomerPatch, core: CoreDep, session: SessionDep,
    principal: AgentDep,
) -> dict[str, Any]:
    """Name, language and tags (agents); tier and attributes (supervisors): rules read them."""
    visible = await visible_customer(session, principal, customer_id)
    customer = await patch_customer(session, visible, body, principal)
    return await customer_view(core, session, customer)


@router.get("/v1/customers/{customer_id}/suggestions", summary="Merge suggestions",
            response_model=list[SuggestionOut], responses=problems(401, 404, 422))
async def suggestions(customer_id: IdPath, session: ReadDep,
                      principal: AgentDep) -> list[dict[str, Any]]:
    """Customers that may be the same person, by an unverified matching contact detail."""
    await visible_customer(session, principal, customer_id)
    found = await suggestions_for(session, customer_id)
    if sees_everything(principal):
        return found
    return [s for s in found
            if await _visible(session, principal, s["other_customer_id"])]


async def _visible(session: AsyncSession, principal: Principal, customer_id: int) -> bool:
    try:
        await visible_customer(session, principal, customer_id)
    except NotFound:
        return False
    return True


@router.get("/v1/customers/{customer_id}/merges", summary="Merges of a customer",
            response_model=list[MergeOut], responses=problems(401, 404, 422))
async def merges(customer_id: IdPath, session: ReadDep,
                 principal: AgentDep) -> list[dict[str, Any]]:
    """The merge audit trail of a customer (as target or source)."""
    await visible_customer(session, principal, customer_id)
    return [merge_view(m) for m in await merges_of(session, customer_id)]


@router.post("/v1/customers/{customer_id}/merge", summary="Merge another customer into this one",
             response_model=MergeOut, status_code=status.HTTP_201_CREATED,
             responses=problems(401, 404, 409, 422))
async def merge(
    customer_id: IdPath, body: MergeIn, session: SessionDep, principal: AgentDep
) -> dict[str, Any]:
    """Fold the other customer's identities and messages into this customer's one thread."""
    await visible_customer(session, principal, customer_id)
    await visible_customer(session, principal, body.other_customer_id)
    record = await merge_customers(session, customer_id, body.other_customer_id,
                                   automatic=False, reason=body.reason, actor=principal.name)
    return merge_view(record)


@router.post("/v1/merges/{merge_id}/undo", summary="Undo a merge", response_model=MergeOut,
             responses=problems(401, 404, 409, 422))
async def undo(merge_id: IdPath, session: SessionDep, principal: AgentDep) -> dict[str, Any]:
    """Split the customers again, with every message on the merged identities, as before."""
    record = await session.get(Merge, merge_id)
    if record is not None and not sees_everything(principal):
        try:
            await visible_customer(session, principal, record.target_customer_id)
            await visible_customer(session, principal, record.source_customer_id)
        except NotFound:
            record = None
    if record is None:
        raise NotFound(f"merge {merge_id} does not exist")
    return merge_view(await undo_merge(session, merge_id))
