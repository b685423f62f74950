"""Short-lived, signed tickets for live-event streams opened by a browser.

`EventSource` cannot send headers and a browser WebSocket cannot either, and an API key in a
URL lives on in access logs, proxies and browser history. So a front end trades its key
(in the `Authorization` header) for a ticket at `POST /v1/events/ticket` and opens
`/v1/events?ticket=` or `/v1/events/ws?ticket=` with it. A ticket is
`omt1.<payload>.<mac>` (base64url): the payload names the key it was issued for, its one
purpose and its expiry; the MAC is HMAC-SHA256 under a key derived from
OMNIROUTE_SECRET_KEY for that purpose only. It is good for opening streams for
`TICKET_SECONDS` (an open stream outlives it); the key behind it is looked up again on each
use, so revoking the key ends its tickets too.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from sqlalchemy import select

from router.auth.keys import KeyCache, Principal, find_principal
from router.core import Core
from router.crypto import derive_key
from router.errors import Unauthorized
from router.models import ApiKey

TICKET_VERSION = "omt1"
PURPOSE = "events"
TICKET_SECONDS = 60
# Query parameters that carry credentials: never written to a log line (router/access_log.py).
TICKET_PARAM = "ticket"


@dataclass(frozen=True, slots=True)
class Ticket:
    value: str
    expires_at: int


@functools.cache
def _key(secret_key: str) -> bytes:
    return derive_key(secret_key, "ticket:" + PURPOSE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(secret_key: str, payload: str) -> str:
    digest = hmac.new(_key(secret_key), f"{TICKET_VERSION}.{payload}".encode(), hashlib.sha256)
    return _b64(digest.digest())


def issue_ticket(secret_key: str, principal: Principal, now: float | None = None) -> Ticket:
    """A ticket for `principal`'s key, good for opening event streams for a minute."""
    expires_at = int(time.time() if now is None else now) + TICKET_SECONDS
    body = {"k": principal.key_id, "p": PURPOSE, "exp": expires_at}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return Ticket(f"{TICKET_VERSION}.{payload}.{_mac(secret_key, payload)}", expires_at)


def _read(secret_key: str, ticket: str, now: float) -> int | None:
    """The key id the ticket was issued for (None: the bootstrap admin key); refusals say why."""
    version, _, rest = ticket.partition(".")
    payload, _, mac = rest.partition(".")
    if version != TICKET_VERSION or not payload or not mac:
        raise Unauthorized("not an event-stream ticket; get one from POST /v1/events/ticket")
    if not hmac.compare_digest(_mac(secret_key, payload).encode(), mac.encode()):
        raise Unauthorized("the ticket's signature does not match")
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        key_id, purpose, expires_at = body["k"], body["p"], int(body["exp"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise Unauthorized("the ticket is unreadable") from None
    if purpose != PURPOSE or not (key_id is None or isinstance(key_id, int)):
        raise Unauthorized("the ticket is not for event streams")
    if now >= expires_at:
        raise Unauthorized("the ticket has expired; get a new one from POST /v1/events/ticket")
    return key_id


async def ticket_principal(core: Core, ticket: str, cache: KeyCache,
                           now: float | None = None) -> Principal:
    """Who the ticket acts for, if it is genuine, unexpired and its key still valid."""
    key_id = _read(core.secret_key, ticket, time.time() if now is None else now)
    if key_id is None:
        if not core.settings.admin_api_key:
            raise Unauthorized("the key this ticket was issued for is no longer configured")
        return Principal(name="bootstrap-admin", role="admin", key_id=None)
    async with core.reads() as session:
        digest = await session.scalar(select(ApiKey.key_hash).where(ApiKey.id == key_id))
        known, principal = cache.get(digest) if digest else (True, None)
        if not known and digest:
            principal = await find_principal(session, digest)
            cache.put(digest, principal)
    if principal is None:
        raise Unauthorized("the key this ticket was issued for is unknown or revoked")
    return principal
