"""Visitor uploads: kept in our own store and served from it by id, within a quota, expiring."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from router.models import Upload
from router.models.base import utcnow
from tests.conftest import MakeOmni
from tests.connectors.webchat.visitor import PAGE_ORIGIN, ScriptedVisitor
from tests.omni import OmniServer, messages, only_thread
from tests.origin_server import OriginServer

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f3b1d8"
                    "0000000049454e44ae426082")


async def webchat(omni: OmniServer) -> dict[str, Any]:
    return await omni.create_channel("webchat", "site", {"allowed_origins": [PAGE_ORIGIN]})


async def upload(omni: OmniServer, visitor: ScriptedVisitor, data: bytes,
                 **headers: str) -> httpx.Response:
    return await omni.client.post(
        f"/webchat/{visitor.channel_id}/files", params={"filename": "shot.png"}, content=data,
        headers={"Origin": PAGE_ORIGIN, "Content-Type": "image/png",
                 "Authorization": f"Bearer {visitor.token}", **headers})


async def stored(omni: OmniServer) -> tuple[int, int]:
    async with omni.core.reads() as session:
        count, size = (await session.execute(
            select(func.count(), func.coalesce(func.sum(Upload.size), 0)))).one()
    return int(count), int(size)


async def test_an_upload_is_served_from_our_store_whatever_the_host_header_said(
        omni: OmniServer, origin: OriginServer) -> None:
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    # The forged Host names an internal service: the stored URL must not point there, and
    # the agent's download must not fetch anything over HTTP.
    response = await upload(omni, visitor, PNG, Host=f"127.0.0.1:{origin.port}")
    assert response.status_code == 201, response.text
    ref = response.json()
    assert ref["url"] == f"/webchat/{channel['id']}/files/{ref['file_id']}"
    await visitor.connect()
    await visitor.say("screenshot", attachments=[ref["file_id"]])
    await omni.settle()
    [message] = await messages(omni, (await only_thread(omni))["id"])
    assert "127.0.0.1" not in str(message["attachments"])
    download = await omni.client.get(f"/v1/attachments/{message['id']}-0")
    assert download.status_code == 200, download.text
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert origin.seen == []
    widget = await omni.client.get(ref["url"])
    assert (widget.status_code, widget.content) == (200, PNG)
    await visitor.close()


async def test_a_visitors_uploads_stop_at_the_file_quota(make_omni: MakeOmni) -> None:
    omni = await make_omni(upload_quota_files=3)
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    for _ in range(3):
        assert (await upload(omni, visitor, PNG)).status_code == 201
    refused = await upload(omni, visitor, PNG)
    assert refused.status_code == 413, refused.text
    assert refused.json()["title"] == "Upload quota reached"
    assert await stored(omni) == (3, 3 * len(PNG))
    other = await ScriptedVisitor.start(omni.url, channel["id"])
    assert (await upload(omni, other, PNG)).status_code == 201


async def test_a_visitors_uploads_stop_at_the_byte_quota(make_omni: MakeOmni) -> None:
    omni = await make_omni(upload_quota_bytes=1_500_000)
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    assert (await upload(omni, visitor, b"a" * 700_000)).status_code == 201
    assert (await upload(omni, visitor, b"b" * 700_000)).status_code == 201
    refused = await upload(omni, visitor, b"c" * 700_000)
    assert refused.status_code == 413, refused.text
    assert await stored(omni) == (2, 1_400_000)


async def test_thirty_anonymous_uploads_cannot_grow_the_store_past_the_channel_cap(
        make_omni: MakeOmni) -> None:
    omni = await make_omni(upload_channel_bytes=5_000_000)
    channel = await webchat(omni)
    answers = []
    for _ in range(30):
        visitor = await ScriptedVisitor.start(omni.url, channel["id"])
        answers.append((await upload(omni, visitor, b"v" * 700_000)).status_code)
    assert answers == [201] * 7 + [507] * 23
    assert await stored(omni) == (7, 4_900_000)


async def test_expired_uploads_answer_410_and_are_deleted(omni: OmniServer) -> None:
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    ref = (await upload(omni, visitor, PNG)).json()
    await visitor.connect()
    await visitor.say("screenshot", attachments=[ref["file_id"]])
    await omni.settle()
    [message] = await messages(omni, (await only_thread(omni))["id"])
    async with omni.core.unit() as session:
        await session.execute(update(Upload).values(expires_at=utcnow() - timedelta(seconds=1)))

    gone = await omni.client.get(f"/v1/attachments/{message['id']}-0")
    assert gone.status_code == 410, gone.text
    assert gone.json()["type"].endswith("/gone")
    # The expired download cleaned up after itself: the row is gone, and so is the file.
    assert await stored(omni) == (0, 0)
    assert (await omni.client.get(ref["url"])).status_code == 404
    assert (await omni.client.get(f"/v1/attachments/{message['id']}-0")).status_code == 410
    await visitor.close()


async def test_the_visitors_link_to_an_expired_upload_answers_410(omni: OmniServer) -> None:
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    ref = (await upload(omni, visitor, PNG)).json()
    async with omni.core.unit() as session:
        await session.execute(update(Upload).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await omni.client.get(ref["url"])
    assert expired.status_code == 410, expired.text
    assert expired.headers["content-type"] == "application/problem+json"
    assert await stored(omni) == (0, 0)
    assert (await omni.client.get(ref["url"])).status_code == 404


async def test_a_new_upload_sweeps_expired_ones(omni: OmniServer) -> None:
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    old = (await upload(omni, visitor, b"old" * 1000)).json()
    async with omni.core.unit() as session:
        await session.execute(update(Upload).values(expires_at=utcnow() - timedelta(days=1)))
    assert await stored(omni) == (1, 3000)
    assert (await upload(omni, visitor, PNG)).status_code == 201
    assert await stored(omni) == (1, len(PNG))
    assert (await omni.client.get(old["url"])).status_code == 404
