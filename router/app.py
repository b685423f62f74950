"""create_app(settings): the FastAPI app; its lifespan builds the engine, bus and workers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from starlette.types import Receive, Scope, Send

from connectors.registry import load_connectors
from router.access_log import install_redaction
from router.agents.presence import PresenceTracker
from router.assignment.overflow import run_overflow
from router.assignment.service import on_sla_transfer
from router.core import Core
from router.crypto import SecretBox
from router.csat.scheduler import run_survey_scheduler
from router.db import create_engine, session_factory, sqlite_file
from router.errors import SecretKeyMismatch
from router.events.bus import EventBus, InProcessBus, RedisBus
from router.events.stream import accepted_stream, stream_events
from router.ingest.gateway import CoreGateway
from router.ingest.hot_path import WebhookHotPath
from router.ingest.receivers import Receivers
from router.ingest.worker import run_inbound_worker
from router.metrics import Metrics
from router.middleware import BodyLimit, RequestMetrics, WebhookLimit, route_limits
from router.models import ServiceMeta
from router.openapi_docs import complete_problems
from router.openapi_links import add_links
from router.outbox.worker import OutboxWorker
from router.problems import install as install_problem_handlers
from router.ratelimit.limiter import Throttle
from router.ratelimit.webhooks import WebhookThrottle
from router.reports.spikes import run_spike_watcher
from router.routes import include_all
from router.secret_key import resolve_secret_key
from router.settings import Settings
from router.sla.scheduler import SlaScheduler
from router.sqlite_loop import Checkpointer
from router.worker_link import (
    WAKE_INBOUND,
    WAKE_OUTBOX,
    ServerLink,
    WorkerBus,
    stop_worker_process,
)

log = logging.getLogger("omniroute")
KEY_CHECK = "secret_key_check"
# Allocations between young collections (CPython's default is 700).
GC_YOUNG_THRESHOLD = 5_000


async def _check_secret_key(core: Core) -> None:
    """Refuse to start with a key other than the one the stored secrets were sealed with."""
    async with core.unit() as session:
        # Replicas starting at once on a new database race to record it: the first wins,
        # the others compare against what it wrote.
        insert = (sqlite_insert if core.sqlite else pg_insert)(ServiceMeta)
        await session.execute(insert.values(key=KEY_CHECK, value=core.box.check_value)
                              .on_conflict_do_nothing(index_elements=["key"]))
        row = await session.get(ServiceMeta, KEY_CHECK, populate_existing=True)
        if row is None or row.value != core.box.check_value:
            raise SecretKeyMismatch(
                "OMNIROUTE_SECRET_KEY is not the key this database was set up with; channel "
                "secrets cannot be decrypted. Restore the original key (embedded installs keep "
                "it in the .key file beside the database).")


def settle_heap() -> None:
    """Keep the garbage collector off everything loaded at start-up.

    The modules, routes and models (about a million objects) never become garbage, yet each
    full collection walked them all: 50-75 ms with the event loop stopped, several times a
    minute under load, which was the webhook ack p99 (bench/NOTES.md). Frozen, a full
    collection walks only what was made since. Gen 0 runs less often too, so fewer
    short-lived objects (a request's, a batch's) live long enough to be promoted.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def _bus(settings: Settings) -> EventBus:
    if settings.redis_url:
        return RedisBus(settings.redis_url, stream=settings.redis_stream,
                        maxlen=settings.redis_stream_maxlen)
    return InProcessBus(settings.event_buffer_size)


async def _join_server(app: FastAPI, core: Core, link: WorkerBus) -> None:
    """The worker process: the server's wake-ups set this process's worker events."""
    def wake(kind: bytes) -> None:
        (core.inbound_wakeup if kind == WAKE_INBOUND else core.outbox_wakeup).set()

    link.on_wake = wake
    if link is not core.bus:
        await link.start()
    app.state.worker_link = link


def _telemetry(settings: Settings) -> dict[str, Any]:
    """FastAPI's own OpenTelemetry switched off unless OMNIROUTE_OPENTELEMETRY is true."""
    if settings.opentelemetry or "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False,
                          "operation_spans": False}}


class Omniroute(FastAPI):
    # Set by create_app; None serves every webhook through FastAPI.
    webhook_hot_path: WebhookHotPath | None = None
    # Set by `omniroute serve`, which owns its process (tests run many apps in one).
    settle_heap_after_start = False

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, completed with the problems and links it cannot infer."""
        if self.openapi_schema is None:
            self.openapi_schema = add_links(complete_problems(super().openapi()))
        return self.openapi_schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The busy webhooks are served before FastAPI's stack, which was most of their CPU
        # (router/ingest/hot_path.py).
        hot_path = self.webhook_hot_path
        hot = hot_path.find(scope) if hot_path is not None else None
        gateway = getattr(self.state, "inbound_gateway", None) if hot is not None else None
        if hot_path is not None and hot is not None and gateway is not None:
            await hot_path.serve(gateway, *hot, scope, receive, send)
            return
        # Live event streams too: one replica holds thousands, and every layer would stay on
        # each one's stack (router/events/stream.py).
        accepted = await accepted_stream(self, scope)
        if accepted is None:
            await super().__call__(scope, receive, send)
        else:
            await stream_events(*accepted, receive, send)


def create_app(settings: Settings | None = None) -> Omniroute:
    settings = settings or Settings()
    install_redaction()
    connectors = load_connectors()
    metrics = Metrics(sorted(connectors))
    logging.getLogger("omniroute.access").setLevel(
        logging.NOTSET if settings.access_log else logging.WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        secret_key = resolve_secret_key(settings.secret_key, settings.database_url)
        engine = create_engine(settings.database_url, settings.database_pool_size,
                               settings.database_max_overflow)
        # In a worker process: its events go to the server unless Redis carries them.
        worker_link = (WorkerBus(settings.worker_link_fd)
                       if settings.worker_link_fd is not None else None)
        bus: EventBus = (worker_link if worker_link is not None and not settings.redis_url
                         else _bus(settings))
        core = Core(settings=settings, secret_key=secret_key, engine=engine,
                    sessions=session_factory(engine, write=True),
                    reads=session_factory(engine, write=False), bus=bus,
                    connectors=connectors, box=SecretBox(secret_key), metrics=metrics)
        core.gateway = CoreGateway(core)
        core.receivers = Receivers(core)
        core.throttle = Throttle(settings)
        core.presence = PresenceTracker(core)
        app.state.core = core
        app.state.inbound_gateway = core.gateway
        app.state.key_cache = core.key_cache
        outbox = OutboxWorker(core)
        # Every replica wakes the schedulers when it arms a timer; workers also run one.
        # A breach's transfer goes through the assignment engine (assigned or queued).
        sla = SlaScheduler(core, on_transfer=on_sla_transfer)
        app.state.sla_scheduler = sla
        core.sla_wakeup = sla.wake
        database_file = sqlite_file(engine)
        checkpointer = Checkpointer(database_file) if database_file else None
        try:
            await _check_secret_key(core)
            if checkpointer is not None:
                checkpointer.start()
            await core.bus.start()
            if worker_link is not None:
                await _join_server(app, core, worker_link)
            if settings.server_link_fd is not None:
                server_link = ServerLink(settings.server_link_fd, core.bus.publish)
                await server_link.start()
                core.wake_elsewhere = lambda kind: server_link.wake(
                    WAKE_INBOUND if kind == "inbound" else WAKE_OUTBOX)
                app.state.server_link = server_link
            await core.gateway.start()
            await core.presence.start()
            for connector in connectors.values():
                await connector.start(core.gateway)
            if settings.run_workers:
                core.workers["inbound"] = asyncio.create_task(run_inbound_worker(core),
                                                              name="omniroute-inbound")
                core.workers["outbox"] = asyncio.create_task(outbox.run(), name="omniroute-outbox")
                core.workers["overflow"] = asyncio.create_task(run_overflow(core),
                                                               name="omniroute-overflow")
                core.workers["sla"] = asyncio.create_task(sla.run(), name="omniroute-sla")
                core.workers["spikes"] = asyncio.create_task(run_spike_watcher(core),
                                                             name="omniroute-spikes")
                core.workers["surveys"] = asyncio.create_task(run_survey_scheduler(core),
                                                              name="omniroute-surveys")
                await core.receivers.start_all()
            if isinstance(app, Omniroute) and app.settle_heap_after_start:
                settle_heap()
            yield
        finally:
            worker_process = getattr(app.state, "worker_process", None)
            if worker_process is not None:
                # First, while this server still takes the events it sends on its way out.
                await asyncio.to_thread(stop_worker_process, worker_process)
            await core.receivers.stop_all()
            for task in core.workers.values():
                task.cancel()
            for task in core.workers.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await outbox.stop()
            await core.presence.stop()
            await sla.close()
            await core.gateway.stop()
            await core.bus.stop()
            await core.throttle.close()
            if worker_link is not None and worker_link is not core.bus:
                await worker_link.stop()
            if getattr(app.state, "server_link", None) is not None:
                await app.state.server_link.stop()
            for connector in connectors.values():
                with contextlib.suppress(Exception):
                    await connector.close()
            await engine.dispose()
            if checkpointer is not None:
                await checkpointer.stop()

    app = Omniroute(
        title="omniroute",
        version="0.1.0",
        summary="One thread per customer across every channel.",
        lifespan=lifespan,
        **_telemetry(settings),
    )
    install_problem_handlers(app)
    include_all(app, connectors)
    # One set of webhook counters for both ways a webhook is served.
    webhook_throttle = WebhookThrottle(settings)
    app.add_middleware(WebhookLimit, throttle=webhook_throttle)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       routes=route_limits(app.routes))
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.webhook_hot_path = WebhookHotPath(connectors, metrics, settings.max_body_bytes,
                                          webhook_throttle)
    return app
