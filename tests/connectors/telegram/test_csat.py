"""CSAT on Telegram through aiogram and the fake Bot API: a 1-5 keyboard, one tap records
the score, the tap's message turns into a thank-you, a second tap is refused politely."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

from router.csat.tokens import read_button
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.fixtures import fixture
from tests.connectors.telegram.flow import create_channel, only_thread, post_update
from tests.omni import OmniServer
from tests.router.csat.cases import resolve_with_survey, survey_of

CHAT = 5120934412


def tap(data: str, message_id: int, update_id: int) -> dict[str, Any]:
    update = copy.deepcopy(fixture("callback_query__button"))
    update["update_id"] = update_id
    update["callback_query"]["id"] = f"q{update_id}"
    update["callback_query"]["data"] = data
    update["callback_query"]["message"]["message_id"] = message_id
    return update


async def test_one_tap_on_the_keyboard_records_the_score(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    await post_update(omni, channel_id, secret, fixture("message__text"))
    await omni.settle()
    thread = await only_thread(omni)
    case_id = await resolve_with_survey(omni, thread["id"], channel_id)
    await omni.wait_for(lambda: _sent(bot_api))
    survey = bot_api.sent()[-1]
    keyboard = survey.params["reply_markup"]["inline_keyboard"]
    buttons = [b for row in keyboard for b in row]
    assert [b["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert read_button(omni.core.secret_key, buttons[3]["callback_data"]) == (case_id, 4)
    assert (await survey_of(omni, case_id)).status == "sent"
    message_id = 2001

    response = await post_update(omni, channel_id, secret,
                                 tap(buttons[3]["callback_data"], message_id, 900))
    assert response.json()["method"] == "answerCallbackQuery"
    await omni.settle()
    await omni.wait_for(_edits(bot_api, 1))
    edit = bot_api.calls_to("editMessageText")[0].params
    assert (int(edit["chat_id"]), int(edit["message_id"])) == (CHAT, message_id)
    assert edit["text"].startswith("Thank you")
    answers = (await omni.client.get("/v1/csat")).json()["items"]
    assert [(a["case_id"], a["score"], a["channel_id"]) for a in answers] == [
        (case_id, 4, channel_id)]
    assert (await survey_of(omni, case_id)).status == "answered"

    await post_update(omni, channel_id, secret, tap(buttons[0]["callback_data"], message_id, 901))
    await omni.settle()
    await omni.wait_for(_edits(bot_api, 2))
    assert "already rated" in bot_api.calls_to("editMessageText")[1].params["text"]
    assert [a["score"] for a in (await omni.client.get("/v1/csat")).json()["items"]] == [4]


async def test_a_forged_score_is_not_recorded(omni: OmniServer, bot_api: FakeBotApi) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    await post_update(omni, channel_id, secret, fixture("message__text"))
    await omni.settle()
    thread = await only_thread(omni)
    case_id = await resolve_with_survey(omni, thread["id"], channel_id)
    await omni.wait_for(lambda: _sent(bot_api))
    genuine = bot_api.sent()[-1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    forged = genuine.replace(f":{case_id}:1:", f":{case_id}:5:")
    await post_update(omni, channel_id, secret, tap(forged, 2001, 902))
    await post_update(omni, channel_id, secret, tap(f"csat:{case_id}:5", 2001, 903))
    await omni.settle()
    assert (await omni.client.get("/v1/csat")).json()["items"] == []


async def _sent(bot_api: FakeBotApi) -> bool:
    return any("reply_markup" in c.params for c in bot_api.sent())


def _edits(bot_api: FakeBotApi, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(bot_api.calls_to("editMessageText")) == count

    return check
