"""When a survey goes out, when it does not (and says why), once per case, on two replicas
once, and the bot's round trip on the API channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from router.models import CsatSurvey, OutboxItem
from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.conftest import MakeOmni
from tests.omni import OmniServer, messages, only_thread
from tests.router.cases.support import agent_key, make_agent, make_team
from tests.router.csat.cases import resolve_with_survey, survey_of
from tests.router.sla.helpers import make_policy


async def bot_customer(omni: OmniServer, callback: CallbackServer) -> tuple[dict[str, Any], int]:
    channel = await omni.create_channel("api", "bot", {"callback_url": callback.url})
    callback.secret = channel["generated_secrets"]["secret"]
    response = await post_inbound(omni.client, channel["id"], callback.secret,
                                  inbound("u1", "m1", "My parcel is late"))
    assert response.status_code == 202
    await omni.settle()
    return channel, (await only_thread(omni))["id"]


async def test_the_bot_gets_a_csat_request_and_posts_the_score_back(
    omni: OmniServer, callback: CallbackServer
) -> None:
    # The real path: the customer writes, the case opens in the team and goes to its agent,
    # the agent answers and resolves with PATCH; the survey goes out; the bot posts the tap.
    agent = await make_agent(omni, "Olga")
    team = await make_team(omni, "line 1", [agent])
    key = await agent_key(omni, agent)
    experiment = await omni.client.post("/v1/experiments", json={
        "name": "sla", "buckets": [
            {"name": "a", "weight": 1, "sla_policy_id": (await make_policy(omni))["id"]},
            {"name": "b", "weight": 1, "sla_policy_id": (await make_policy(omni))["id"]}]})
    assert experiment.status_code == 201, experiment.text
    experiment_id = experiment.json()["id"]
    await omni.client.post(f"/v1/experiments/{experiment_id}/start")
    channel = await omni.create_channel("api", "bot", {"callback_url": callback.url,
                                                        "default_team_id": team})
    callback.secret = channel["generated_secrets"]["secret"]
    assert (await post_inbound(omni.client, channel["id"], callback.secret,
                               inbound("u1", "m1", "My parcel is late"))).status_code == 202
    await omni.settle()
    thread_id = (await only_thread(omni))["id"]
    as_agent = {"Authorization": f"Bearer {key}"}
    reply = await omni.client.post(f"/v1/threads/{thread_id}/messages", headers=as_agent,
                                   json={"text": "It leaves today"})
    assert reply.status_code == 201, reply.text
    resolved = await omni.client.patch(f"/v1/threads/{thread_id}", headers=as_agent,
                                       json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text
    await omni.settle()
    (case,) = (await omni.client.get(f"/v1/threads/{thread_id}/cases")).json()["items"]
    assert case["csat"] is None and case["experiment"]["id"] == experiment_id
    request = next(r["csat_request"] for r in callback.received if "csat_request" in r)
    assert request["case_id"] == case["id"] and [s["score"] for s in request["scores"]] == [
        1, 2, 3, 4, 5]
    token = request["scores"][1]["id"]
    answer = {"external_user_id": "u1", "external_message_id": "m2",
              "csat": {"token": token, "comment": "Slow, but polite"}}
    assert (await post_inbound(omni.client, channel["id"], callback.secret, answer)
            ).status_code == 202
    await omni.settle()
    answers = (await omni.client.get("/v1/csat")).json()["items"]
    assert [(a["case_id"], a["score"], a["comment"], a["agent_id"], a["team_id"])
            for a in answers] == [(case["id"], 2, "Slow, but polite", agent, team)]
    (case,) = (await omni.client.get(f"/v1/threads/{thread_id}/cases")).json()["items"]
    assert case["csat"] == {"score": 2, "comment": "Slow, but polite"}
    # The experiment report reads the answer: one response in the customer's bucket.
    report = (await omni.client.get(f"/v1/experiments/{experiment_id}/report")).json()
    rated = [b for b in report["buckets"] if b["bucket"] == case["experiment"]["bucket"]]
    assert rated[0]["csat"]["responses"] == 1
    # A score is no customer message: no inbound message was added to the thread.
    assert [m["direction"] for m in await messages(omni, thread_id)].count("inbound") == 1


async def test_no_survey_for_merges_automatic_closes_or_after_the_customer_wrote_again(
    omni: OmniServer, callback: CallbackServer
) -> None:
    channel, thread_id = await bot_customer(omni, callback)
    merged = await resolve_with_survey(omni, thread_id, channel["id"], resolved_by="merge")
    automatic = await resolve_with_survey(omni, thread_id, channel["id"], resolved_by="auto")
    from datetime import timedelta

    from router.models.base import utcnow
    wrote = await resolve_with_survey(omni, thread_id, channel["id"],
                                      last_inbound_at=utcnow() + timedelta(seconds=1))
    await omni.settle()
    reasons = [(await survey_of(omni, case)).reason for case in (merged, automatic, wrote)]
    assert reasons == ["the case was closed by a merge", "the case was resolved automatically",
                       "the customer wrote again before the survey went out"]
    assert not any("csat_request" in r for r in callback.received)


async def test_a_delay_and_settings(omni: OmniServer, callback: CallbackServer) -> None:
    channel, thread_id = await bot_customer(omni, callback)
    settings = (await omni.client.get("/v1/settings/csat")).json()
    assert settings["enabled"] is True and settings["delay_seconds"] == 0
    bad = await omni.client.put("/v1/settings/csat", json={**settings, "channel_types": ["fax"]})
    assert bad.status_code == 422
    put = await omni.client.put("/v1/settings/csat", json={**settings, "delay_seconds": 3600})
    assert put.status_code == 200
    case_id = await resolve_with_survey(omni, thread_id, channel["id"])
    await omni.settle()
    survey = await survey_of(omni, case_id)
    assert survey.status == "scheduled" and (survey.due_at - survey.created_at).total_seconds() \
        > 3500
    await omni.client.put("/v1/settings/csat", json={**settings, "enabled": False})
    off = await resolve_with_survey(omni, thread_id, channel["id"])
    assert (await survey_of(omni, off)).reason == "CSAT surveys are turned off"


async def test_one_survey_per_case_on_two_replicas(
    make_omni: MakeOmni, callback: CallbackServer
) -> None:
    one = await make_omni()
    two = await make_omni()
    channel, thread_id = await bot_customer(one, callback)
    cases = [await resolve_with_survey(one if n % 2 else two, thread_id, channel["id"])
             for n in range(20)]
    two.core.csat_wakeup.set()
    await one.settle()
    await two.settle()
    async with one.core.reads() as session:
        sent = await session.scalar(select(func.count()).select_from(CsatSurvey)
                                    .where(CsatSurvey.status == "sent"))
        queued = await session.scalar(select(func.count()).select_from(OutboxItem))
    assert sent == len(cases)
    requests = [r["csat_request"]["case_id"] for r in callback.received if "csat_request" in r]
    assert sorted(requests) == sorted(cases) and queued is not None
