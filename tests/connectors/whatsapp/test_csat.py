"""CSAT on WhatsApp through httpx and the fake Graph API: a list of five rows inside the
24-hour window, the approved template outside it, or a note saying why nothing went out."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import update

from router.models import Identity
from tests.connectors.whatsapp.fake_graph import FakeGraph
from tests.connectors.whatsapp.fixtures import fixture
from tests.connectors.whatsapp.flow import create_channel, messages, only_thread, post_body
from tests.omni import OmniServer
from tests.router.csat.cases import resolve_with_survey, survey_of


def fresh(name: str, **replace: str) -> bytes:
    body = fixture(name).decode()
    for old, new in replace.items():
        body = body.replace(old, new)
    data = json.loads(body)
    for entry in data["entry"]:
        for change in entry["changes"]:
            for message in change["value"].get("messages", []):
                message["timestamp"] = str(int(time.time()))
    return json.dumps(data).encode()


async def customer_wrote(omni: OmniServer, config: dict[str, Any]) -> tuple[str, int]:
    channel_id = (await create_channel(omni, config))["id"]
    assert (await post_body(omni, channel_id, fresh("text__basic"))).status_code == 200
    await omni.settle()
    return channel_id, (await only_thread(omni))["id"]


async def test_a_list_of_five_and_one_tap(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote(omni, wa_config)
    case_id = await resolve_with_survey(omni, thread_id, channel_id)
    await omni.settle()
    survey = graph.sent[-1]
    assert survey["type"] == "interactive" and survey["interactive"]["type"] == "list"
    rows = survey["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["1 — Very poor", "2 — Poor", "3 — OK", "4 — Good",
                                          "5 — Excellent"]
    before = len(await messages(omni, thread_id))
    tap = fresh("interactive__list_reply", **{"slot-tue-10": rows[4]["id"],
                                              "Tuesday 10:00": rows[4]["title"]})
    assert (await post_body(omni, channel_id, tap)).status_code == 200
    await omni.settle()
    answers = (await omni.client.get("/v1/csat")).json()["items"]
    assert [(a["case_id"], a["score"], a["channel_type"]) for a in answers] == [
        (case_id, 5, "whatsapp")]
    stored = await messages(omni, thread_id)
    # The tap is no customer message (it would reopen the case): a note and our thanks.
    assert [m["direction"] for m in stored[before:]] == ["note", "outbound"]
    assert graph.sent[-1]["text"]["body"].startswith("Thank you")


async def test_outside_the_window_the_template_or_a_note(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote(omni, wa_config)
    async with omni.core.unit() as session:
        # The customer last wrote long ago: WhatsApp's 24-hour window is shut.
        await session.execute(update(Identity).values(last_inbound_at=None))
    case_id = await resolve_with_survey(omni, thread_id, channel_id)
    await omni.settle()
    assert (await survey_of(omni, case_id)).status == "skipped"
    notes = [m["text"] for m in await messages(omni, thread_id) if m["direction"] == "note"]
    assert any("reply window is closed" in n and "csat_template" in n for n in notes)
    sent_before = len(graph.sent)

    patched = await omni.client.patch(f"/v1/channels/{channel_id}", json={"config": {
        **wa_config,
        "csat_template": {"name": "csat_rating", "language": "en"}}})
    assert patched.status_code == 200, patched.text
    second = await resolve_with_survey(omni, thread_id, channel_id)
    await omni.settle()
    assert (await survey_of(omni, second)).status == "sent"
    template = graph.sent[sent_before]
    assert template["type"] == "template" and template["template"]["name"] == "csat_rating"
    payloads = [c["parameters"][0]["payload"] for c in template["template"]["components"]]
    assert len(payloads) == 5 and all(p.startswith("csat:") for p in payloads)
