"""Version tokens of configuration that replicas cache (the compiled routing rules, ...)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, UTCDateTime, utcnow


class ConfigVersion(Base):
    """One row per cached kind of configuration; its token is replaced in the same transaction
    as every change, so any replica notices a change with one primary-key read."""

    __tablename__ = "config_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Random, never a counter: a counter could repeat after a restore or a truncation and
    # make a stale cache look current.
    token: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
