"""CSAT settings, kept in service_meta so every replica reads the same."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import ServiceMeta

KEY = "csat.settings"
CHANNEL_TYPES = ("telegram", "whatsapp", "email", "webchat", "api")


class CsatSettings(BaseModel):
    # Strict: "0" or 0.0 for a number and 0 for `enabled` were accepted against the schema.
    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool = True
    # Seconds after resolution before the survey goes out (0: at once).
    delay_seconds: int = Field(default=0, ge=0, le=30 * 86_400)
    question: str = Field(default="How would you rate the help you got? 1 is poor, 5 is "
                                  "excellent.", min_length=1, max_length=500)
    comment_prompt: str = Field(default="Thank you! What made it good, or what could be "
                                        "better?", min_length=1, max_length=500)
    thanks: str = Field(default="Thank you for your rating!", min_length=1, max_length=300)
    channel_types: list[str] = Field(default_factory=lambda: list(CHANNEL_TYPES),
                                     max_length=len(CHANNEL_TYPES))
    # E-mail links (and buttons) stop working after this long.
    link_ttl_days: int = Field(default=14, ge=1, le=365)


async def load_settings(session: AsyncSession) -> CsatSettings:
    row = await session.get(ServiceMeta, KEY)
    return CsatSettings() if row is None else CsatSettings.model_validate_json(row.value)


async def save_settings(session: AsyncSession, settings: CsatSettings) -> None:
    row = await session.get(ServiceMeta, KEY)
    if row is None:
        session.add(ServiceMeta(key=KEY, value=settings.model_dump_json()))
    else:
        row.value = settings.model_dump_json()
