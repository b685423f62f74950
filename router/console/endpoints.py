"""The agent console and the supervisor dashboard: static pages over the public API.

The pages hold no data: the browser signs in with an API key and calls /v1 like any other
client. What the server adds is the files, their caching and a strict CSP.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from router.console.assets import Asset, load_assets
from router.errors import NotFound

router = APIRouter(include_in_schema=False)
ASSETS = load_assets()
# No inline script or style, nothing from another origin; the API is same-origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                "Cache-Control": "no-cache"}
# A versioned name never changes content, so the browser may keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


def _send(request: Request, asset: Asset, headers: dict[str, str]) -> Response:
    out = {**headers, "Vary": "Accept-Encoding", "X-Content-Type-Options": "nosniff"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        out["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=out)
    return Response(asset.body, media_type=asset.media_type, headers=out)


@router.get("/", summary="The console")
async def root() -> RedirectResponse:
    """Send a person who opens the server's address to the console."""
    return RedirectResponse("/console", status_code=307)


@router.get("/console", summary="Agent console")
async def console(request: Request) -> Response:
    """The agent console page (sign in with an API key)."""
    return _send(request, ASSETS.pages["console.html"], PAGE_HEADERS)


@router.get("/console/dashboard", summary="Supervisor dashboard")
async def dashboard(request: Request) -> Response:
    """The supervisor dashboard page (charts from /v1/reports)."""
    return _send(request, ASSETS.pages["dashboard.html"], PAGE_HEADERS)


@router.get("/console/static/{version}/{name:path}", summary="Console files")
async def static(version: str, name: str, request: Request) -> Response:
    """A console file; versioned names are cached for a year, an old version is not cached."""
    asset = ASSETS.files.get(name)
    if asset is None:
        raise NotFound("no such console file")
    cache = IMMUTABLE if version == ASSETS.version else "no-cache"
    return _send(request, asset, {"Cache-Control": cache})
