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
from tests.router.csat.cases import resolve_with_survey, survey_of


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
    channel, thread_id = await bot_customer(omni, callback)
    case_id = await resolve_with_survey(omni, thread_id, channel["id"])
    await omni.settle()
    request = callback.received[-1]["csat_request"]
    assert request["case_id"] == case_id and [s["score"] for s in request["scores"]] == [
        1, 2, 3, 4, 5]
    token = request["scores"][1]["id"]
    answer = {"external_user_id": "u1", "external_message_id": "m2",
              "csat": {"token": token, "comment": "Slow, but polite"}}
    assert (await post_inbound(omni.client, channel["id"], callback.secret, answer)
            ).status_code == 202
    await omni.settle()
    answers = (await omni.client.get("/v1/csat")).json()["items"]
    assert [(a["score"], a["comment"]) for a in answers] == [(2, "Slow, but polite")]
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
