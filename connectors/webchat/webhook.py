"""Web-chat HTTP routes: the widget script, sessions, history, messages, receipts, files.

Every per-channel route checks the browser's Origin against the channel's `allowed_origins`
and answers CORS for the allowed ones only; the WebSocket lives in `visitor_ws.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Channel, InboundGateway, WebhookRejected, get_gateway
from connectors.downloads import download_headers
from connectors.webchat.guard import origin_allowed
from connectors.webchat.intake import (
    RateLimited,
    Runtime,
    accept_message,
    accept_read,
    bearer,
    count_session,
    count_visitor,
    echo_frame,
    history_view,
    load_file,
    open_session,
    resumed_visitor,
    store_file,
    token_for,
    visitor_from_token,
)
from connectors.webchat.parse import message_external_id
from connectors.webchat.schemas import (
    WebchatSessionAnswer,
    WebchatSessionRequest,
    WebchatVisitorMessage,
)
from connectors.webchat.visitor_ws import add_websocket_route

WIDGET_JS = (Path(__file__).parent / "static" / "widget.js").read_bytes()
# Same slug base as the core's problem documents, so clients see one vocabulary.
PROBLEM_BASE = "https://omniroute.dev/problems/"
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"
GatewayDep = Annotated[InboundGateway, Depends(get_gateway)]


class WebchatReadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1,
                                                                        max_length=200)


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def _problem(exc: WebhookRejected) -> JSONResponse:
    slug = {401: "bad-token", 403: "forbidden", 404: "not-found", 410: "gone",
            413: "payload-too-large", 429: "rate-limited",
            507: "insufficient-storage"}.get(exc.status, "rejected")
    body = {"type": PROBLEM_BASE + slug, "title": exc.title, "status": exc.status,
            "detail": exc.detail}
    response = JSONResponse(body, status_code=exc.status, media_type="application/problem+json")
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


class CorsRoute(APIRoute):
    """Adds CORS headers for an origin the route allowed, on answers and refusals alike
    (without them the widget could not even read why it was refused)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except WebhookRejected as exc:
                response = _problem(exc)
            origin = getattr(request.state, "cors_origin", None)
            if origin:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
            return response

        return handler


async def channel_for(request: Request, gateway: InboundGateway, channel_id: str) -> Channel:
    """The web-chat channel, refusing browsers on origins it does not allow."""
    channel = await gateway.channel(channel_id, "webchat")
    origin = request.headers.get("origin")
    if not origin_allowed(origin, channel.config.get("allowed_origins", []), own_origin(request)):
        raise WebhookRejected(403, "Origin not allowed",
                              f"{origin} may not embed this chat; add it to allowed_origins")
    request.state.cors_origin = origin
    return channel


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["webchat"], route_class=CorsRoute)

    @router.get("/webchat/widget.js", summary="The embeddable chat widget",
                response_class=Response)
    async def widget() -> Response:
        """Plain JavaScript; embed with <script src=".../webchat/widget.js" data-channel="ID"
        async>."""
        return Response(WIDGET_JS, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300",
                                 "X-Content-Type-Options": "nosniff"})

    @router.options("/webchat/{channel_id}/{rest:path}", summary="CORS preflight",
                    status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
    async def preflight(channel_id: str, rest: str, request: Request,
                        gateway: GatewayDep) -> Response:
        """Answers browsers on an allowed origin; refuses others with 403."""
        await channel_for(request, gateway, channel_id)
        return Response(status_code=204, headers={
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Allow-Headers": CORS_HEADERS, "Access-Control-Max-Age": "600"})

    @router.post("/webchat/{channel_id}/session", summary="Start or resume a visitor session",
                 responses={403: {"description": "Origin not allowed or identity hash wrong"},
                            429: {"description": "Too many new sessions from this address"}})
    async def session(channel_id: str, body: WebchatSessionRequest, request: Request,
                      gateway: GatewayDep) -> WebchatSessionAnswer:
        """Give back the visitor token (kept in the browser); a valid identity_hash makes the
        visitor the site's verified user."""
        channel = await channel_for(request, gateway, channel_id)
        resumed = resumed_visitor(gateway, channel, body.token)
        await count_session(gateway, channel, resumed,
                            request.client.host if request.client else "unknown")
        visitor = open_session(channel, body, resumed)
        return WebchatSessionAnswer(
            token=token_for(gateway, visitor), visitor_id=visitor.visitor_id,
            verified=visitor.verified, agents_online=gateway.agents_online())

    @router.get("/webchat/{channel_id}/history", summary="The visitor's conversation",
                responses={401: {"description": "Missing or invalid visitor token"}})
    async def history(channel_id: str, request: Request, gateway: GatewayDep,
                      authorization: Annotated[str | None, Header()] = None,
                      before: Annotated[int | None, Query(ge=1)] = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
        """Newest last; page back with ?before=<oldest id>."""
        channel = await channel_for(request, gateway, channel_id)
        visitor = visitor_from_token(gateway, channel, bearer(authorization))
        items = await gateway.history(channel, visitor.visitor_id, before, limit + 1)
        has_more = len(items) > limit
        return {"items": history_view(items[-limit:], channel), "has_more": has_more,
                "agents_online": gateway.agents_online()}

    @router.post("/webchat/{channel_id}/messages", summary="Send a visitor message",
                 status_code=status.HTTP_202_ACCEPTED,
                 responses={401: {"description": "Missing or invalid visitor token"},
                            429: {"description": "Sending too fast"}})
    async def messages(channel_id: str, body: WebchatVisitorMessage, request: Request,
                       gateway: GatewayDep,
                       authorization: Annotated[str | None, Header()] = None) -> dict[str, str]:
        """The fallback when the WebSocket cannot connect; resending one id is a no-op."""
        channel = await channel_for(request, gateway, channel_id)
        visitor = visitor_from_token(gateway, channel, bearer(authorization))
        event = await accept_message(gateway, channel, visitor, body)
        await runtime.live.push(channel.id, visitor.visitor_id, echo_frame(event))
        return {"id": body.id, "status": "stored",
                "external_id": message_external_id(visitor.visitor_id, body.id)}

    @router.post("/webchat/{channel_id}/read", summary="Read receipts from the visitor",
                 responses={401: {"description": "Missing or invalid visitor token"}})
    async def read(channel_id: str, body: WebchatReadBody, request: Request, gateway: GatewayDep,
                   authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """Marks the visitor's own replies from us as read."""
        channel = await channel_for(request, gateway, channel_id)
        visitor = visitor_from_token(gateway, channel, bearer(authorization))
        return {"read": await accept_read(gateway, channel, visitor, body.message_ids)}

    @router.post("/webchat/{channel_id}/files", summary="Upload a file to attach",
                 status_code=status.HTTP_201_CREATED,
                 responses={401: {"description": "Missing or invalid visitor token"},
                            413: {"description": "File too large, or the visitor's quota "
                                                 "is reached"},
                            507: {"description": "The channel's upload storage is full"}})
    async def upload(channel_id: str, request: Request, gateway: GatewayDep,
                     authorization: Annotated[str | None, Header()] = None,
                     filename: Annotated[str | None, Query(max_length=300)] = None
                     ) -> dict[str, Any]:
        """The raw file as the body, its type as Content-Type; attach the returned file_id."""
        channel = await channel_for(request, gateway, channel_id)
        visitor = visitor_from_token(gateway, channel, bearer(authorization))
        await count_visitor(gateway, channel, visitor)
        mime = request.headers.get("content-type", "application/octet-stream").split(";")[0]
        ref = await store_file(gateway, channel, visitor, await request.body(), mime.strip(),
                               filename)
        return ref.model_dump()

    @router.get("/webchat/{channel_id}/files/{file_id}", summary="Download an uploaded file",
                response_class=Response,
                responses={404: {"description": "No such file"},
                           410: {"description": "The upload expired"}})
    async def download(channel_id: str, file_id: str, request: Request,
                       gateway: GatewayDep) -> Response:
        """The id is the capability (unguessable); only plain images are shown inline."""
        channel = await gateway.channel(channel_id, "webchat")
        stored = await load_file(gateway, channel, file_id)
        mime, headers = download_headers(stored.mime_type, stored.filename or file_id)
        return Response(stored.data, media_type=mime,
                        headers={**headers, "Cache-Control": "private, max-age=86400"})

    add_websocket_route(router, runtime)
    return router

