"""Alembic environment: async engines for SQLite and PostgreSQL alike.

On PostgreSQL the whole run holds a session advisory lock, so replicas (or Jobs) that
migrate at the same moment take turns: the first applies the revisions, the others then find
the schema at head and do nothing.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from router.migrate import MIGRATION_LOCK_KEY
from router.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            postgresql = connection.dialect.name == "postgresql"
            if connection.dialect.name == "sqlite":
                await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            if postgresql:
                # Session-level, taken outside the migration's transaction and committed at
                # once, so the wait for it never holds a snapshot of the old schema.
                await connection.exec_driver_sql(
                    f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
                await connection.commit()
            try:
                await connection.run_sync(_run)
                await connection.commit()
            finally:
                if postgresql:
                    # After a failed revision the transaction is aborted; unlock outside it.
                    await connection.rollback()
                    await connection.exec_driver_sql(
                        f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                    await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
