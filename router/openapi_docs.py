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
    429: "Over a rate limit (per API key, per webhook channel and source); retry after "
         "`Retry-After` seconds",
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


RETRY_AFTER = {"Retry-After": {"description": "Seconds until a request would pass",
                               "schema": {"type": "integer", "minimum": 1}}}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented problems; whatever needs a key or signature (401) is rate limited too."""
    if 401 in codes and 429 not in codes:
        codes = (*codes, 429)
    return {
        code: {
            "model": Problem,
            "description": DESCRIPTIONS[code],
            "content": {"application/problem+json": {}},
            **({"headers": RETRY_AFTER} if code == 429 else {}),
        }
        for code in codes
    }
