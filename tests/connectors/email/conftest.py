"""Fixtures for the e-mail connector's tests: a loopback SMTP server and the connector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from connectors.email.connector import EmailConnector
from tests.connectors.email.dovecot import Dovecot
from tests.connectors.email.smtp_server import SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def connector() -> AsyncIterator[EmailConnector]:
    made = EmailConnector()
    yield made
    await made.close()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    yield server
    server.stop()
