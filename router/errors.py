"""One error base for the service, rendered as RFC 9457 application/problem+json."""

from __future__ import annotations

import math
from typing import Any

PROBLEM_BASE = "https://omniroute.dev/problems/"


def problem_body(status: int, slug: str, title: str, detail: str,
                 **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document; every error answer is built here."""
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            **extra}


class ProblemError(Exception):
    """A domain error with an HTTP status and a stable problem `type` slug."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return problem_body(self.status, self.slug, self.title, self.detail, **self.extra)

    def headers(self) -> dict[str, str]:
        """Response headers the answer needs besides the document (none by default)."""
        return {}


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class Unprocessable(ProblemError):
    status, slug, title = 422, "unprocessable", "Unprocessable request"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Forbidden"


class Gone(ProblemError):
    status, slug, title = 410, "gone", "Gone"


class UnsafeSource(ProblemError):
    """A URL someone else chose points where this service does not fetch from."""

    status, slug, title = 403, "fetch-refused", "Fetch refused"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class RateLimited(ProblemError):
    """Over a rate limit; `Retry-After` says when the next request would pass."""

    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(detail, extra={"retry_after": self.retry_after})

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ReplyWindowClosed(ProblemError):
    status, slug, title = 409, "reply-window-closed", "Reply window closed"


class ProviderUnavailable(ProblemError):
    """The channel's provider refused or failed a request made on the caller's behalf."""

    status, slug, title = 502, "provider-unavailable", "Provider unavailable"


class ServiceUnavailable(ProblemError):
    """A dependency (the database) cannot be reached: nothing was stored, try again."""

    status, slug, title = 503, "unavailable", "Service unavailable"
    retry_after_seconds = 1

    def headers(self) -> dict[str, str]:
        # Providers and clients back off instead of hammering a store that is away.
        return {"Retry-After": str(self.retry_after_seconds)}


class SecretKeyMismatch(RuntimeError):
    """Stored secrets were encrypted with another OMNIROUTE_SECRET_KEY."""
