"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from router.core import Core
from router.models import InboundEvent, OutboxItem

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", responses={503: {"description": "Not ready"}})
async def readyz(request: Request) -> Any:
    """The database answers and the background workers are running."""
    core: Core = request.app.state.core
    checks: dict[str, str] = {}
    try:
        async with core.reads() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"failing: {type(exc).__name__}"
    if core.settings.run_workers:
        for name in ("inbound", "outbox"):
            task = core.workers.get(name)
            checks[name] = "ok" if task is not None and not task.done() else "stopped"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Requests, ingest counts and lag, outbox depth and failures."""
    core: Core = request.app.state.core
    async with core.reads() as session:
        backlog = await session.scalar(select(func.count()).select_from(InboundEvent)
                                       .where(InboundEvent.state == "received"))
        depth = await session.scalar(select(func.count()).select_from(OutboxItem)
                                     .where(OutboxItem.state == "pending"))
    core.metrics.inbound_backlog.set(backlog or 0)
    core.metrics.outbox_depth.set(depth or 0)
    return Response(generate_latest(core.metrics.registry), media_type=CONTENT_TYPE_LATEST)
