"""SLA experiments: supervisors create, start and stop; agents read results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from router.auth.deps import AgentDep, CoreDep, ReadDep, SessionDep, SupervisorDep
from router.csat.lookup import CsatScores
from router.experiments import service
from router.experiments.report import build_report
from router.experiments.schemas import ExperimentCreate, ExperimentOut
from router.ids import IdPath
from router.models.sla import Experiment
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page
from router.sla.service import page_of

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


@router.post("", summary="Create an SLA experiment", response_model=ExperimentOut,
             status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 422))
async def create(body: ExperimentCreate, core: CoreDep, session: SessionDep,
                 _: SupervisorDep) -> dict[str, Any]:
    """A draft: filter, weighted buckets, each bucket's SLA policy."""
    return service.experiment_view(await service.create(session, body, set(core.connectors)))


@router.get("", summary="List SLA experiments", response_model=Page[ExperimentOut],
            responses=problems(400, 401))
async def list_(session: ReadDep, _: AgentDep, limit: LimitQuery = 50,
                cursor: CursorQuery = None) -> dict[str, Any]:
    """Every experiment, oldest first."""
    rows, next_cursor = await page_of(session, Experiment, limit, cursor)
    return {"items": [service.experiment_view(r) for r in rows], "next_cursor": next_cursor}


@router.get("/{experiment_id}", summary="Get an SLA experiment", response_model=ExperimentOut,
            responses=problems(401, 404))
async def get(experiment_id: IdPath, session: ReadDep, _: AgentDep) -> dict[str, Any]:
    """One experiment."""
    return service.experiment_view(await service.get(session, experiment_id))


@router.post("/{experiment_id}/start", summary="Start an SLA experiment",
             response_model=ExperimentOut, responses=problems(401, 403, 404, 409))
async def start(experiment_id: IdPath, session: SessionDep, _: SupervisorDep) -> dict[str, Any]:
    """From now on each new matching case gets a bucket."""
    row = await service.get(session, experiment_id)
    return service.experiment_view(await service.start(session, row))


@router.post("/{experiment_id}/stop", summary="Stop an SLA experiment",
             response_model=ExperimentOut, responses=problems(401, 403, 404, 409))
async def stop(experiment_id: IdPath, session: SessionDep, _: SupervisorDep) -> dict[str, Any]:
    """No new cases join; cases keep their bucket and its SLA."""
    row = await service.get(session, experiment_id)
    return service.experiment_view(await service.stop(session, row))


@router.get("/{experiment_id}/report", summary="SLA experiment report",
            responses=problems(401, 404))
async def report(experiment_id: IdPath, session: ReadDep, _: AgentDep) -> dict[str, Any]:
    """Per bucket: cases, FRT and resolution (median, p90), SLA met rate, CSAT, with 95 %
    intervals, and each bucket against the first with the test used and its p-value."""
    return await build_report(session, await service.get(session, experiment_id),
                              CsatScores())
