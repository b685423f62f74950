"""The API channel's webhook answers alike on the hot path and on its documented route."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from connectors.api.signature import SIGNATURE_HEADER, signed_headers
from tests.apichannel import inbound
from tests.conftest import MakeOmni
from tests.omni import OmniServer, same_answer, stored_events


def _signed(secret: str, body: bytes, **extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **signed_headers(secret, body), **extra}


async def test_accepted_once_however_it_arrives(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    secret = created["generated_secrets"]["secret"]
    body = json.dumps(inbound("u1", "m1", "hello")).encode()
    hot, routed = await omni.post_both_ways(f"/v1/channels/{created['id']}/inbound", body,
                                            _signed(secret, body))
    assert same_answer(hot, routed).status_code == 202
    assert hot.json() == {"status": "accepted"}
    assert await stored_events(omni, created["id"]) == 1


@pytest.mark.parametrize(("case", "status", "slug"), [
    ("forged signature", 401, "bad-signature"),
    ("no signature", 401, "bad-signature"),
    ("stale signature", 401, "bad-signature"),
    ("missing fields", 422, "rejected"),
    ("not JSON", 422, "rejected"),
    ("unknown channel", 404, "not-found"),
])
async def test_refusals_are_the_same_problem_both_ways(
        omni: OmniServer, case: str, status: int, slug: str) -> None:
    created = await omni.create_channel("api", "bot", {})
    secret, channel_id = created["generated_secrets"]["secret"], created["id"]
    body = json.dumps(inbound("u1", "m1", "hello")).encode()
    headers = _signed(secret, body)
    if case == "forged signature":
        headers[SIGNATURE_HEADER] = "sha256=" + "0" * 64
    elif case == "no signature":
        headers = {"Content-Type": "application/json"}
    elif case == "stale signature":
        headers = {"Content-Type": "application/json",
                   **signed_headers(secret, body, now=time.time() - 3600)}
    elif case == "missing fields":
        body = b'{"text": "no ids"}'
        headers = _signed(secret, body)
    elif case == "not JSON":
        body = b"text=hello"
        headers = _signed(secret, body)
    elif case == "unknown channel":
        channel_id = "ch_nope"
    hot, routed = await omni.post_both_ways(f"/v1/channels/{channel_id}/inbound", body, headers)
    answer = same_answer(hot, routed)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/" + slug)
    assert await stored_events(omni, created["id"]) == 0


async def test_a_channel_of_another_type_is_404(omni: OmniServer) -> None:
    other = await omni.create_channel("webchat", "site", {"allowed_origins": ["https://a.test"]})
    body = json.dumps(inbound("u1", "m1", "hello")).encode()
    hot, routed = await omni.post_both_ways(f"/v1/channels/{other['id']}/inbound", body,
                                            _signed("whatever", body))
    assert same_answer(hot, routed).status_code == 404


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_over_the_limit_is_413_both_ways(make_omni: MakeOmni, declared: bool) -> None:
    omni = await make_omni(max_body_bytes=2048)
    created = await omni.create_channel("api", "bot", {})
    secret = created["generated_secrets"]["secret"]
    body = json.dumps(inbound("u1", "m1", "x" * 4096)).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    url = f"/v1/channels/{created['id']}/inbound"
    # Chunked, the limit is found while reading; declared, from Content-Length.
    hot, routed = await omni.post_both_ways(url, body if declared else chunks,
                                            _signed(secret, body))
    assert same_answer(hot, routed).status_code == 413
    assert await stored_events(omni, created["id"]) == 0
