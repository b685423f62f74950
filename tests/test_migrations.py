"""The migrations build exactly the schema the models describe, on both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from router.db import create_engine
from router.models import Base


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def test_uploads_kept_in_connector_state_move_to_their_table(tmp_path: Path) -> None:
    import base64
    import json
    import sqlite3

    from router.migrate import upgrade

    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0003")
    record = {"visitor_id": "v_1", "url": "http://forged.host/webchat/wc1/files/f_x",
              "mime_type": "image/png", "filename": "dot.png", "size": 3,
              "data": base64.b64encode(b"png").decode()}
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO channels (id, type, name, config, health, created_at, "
                   "updated_at) VALUES ('wc1', 'webchat', 'site', '{}', 'ok', "
                   "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
        db.executemany("INSERT INTO connector_state (channel_id, key, value) VALUES (?, ?, ?)",
                       [("wc1", "file:f_aaaaaaaaaaaaaaaaaaaa", json.dumps(record)),
                        ("gone", "file:f_bbbbbbbbbbbbbbbbbbbb", json.dumps(record)),
                        ("wc1", "offset", "42")])
    upgrade(url)
    with sqlite3.connect(path) as db:
        uploads = db.execute("SELECT id, channel_id, owner, mime_type, filename, size, data "
                             "FROM uploads").fetchall()
        state = db.execute("SELECT channel_id, key FROM connector_state").fetchall()
    assert uploads == [("f_aaaaaaaaaaaaaaaaaaaa", "wc1", "v_1", "image/png", "dot.png", 3,
                        b"png")]
    assert state == [("wc1", "offset")]
