"""Every router the app serves, core first, then each connector's webhooks."""

from __future__ import annotations

from fastapi import FastAPI

from connectors.base import Connector
from router.agents.endpoints import router as agents
from router.assignment.endpoints import router as assignment
from router.cases.endpoints import router as cases
from router.channels.endpoints import router as channels
from router.console.endpoints import router as console
from router.csat.endpoints import router as csat
from router.csat.page import router as csat_page
from router.customers.endpoints import router as customers
from router.events.endpoints import router as events
from router.experiments.endpoints import router as experiments
from router.ops.health import router as health
from router.ops.inbound_events import router as inbound_events
from router.ops.keys import router as keys
from router.ops.media import router as media
from router.reports.endpoints import router as reports
from router.rules.endpoints import router as rules
from router.sla.endpoints import hours_router, policies_router
from router.teams.endpoints import router as teams
from router.threads.endpoints import router as threads


def include_all(app: FastAPI, connectors: dict[str, Connector]) -> None:
    for router in (health, channels, customers, threads, cases, assignment, media, events,
                   inbound_events, keys, rules, agents, teams, hours_router,
                   policies_router, experiments, reports, csat, csat_page, console):
        app.include_router(router)
    for name in sorted(connectors):
        app.include_router(connectors[name].routes())
