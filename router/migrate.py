"""Running Alembic from code (serve, migrate, tests) against either store."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

# pg_advisory_lock key held for a whole migration run (ASCII "omniroute" folded to 63 bits):
# replicas and Jobs that migrate at once take turns (migrations/env.py).
MIGRATION_LOCK_KEY = 0x6F6D6E69726F7574


def migrations_dir() -> Path:
    """The checkout's migrations/ (source or editable install), else ./migrations (images)."""
    for candidate in (Path(__file__).resolve().parent.parent / "migrations",
                      Path.cwd() / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("migrations/ not found beside the package or in the working "
                            "directory; run omniroute from the project checkout")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def _current(database_url: str) -> str | None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(text(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'alembic_version'"
                if conn.dialect.name == "postgresql" else
                "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"))
            if not exists:
                return None
            value = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return str(value) if value is not None else None
    finally:
        await engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return asyncio.run(_current(database_url))


def schema_problem(database_url: str) -> str | None:
    """One line saying why the database cannot be served as it is, or None when it is current."""
    try:
        current = current_revision(database_url)
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        return f"cannot reach the database ({type(exc).__name__}: {reason})"
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    head = scripts.get_current_head()
    if current == head:
        return None
    if current is not None and current not in {rev.revision for rev in scripts.walk_revisions()}:
        return (f"the database schema is at revision {current}, which this release does not "
                "know (a newer release migrated it): run the newer release")
    if current is None:
        return "the database has no omniroute schema yet: run `omniroute migrate` first"
    return (f"the database schema is at revision {current}, this release needs {head}: "
            "run `omniroute migrate` first")
