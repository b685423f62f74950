"""The web-chat REST routes against a fake core over real HTTP: sessions, origins, limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import HistoryItem
from connectors.webchat.tokens import identity_hash
from router.ratelimit.limiter import Throttle
from router.settings import Settings
from tests.connectors.webchat.fakes import (
    IDENTITY_SECRET,
    PAGE_ORIGIN,
    FakeCore,
    FakeGateway,
    start_fake_core,
    webchat_channel,
)

ORIGIN = {"Origin": PAGE_ORIGIN}


@pytest.fixture
async def core() -> AsyncIterator[FakeCore]:
    gateway = FakeGateway({"chan-a": webchat_channel("chan-a"),
                           "chan-b": webchat_channel("chan-b", email_channel_id="mail-1")})
    fake = await start_fake_core(gateway)
    yield fake
    await fake.stop()


async def new_session(core: FakeCore, channel: str = "chan-a", **body: object) -> dict[str, Any]:
    response = await core.client.post(f"/webchat/{channel}/session", json=body, headers=ORIGIN)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def auth(token: str) -> dict[str, str]:
    return {**ORIGIN, "Authorization": f"Bearer {token}"}


async def test_widget_script_is_served_small_and_as_javascript(core: FakeCore) -> None:
    response = await core.client.get("/webchat/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    # Small enough for any shop page (6.8 KB gzipped with the survey stars).
    assert len(response.content) < 22_000
    assert b"attachShadow" in response.content
    assert b"innerHTML" not in response.content


async def test_a_new_visitor_gets_a_token_and_keeps_it(core: FakeCore) -> None:
    first = await new_session(core)
    assert first["visitor_id"].startswith("v_")
    assert first["verified"] is False
    assert first["agents_online"] is False
    core.gateway.online = True
    again = await new_session(core, token=first["token"])
    assert again["visitor_id"] == first["visitor_id"]
    assert again["agents_online"] is True


async def test_a_token_from_another_channel_starts_a_new_visitor(core: FakeCore) -> None:
    other = await new_session(core, "chan-b")
    here = await new_session(core, "chan-a", token=other["token"])
    assert here["visitor_id"] != other["visitor_id"]
    refused = await core.client.get("/webchat/chan-a/history", headers=auth(other["token"]))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token belongs to another channel"


async def test_a_valid_identity_hash_makes_a_verified_visitor(core: FakeCore) -> None:
    user = {"user_id": "42", "identity_hash": identity_hash(IDENTITY_SECRET, "42"),
            "email": "ada@example.com", "name": "Ada"}
    answer = await new_session(core, user=user)
    assert answer["visitor_id"] == "u:chan-a:42"
    assert answer["verified"] is True
    # Logging out (no user any more) must not resume the logged-in user's chat.
    after_logout = await new_session(core, token=answer["token"])
    assert after_logout["visitor_id"].startswith("v_")


async def test_a_wrong_identity_hash_is_refused(core: FakeCore) -> None:
    user = {"user_id": "42", "identity_hash": identity_hash(IDENTITY_SECRET, "43")}
    response = await core.client.post("/webchat/chan-a/session", json={"user": user},
                                      headers=ORIGIN)
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "identity_hash is not HMAC-SHA256(identity secret, user_id)")
    assert response.headers["access-control-allow-origin"] == PAGE_ORIGIN


async def test_origins_outside_the_list_are_refused(core: FakeCore) -> None:
    evil = {"Origin": "https://evil.example"}
    response = await core.client.post("/webchat/chan-a/session", json={}, headers=evil)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    preflight = await core.client.options("/webchat/chan-a/messages", headers={
        **evil, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403


async def test_preflight_for_an_allowed_origin(core: FakeCore) -> None:
    response = await core.client.options("/webchat/chan-a/messages", headers={
        **ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == PAGE_ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "Authorization, Content-Type"


async def test_unknown_channel_is_404(core: FakeCore) -> None:
    response = await core.client.post("/webchat/nope/session", json={}, headers=ORIGIN)
    assert response.status_code == 404


async def test_a_message_is_stored_as_our_event_and_a_retry_is_a_no_op(core: FakeCore) -> None:
    session = await new_session(core)
    body = {"id": "c_0123456789abcdef", "text": "Hello <b>there</b>",
            "profile": {"name": " Ada ", "email": "ada@example.com"}}
    for _ in range(2):
        response = await core.client.post("/webchat/chan-a/messages", json=body,
                                          headers=auth(session["token"]))
        assert response.status_code == 202, response.text
        assert response.json() == {"id": "c_0123456789abcdef", "status": "stored",
                                   "external_id": f"{session['visitor_id']}/c_0123456789abcdef"}
    assert response.headers["access-control-allow-origin"] == PAGE_ORIGIN
    [(channel, event_id, payload, content_type)] = core.gateway.accepted
    assert (channel, event_id, content_type) == (
        "chan-a", f"m:{session['visitor_id']}/c_0123456789abcdef", "application/json")
    event = json.loads(payload)
    assert event.pop("sent_at")
    assert event == {"kind": "message", "visitor_id": session["visitor_id"],
                     "client_message_id": "c_0123456789abcdef", "text": "Hello <b>there</b>",
                     "name": "Ada", "email": "ada@example.com", "attachments": []}


async def test_a_verified_visitors_message_carries_the_user(core: FakeCore) -> None:
    user = {"user_id": "42", "identity_hash": identity_hash(IDENTITY_SECRET, "42"),
            "email": "ada@example.com"}
    session = await new_session(core, user=user)
    response = await core.client.post("/webchat/chan-a/messages", headers=auth(session["token"]),
                                      json={"id": "c_aaaaaaaaaaaaaaaa", "text": "hi"})
    assert response.status_code == 202
    event = json.loads(core.gateway.accepted[0][2])
    assert event["visitor_id"] == "u:chan-a:42"
    assert event["user"] == user


@pytest.mark.parametrize(("token", "detail"), [
    (None, "send the visitor token from POST /webchat/{channel_id}/session"),
    ("v1.eyJjIjoiY2hhbi1hIn0.AAAA", "the token's signature does not match"),
])
async def test_sending_needs_a_genuine_token(core: FakeCore, token: str | None,
                                            detail: str) -> None:
    headers = auth(token) if token else ORIGIN
    response = await core.client.post("/webchat/chan-a/messages", headers=headers,
                                      json={"id": "c_0123456789abcdef", "text": "hi"})
    assert response.status_code == 401
    assert response.json()["detail"] == detail
    assert core.gateway.accepted == []


@pytest.mark.parametrize(("body", "status"), [
    ({"id": "c_0123456789abcdef", "text": "x" * 5001}, 422),
    ({"id": "c_0123456789abcdef", "text": "   "}, 422),
    ({"id": "short", "text": "hi"}, 422),
    ({"id": "c_0123456789abcdef", "text": "hi", "html": "<b>"}, 422),
])
async def test_oversized_and_malformed_messages_are_refused(core: FakeCore, body: object,
                                                           status: int) -> None:
    session = await new_session(core)
    response = await core.client.post("/webchat/chan-a/messages", json=body,
                                      headers=auth(session["token"]))
    assert response.status_code == status, response.text
    assert core.gateway.accepted == []


async def test_a_visitor_sending_too_fast_is_limited(core: FakeCore) -> None:
    core.gateway.throttle = Throttle(Settings(rate_limit_visitor="3/minute"))
    first, second = await new_session(core), await new_session(core)
    codes = []
    for n in range(4):
        response = await core.client.post("/webchat/chan-a/messages",
                                          headers=auth(first["token"]),
                                          json={"id": f"c_{n:016d}", "text": f"spam {n}"})
        codes.append(response.status_code)
    assert codes == [202, 202, 202, 429]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["content-type"] == "application/problem+json"
    other = await core.client.post("/webchat/chan-a/messages", headers=auth(second["token"]),
                                   json={"id": "c_0000000000000009", "text": "hello"})
    assert other.status_code == 202
    assert len(core.gateway.accepted) == 4


def _item(id_: int, direction: str, text: str, channel_id: str) -> HistoryItem:
    return HistoryItem(id=id_, direction=direction, text=text,  # type: ignore[arg-type]
                       sent_at=datetime(2026, 11, 22, 18, id_, tzinfo=UTC),
                       status="delivered", channel_id=channel_id)


async def test_history_pages_and_hides_the_mailed_copy(core: FakeCore) -> None:
    session = await new_session(core, "chan-b")
    core.gateway.histories[session["visitor_id"]] = [
        _item(1, "inbound", "Anyone there?", "chan-b"),
        _item(2, "outbound", "Yes, we are!", "chan-b"),
        _item(3, "outbound", "Yes, we are!", "mail-1"),
        _item(4, "inbound", "Thanks by mail", "mail-1"),
    ]
    response = await core.client.get("/webchat/chan-b/history?limit=3",
                                     headers=auth(session["token"]))
    assert response.status_code == 200
    assert response.json() == {"has_more": True, "agents_online": False, "items": [
        {"id": 2, "direction": "outbound", "text": "Yes, we are!",
         "sent_at": "2026-11-22T18:02:00Z", "status": "delivered", "attachments": []},
        {"id": 4, "direction": "inbound", "text": "Thanks by mail",
         "sent_at": "2026-11-22T18:04:00Z", "status": "delivered", "attachments": []},
    ]}
    assert core.gateway.history_calls == [(session["visitor_id"], None, 4)]
    older = await core.client.get("/webchat/chan-b/history?before=2",
                                  headers=auth(session["token"]))
    assert [i["id"] for i in older.json()["items"]] == [1]
    assert older.json()["has_more"] is False


async def test_read_receipts_only_for_the_visitors_own_replies(core: FakeCore) -> None:
    session = await new_session(core)
    core.gateway.histories[session["visitor_id"]] = [
        _item(1, "inbound", "hi", "chan-a"), _item(2, "outbound", "hello", "chan-a")]
    response = await core.client.post("/webchat/chan-a/read", headers=auth(session["token"]),
                                      json={"message_ids": [1, 2, 99]})
    assert response.json() == {"read": ["wc-2"]}
    [(_, event_id, payload, _)] = core.gateway.accepted
    assert event_id.startswith(f"r:{session['visitor_id']}/")
    event = json.loads(payload)
    assert (event["kind"], event["message_ids"]) == ("read", ["wc-2"])


async def test_uploads_attach_to_the_uploaders_messages_only(core: FakeCore) -> None:
    owner, stranger = await new_session(core), await new_session(core)
    upload = await core.client.post("/webchat/chan-a/files?filename=page.html",
                                    headers={**auth(owner["token"]),
                                             "Content-Type": "text/html"},
                                    content=b"<script>alert(1)</script>")
    assert upload.status_code == 201, upload.text
    ref = upload.json()
    assert ref["url"] == f"/webchat/chan-a/files/{ref['file_id']}"
    assert (ref["mime_type"], ref["filename"], ref["size"]) == ("text/html", "page.html", 25)

    download = await core.client.get(f"/webchat/chan-a/files/{ref['file_id']}")
    assert download.content == b"<script>alert(1)</script>"
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == 'attachment; filename="page.html"'

    stolen = await core.client.post("/webchat/chan-a/messages", headers=auth(stranger["token"]),
                                    json={"id": "c_1111111111111111", "attachments":
                                          [ref["file_id"]]})
    assert stolen.status_code == 422
    own = await core.client.post("/webchat/chan-a/messages", headers=auth(owner["token"]),
                                 json={"id": "c_2222222222222222", "attachments":
                                       [ref["file_id"]]})
    assert own.status_code == 202
    event = json.loads(core.gateway.accepted[0][2])
    assert event["attachments"] == [ref]


async def test_unknown_file_is_404(core: FakeCore) -> None:
    response = await core.client.get("/webchat/chan-a/files/f_doesnotexist0000000000")
    assert response.status_code == 404


async def test_a_hostile_upload_name_and_type_cannot_break_the_download(core: FakeCore) -> None:
    session = await new_session(core)
    upload = await core.client.post(
        "/webchat/chan-a/files", params={"filename": 'x".svg\r\nSet-Cookie: a=b'},
        headers={**auth(session["token"]), "Content-Type": "image/svg+xml"},
        content=b"<svg onload='alert(1)'/>")
    assert upload.status_code == 201, upload.text
    download = await core.client.get(upload.json()["url"])
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"x.svgSet-Cookie: a=b\"; "
        "filename*=UTF-8''x%22.svgSet-Cookie%3A%20a%3Db")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "set-cookie" not in download.headers
@pytest.mark.parametrize("token", [None, "junk", "v1.forged.token"])
async def test_new_visitors_per_address_are_limited_whatever_token_they_send(
        core: FakeCore, token: str | None) -> None:
    core.gateway.throttle = Throttle(Settings(rate_limit_visitor_sessions="5/minute"))
    codes = []
    for _ in range(7):
        response = await core.client.post("/webchat/chan-a/session", json={"token": token},
                                          headers=ORIGIN)
        codes.append(response.status_code)
    assert codes == [200] * 5 + [429] * 2
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert "new chat visitors" in response.json()["detail"]


async def test_a_returning_visitor_counts_against_its_own_budget(core: FakeCore) -> None:
    core.gateway.throttle = Throttle(Settings(rate_limit_visitor_sessions="1/minute",
                                              rate_limit_visitor="3/minute"))
    first = await new_session(core)
    # The address's budget is spent, yet the visitor with a valid token comes back...
    resumed = [await core.client.post("/webchat/chan-a/session", json={"token": first["token"]},
                                      headers=ORIGIN) for _ in range(4)]
    # ...until its own budget is spent too; its messages have a budget of their own.
    assert [r.status_code for r in resumed] == [200, 200, 200, 429]
    stranger = await core.client.post("/webchat/chan-a/session", json={}, headers=ORIGIN)
    assert stranger.status_code == 429
    sent = await core.client.post("/webchat/chan-a/messages", headers=auth(first["token"]),
                                  json={"id": "c_0000000000000001", "text": "still here"})
    assert sent.status_code == 202
