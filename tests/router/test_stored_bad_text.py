"""Text stored before it was cleaned at the connector boundary still reads back.

SQLite keeps whatever JSON it was given, so a lone surrogate could sit escaped in a message's
meta (`"\\ud800"`); read back it made every page of the thread a 500 and every event carrying it
fatal to the stream. (PostgreSQL refuses such values on write, so only SQLite can hold them.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.apichannel import inbound, post_inbound
from tests.omni import OmniServer, only_thread


async def test_a_stored_lone_surrogate_reads_back_as_a_replacement(omni: OmniServer) -> None:
    if not omni.core.sqlite:
        pytest.skip("PostgreSQL refuses a lone surrogate in jsonb, so none can be stored")
    created = await omni.create_channel("api", "bot", {})
    await post_inbound(omni.client, created["id"], created["generated_secrets"]["secret"],
                       inbound("u1", "m1", "hello"))
    await omni.settle()
    async with omni.core.unit() as session:
        await session.execute(text("UPDATE messages SET meta = :meta"),
                              {"meta": '{"subject": "Re: J\\udcf6rg \\ud800"}'})
    thread = await only_thread(omni)
    page = await omni.client.get(f"/v1/threads/{thread['id']}/messages")
    assert page.status_code == 200, page.text
    assert page.json()["items"][0]["meta"] == {"subject": "Re: J\ufffdrg \ufffd"}
