"""FastAPI dependencies: the core, a unit of work per request, the caller's principal."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from router.auth.keys import KeyCache, Principal, Role, find_principal
from router.auth.tickets import TICKET_PARAM, ticket_principal
from router.core import Core
from router.crypto import hash_api_key
from router.errors import Forbidden, Unauthorized


async def get_core(request: Request) -> Core:
    # async so FastAPI does not hop to its thread pool for a dictionary lookup.
    core: Core = request.app.state.core
    return core


CoreDep = Annotated[Core, Depends(get_core)]


async def get_session(core: CoreDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed on success, rolled back on error."""
    async with core.unit() as session:
        yield session


# scope="function": since FastAPI 0.118 the code after `yield` runs after the response has been
# sent unless the dependency is function-scoped. The commit must come first: a 201 may only
# leave once the row is stored, and a failed commit must become an error response, not a lie.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(core: CoreDep) -> AsyncIterator[AsyncSession]:
    """A read-only session: never takes the write lock, so reads never queue behind ingest."""
    async with core.reads() as session:
        yield session


# Function-scoped too, so a streamed or slow-to-send response never holds a pooled connection.
ReadDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


def bearer_token(authorization: str | None) -> str | None:
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            return token.strip()
    return None


async def authenticate(core: Core, token: str | None, cache: KeyCache) -> Principal:
    if not token:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    admin_key = core.settings.admin_api_key
    if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
        return Principal(name="bootstrap-admin", role="admin", key_id=None)
    digest = hash_api_key(token)
    known, principal = cache.get(digest)
    if not known:
        async with core.reads() as session:
            principal = await find_principal(session, digest)
        cache.put(digest, principal)
    if principal is None:
        raise Unauthorized("this API key is unknown or revoked")
    return principal


# Long-lived keys in URLs end up in access logs, proxies and browser history.
KEY_IN_URL = ("API keys are not accepted in URLs: send 'Authorization: Bearer <key>' (a "
              "browser's event stream uses ?ticket= from POST /v1/events/ticket)")


async def get_principal(request: Request) -> Principal:
    core: Core = request.app.state.core
    token = bearer_token(request.headers.get("authorization"))
    if token is None and "access_token" in request.query_params:
        raise Unauthorized(KEY_IN_URL)
    principal = await authenticate(core, token, request.app.state.key_cache)
    await limit_key(core, principal)
    return principal


async def limit_key(core: Core, principal: Principal) -> None:
    """Count the request against its key's rate limit (429 with Retry-After when over)."""
    key = "bootstrap-admin" if principal.key_id is None else str(principal.key_id)
    await core.throttle.check("api_key", key)


async def stream_principal(core: Core, cache: KeyCache, authorization: str | None,
                           ticket: str | None) -> Principal:
    """For /v1/events and /v1/events/ws only: the header's key, else a signed ticket."""
    token = bearer_token(authorization)
    if token is None and ticket:
        principal = await ticket_principal(core, ticket, cache)
    else:
        principal = await authenticate(core, token, cache)
    await limit_key(core, principal)
    return principal


async def get_stream_principal(request: Request) -> Principal:
    principal = await stream_principal(request.app.state.core, request.app.state.key_cache,
                                       request.headers.get("authorization"),
                                       request.query_params.get(TICKET_PARAM))
    if not principal.at_least("agent"):
        raise Forbidden(f"this action needs the agent role; your key has {principal.role}")
    return principal


async def websocket_principal(websocket: WebSocket) -> Principal:
    return await stream_principal(websocket.app.state.core, websocket.app.state.key_cache,
                                  websocket.headers.get("authorization"),
                                  websocket.query_params.get(TICKET_PARAM))


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.at_least(role):
            raise Forbidden(f"this action needs the {role} role; your key has {principal.role}")
        return principal

    return dependency


AgentDep = Annotated[Principal, Depends(require("agent"))]
SupervisorDep = Annotated[Principal, Depends(require("supervisor"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]
StreamAgentDep = Annotated[Principal, Depends(get_stream_principal)]
