"""Meta's Graph API over httpx, and what its errors mean for the outbox.

Error codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from connectors.base import DeliveryError
from connectors.whatsapp.schemas import (
    GraphError,
    GraphErrorBody,
    MediaInfo,
    SendAnswer,
    TemplatePage,
)

if TYPE_CHECKING:
    # httpx (with click and pygments from its CLI module) loads with the first request.
    import httpx

# Throughput limits: the same message later goes through.
RATE_LIMITED = frozenset({
    4,        # application request limit reached
    80007,    # WhatsApp Business Account rate limit
    130429,   # Cloud API throughput reached
    131056,   # too many messages to the same customer in a short time
})
# Meta's side is briefly unwell.
TRANSIENT = frozenset({1, 2, 131000, 131016, 133004})
TOKEN_INVALID = 190
WINDOW_CLOSED = 131047
TEMPLATE_PAGE_LIMIT = 100
TEMPLATE_FIELDS = "id,name,language,status,category,components"


def graph_base_url(config: Mapping[str, Any]) -> str:
    return str(config.get("graph_base_url") or "https://graph.facebook.com").rstrip("/")


def graph_url(config: Mapping[str, Any], *path: str) -> str:
    base = graph_base_url(config)
    version = str(config.get("graph_version") or "v23.0")
    return "/".join([base, version, *path])


def auth_headers(config: Mapping[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {config['access_token']}"}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _graph_error(response: httpx.Response) -> GraphError:
    try:
        return GraphErrorBody.model_validate_json(response.content).error
    except ValidationError:
        return GraphError(message=response.text[:300] or None)


def delivery_error(response: httpx.Response) -> DeliveryError:
    """Classify a failed Graph API answer for the outbox worker."""
    error = _graph_error(response)
    code = error.code
    details = error.error_data.details if error.error_data else None
    said = error.message or f"HTTP {response.status_code}"
    if details and details not in said:
        said = f"{said}: {details}"
    tag = f"({code}) " if code is not None else ""
    if code == WINDOW_CLOSED:
        return DeliveryError(
            f"{tag}the 24-hour customer service window is closed; WhatsApp only accepts an "
            f"approved template now. Meta said: {said}", retryable=False, window_closed=True)
    if code == TOKEN_INVALID or response.status_code == 401:
        return DeliveryError(
            f"{tag}the access token was refused; update the channel's access_token. "
            f"Meta said: {said}", retryable=False, channel_unhealthy=True)
    if code in RATE_LIMITED or response.status_code == 429:
        return DeliveryError(f"{tag}rate limited by WhatsApp: {said}", retryable=True,
                             retry_after=_retry_after(response))
    if code in TRANSIENT or response.status_code >= 500:
        return DeliveryError(f"{tag}WhatsApp is temporarily unavailable: {said}",
                             retryable=True, retry_after=_retry_after(response))
    return DeliveryError(f"{tag}WhatsApp refused the message: {said}", retryable=False)


class GraphClient:
    """One pooled httpx client for every WhatsApp channel; config picks base URL and token."""

    def __init__(self, timeout: float = 20.0) -> None:
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            # All sends go to one host; keep as many connections alive as the outbox sends at once.
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout, connect=5.0),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=64))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _request(self, method: str, url: str, config: Mapping[str, Any],
                       **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = await self.http.request(method, url, headers=auth_headers(config),
                                               **kwargs)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"WhatsApp did not answer in time ({type(exc).__name__})",
                                retryable=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"WhatsApp unreachable: {type(exc).__name__}: {exc}",
                                retryable=True) from exc
        if response.status_code >= 400:
            raise delivery_error(response)
        return response

    async def send_message(self, config: Mapping[str, Any], request: dict[str, Any]) -> str:
        """POST one message; the wamid Meta assigned to it."""
        url = graph_url(config, str(config["phone_number_id"]), "messages")
        response = await self._request("POST", url, config, json=request)
        try:
            return SendAnswer.model_validate_json(response.content).messages[0].id
        except ValidationError as exc:
            raise DeliveryError(f"WhatsApp answered without a message id: "
                                f"{response.text[:200]}", retryable=False) from exc

    async def media(self, config: Mapping[str, Any], media_id: str) -> MediaInfo:
        """Resolve a media id to its short-lived download URL."""
        response = await self._request("GET", graph_url(config, media_id), config)
        try:
            return MediaInfo.model_validate_json(response.content)
        except ValidationError as exc:
            raise DeliveryError(f"WhatsApp media {media_id} came back without a URL",
                                retryable=False) from exc

    async def approved_templates(self, config: Mapping[str, Any],
                                 account_id: str) -> list[dict[str, Any]]:
        """Every APPROVED template of the business account, following the paging cursors."""
        url = graph_url(config, account_id, "message_templates")
        params = {"status": "APPROVED", "limit": str(TEMPLATE_PAGE_LIMIT),
                  "fields": TEMPLATE_FIELDS}
        found: list[dict[str, Any]] = []
        while True:
            response = await self._request("GET", url, config, params=params)
            try:
                page = TemplatePage.model_validate_json(response.content)
            except ValidationError as exc:
                raise DeliveryError("WhatsApp answered the template list with an unexpected "
                                    "body", retryable=True) from exc
            found.extend(page.data)
            after = page.paging.cursors.after if page.paging and page.paging.cursors else None
            # Only a `next` link means there is another page; a lone cursor marks the end.
            if not page.data or not after or not (page.paging and page.paging.next):
                return found
            params = {**params, "after": after}

    async def check_phone_number(self, config: Mapping[str, Any]) -> None:
        """Read the configured phone number: proves the token and the number id belong."""
        await self._request("GET", graph_url(config, str(config["phone_number_id"])), config,
                            params={"fields": "display_phone_number,verified_name"})
