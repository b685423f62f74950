"""Agent API for threads and their messages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from router.access.scope import thread_scope, visible_thread
from router.auth.deps import AgentDep, CoreDep, ReadDep, SessionDep
from router.auth.keys import Principal
from router.errors import Unprocessable
from router.ids import IdPath, IdQuery, valid_id
from router.instants import IsoDateTime
from router.openapi_docs import problems
from router.outbox.service import ReplyRequest, queue_reply
from router.pagination import CursorQuery, LimitQuery, Page
from router.threads.filters import RoutingFilters, ThreadSort
from router.threads.schemas import MessageOut, ReplyIn, ThreadOut, ThreadPatch, ThreadStatus
from router.threads.service import (
    list_threads,
    page_messages,
    patch_thread,
    thread_detail,
)
from router.threads.typing import notify_typing
from router.threads.views import message_view

router = APIRouter(prefix="/v1/threads", tags=["threads"])


@router.get("", summary="List threads", response_model=Page[ThreadOut],
            responses=problems(400, 401, 422))
async def list_(
    core: CoreDep, session: ReadDep, principal: AgentDep,
    status_: Annotated[ThreadStatus | None, Query(alias="status")] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    channel_id: Annotated[str | None, Query(max_length=32)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    customer_id: IdQuery = None,
    updated_since: IsoDateTime | None = None,
    team_id: Annotated[str | None, Query(pattern=r"^(none|[0-9]{1,19})$",
                                         description="A team id, or `none`: unrouted")] = None,
    assignee_id: Annotated[str | None, Query(
        pattern=r"^(me|none|[0-9]{1,19})$",
        description="An agent id, `me` (the key's agent) or `none`: unassigned")] = None,
    breached: Annotated[bool | None, Query(
        description="true: the current case has breached an SLA target")] = None,
    sort: Annotated[ThreadSort, Query(
        description="`activity` (newest first) or `sla_due` (soonest SLA due first)")] = "activity",
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Threads by newest activity (or SLA due time), filtered by status, team, assignee, SLA
    breach, channel, tag or customer; only the threads the caller may see."""
    routing = RoutingFilters(team_id=routing_id(team_id, "team_id", principal),
                             assignee_id=routing_id(assignee_id, "assignee_id", principal),
                             breached=breached, sort=sort, scope=thread_scope(principal))
    items, next_cursor = await list_threads(
        core, session, status=status_, assignee=assignee, channel_id=channel_id, tag=tag,
        customer_id=customer_id, updated_since=updated_since, cursor=cursor, limit=limit,
        routing=routing)
    return {"items": items, "next_cursor": next_cursor}


def routing_id(raw: str | None, field: str, principal: Principal) -> int | None:
    """A team or agent id filter: None (any), 0 (none) or the id; `me` is the key's agent."""
    if raw is None:
        return None
    if raw == "none":
        return 0
    if raw == "me":
        if principal.agent_id is None:
            raise Unprocessable(f"{field}=me needs a key that belongs to an agent", extra={
                "errors": [{"field": field, "message": "this key belongs to no agent"}]})
        return principal.agent_id
    number = valid_id(raw)
    if number is None:
        raise Unprocessable(f"{field} is not an id", extra={
            "errors": [{"field": field, "message": "not an id"}]})
    return number


@router.get("/{thread_id}", summary="Get a thread", response_model=ThreadOut,
            responses=problems(401, 404, 422))
async def get(thread_id: IdPath, core: CoreDep, session: ReadDep,
              principal: AgentDep) -> dict[str, Any]:
    """One thread, with the reply windows of its channels."""
    return await thread_detail(core, session, await visible_thread(session, principal, thread_id))


@router.patch("/{thread_id}", summary="Update a thread", response_model=ThreadOut,
              responses=problems(401, 404, 422))
async def patch(
    thread_id: IdPath, body: ThreadPatch, core: CoreDep, session: SessionDep,
    principal: AgentDep,
) -> dict[str, Any]:
    """Change status (pending, resolved, reopen: the current case's), priority or tags."""
    thread = await patch_thread(core, session, await visible_thread(session, principal, thread_id),
                                body, principal.name)
    return await thread_detail(core, session, thread)


@router.get("/{thread_id}/messages", summary="Page a thread's messages",
            response_model=Page[MessageOut], responses=problems(400, 401, 404, 422))
async def messages(
    thread_id: IdPath, session: ReadDep, principal: AgentDep, cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> dict[str, Any]:
    """The latest messages (oldest first in the page); `next_cursor` pages further back."""
    thread = await visible_thread(session, principal, thread_id)
    items, next_cursor = await page_messages(session, thread, cursor, limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/{thread_id}/messages", summary="Reply or add an internal note",
             response_model=MessageOut, status_code=status.HTTP_201_CREATED,
             responses=problems(401, 404, 409, 413, 422))
async def reply(
    thread_id: IdPath, body: ReplyIn, core: CoreDep, session: SessionDep, principal: AgentDep
) -> dict[str, Any]:
    """Queue a reply on the customer's latest channel (or `channel_id`), or add a note."""
    thread = await visible_thread(session, principal, thread_id)
    request = ReplyRequest(
        text=body.text, channel_id=body.channel_id, internal=body.internal,
        attachments=[a.model_dump(mode="json") for a in body.attachments],
        reply_to_message_id=body.reply_to_message_id,
        template=body.template.model_dump() if body.template else None,
        buttons=[b.model_dump() for b in body.buttons], request_contact=body.request_contact)
    message = await queue_reply(core, session, thread, request, principal.name)
    return message_view(message)


@router.post("/{thread_id}/typing", summary="Tell the customer an agent is typing",
             status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 404))
async def typing(thread_id: IdPath, core: CoreDep, session: ReadDep,
                 principal: AgentDep) -> None:
    """Shows a typing indicator on channels that have one (web chat)."""
    await notify_typing(core, session, await visible_thread(session, principal, thread_id))
