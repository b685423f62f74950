"""E-mail under an SLA policy: the acknowledgement names the case's due time, it is no
response, and an out-of-office reply from the customer moves no clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from router.models.sla import SlaTimer
from tests.connectors.email.flow import deliver, email_channel, fixture, thread_of, token_of
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer
from tests.router.sla.helpers import make_policy

KLAUS = "k.meier@contoso.example"


async def armed(omni: OmniServer, case_id: int) -> list[str]:
    async with omni.core.reads() as session:
        return sorted(await session.scalars(select(SlaTimer.metric).where(
            SlaTimer.case_id == case_id, SlaTimer.fired_at.is_(None))))


async def test_the_acknowledgement_names_the_due_time_and_is_no_response(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    await make_policy(omni, name="mail", default=True, targets=[
        {"channel_type": "email", "first_response_seconds": 4 * 3600,
         "resolution_seconds": 3 * 86400}])
    channel = await email_channel(omni, smtp_server, ack_template=(
        "We got your mail and answer by {due} (within {response_time})."))
    await deliver(omni, channel, fixture("message__outlook_html_only_reply",
                                         In_Reply_To="", References=""))
    (ack,) = smtp_server.received
    text = ack.message.get_body(("plain",)).get_content().strip()
    thread = await thread_of(omni, KLAUS)
    case = thread["case"]
    due = datetime.fromisoformat(case["sla"]["first_response_due_at"])
    # Calendar time (no business hours): the UTC clock time of the due moment.
    assert text.startswith("We got your mail and answer by ")
    assert f"{due:%H}:{due:%M}" in text and text.endswith("(within 4 hours).")
    # The acknowledgement is an automatic message: the first response is still owed.
    assert case["first_response_at"] is None and case["agent_replies"] == 0
    assert await armed(omni, case["id"]) == ["first_response", "resolution"]

    # The customer's out-of-office answer to it is no customer message either.
    token = token_of(ack.message["Reply-To"])
    await deliver(omni, channel, fixture(
        "auto_reply__exchange_out_of_office", In_Reply_To=ack.message["Message-ID"],
        References=ack.message["Message-ID"],
        To=f"Acme Support <support+t{token}@acme.example>"))
    after = (await thread_of(omni, KLAUS))["case"]
    assert after["sla"] == case["sla"] and after["id"] == case["id"]
    assert len(smtp_server.received) == 1
