"""Where OMNIROUTE_SECRET_KEY comes from when nobody set one (embedded default)."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from router.db import is_sqlite

log = logging.getLogger("omniroute.secret_key")


class MissingSecretKey(RuntimeError):
    """A server deployment (PostgreSQL) must be given its key explicitly."""


def key_file_for(database_url: str) -> Path | None:
    """The key file beside an on-disk SQLite database, or None for other stores."""
    if not is_sqlite(database_url):
        return None
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return None
    return Path(database).resolve().with_suffix(".key")


def resolve_secret_key(configured: str | None, database_url: str) -> str:
    """The configured key, or the embedded one kept beside the database (created once)."""
    if configured:
        return configured
    path = key_file_for(database_url)
    if path is None:
        if is_sqlite(database_url):
            # An in-memory database dies with the process; so may its key.
            return secrets.token_urlsafe(32)
        raise MissingSecretKey(
            "OMNIROUTE_SECRET_KEY must be set when the database is not the embedded SQLite file"
        )
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.warning("no OMNIROUTE_SECRET_KEY set: generated one and stored it in %s (mode 600); "
                "back it up with the database, channel secrets cannot be read without it", path)
    return key
