"""The `omniroute` command: serve, migrate, keys, openapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys

from router.settings import Settings


def _migrate(settings: Settings) -> None:
    from router.migrate import upgrade

    upgrade(settings.database_url)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from router.app import create_app
    from router.db import is_sqlite

    if is_sqlite(settings.database_url):
        # The embedded store is ours to keep current; server stores are migrated on purpose.
        # In a child process (`omniroute migrate`, same environment): Alembic and the
        # migration scripts would otherwise stay loaded in the worker, ~10 MB of its memory.
        migrated = subprocess.run([sys.executable, "-m", "router.cli", "migrate"],
                                  check=False, stdout=subprocess.DEVNULL)
        if migrated.returncode != 0:
            print("omniroute: migrating the embedded database failed (see above)",
                  file=sys.stderr)
            return migrated.returncode
    app = create_app(settings)
    app.settle_heap_after_start = True
    uvicorn.run(app, host=args.host, port=args.port,
                log_level=settings.log_level.lower(), proxy_headers=True,
                timeout_graceful_shutdown=10)
    return 0


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
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
    serve = sub.add_parser("serve", help="migrate the embedded database and serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
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
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic narrates every plugin and context at INFO; only its warnings are news to an operator.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
    result: int = args.func(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
