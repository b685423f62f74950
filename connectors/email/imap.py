"""IMAP receiver: IDLE where the server offers it, polling otherwise, resumable by UID.

The cursor is (UIDVALIDITY, last UID) stored with `accept_and_save_state`, so each batch of
mail is stored and the cursor advanced in one transaction: a crash between the two cannot lose
mail or import it twice. When UIDVALIDITY changes (the mailbox was rebuilt) every UID we know
is void, so the folder is read again from the start; Message-ID dedupe keeps that harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aioimaplib

from connectors.base import Channel, InboundGateway, ReceiverFactory
from connectors.email.parse import event_id
from connectors.email.smtp import tls_context

log = logging.getLogger("omniroute.email.imap")
STATE_KEY = "imap_cursor"
FETCH_BATCH = 25
# Servers drop IDLE after 30 minutes (RFC 2177); re-issue well before.
IDLE_SECONDS = 9 * 60.0
COMMAND_TIMEOUT = 60.0
BACKOFF_START, BACKOFF_MAX = 1.0, 300.0
UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
FETCH_START = re.compile(rb"^\d+ FETCH ", re.IGNORECASE)
UID_ITEM = re.compile(rb"\bUID (\d+)", re.IGNORECASE)


class ImapFailure(Exception):
    """The server refused a step (login, select, fetch); the sentence says which."""


@dataclass
class Cursor:
    uidvalidity: int
    last_uid: int

    def dump(self) -> str:
        return json.dumps({"uidvalidity": self.uidvalidity, "last_uid": self.last_uid})

    @classmethod
    def load(cls, value: str | None) -> Cursor | None:
        if not value:
            return None
        try:
            data = json.loads(value)
            return cls(int(data["uidvalidity"]), int(data["last_uid"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable IMAP cursor %r", value)
            return None


def _text(response: aioimaplib.Response) -> str:
    tail = response.lines[-1] if response.lines else b""
    return bytes(tail).decode("utf-8", "replace") if isinstance(tail, bytes | bytearray) \
        else str(tail)


def _ok(response: aioimaplib.Response, step: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise ImapFailure(f"IMAP {step} refused: {response.result} {_text(response)}")
    return response


async def _starttls(imap: aioimaplib.IMAP4, host: str) -> None:
    """aioimaplib has no STARTTLS; upgrade its transport in place (RFC 3501 6.2.1)."""
    protocol = imap.protocol
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    _ok(await asyncio.wait_for(protocol.execute(command), COMMAND_TIMEOUT), "STARTTLS")
    loop = asyncio.get_running_loop()
    transport = await loop.start_tls(protocol.transport, protocol, tls_context(),
                                     server_hostname=host)
    protocol.transport = transport
    # Capabilities before TLS must not be trusted (they may have been tampered with).
    await asyncio.wait_for(protocol.capability(), COMMAND_TIMEOUT)


async def connect(settings: Mapping[str, Any], password: str) -> aioimaplib.IMAP4:
    host, port = str(settings["host"]), int(settings["port"])
    security = settings.get("security", "ssl")
    imap: aioimaplib.IMAP4
    if security == "ssl":
        imap = aioimaplib.IMAP4_SSL(host=host, port=port, timeout=COMMAND_TIMEOUT,
                                    ssl_context=tls_context())
    else:
        imap = aioimaplib.IMAP4(host=host, port=port, timeout=COMMAND_TIMEOUT)
    await imap.wait_hello_from_server()
    if security == "starttls":
        await _starttls(imap, host)
    _ok(await imap.login(str(settings["username"]), password), "LOGIN")
    # Servers announce more (IDLE among it) once logged in (RFC 3501 6.2.3).
    await asyncio.wait_for(imap.protocol.capability(), COMMAND_TIMEOUT)
    return imap


def fetched_messages(response: aioimaplib.Response) -> list[tuple[int, bytes]]:
    """(UID, raw message) pairs from a `UID FETCH … (UID BODY.PEEK[])` response."""
    out: list[tuple[int, bytes]] = []
    uid: int | None = None
    body: bytes | None = None

    def flush() -> None:
        if uid is not None and body is not None:
            out.append((uid, body))

    for line in response.lines:
        if isinstance(line, bytearray):
            body = bytes(line)
            continue
        if FETCH_START.match(line):
            flush()
            uid, body = None, None
        found = UID_ITEM.search(line)
        if found and uid is None:
            uid = int(found.group(1))
    flush()
    return out


async def _new_uids(imap: aioimaplib.IMAP4, after: int) -> list[int]:
    response = _ok(await imap.uid_search(f"UID {after + 1}:*", charset=None), "UID SEARCH")
    uids: list[int] = []
    # The last line is the completion text; aioimaplib may or may not keep the SEARCH keyword.
    for line in response.lines[:-1]:
        if isinstance(line, bytes):
            uids.extend(int(n) for n in line.split() if n.isdigit())
    # `n:*` always matches the highest UID, even one below n: drop what we already have.
    return sorted(u for u in set(uids) if u > after)


async def import_new(
    imap: aioimaplib.IMAP4, channel: Channel, gateway: InboundGateway, cursor: Cursor
) -> Cursor:
    """Store every message above the cursor, batch by batch, advancing the cursor with each."""
    uids = await _new_uids(imap, cursor.last_uid)
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start:start + FETCH_BATCH]
        response = _ok(await imap.uid("fetch", ",".join(map(str, batch)), "(UID BODY.PEEK[])"),
                       "UID FETCH")
        messages = fetched_messages(response)
        events = [(event_id(raw), raw, "message/rfc822") for _uid, raw in messages]
        cursor = Cursor(cursor.uidvalidity, max(batch))
        await gateway.accept_and_save_state(channel, events, STATE_KEY, cursor.dump())
        log.info("channel %s: stored %d mails up to UID %d", channel.id, len(events),
                 cursor.last_uid)
    return cursor


async def _wait_for_mail(imap: aioimaplib.IMAP4, poll_seconds: float) -> None:
    if imap.has_capability("IDLE"):
        idle = await imap.idle_start(timeout=IDLE_SECONDS)
        try:
            await imap.wait_server_push(timeout=IDLE_SECONDS + 30)
        finally:
            imap.idle_done()
            await asyncio.wait_for(idle, COMMAND_TIMEOUT)
    else:
        await asyncio.sleep(poll_seconds)
        _ok(await imap.noop(), "NOOP")


async def session(channel: Channel, gateway: InboundGateway, ready: asyncio.Event) -> None:
    """One connection: log in, catch up, then wait for mail until the connection breaks.
    `ready` is set once caught up, so the caller knows the connection worked."""
    settings: Mapping[str, Any] = channel.config["imap"]
    imap = await connect(settings, str(channel.config.get("imap_password") or ""))
    try:
        selected = _ok(await imap.select(str(settings.get("folder") or "INBOX")), "SELECT")
        found = next((UIDVALIDITY.search(bytes(line)) for line in selected.lines
                      if UIDVALIDITY.search(bytes(line))), None)
        if found is None:
            raise ImapFailure("the server gave no UIDVALIDITY for the folder")
        uidvalidity = int(found.group(1))
        cursor = Cursor.load(await gateway.load_state(channel.id, STATE_KEY))
        if cursor is None or cursor.uidvalidity != uidvalidity:
            if cursor is not None:
                log.warning("channel %s: UIDVALIDITY changed %d → %d; reading the folder again",
                            channel.id, cursor.uidvalidity, uidvalidity)
            cursor = Cursor(uidvalidity, 0)
        poll = float(settings.get("poll_seconds") or 60.0)
        while True:
            cursor = await import_new(imap, channel, gateway, cursor)
            if not ready.is_set():
                await gateway.report_health(channel.id, True)
            ready.set()
            await _wait_for_mail(imap, poll)
    finally:
        try:
            await asyncio.wait_for(imap.logout(), 5)
        except Exception:  # the connection may already be gone; nothing is lost by that
            pass


async def run(channel: Channel, gateway: InboundGateway) -> None:
    """Keep a session alive for as long as the channel exists, reconnecting with backoff."""
    delay = BACKOFF_START
    while True:
        ready = asyncio.Event()
        try:
            await session(channel, gateway, ready)
        except asyncio.CancelledError:
            raise
        except (ImapFailure, aioimaplib.AioImapException, OSError, TimeoutError,
                asyncio.IncompleteReadError) as exc:
            log.warning("channel %s: IMAP connection lost (%s: %s); retrying in %.0fs",
                        channel.id, type(exc).__name__, exc, delay)
            # A wrong password or an unreachable server shows on the channel, not only in logs.
            await gateway.report_health(channel.id, False, f"IMAP: {type(exc).__name__}: {exc}")
        if ready.is_set():
            delay = BACKOFF_START
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(delay * 2, BACKOFF_MAX)


def build_receiver() -> ReceiverFactory:
    return run
