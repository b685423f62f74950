"""Busy webhooks are served before FastAPI's stack; everything else still reaches FastAPI."""

from __future__ import annotations

import json

import pytest

from connectors.api.signature import signed_headers
from connectors.webhooks import Webhook, WebhookAnswer, WebhookCall
from router.ingest.hot_path import WebhookHotPath
from tests.apichannel import inbound
from tests.omni import OmniServer


async def _accepted(_gateway: object, _call: WebhookCall) -> WebhookAnswer:
    return WebhookAnswer(200, {})


@pytest.mark.parametrize(("path", "channel_id"), [
    ("/v1/channels/ch_1/inbound", "ch_1"),
    ("/v1/channels/ch%201/inbound", "ch%201"),
    ("/v1/channels//inbound", None),
    ("/v1/channels/a/b/inbound", None),
    ("/v1/channels/ch_1/inbound/", None),
    ("/v1/channels/inbound", None),
    ("/v1/channel/ch_1/inbound", None),
])
def test_a_webhook_path_holds_one_channel_segment(path: str, channel_id: str | None) -> None:
    assert Webhook("/v1/channels/{channel_id}/inbound", _accepted).channel_id(path) == channel_id


@pytest.mark.parametrize("template", ["/webhooks/x", "/a/{channel_id}/{channel_id}"])
def test_a_webhook_path_without_exactly_one_channel_id_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Webhook(template, _accepted)


async def test_webhook_posts_take_the_hot_path_and_are_counted(
        omni: OmniServer, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[str] = []
    original = WebhookHotPath.serve

    async def spy(self: WebhookHotPath, *args: object) -> None:
        served.append(args[2])  # type: ignore[arg-type]
        await original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(WebhookHotPath, "serve", spy)
    created = await omni.create_channel("api", "bot", {})
    body = json.dumps(inbound("u1", "m1", "hi")).encode()
    url = f"/v1/channels/{created['id']}/inbound"
    response = await omni.client.post(url, content=body, headers=signed_headers(
        created["generated_secrets"]["secret"], body))
    assert response.status_code == 202
    assert served == [created["id"]]
    # Other methods on the same path are FastAPI's: a documented 405 problem.
    refused = await omni.client.get(url)
    assert refused.status_code == 405
    assert refused.headers["content-type"] == "application/problem+json"
    assert served == [created["id"]]
    metrics = (await omni.client.get("/metrics")).text
    assert ('omniroute_http_requests_total{method="POST",'
            'route="/v1/channels/{channel_id}/inbound",status="202"} 1.0') in metrics


async def test_an_unexpected_failure_is_a_500_problem_and_logged(
        omni: OmniServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    created = await omni.create_channel("api", "bot", {})

    async def broken(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(omni.core.gateway, "accept", broken)
    body = json.dumps(inbound("u1", "m1", "hi")).encode()
    hot, routed = await omni.post_both_ways(
        f"/v1/channels/{created['id']}/inbound", body,
        signed_headers(created["generated_secrets"]["secret"], body))
    for response in (hot, routed):
        assert response.status_code == 500
        assert response.json()["type"].endswith("/internal")
    logged = [r for r in caplog.records if r.name == "omniroute.errors"
              and "the database went away" in (r.exc_text or "")]
    assert len(logged) == 2  # once each way (uvicorn logs the routed one again)
