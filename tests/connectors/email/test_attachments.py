"""Inbound files are cut from the stored mail on request, not kept a second time."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from connectors.base import Attachment, Channel, DeliveryError, InboundMessage
from connectors.email.connector import EmailConnector
from connectors.email.parse import parse_event
from tests.connectors.email.fixtures import CONFIG, fixture_bytes, raw_event

CHANNEL = Channel(id="ch_mail", type="email", name="mail", config=dict(CONFIG))


def listed(original: bytes) -> tuple[Attachment, ...]:
    [item] = parse_event(raw_event(original, {**CONFIG, "max_attachment_bytes": 1_000_000}))
    assert isinstance(item, InboundMessage)
    return item.attachments


async def read(connector: EmailConnector, attachment: Attachment, original: bytes) -> bytes:
    stream = await connector.open_attachment_in(CHANNEL, attachment, original)
    return b"".join([chunk async for chunk in stream.chunks])


async def test_each_listed_file_is_cut_from_the_original() -> None:
    original = fixture_bytes("message__thunderbird_attachments")
    image, invoice = listed(original)
    connector = EmailConnector()
    assert (image.url, image.provider_ref, invoice.provider_ref) == (None, "part:0", "part:1")
    png = await read(connector, image, original)
    assert png.startswith(b"\x89PNG\r\n") and len(png) == image.size
    pdf = await read(connector, invoice, original)
    assert pdf.startswith(b"%PDF") and len(pdf) == invoice.size


async def test_a_reference_past_the_last_part_is_refused() -> None:
    original = fixture_bytes("message__thunderbird_attachments")
    image, _ = listed(original)
    with pytest.raises(DeliveryError, match="not in the stored mail") as caught:
        await read(EmailConnector(), dataclasses.replace(image, provider_ref="part:7"), original)
    assert caught.value.retryable is False


async def test_files_stored_as_data_urls_by_earlier_versions_still_open() -> None:
    data = b"%PDF-1.4 tiny"
    legacy = Attachment(kind="document", mime_type="application/pdf", filename="a.pdf",
                        url="data:application/pdf;base64," + base64.b64encode(data).decode())
    assert await read(EmailConnector(), legacy, b"") == data
