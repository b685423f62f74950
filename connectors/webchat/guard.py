"""Who may talk to a web-chat channel: the origins allowed to embed it.

(How fast is the core's: `InboundGateway.rate_limit`.)"""

from __future__ import annotations

from collections.abc import Sequence


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, allowed: Sequence[str], own_origin: str) -> bool:
    """Browsers always send Origin on cross-site fetches and WebSockets; a request without one
    is not a browser, which CORS does not guard anyway, so it passes (the token still rules)."""
    if origin is None:
        return True
    value = normalise_origin(origin)
    if "*" in allowed:
        return True
    # "null" comes from sandboxed frames and file:// pages: never an embedding site.
    if value == "null":
        return False
    return value in allowed or value == normalise_origin(own_origin)
