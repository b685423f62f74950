"""Every endpoint answers bad input with a 4xx problem+json that says what is wrong."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.omni import OmniServer

PROBLEM = "application/problem+json"

HUGE = "13926890182009998573903460433920"  # past a 64-bit id column


def cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# (method, path, json body, expected status, text the detail must contain)
CASES: list[tuple[str, str, Any, int, str]] = [
    ("GET", "/v1/threads/abc", None, 422, "thread_id"),
    ("GET", "/v1/threads/999999", None, 404, "thread 999999"),
    ("GET", "/v1/threads?limit=0", None, 422, "limit"),
    ("GET", "/v1/threads?limit=201", None, 422, "limit"),
    ("GET", "/v1/threads?status=closed", None, 422, "status"),
    ("GET", "/v1/threads?cursor=!!!", None, 400, "cursor"),
    ("GET", "/v1/threads?updated_since=yesterday", None, 422, "updated_since"),
    # A bare number was read as seconds since 1970 (found by schemathesis).
    ("GET", "/v1/threads?updated_since=0.5", None, 422, "updated_since"),
    ("GET", "/v1/reports/summary?from=1700000000", None, 422, "from"),
    ("GET", "/v1/csat?to=0", None, 422, "to"),
    ("GET", "/v1/channels?cursor=!!!", None, 400, "cursor"),
    # Booleans are JSON booleans, not 0/1 (found by schemathesis).
    ("PUT", "/v1/settings/csat", {"enabled": 0}, 422, "enabled"),
    ("POST", "/v1/teams", {"name": "t", "sticky": 1}, 422, "sticky"),
    ("PATCH", "/v1/threads/999999", {"status": "open"}, 404, "thread 999999"),
    ("GET", "/v1/threads/999999/messages", None, 404, "thread 999999"),
    ("POST", "/v1/threads/999999/messages", {"text": "x"}, 404, "thread 999999"),
    ("GET", "/v1/customers/xyz", None, 422, "customer_id"),
    ("GET", "/v1/customers/999999", None, 404, "customer 999999"),
    ("GET", f"/v1/customers?cursor={cursor('abc')}", None, 400, "cursor"),
    ("POST", "/v1/customers/999999/merge", {"other_customer_id": "two"}, 422,
     "other_customer_id"),
    ("POST", "/v1/customers/999999/merge", {}, 422, "other_customer_id"),
    ("GET", "/v1/customers/999999/suggestions", None, 404, "customer 999999"),
    ("POST", "/v1/merges/999999/undo", None, 404, "merge 999999"),
    ("POST", "/v1/channels", {"type": "carrier-pigeon", "name": "x"}, 422, "carrier-pigeon"),
    ("POST", "/v1/channels", {"type": "api"}, 422, "name"),
    ("POST", "/v1/channels", {"type": "api", "name": "x", "config": {"trusted": "maybe"}}, 422,
     "config.trusted"),
    ("POST", "/v1/channels", {"type": "api", "name": "x", "config": {"unknown": 1}}, 422,
     "config.unknown"),
    ("POST", "/v1/channels", {"type": "api", "name": "x", "config": []}, 422, "config"),
    ("GET", "/v1/channels/ch_nope", None, 404, "ch_nope"),
    ("PATCH", "/v1/channels/ch_nope", {"name": "y"}, 404, "ch_nope"),
    ("DELETE", "/v1/channels/ch_nope", None, 404, "ch_nope"),
    ("GET", "/v1/inbound-events?state=lost", None, 422, "state"),
    ("GET", "/v1/inbound-events/999999", None, 404, "999999"),
    ("POST", "/v1/inbound-events/999999/retry", None, 404, "999999"),
    ("POST", "/v1/keys", {"name": "k", "role": "overlord"}, 422, "role"),
    ("DELETE", "/v1/keys/999999", None, 404, "999999"),
    ("GET", "/v1/attachments/nonsense", None, 404, "nonsense"),
    ("GET", "/v1/messages/999999/raw", None, 404, "999999"),
    ("POST", "/v1/channels/ch_nope/inbound", {"external_user_id": "u"}, 404, "ch_nope"),
    ("GET", "/v1/no-such-thing", None, 404, ""),
    # Ids past a 64-bit column are malformed, not unknown (found by schemathesis: they were 500s).
    ("GET", f"/v1/threads/{HUGE}", None, 422, "thread_id"),
    ("GET", f"/v1/threads?customer_id={HUGE}", None, 422, "customer_id"),
    ("POST", f"/v1/threads/{HUGE}/typing", None, 422, "thread_id"),
    ("GET", f"/v1/customers/{HUGE}/suggestions", None, 422, "customer_id"),
    ("POST", "/v1/customers/1/merge", {"other_customer_id": int(HUGE)}, 422,
     "other_customer_id"),
    ("POST", f"/v1/merges/{HUGE}/undo", None, 422, "merge_id"),
    ("GET", f"/v1/inbound-events/{HUGE}", None, 422, "event_id"),
    ("DELETE", f"/v1/keys/{HUGE}", None, 422, "key_id"),
    ("GET", f"/v1/messages/{HUGE}/raw", None, 422, "message_id"),
    ("GET", f"/v1/attachments/{HUGE}-0", None, 404, f"{HUGE}-0"),
    ("GET", "/v1/threads/0", None, 422, "thread_id"),
    # A cursor that decodes but does not hold our ids.
    ("GET", f"/v1/customers?cursor={cursor('abc')}", None, 400, "cursor"),
    ("GET", f"/v1/inbound-events?cursor={cursor(int(HUGE))}", None, 400, "cursor"),
    ("GET", f"/v1/threads?cursor={cursor('2025-01-01T00:00:00+00:00', 'x')}", None, 400,
     "cursor"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "says"), CASES,
                         ids=[f"{c[0]} {c[1]}" for c in CASES])
async def test_bad_input_is_a_clear_4xx(
    omni: OmniServer, method: str, path: str, body: Any, status: int, says: str
) -> None:
    response = await omni.client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("https://")
    assert says in problem["detail"] or any(says in e["field"] for e in problem.get("errors", []))


async def test_thread_patch_with_wrong_types(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    from tests.apichannel import inbound, post_inbound

    await post_inbound(omni.client, created["id"], created["generated_secrets"]["secret"],
                       inbound("u", "m", "hi"))
    await omni.settle()
    thread = (await omni.client.get("/v1/threads")).json()["items"][0]
    for body, field in (({"status": 3}, "status"), ({"tags": "vip"}, "tags"),
                        ({"priority": "asap"}, "priority"), ({"colour": "red"}, "colour")):
        response = await omni.client.patch(f"/v1/threads/{thread['id']}", json=body)
        assert response.status_code == 422
        assert field in response.json()["detail"]
    empty = await omni.client.post(f"/v1/threads/{thread['id']}/messages", json={"text": ""})
    assert empty.status_code == 422
    wrong = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                   json={"text": "x", "attachments": [{"url": "not a url"}]})
    assert wrong.status_code == 422
    assert "attachments.0.url" in wrong.json()["detail"]


async def test_malformed_json_is_400(omni: OmniServer) -> None:
    response = await omni.client.post("/v1/channels", content=b"{nope",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_oversized_body_is_413_and_changes_nothing(omni: OmniServer) -> None:
    huge = {"type": "api", "name": "x" * 2_000_000}
    response = await omni.client.post("/v1/channels", json=huge)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert (await omni.client.get("/v1/channels")).json()["items"] == []
