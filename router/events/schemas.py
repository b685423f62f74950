"""Wire shapes of the live-event endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class EventTicketOut(BaseModel):
    ticket: str
    expires_at: datetime
    expires_in: int

