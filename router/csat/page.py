"""`/csat/{token}`: the page behind an e-mail survey's links, no login needed.

A link only *shows* the choice; the score is recorded by a POST the person makes from the page.
Mail scanners fetch every link in a message, and a GET that recorded a score would let them
rate cases on the customer's behalf.
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from router.auth.deps import CoreDep, ReadDep, SessionDep
from router.csat.answers import add_comment, record_score
from router.csat.survey import LABELS
from router.csat.tokens import Expired, read_link
from router.models import Case, CsatResponse, CsatSurvey

router = APIRouter(tags=["csat"])
TokenPath = Annotated[str, Path(max_length=80, pattern=r"^[0-9]+\.[0-9a-z]+\.[A-Za-z0-9_-]+$")]
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store", "X-Robots-Tag": "noindex",
}
STYLE = ("body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
         "color:#1f2328}h1{font-size:1.4rem}button{font:inherit;padding:.5rem 1rem;margin:.2rem;"
         "border:1px solid #888;border-radius:.4rem;background:#fff;cursor:pointer}"
         "button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}"
         "textarea{width:100%;min-height:6rem;font:inherit}.stars{font-size:1.6rem;"
         "color:#d4a72c}")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
                f"content='width=device-width,initial-scale=1'><title>{html.escape(title)}"
                f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
                f"{body}</body></html>")
    return HTMLResponse(document, status_code=status, headers=HEADERS)


def _stars(score: int) -> str:
    return f"<span class=stars aria-hidden=true>{'★' * score}{'☆' * (5 - score)}</span>"


def _comment_form(token: str) -> str:
    return (f"<form method=post action='/csat/{html.escape(token)}/comment'>"
            "<p><label for=c>What made it good, or what could be better? (optional)</label></p>"
            "<textarea id=c name=comment maxlength=4000></textarea>"
            "<p><button class=primary type=submit>Send comment</button></p></form>")


def _choices(token: str, chosen: int | None) -> str:
    buttons = "".join(
        f"<button type=submit name=score value={n}{' class=primary' if n == chosen else ''}>"
        f"{n} — {LABELS[n]}</button>" for n in range(1, 6))
    return (f"<form method=post action='/csat/{html.escape(token)}'><p>{buttons}</p>"
            "<p><label for=c>A comment (optional)</label></p>"
            "<textarea id=c name=comment maxlength=4000></textarea></form>")


class _Invalid(Exception):
    def __init__(self, response: HTMLResponse) -> None:
        self.response = response


def _case_id(secret_key: str, token: str) -> int:
    try:
        case_id = read_link(secret_key, token)
    except Expired:
        raise _Invalid(_page("This rating link has expired",
                             "<p>Thank you all the same. You can always write to us.</p>",
                             410)) from None
    if case_id is None:
        raise _Invalid(_page("This rating link is not valid", "<p>Please check the link.</p>",
                             404))
    return case_id


@router.get("/csat/{token}", summary="Rate a conversation (e-mail link)",
            response_class=HTMLResponse, include_in_schema=True)
async def show(token: TokenPath, core: CoreDep, session: ReadDep,
               score: Annotated[int | None, Query(ge=1, le=5)] = None) -> HTMLResponse:
    """Shows the chosen score with a button that records it; nothing is stored by a GET."""
    try:
        case_id = _case_id(core.secret_key, token)
    except _Invalid as invalid:
        return invalid.response
    done = await session.scalar(select(CsatResponse).where(CsatResponse.case_id == case_id))
    if done is not None:
        extra = "" if done.comment else _comment_form(token)
        return _page("Thank you!", f"<p>You rated this conversation {_stars(done.score)} "
                                   f"{done.score} of 5.</p>{extra}")
    if score is None:
        return _page("How would you rate the help you got?", _choices(token, None))
    return _page("Confirm your rating",
                 f"<p>You chose {_stars(score)} <strong>{score} — {LABELS[score]}</strong>. "
                 "Press the button to send it, or pick another.</p>" + _choices(token, score))


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:20_000].decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(body).items() if values}


@router.post("/csat/{token}", summary="Record a rating from the e-mail page",
             response_class=HTMLResponse)
async def record(token: TokenPath, request: Request, core: CoreDep,
                 session: SessionDep) -> HTMLResponse:
    """Stores the score (and comment) once per case; a second answer is refused politely."""
    try:
        case_id = _case_id(core.secret_key, token)
    except _Invalid as invalid:
        return invalid.response
    form = await _form(request)
    try:
        score = int(form.get("score", ""))
    except ValueError:
        score = 0
    if not 1 <= score <= 5:
        return _page("Please choose a score", _choices(token, None), 422)
    case = await session.get(Case, case_id)
    if case is None:
        return _page("This rating link is not valid", "<p>Please check the link.</p>", 404)
    survey = await session.get(CsatSurvey, case_id)
    comment = (form.get("comment") or "").strip()[:4000] or None
    recorded = await record_score(core, session, case, score,
                                  survey.channel_id if survey else case.channel_id, comment)
    if not recorded.first:
        return _page("You already rated this conversation",
                     f"<p>Your rating: {_stars(recorded.response.score)} "
                     f"{recorded.response.score} of 5. Thank you!</p>", 409)
    extra = "" if comment else _comment_form(token)
    return _page("Thank you!", f"<p>You rated this conversation {_stars(score)} {score} of 5."
                               f"</p>{extra}")


@router.post("/csat/{token}/comment", summary="Add a comment to a rating",
             response_class=HTMLResponse)
async def comment(token: TokenPath, request: Request, core: CoreDep,
                  session: SessionDep) -> HTMLResponse:
    """The optional comment that follows a score (once)."""
    try:
        case_id = _case_id(core.secret_key, token)
    except _Invalid as invalid:
        return invalid.response
    response = await session.scalar(select(CsatResponse).where(CsatResponse.case_id == case_id))
    if response is None:
        return _page("Please rate first", _choices(token, None), 409)
    text = ((await _form(request)).get("comment") or "").strip()[:4000]
    if text and await add_comment(core, session, response, text):
        return _page("Thank you!", "<p>Your comment reached the team.</p>")
    return _page("Thank you!", "<p>We already have your comment.</p>")
