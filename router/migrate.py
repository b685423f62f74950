"""Running Alembic from code (serve, migrate, tests) against either store."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config


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
