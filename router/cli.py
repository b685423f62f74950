"""The `omniroute` command: serve, migrate, keys, openapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys

from router.settings import Settings
from router.worker_link import stop_worker_process

# `omniroute migrate --check` (and `serve`) exit with this when the schema is not current.
SCHEMA_NOT_CURRENT = 3


def _migrate(settings: Settings) -> None:
    from router.migrate import upgrade

    upgrade(settings.database_url)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from router.app import create_app
    from router.db import is_sqlite

    # In a child process (`omniroute migrate`, same environment): Alembic and the migration
    # scripts would otherwise stay loaded in the server, ~10 MB of its memory.
    if is_sqlite(settings.database_url) or args.migrate or settings.migrate_on_start:
        # The embedded store is ours to keep current; a server store only when asked (under
        # PostgreSQL's advisory lock, so replicas starting at once take turns).
        migrated = subprocess.run([sys.executable, "-m", "router.cli", "migrate"],
                                  check=False, stdout=subprocess.DEVNULL)
        if migrated.returncode != 0:
            print("omniroute: migrating the database failed (see above)", file=sys.stderr)
            return migrated.returncode
    else:
        # A server store is migrated on purpose (a Job, `omniroute migrate`): say so in one
        # line instead of dying on the first missing table.
        checked = subprocess.run([sys.executable, "-m", "router.cli", "migrate", "--check"],
                                 check=False, stdout=subprocess.DEVNULL)
        if checked.returncode != 0:
            return checked.returncode
    worker: subprocess.Popen[bytes] | None = None
    if args.workers_process or settings.workers_process:
        settings, worker = _spawn_worker(settings)
    app = create_app(settings)
    app.settle_heap_after_start = True
    # Stopped by the app's shutdown: uvicorn re-raises SIGTERM once it is done, so nothing
    # after uvicorn.run would run.
    app.state.worker_process = worker
    try:
        # Our logging (router/logs.py) instead of uvicorn's; its access log would print query
        # strings, ours (router/middleware.py) prints the route and the request id.
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False,
                    log_level=settings.log_level.lower(), proxy_headers=True,
                    timeout_graceful_shutdown=settings.shutdown_grace_seconds)
    finally:
        if worker is not None:
            stop_worker_process(worker)
    return 0


def _spawn_worker(settings: Settings) -> tuple[Settings, subprocess.Popen[bytes]]:
    """Start `omniroute worker` joined to this server by a socket (router/worker_link.py)."""
    import os
    import socket

    ours, theirs = socket.socketpair()
    env = {**os.environ, "OMNIROUTE_WORKER_LINK_FD": str(theirs.fileno()),
           "OMNIROUTE_WORKERS_PROCESS": "false"}
    worker = subprocess.Popen([sys.executable, "-m", "router.cli", "worker"], env=env,
                              pass_fds=(theirs.fileno(),))
    theirs.close()
    server = settings.model_copy(update={"run_workers": False,
                                         "server_link_fd": ours.detach()})
    return server, worker


def cmd_worker(_: argparse.Namespace, settings: Settings) -> int:
    """The workers without an HTTP server: beside `serve --workers-process`, or on its own
    (API-only replicas wake it through Redis)."""
    asyncio.run(_run_worker(settings.model_copy(update={"run_workers": True})))
    return 0


async def _run_worker(settings: Settings) -> None:
    import signal

    from router.app import create_app

    app = create_app(settings)
    app.settle_heap_after_start = True
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with app.router.lifespan_context(app):
        link = getattr(app.state, "worker_link", None)
        waits = [asyncio.create_task(stop.wait())]
        if link is not None:  # the server went away: nothing left to work for
            waits.append(asyncio.create_task(link.server_gone.wait()))
        _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    if args.check:
        from router.migrate import schema_problem

        problem = schema_problem(settings.database_url)
        if problem is not None:
            print(f"omniroute: {problem}", file=sys.stderr)
            return SCHEMA_NOT_CURRENT
        print("database is at the latest schema")
        return 0
    _migrate(settings)
    print("database is at the latest schema")
    return 0


async def _create_key(settings: Settings, name: str, role: str | None,
                      agent_id: int | None) -> str:
    from router.auth.keys import Role, create_key
    from router.db import create_engine, session_factory
    from router.ops.keys import key_role

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine, write=True)() as session:
            checked: Role | None = role  # type: ignore[assignment]
            chosen = await key_role(session, checked, agent_id)
            _row, key = await create_key(session, name, chosen, agent_id)
            await session.commit()
    finally:
        await engine.dispose()
    return key


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from router.db import is_sqlite

    if is_sqlite(settings.database_url):
        _migrate(settings)
    from router.errors import ProblemError

    try:
        key = asyncio.run(_create_key(settings, args.name, args.role, args.agent_id))
    except ProblemError as exc:
        print(f"omniroute: {exc.detail}", file=sys.stderr)
        return 2
    print(key)
    role = args.role or "the agent's role"
    owner = f", agent {args.agent_id}" if args.agent_id else ""
    print(f"# API key {args.name!r} ({role}{owner}); shown only now, store it safely",
          file=sys.stderr)
    return 0


def cmd_openapi(_: argparse.Namespace, settings: Settings) -> int:
    from router.openapi_spec import spec

    print(json.dumps(spec(), indent=2, sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omniroute", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="migrate the embedded database (or check a server one) and serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--migrate", action="store_true",
                       help="migrate a server database first (under PostgreSQL's advisory "
                            "lock; same as OMNIROUTE_MIGRATE_ON_START=true)")
    serve.set_defaults(func=cmd_serve)
    serve.add_argument("--workers-process", action="store_true",
                       help="run the workers in a child process (the second core processes, "
                            "this one answers; same as OMNIROUTE_WORKERS_PROCESS=true)")
    worker = sub.add_parser("worker", help="run the workers without an HTTP server")
    worker.set_defaults(func=cmd_worker)
    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--check", action="store_true",
                         help="only say whether the schema is current (exit 3 if not)")
    migrate.set_defaults(func=cmd_migrate)
    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create an API key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["admin", "supervisor", "agent"],
                        help="required unless --agent-id is given (then: the agent's role)")
    create.add_argument("--agent-id", type=int, default=None,
                        help="the key acts as this agent (GET /v1/agents/me)")
    create.set_defaults(func=cmd_keys_create)
    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(func=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    from router.logs import configure

    configure(settings.log_level, settings.log_format)
    result: int = args.func(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
