"""Rules API: supervisors and admins manage routing rules; agents may read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from router.auth.deps import AgentDep, CoreDep, ReadDep, SessionDep, SupervisorDep
from router.ids import IdPath
from router.openapi_docs import problems
from router.pagination import (
    BadCursor,
    CursorQuery,
    LimitQuery,
    Page,
    cursor_id,
    decode_cursor,
    split_page,
)
from router.rules import service
from router.rules.repository import page_of_rules
from router.rules.schemas import MAX_POSITION, RuleIn, RuleOut, RulePatch, RuleTestIn, RuleTestOut

router = APIRouter(prefix="/v1/rules", tags=["rules"])


def _after(cursor: str) -> tuple[int, int]:
    position, last_id = decode_cursor(cursor, 2)
    if isinstance(position, bool) or not isinstance(position, int) \
            or not 0 <= position <= MAX_POSITION:
        raise BadCursor("this cursor was not issued by this API")
    return position, cursor_id(last_id)


@router.get("", summary="List rules", response_model=Page[RuleOut],
            responses=problems(400, 401, 403, 422))
async def list_(
    session: ReadDep, _: AgentDep, enabled: Annotated[bool | None, Query()] = None,
    cursor: CursorQuery = None, limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Rules in evaluation order: by position, then id."""
    rows = await page_of_rules(session, _after(cursor) if cursor else None, limit, enabled)
    rows, next_cursor = split_page(rows, limit, lambda r: [r.position, r.id])
    return {"items": [service.rule_view(r) for r in rows], "next_cursor": next_cursor}


@router.post("", summary="Create a rule", response_model=RuleOut,
             status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 422))
async def create(body: RuleIn, core: CoreDep, session: SessionDep,
                 _: SupervisorDep) -> dict[str, Any]:
    """Validated whole (fields, ops, values, regexes, that teams/agents/policies exist)."""
    return service.rule_view(await service.create_rule(core, session, body))


@router.post("/test", summary="Dry-run the rules on a message", response_model=RuleTestOut,
             responses=problems(401, 403, 422))
async def test(body: RuleTestIn, session: ReadDep, principal: SupervisorDep) -> dict[str, Any]:
    """Which rule this message would hit and its actions; nothing is changed."""
    return await service.dry_run(session, body, principal)


# `:int`: /v1/rules/test is its own operation, so PATCH /v1/rules/test is a 405.
@router.get("/{rule_id:int}", summary="Get a rule", response_model=RuleOut,
            responses=problems(401, 403, 404, 422))
async def get(rule_id: IdPath, session: ReadDep, _: AgentDep) -> dict[str, Any]:
    """One rule."""
    return service.rule_view(await service.get_rule(session, rule_id))


@router.patch("/{rule_id:int}", summary="Update a rule", response_model=RuleOut,
              responses=problems(401, 403, 404, 422))
async def update(rule_id: IdPath, body: RulePatch, core: CoreDep, session: SessionDep,
                 _: SupervisorDep) -> dict[str, Any]:
    """Change any part; the rule as it would then be is validated whole."""
    rule = await service.get_rule(session, rule_id)
    return service.rule_view(await service.update_rule(core, session, rule, body))


@router.delete("/{rule_id:int}", summary="Delete a rule", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=problems(401, 403, 404, 422))
async def delete(rule_id: IdPath, session: SessionDep, _: SupervisorDep) -> Response:
    """Remove the rule; every replica stops applying it at its next batch."""
    await service.delete_rule(session, await service.get_rule(session, rule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
