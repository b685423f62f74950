"""Every error leaves as application/problem+json; nothing a client sends becomes a 500."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from connectors.base import WebhookRejected
from router.db import database_unavailable
from router.errors import ProblemError, ServiceUnavailable, problem_body

log = logging.getLogger("omniroute.errors")
PROBLEM_JSON = "application/problem+json"
HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


def problem_response(status: int, slug: str, title: str, detail: str,
                     **extra: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, slug, title, detail, **extra), status_code=status,
                        media_type=PROBLEM_JSON)


def rejected_body(exc: WebhookRejected) -> dict[str, Any]:
    """The problem document for a webhook the connector refused."""
    slug = {401: "bad-signature", 403: "forbidden", 404: "not-found"}.get(exc.status, "rejected")
    errors = getattr(exc, "errors", None)
    return problem_body(exc.status, slug, exc.title, exc.detail,
                        **({"errors": errors} if errors else {}))


def internal_body() -> dict[str, Any]:
    return problem_body(500, "internal", "Internal error",
                        "the server failed; the error was logged")


def unavailable_problem() -> ServiceUnavailable:
    return ServiceUnavailable("the database is unavailable; retry shortly")


def retry_after_header(exc: ProblemError) -> list[tuple[bytes, bytes]]:
    """The answer's extra headers (Retry-After on a 429 or 503) as raw ASGI pairs."""
    return [(name.lower().encode(), value.encode()) for name, value in exc.headers().items()]


def _problem_json(exc: ProblemError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, media_type=PROBLEM_JSON,
                        headers=exc.headers() or None)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts)


def _path_methods(app: FastAPI) -> list[tuple[re.Pattern[str], bool, list[str]]]:
    """Each documented path as a pattern, whether it has parameters, and its methods."""
    cached: list[tuple[re.Pattern[str], bool, list[str]]] | None = getattr(
        app.state, "path_methods", None)
    if cached is None:
        cached = []
        for path, operations in app.openapi().get("paths", {}).items():
            pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
            methods = sorted(m.upper() for m in operations if m.upper() in HTTP_METHODS)
            cached.append((pattern, "{" in path, methods))
        app.state.path_methods = cached
    return cached


def allowed_methods(request: Request) -> list[str]:
    """Every method the document declares for this path (RFC 9110: a 405 says which).

    Starlette names only the methods of the first route whose path matched, while each
    method of a path is its own route here. A fixed path (/v1/agents/me) is its own
    resource even where an id pattern (/v1/agents/{agent_id}) would also match it.
    """
    path = request.url.path
    matches = [(has_params, methods) for pattern, has_params, methods
               in _path_methods(request.app) if pattern.match(path)]
    fixed = [methods for has_params, methods in matches if not has_params]
    chosen = fixed or [methods for _, methods in matches]
    return sorted({method for methods in chosen for method in methods})


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return _problem_json(exc)

    @app.exception_handler(WebhookRejected)
    async def _rejected(_: Request, exc: WebhookRejected) -> JSONResponse:
        return JSONResponse(rejected_body(exc), status_code=exc.status, media_type=PROBLEM_JSON)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
                  for e in exc.errors()]
        is_json_error = any(e.get("type") == "json_invalid" for e in exc.errors())
        fields = ", ".join(sorted({e["field"] for e in errors})) or "body"
        if is_json_error:
            return problem_response(400, "malformed-json", "Malformed JSON",
                                    "the request body is not valid JSON", errors=errors)
        return problem_response(422, "validation-failed", "Validation failed",
                                f"invalid fields: {fields}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        slug = title.lower().replace(" ", "-")
        answer = problem_response(exc.status_code, slug, title, str(exc.detail))
        if exc.status_code == 405:
            answer.headers["Allow"] = ", ".join(allowed_methods(request))
        return answer

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> Response:
        # The client left before its request was read: nobody is there to answer and nothing
        # failed. 499 ("client closed request", as nginx logs it) only shows in the metrics.
        log.debug("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=499)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            log.warning("%s %s: the database is unavailable (%s)", request.method,
                        request.url.path, type(exc).__name__)
            return _problem_json(unavailable_problem())
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(internal_body(), status_code=500, media_type=PROBLEM_JSON)
