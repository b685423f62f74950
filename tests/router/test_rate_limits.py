"""Rate limits: per API key on /v1 (shared by replicas through Redis) and per webhook channel
and source address, answered 429 problem+json with Retry-After."""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest

from connectors.api.signature import signed_headers
from tests.apichannel import inbound
from tests.conftest import MakeOmni
from tests.omni import OmniServer, same_answer


def _limited(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/rate-limited")
    assert 1 <= int(answer.headers["retry-after"]) <= 60
    assert answer.json()["retry_after"] == int(answer.headers["retry-after"])


async def test_each_api_key_has_its_own_budget(make_omni: MakeOmni) -> None:
    omni = await make_omni(rate_limit_api_key="4/minute")
    agent = (await omni.client.post("/v1/keys", json={"name": "ann", "role": "agent"})).json()
    for _ in range(3):
        assert (await omni.client.get("/v1/threads")).status_code == 200
    _limited(await omni.client.get("/v1/threads"))
    _limited(await omni.client.get("/v1/events"))  # streams count too (fast path refuses)
    async with httpx.AsyncClient(base_url=omni.url, headers={
            "Authorization": f"Bearer {agent['key']}"}) as other:
        assert (await other.get("/v1/threads")).status_code == 200


async def test_replicas_share_the_budget_through_redis(make_omni: MakeOmni,
                                                       redis_url: str) -> None:
    shared = {"redis_url": redis_url, "rate_limit_api_key": "4/minute",
              # A fresh key space: counters of earlier runs must not count here.
              "redis_stream": f"omniroute:test:{secrets.token_hex(4)}"}
    one, two = await make_omni(**shared), await make_omni(**shared, run_workers=False)
    for replica in (one, two):
        for _ in range(2):
            assert (await replica.client.get("/v1/customers")).status_code == 200
    _limited(await one.client.get("/v1/customers"))
    _limited(await two.client.get("/v1/customers"))


def _signed(secret: str, n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(inbound("u", f"m{n}", f"message {n}")).encode()
    return body, {"Content-Type": "application/json",
                  **signed_headers(secret, body, now=time.time())}


async def test_a_webhook_source_is_limited_on_the_hot_path_and_the_route_alike(
        make_omni: MakeOmni) -> None:
    omni = await make_omni(rate_limit_webhook_source="4/minute")
    created = await omni.create_channel("api", "bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    path = f"/v1/channels/{ch}/inbound"
    for n in range(2):
        hot, routed = await omni.post_both_ways(path, *_signed(secret, n))
        assert (hot.status_code, routed.status_code) == (202, 202)
    hot, routed = await omni.post_both_ways(path, *_signed(secret, 9))
    _limited(same_answer(hot, routed))
    _limited(routed)
    # Refused before anything was stored or verified: a bad signature is not even looked at.
    junk = await omni.client.post(path, content=b"{}", headers={"Content-Type": "application/json"})
    _limited(junk)
    other = await omni.create_channel("api", "other bot", {})
    body, headers = _signed(other["generated_secrets"]["secret"], 1)
    assert (await omni.client.post(f"/v1/channels/{other['id']}/inbound", content=body,
                                   headers=headers)).status_code == 202


async def test_a_channels_webhooks_are_limited_whoever_sends(make_omni: MakeOmni) -> None:
    limited = await make_omni(rate_limit_webhook_channel="3/minute")
    created = await limited.create_channel("email", "inbox", {
        "address": "help@example.com", "smtp": {"host": "127.0.0.1", "port": 2525}})
    url = f"/webhooks/email/{created['id']}"  # served by FastAPI, not the hot path
    answers = [await limited.client.post(url, content=b"x", headers={
        "Content-Type": "message/rfc822", "Authorization": "Bearer wrong"}) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [401] * 3
    _limited(answers[3])
    assert "channel's webhook" in answers[3].json()["detail"]


@pytest.mark.parametrize("path", ["/v1/threads", "/webchat/x/session", "/v1/channels/x"])
async def test_other_paths_are_not_webhooks(path: str) -> None:
    from router.middleware import webhook_channel

    assert webhook_channel(path) is None
    assert webhook_channel("/webhooks/telegram/ch_1") == "ch_1"
    assert webhook_channel("/v1/channels/ch_1/inbound") == "ch_1"


async def test_default_limits_leave_a_busy_integration_alone(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    for n in range(200):
        body, headers = _signed(created["generated_secrets"]["secret"], n)
        answer = await omni.client.post(f"/v1/channels/{created['id']}/inbound", content=body,
                                        headers=headers)
        assert answer.status_code == 202
        assert (await omni.client.get("/v1/threads?limit=1")).status_code == 200


def test_webhook_windows_reopen_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from router.ratelimit import webhooks
    from router.settings import Settings

    now = [100.0]
    throttle = webhooks.WebhookThrottle(Settings(rate_limit_webhook_source="2/second",
                                                 rate_limit_webhook_channel="3 per 10 seconds"),
                                        clock=lambda: now[0])
    assert [throttle.refusal("ch", "1.1.1.1") is None for _ in range(3)] == [True, True, False]
    now[0] += 1.0  # the address's window reopened; the channel's has one request left
    assert throttle.refusal("ch", "1.1.1.1") is None
    refused = throttle.refusal("ch", "2.2.2.2")
    assert refused is not None and "channel's webhook" in refused.detail
    assert refused.retry_after == 9
    monkeypatch.setattr(webhooks, "MAX_KEYS", 3)
    now[0] += 20.0
    for n in range(10):  # many addresses: expired windows are swept, memory stays bounded
        throttle.refusal(f"ch{n}", "3.3.3.3")
    assert all(len(w._windows) <= 3 for w in throttle._source + throttle._channel)


async def test_a_failing_redis_lets_requests_through(caplog: pytest.LogCaptureFixture) -> None:
    from router.ratelimit.limiter import Throttle
    from router.settings import Settings

    throttle = Throttle(Settings(redis_url="redis://127.0.0.1:1/0", rate_limit_api_key="1/minute"))
    try:
        assert [await throttle.wait("api_key", "k") for _ in range(3)] == [0.0, 0.0, 0.0]
    finally:
        await throttle.close()
    warnings = [r for r in caplog.records if r.name == "omniroute.ratelimit"]
    assert len(warnings) == 1 and "not enforced" in warnings[0].getMessage()
