"""Agent API for a thread's cases."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from router.auth.deps import AgentDep, ReadDep
from router.cases.schemas import CaseOut
from router.cases.service import list_cases
from router.ids import IdPath
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page
from router.threads.service import get_thread

router = APIRouter(prefix="/v1/threads", tags=["cases"])


@router.get("/{thread_id}/cases", summary="List a thread's cases", response_model=Page[CaseOut],
            responses=problems(400, 401, 404, 422))
async def cases(thread_id: IdPath, session: ReadDep, _: AgentDep, cursor: CursorQuery = None,
                limit: LimitQuery = 50) -> dict[str, Any]:
    """Each stretch from the customer's first unanswered message to resolved, newest first."""
    thread = await get_thread(session, thread_id)
    items, next_cursor = await list_cases(session, thread, cursor, limit)
    return {"items": items, "next_cursor": next_cursor}
