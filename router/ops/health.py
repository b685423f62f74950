"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from router.core import Core
from router.ops.probe import ScrapeProbe

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
    link = getattr(request.app.state, "server_link", None)
    if link is not None:
        checks["worker_process"] = "ok" if link.alive else "stopped"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Ingest, processing lag, outbox depth and age, deliveries, SLA, live-event clients."""
    core: Core = request.app.state.core
    probe: ScrapeProbe | None = getattr(request.app.state, "scrape_probe", None)
    if probe is None:
        probe = request.app.state.scrape_probe = ScrapeProbe()
    await probe.refresh(core)
    return Response(generate_latest(core.metrics.registry), media_type=CONTENT_TYPE_LATEST)
