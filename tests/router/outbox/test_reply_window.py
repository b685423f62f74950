"""A channel with a reply window: 409 outside it, templates allowed, automatic fallback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from router.models import Identity, Thread
from router.models.base import utcnow
from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.conftest import MakeOmni
from tests.omni import OmniServer
from tests.plugin_dist import PLUGIN_SOURCE, install_plugin, uninstall_plugin


@pytest.fixture
def echo_plugin(tmp_path: Path) -> Iterator[None]:
    root = install_plugin(tmp_path, name="omniroute_echo", module="omniroute_echo",
                          source=PLUGIN_SOURCE, target="echo = omniroute_echo:EchoConnector")
    yield
    uninstall_plugin(root, "omniroute_echo")


async def _customer_on_two_channels(
    omni: OmniServer, callback: CallbackServer, echo_config: dict[str, Any]
) -> tuple[str, str, int]:
    """The customer wrote on the API channel first, then on the echo channel (latest)."""
    api = await omni.create_channel("api", "bot", {"callback_url": callback.url, "trusted": True})
    callback.secret = api["generated_secrets"]["secret"]
    echo = await omni.create_channel("echo", "chat app", echo_config)
    await post_inbound(omni.client, api["id"], callback.secret,
                       inbound("u", "m1", "via api", phone="+14155550100"))
    await omni.settle()
    customer = (await omni.client.get("/v1/customers")).json()["items"][0]
    # The echo channel has no webhook of its own; give the customer an identity there as if
    # they had written a day and a half ago.
    async with omni.core.unit() as session:
        session.add(Identity(customer_id=customer["id"], kind="api",
                             value=f"{echo['id']}:u-echo", verified=True, channel_id=echo["id"],
                             last_inbound_channel_id=echo["id"],
                             last_inbound_at=utcnow() - timedelta(hours=36)))
        await session.execute(update(Identity).where(Identity.value == f"{api['id']}:u")
                              .values(last_inbound_at=utcnow() - timedelta(hours=48)))
        await session.execute(update(Thread).where(Thread.id == customer["thread_id"])
                              .values(last_inbound_channel_id=echo["id"]))
    return api["id"], echo["id"], customer["thread_id"]


async def test_closed_window_is_409_with_a_template_hint(
    echo_plugin: None, make_omni: MakeOmni, callback: CallbackServer
) -> None:
    omni = await make_omni()
    _, echo_id, thread_id = await _customer_on_two_channels(omni, callback, {})
    response = await omni.client.post(f"/v1/threads/{thread_id}/messages",
                                      json={"text": "hello?", "channel_id": echo_id})
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("/reply-window-closed")
    assert problem["suggestion"] == "template"
    assert problem["window"]["open"] is False
    templated = await omni.client.post(f"/v1/threads/{thread_id}/messages", json={
        "text": "", "channel_id": echo_id,
        "template": {"name": "follow_up", "language": "en"}})
    assert templated.status_code == 201, templated.text
    thread = (await omni.client.get(f"/v1/threads/{thread_id}")).json()
    assert [w["open"] for w in thread["reply_windows"] if w["channel_id"] == echo_id] == [False]


async def test_automatic_channel_falls_back_when_delivery_is_impossible(
    echo_plugin: None, make_omni: MakeOmni, callback: CallbackServer
) -> None:
    omni = await make_omni()
    api_id, echo_id, thread_id = await _customer_on_two_channels(
        omni, callback, {"fail_with": "blocked"})
    async with omni.core.unit() as session:
        await session.execute(update(Identity).where(Identity.channel_id == echo_id)
                              .values(last_inbound_at=utcnow()))
    response = await omni.client.post(f"/v1/threads/{thread_id}/messages",
                                      json={"text": "are you there?"})
    assert response.status_code == 201
    assert response.json()["channel_id"] == echo_id
    await omni.settle()
    assert [p["text"] for p in callback.received] == ["are you there?"]
    items = (await omni.client.get(f"/v1/threads/{thread_id}/messages")).json()["items"]
    note = next(m for m in items if m["direction"] == "note")
    assert "bot was blocked by the user" in note["text"] and "instead" in note["text"]
    reply = next(m for m in items if m["text"] == "are you there?")
    assert reply["channel_id"] == api_id
    assert reply["status"] == "delivered"
