"""Why a guarded fetch did not hand back a body; both are DeliveryErrors for the outbox."""

from __future__ import annotations

from connectors.base import DeliveryError


class FetchRefused(DeliveryError):
    """We will not fetch this URL (scheme, address, size): trying again cannot help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retryable=False)


class FetchTooLarge(FetchRefused):
    """The body is over the cap this fetch allows (declared or counted while streaming)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the {limit} bytes allowed here")
        self.limit = limit


class FetchFailed(DeliveryError):
    """The remote end could not be reached, was too slow, or answered with an error."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason, retryable=retryable)
