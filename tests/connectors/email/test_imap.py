"""The IMAP receiver against a real Dovecot: IDLE, polling, resume by UID, UIDVALIDITY, retry."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.base import Channel, InboundGateway
from connectors.email.connector import EmailConnector
from connectors.email.imap import STATE_KEY, run
from tests.connectors.email.dovecot import PASSWORD, Dovecot
from tests.memory_gateway import MemoryGateway, eventually


def mail(n: int, message_id: bool = True) -> bytes:
    head = f"Message-ID: <customer-{n}@example.org>\r\n" if message_id else ""
    return (f"From: Customer {n} <c{n}@example.org>\r\nTo: support@acme.example\r\n"
            f"Subject: Question {n}\r\nDate: Mon, 3 Mar 2025 10:0{n % 10}:00 +0000\r\n{head}"
            f"\r\nQuestion number {n}.\r\n").encode()


def channel(dovecot: Dovecot, **imap: Any) -> Channel:
    config = {"address": "support@acme.example", "imap": dovecot.imap_config(**imap),
              "imap_password": PASSWORD, "inbound_secret": "x" * 20,
              "smtp": {"host": "127.0.0.1", "port": 25, "security": "plain"}}
    return Channel(id="ch_email", type="email", name="mail", config=config)


@contextlib.asynccontextmanager
async def receiving(ch: Channel, gateway: InboundGateway) -> AsyncIterator[None]:
    factory = EmailConnector().receiver(ch)
    assert factory is run
    task = asyncio.create_task(factory(ch, gateway))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def cursor(gateway: MemoryGateway) -> dict[str, int]:
    value: dict[str, int] = json.loads(gateway.state[("ch_email", STATE_KEY)])
    return value


async def test_dovecot_runs_unprivileged_with_its_mail_owned_by_its_user(
    dovecot: Dovecot,
) -> None:
    await dovecot.deliver(mail(1))
    users = dovecot.process_users()
    assert "root" not in users
    if os.geteuid() == 0:
        assert users == {"dovecot"}
        maildir = next(dovecot.root.glob("home/*/Maildir"))
        assert pwd.getpwuid(maildir.stat().st_uid).pw_name == "dovecot"


async def test_existing_mail_then_new_mail_through_idle(dovecot: Dovecot) -> None:
    await dovecot.deliver(mail(1))
    await dovecot.deliver(mail(2, message_id=False))
    gateway = MemoryGateway()
    async with receiving(channel(dovecot), gateway):
        await eventually(lambda: len(gateway.stored) == 2)
        await dovecot.deliver(mail(3))
        await eventually(lambda: len(gateway.stored) == 3)
    ids = gateway.ids()
    assert ids[0] == "<customer-1@example.org>"
    assert ids[1].startswith("sha256:")
    assert ids[2] == "<customer-3@example.org>"
    assert gateway.stored[2][1] == mail(3)
    assert cursor(gateway)["last_uid"] == 3
    # One receiver login plus one per delivery: the new mail came through IDLE on the same
    # connection, not through a reconnect.
    assert dovecot.log().count("imap-login: Info: Login: user=") == 4


async def test_a_restart_neither_loses_nor_reimports(dovecot: Dovecot) -> None:
    gateway = MemoryGateway()
    await dovecot.deliver(mail(1))
    async with receiving(channel(dovecot), gateway):
        await eventually(lambda: len(gateway.stored) == 1)
    await dovecot.deliver(mail(2))  # arrives while we are down
    async with receiving(channel(dovecot), gateway):
        await eventually(lambda: len(gateway.stored) == 2)
        await dovecot.deliver(mail(3))
        await eventually(lambda: len(gateway.stored) == 3)
    assert gateway.ids() == ["<customer-1@example.org>", "<customer-2@example.org>",
                             "<customer-3@example.org>"]


async def test_a_new_uidvalidity_reads_the_folder_again(dovecot: Dovecot) -> None:
    await dovecot.command("CREATE", "Support")
    await dovecot.deliver(mail(1), folder="Support")
    gateway = MemoryGateway()
    async with receiving(channel(dovecot, folder="Support"), gateway):
        await eventually(lambda: len(gateway.stored) == 1)
    before = cursor(gateway)
    # The folder is rebuilt: old UIDs mean nothing any more.
    await dovecot.command("DELETE", "Support")
    await dovecot.command("CREATE", "Support")
    await dovecot.deliver(mail(1), folder="Support")
    await dovecot.deliver(mail(2), folder="Support")
    async with receiving(channel(dovecot, folder="Support"), gateway):
        await eventually(lambda: len(gateway.stored) == 3)
    after = cursor(gateway)
    assert after["uidvalidity"] != before["uidvalidity"]
    assert after["last_uid"] == 2
    # Mail 1 is handed over again; its Message-ID makes the core's store drop the repeat.
    assert gateway.ids() == ["<customer-1@example.org>", "<customer-1@example.org>",
                             "<customer-2@example.org>"]


@pytest.fixture
def dovecot_without_idle() -> Any:
    server = Dovecot(extra_config="imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n")
    server.start()
    yield server
    server.stop()


async def test_polling_when_the_server_has_no_idle(dovecot_without_idle: Dovecot) -> None:
    imap = await dovecot_without_idle.client()
    await imap.protocol.capability()
    assert not imap.has_capability("IDLE")
    await imap.logout()
    gateway = MemoryGateway()
    ch = channel(dovecot_without_idle, poll_seconds=0.2)
    async with receiving(ch, gateway):
        await dovecot_without_idle.deliver(mail(1))
        await eventually(lambda: len(gateway.stored) == 1)
        await dovecot_without_idle.deliver(mail(2))
        await eventually(lambda: len(gateway.stored) == 2)


async def test_the_receiver_keeps_trying_until_the_server_is_up() -> None:
    server = Dovecot()
    gateway = MemoryGateway()
    try:
        async with receiving(channel(server), gateway):
            await asyncio.sleep(0.3)  # at least one refused connection before the start
            assert gateway.stored == []
            [(channel_id, healthy, reason)] = gateway.health[:1]
            assert (channel_id, healthy) == ("ch_email", False)
            assert reason is not None and reason.startswith("IMAP: ")
            server.start()
            await server.deliver(mail(1))
            await eventually(lambda: len(gateway.stored) == 1)
            await eventually(lambda: gateway.health[-1] == ("ch_email", True, None))
    finally:
        server.stop()


async def test_a_refused_login_is_reported_as_the_channels_health(dovecot: Dovecot) -> None:
    gateway = MemoryGateway()
    refused = channel(dovecot)
    refused.config["imap_password"] = "not-the-password"
    async with receiving(refused, gateway):
        await eventually(lambda: bool(gateway.health))
    assert gateway.stored == []
    [(_, healthy, reason)] = gateway.health[:1]
    assert healthy is False and reason is not None and "IMAP" in reason
