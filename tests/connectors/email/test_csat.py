"""CSAT by e-mail: five signed links in a mail sent over SMTP; a link only shows the choice
(mail scanners prefetch links), a POST from the page records it, once, and then a comment."""

from __future__ import annotations

import re

from tests.connectors.email.flow import deliver, email_channel, fixture, thread_of
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer
from tests.router.csat.cases import resolve_with_survey, survey_of


async def test_links_show_a_page_and_a_post_records_the_score(
    omni: OmniServer, smtp_server: SmtpServer
) -> None:
    omni.core.settings.public_url = omni.url
    channel = await email_channel(omni, smtp_server)
    await deliver(omni, channel, fixture("message__gmail_new_request"))
    thread = await thread_of(omni, "jane.doe@example.org")
    case_id = await resolve_with_survey(omni, thread["id"], channel["id"])
    await omni.settle()
    assert (await survey_of(omni, case_id)).status == "sent"
    mail = smtp_server.received[-1].message
    assert mail["To"].lower().endswith("jane.doe@example.org>")
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    links = re.findall(rf"{re.escape(omni.url)}(/csat/\S+)", body)
    assert len(links) == 5 and all("score=" in link for link in links)
    four = next(link for link in links if link.endswith("score=4"))
    token = four.split("/csat/")[1].split("?")[0]

    page = await omni.client.get(four, headers={"Authorization": ""})
    assert page.status_code == 200 and "Confirm your rating" in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert (await omni.client.get("/v1/csat")).json()["items"] == []  # a GET records nothing

    recorded = await omni.client.post(f"/csat/{token}", content="score=4&comment=",
                                      headers={"Content-Type":
                                               "application/x-www-form-urlencoded"})
    assert recorded.status_code == 200 and "Thank you" in recorded.text
    again = await omni.client.post(f"/csat/{token}", content="score=1",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert again.status_code == 409 and "already rated" in again.text
    commented = await omni.client.post(
        f"/csat/{token}/comment", content="comment=Fast+and+%3Cb%3Ekind%3C%2Fb%3E",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert commented.status_code == 200
    answers = (await omni.client.get("/v1/csat")).json()["items"]
    assert [(a["score"], a["comment"], a["channel_type"]) for a in answers] == [
        (4, "Fast and <b>kind</b>", "email")]
    shown = await omni.client.get(f"/csat/{token}")
    assert "<b>kind" not in shown.text  # what a customer wrote is never markup


async def test_forged_and_expired_links(omni: OmniServer) -> None:
    from router.csat.tokens import link_token

    forged = link_token("another-secret", 1, 4_000_000_000)
    assert (await omni.client.get(f"/csat/{forged}?score=5")).status_code == 404
    expired = link_token(omni.core.secret_key, 1, 1_000)
    response = await omni.client.get(f"/csat/{expired}?score=5")
    assert response.status_code == 410 and "expired" in response.text
    assert (await omni.client.get("/csat/not-a-token")).status_code == 422
