"""Documented error responses: every endpoint names the problems it can answer with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from router.ids import MAX_ID

DESCRIPTIONS = {
    400: "Malformed request (bad cursor, bad JSON)",
    401: "Missing, unknown or revoked API key / bad signature",
    403: "The key's role does not allow this / forged provider secret / a URL this service "
         "does not fetch from",
    404: "No such resource",
    410: "The resource existed and was deleted on purpose (an expired upload)",
    409: "Conflicts with the current state",
    413: "Request body over the size limit",
    422: "Validation failed; `errors` names each field",
    429: "Over a rate limit (per API key, per webhook channel and source); retry after "
         "`Retry-After` seconds",
    502: "The channel's provider failed or refused the request",
    503: "Not ready",
}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(default=None)


RETRY_AFTER = {"Retry-After": {"description": "Seconds until a request would pass",
                               "schema": {"type": "integer", "minimum": 1}}}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented problems; whatever needs a key or signature (401) is rate limited too."""
    if 401 in codes and 429 not in codes:
        codes = (*codes, 429)
    return {
        code: {
            "model": Problem,
            "description": DESCRIPTIONS[code],
            "content": {"application/problem+json": {}},
            **({"headers": RETRY_AFTER} if code == 429 else {}),
        }
        for code in codes
    }


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}
# FastAPI's own 422 body, replaced by the problem document the handlers really send.
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def _answer(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": DESCRIPTIONS[code], "content": PROBLEM_CONTENT}
    if code == 429:
        answer["headers"] = RETRY_AFTER
    return answer


def _implied(operation: dict[str, Any]) -> set[int]:
    """The problems every operation of this shape can answer, declared or not."""
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    codes: set[int] = set()
    if parameters or body:
        codes.add(422)  # request validation
    if body:
        codes |= {400, 413}  # malformed JSON, the body limit
    if any(p["in"] == "query" and p["name"] == "cursor" for p in parameters):
        codes.add(400)  # a cursor this API did not issue
    if any(p["in"] == "path" for p in parameters):
        codes.add(404)  # no such resource
    if "401" in operation["responses"]:
        codes.add(429)  # whatever needs a key is rate limited per key
    return codes


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _exact_integers(node: Any) -> None:
    """Integer bounds as integers: Pydantic writes a body field's as floats.

    9.223372036854776e18 is 2**63, one past the id column; a client trusting the document
    sent it and got a 422 for a value the document allowed.
    """
    if isinstance(node, list):
        for item in node:
            _exact_integers(item)
    elif isinstance(node, dict):
        if node.get("type") == "integer":
            for bound in BOUNDS:
                value = node.get(bound)
                if isinstance(value, float):
                    node[bound] = MAX_ID if value >= float(MAX_ID) else int(value)
        for value in node.values():
            _exact_integers(value)


def complete_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation documents each problem it can answer, as application/problem+json.

    One pass over the generated document instead of a list on each decorator: what the
    exception handlers (router/problems.py) send for a shape of request is the same for
    every endpoint of that shape.
    """
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses: dict[str, Any] = operation["responses"]
            for implied in _implied(operation):
                responses.setdefault(str(implied), _answer(implied))
            # A page for people (the CSAT link) answers its own refusals as a page too.
            html = any("text/html" in (answer.get("content") or {})
                       for status, answer in responses.items() if status.startswith("2"))
            for code, answer in responses.items():
                if not code.isdigit() or int(code) < 400:
                    continue
                content = dict(answer.get("content") or {})
                # The plain JSON FastAPI adds for a model is the problem document.
                content.pop("application/json", None)
                content["application/problem+json"] = {"schema": PROBLEM_REF}
                if html and code != "429":
                    content.setdefault("text/html", {"schema": {"type": "string"}})
                answer["content"] = content
    _exact_integers(document)
    schemas = document.get("components", {}).get("schemas", {})
    for name in FASTAPI_VALIDATION:
        schemas.pop(name, None)
    return document
