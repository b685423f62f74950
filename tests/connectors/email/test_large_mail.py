"""Real mail with a PDF is 1-20 MB: the e-mail webhook takes it despite the 1 MiB service limit."""

from __future__ import annotations

import base64
import hashlib
import random

from tests.connectors.email.flow import customer, email_channel, messages, post_mail, thread_of
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer

PDF_BYTES = 5 * 1024 * 1024


def _pdf(size: int) -> bytes:
    """A PDF-shaped file of `size` bytes (a scanned invoice does not compress)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    tail = b"\n%%EOF\n"
    noise = random.Random(7).randbytes(size - len(head) - len(tail))
    return head + noise + tail


def _mail(pdf: bytes) -> bytes:
    encoded = base64.encodebytes(pdf).replace(b"\n", b"\r\n")
    return (
        b"Received: from mail.example.org (mail.example.org [203.0.113.25])\r\n"
        b"\tby mx.acme.example (Postfix) with ESMTPS id 4Z9Tq1xY2z8vBc\r\n"
        b"\tfor <support@acme.example>; Mon, 30 Nov 2026 09:12:44 +0000 (UTC)\r\n"
        b"From: Lena Fischer <lena.fischer@example.org>\r\n"
        b"To: support@acme.example\r\n"
        b"Subject: Invoice 2026-1187 (scan attached)\r\n"
        b"Message-ID: <7b0a4c3e-91d2-4f6e-8a55-3c1e2d9f0b44@example.org>\r\n"
        b"Date: Mon, 30 Nov 2026 10:12:40 +0100\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="------------a1B2c3D4e5F6g7H8"\r\n'
        b"\r\n"
        b"This is a multi-part message in MIME format.\r\n"
        b"--------------a1B2c3D4e5F6g7H8\r\n"
        b"Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n"
        b"\r\n"
        b"Hello, the invoice for my order is attached; it was charged twice.\r\n"
        b"\r\n"
        b"--------------a1B2c3D4e5F6g7H8\r\n"
        b'Content-Type: application/pdf; name="Invoice-2026-1187.pdf"\r\n'
        b'Content-Disposition: attachment; filename="Invoice-2026-1187.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n" + encoded +
        b"--------------a1B2c3D4e5F6g7H8--\r\n")


async def test_a_five_megabyte_mail_with_a_pdf_reaches_the_thread(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    assert omni.settings.max_body_bytes == 1_048_576  # the service-wide limit stays 1 MiB
    channel = await email_channel(omni, smtp_server, max_attachment_bytes=8 * 1024 * 1024)
    pdf = _pdf(PDF_BYTES)
    raw = _mail(pdf)
    assert len(raw) > 6_000_000
    response = await post_mail(omni, channel, raw)
    assert response.status_code == 200, response.text
    await omni.settle()
    thread = await thread_of(omni, "lena.fischer@example.org")
    (message,) = [m for m in await messages(omni, thread["id"]) if m["direction"] == "inbound"]
    assert message["text"] == "Hello, the invoice for my order is attached; it was charged twice."
    (attachment,) = message["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("Invoice-2026-1187.pdf", PDF_BYTES)
    download = await omni.client.get(f"/v1/attachments/{message['id']}-0")
    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(pdf).digest()
    assert (await customer(omni, "lena.fischer@example.org"))["name"] == "Lena Fischer"


async def test_other_routes_keep_the_service_limit(omni: OmniServer) -> None:
    response = await omni.client.post("/v1/channels", content=b"{" + b" " * 2_000_000 + b"}",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
