"""Receivers report their connection; the channel's health shows it without hiding send errors."""

from __future__ import annotations

from typing import Any

from router.channels.service import mark_health
from tests.omni import OmniServer


async def health(omni: OmniServer, channel_id: str) -> tuple[str, Any]:
    body = (await omni.client.get(f"/v1/channels/{channel_id}")).json()
    return body["health"], body["health_reason"]


async def test_a_failing_receiver_marks_the_channel_and_recovery_clears_it(
    omni: OmniServer,
) -> None:
    channel_id = (await omni.create_channel("api", "bot", {}))["id"]
    gateway = omni.core.gateway
    await gateway.report_health(channel_id, True)  # healthy from the start: nothing to write
    assert await health(omni, channel_id) == ("ok", None)
    await gateway.report_health(channel_id, False, "IMAP: login refused")
    assert await health(omni, channel_id) == ("unhealthy", "receiver: IMAP: login refused")
    await gateway.report_health(channel_id, True)
    assert await health(omni, channel_id) == ("ok", None)


async def test_only_changes_are_written_and_a_send_error_is_not_cleared(
    omni: OmniServer,
) -> None:
    channel_id = (await omni.create_channel("api", "bot", {}))["id"]
    gateway = omni.core.gateway
    await gateway.report_health(channel_id, False, "connection refused")
    # Meanwhile a send fails for its own reason (the outbox records it the same way).
    async with omni.core.unit() as session:
        await mark_health(session, channel_id, False, "SMTP: 535 authentication failed")
    await gateway.report_health(channel_id, False, "connection refused")  # same: no write
    assert await health(omni, channel_id) == ("unhealthy", "SMTP: 535 authentication failed")
    await gateway.report_health(channel_id, True)  # the receiver is fine; the send is not
    assert await health(omni, channel_id) == ("unhealthy", "SMTP: 535 authentication failed")
    await gateway.report_health(channel_id, False, "timed out")
    assert await health(omni, channel_id) == ("unhealthy", "receiver: timed out")


async def test_a_deleted_channel_is_left_alone(omni: OmniServer) -> None:
    channel_id = (await omni.create_channel("api", "bot", {}))["id"]
    assert (await omni.client.delete(f"/v1/channels/{channel_id}")).status_code == 204
    await omni.core.gateway.report_health(channel_id, False, "connection refused")
    assert (await omni.client.get(f"/v1/channels/{channel_id}")).status_code == 404
