"""Documented error responses: every endpoint names the problems it can answer with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

DESCRIPTIONS = {
    400: "Malformed request (bad cursor, bad JSON)",
    401: "Missing, unknown or revoked API key / bad signature",
    403: "The key's role does not allow this / forged provider secret / a URL this service "
         "does not fetch from",
    404: "No such resource",
    410: "The resource existed and was deleted on purpose (an expired upload)",
    409: "Conflicts with the current state",
    413: "Request body over the size limit",
    422: "Validation failed; `errors` names each field",
    502: "The channel's provider failed or refused the request",
    503: "Not ready",
}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(default=None)


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {
            "model": Problem,
            "description": DESCRIPTIONS[code],
            "content": {"application/problem+json": {}},
        }
        for code in codes
    }
