"""TLS as configured: IMAP over implicit TLS and STARTTLS (real Dovecot), SMTP over STARTTLS
and implicit TLS (aiosmtpd), each verifying the server's certificate against the trust store
(here a test CA named by SSL_CERT_FILE, as an operator with a private CA would do)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from connectors.base import DeliveryError
from connectors.email.connector import EmailConnector
from tests.connectors.email.certs import Pki, make_pki
from tests.connectors.email.dovecot import Dovecot
from tests.connectors.email.smtp_server import CapturingHandler, free_port
from tests.connectors.email.test_imap import channel, mail, receiving
from tests.connectors.email.test_send import channel as smtp_channel
from tests.connectors.email.test_send import reply
from tests.memory_gateway import MemoryGateway, eventually


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
def trusted_ca(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(pki.ca_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))


@pytest.fixture
def tls_dovecot(pki: Pki) -> Iterator[Dovecot]:
    server = Dovecot(tls=(pki.cert_pem, pki.key_pem))
    server.start()
    yield server
    server.stop()


@pytest.mark.usefixtures("trusted_ca")
@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_imap_over_tls(tls_dovecot: Dovecot, security: str) -> None:
    port = tls_dovecot.tls_port if security == "ssl" else tls_dovecot.port
    gateway = MemoryGateway()
    await tls_dovecot.deliver(mail(1))
    async with receiving(channel(tls_dovecot, security=security, port=port), gateway):
        await eventually(lambda: len(gateway.stored) == 1)
    assert "TLS" in tls_dovecot.log()


async def test_imap_refuses_a_certificate_it_cannot_verify(tls_dovecot: Dovecot) -> None:
    from connectors.email.imap import connect

    settings = tls_dovecot.imap_config(security="ssl", port=tls_dovecot.tls_port)
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect(settings, "irrelevant")


def _server_context(pki: Pki, tmp_path: Path) -> ssl.SSLContext:
    (tmp_path / "cert.pem").write_bytes(pki.cert_pem)
    (tmp_path / "key.pem").write_bytes(pki.key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


@pytest.mark.usefixtures("trusted_ca")
@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_smtp_over_tls(pki: Pki, tmp_path: Path, security: str) -> None:
    handler = CapturingHandler()
    port = free_port()
    context = _server_context(pki, tmp_path)
    if security == "ssl":
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                tls_context=context, require_starttls=True)
    controller.start()
    connector = EmailConnector()
    try:
        smtp = {"host": "127.0.0.1", "port": port, "security": security}
        await connector.send(smtp_channel(smtp), reply())
    finally:
        controller.stop()
        await connector.close()
    assert len(handler.received) == 1


async def test_smtp_with_an_untrusted_certificate_flags_the_channel(
    pki: Pki, tmp_path: Path,
) -> None:
    handler = CapturingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            tls_context=_server_context(pki, tmp_path), require_starttls=True)
    controller.start()
    connector = EmailConnector()
    try:
        smtp = {"host": "127.0.0.1", "port": port, "security": "starttls"}
        with pytest.raises(DeliveryError) as caught:
            await connector.send(smtp_channel(smtp), reply())
    finally:
        controller.stop()
        await connector.close()
    assert caught.value.retryable is True
    assert caught.value.channel_unhealthy is True
    assert caught.value.reason == ("the SMTP server's TLS certificate is not trusted: "
                                   "unable to get local issuer certificate")
    assert handler.received == []
