"""Reports for support leads: summary, tags, one row per case; JSON or CSV (`Accept`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from router.access.scope import team_scope
from router.auth.deps import CoreDep, ReadDep, SupervisorDep
from router.instants import IsoDateTime
from router.openapi_docs import problems
from router.pagination import (
    BadCursor,
    CursorQuery,
    LimitQuery,
    Page,
    cursor_id,
    decode_cursor,
    encode_cursor,
)
from router.reports.cases import COLUMNS as CASE_COLUMNS
from router.reports.csv_out import csv_lines
from router.reports.hours import Hours
from router.reports.periods import Interval
from router.reports.schemas import CaseRow, SummaryRow, TagRow
from router.reports.service import case_rows, summary_rows, window_of, zone_of
from router.reports.summary import GroupBy
from router.reports.tags import SpikeRule, tag_report

router = APIRouter(prefix="/v1/reports", tags=["reports"])

FromQuery = Annotated[IsoDateTime | None, Query(alias="from", description="Cases opened from (UTC"
                                                                          " if no offset)")]
ToQuery = Annotated[IsoDateTime | None, Query(alias="to", description="… until before this time")]
TzQuery = Annotated[str, Query(max_length=64, description="IANA zone for days and weeks")]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "JSON, or CSV with `Accept: text/csv`"}}
SUMMARY_COLUMNS = [
    "key", "label", "cases", "messages_in", "first_response_seconds.median",
    "first_response_seconds.p90", "first_response_seconds.mean", "resolution_seconds.median",
    "resolution_seconds.p90", "resolution_seconds.mean", "fcr_rate", "reopen_rate",
    "sla_met_rate", "csat.responses", "csat.mean", *(f"csat.distribution.{n}" for n in range(1, 6)),
    "csat.satisfied_rate",
]
TAG_COLUMNS = ["tag", "period", "cases", "customers", "spike", "baseline"]


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")



async def _rows(items: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for item in items:
        yield item


def _csv(rows: AsyncIterator[dict[str, Any]], columns: list[str], name: str) -> StreamingResponse:
    return StreamingResponse(csv_lines(rows, columns), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/summary", summary="Support figures per group", response_model=Page[SummaryRow],
            responses={**problems(401, 403, 422), **CSV})
async def summary(
    request: Request, session: ReadDep, principal: SupervisorDep,
    from_: FromQuery = None, to: ToQuery = None, group_by: GroupBy = "day",
    hours: Hours = "calendar", tz: TzQuery = "UTC",
) -> Any:
    """Cases, inbound messages, FRT and resolution (median, p90, mean), FCR, reopen, SLA, CSAT."""
    window, zone = window_of(from_, to), zone_of(tz)
    rows = await summary_rows(session, window, group_by, hours, zone, team_scope(principal))
    if wants_csv(request):
        return _csv(_rows(rows), SUMMARY_COLUMNS, f"summary-{group_by}")
    return {"items": rows, "next_cursor": None}


@router.get("/tags", summary="Cases and customers per tag per period",
            response_model=Page[TagRow], responses={**problems(401, 403, 422), **CSV})
async def tags(
    request: Request, core: CoreDep, session: ReadDep, principal: SupervisorDep,
    from_: FromQuery = None, to: ToQuery = None, interval: Interval = "week",
    tz: TzQuery = "UTC",
) -> Any:
    """Per tag and day/week: cases and distinct customers; `spike` on an unusual last period."""
    window = window_of(from_, to, default_days=91)
    settings = core.settings
    rule = SpikeRule(settings.spike_factor, settings.spike_min_cases, settings.spike_trailing)
    rows = await tag_report(session, window, interval, zone_of(tz), rule, team_scope(principal))
    if wants_csv(request):
        return _csv(_rows(rows), TAG_COLUMNS, f"tags-{interval}")
    return {"items": rows, "next_cursor": None}


@router.get("/cases", summary="One row per case", response_model=Page[CaseRow],
            responses={**problems(400, 401, 403, 422), **CSV})
async def cases(
    request: Request, core: CoreDep, principal: SupervisorDep, from_: FromQuery = None,
    to: ToQuery = None, hours: Hours = "calendar", cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Any:
    """Every case opened in the period; JSON pages by cursor, CSV streams them all."""
    window, team_ids = window_of(from_, to), team_scope(principal)
    if wants_csv(request):
        return _csv(case_rows(core, window, hours, team_ids), CASE_COLUMNS, "cases")
    after = None
    if cursor is not None:
        opened, case_id = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(str(opened)), cursor_id(case_id))
        except ValueError:
            raise BadCursor("this cursor was not issued by this API") from None
    items = [row async for row in case_rows(core, window, hours, team_ids, after, limit + 1)]
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = encode_cursor([last["opened_at"].isoformat(), last["case_id"]])
    return {"items": items, "next_cursor": next_cursor}
