"""What the server sends for the console: redirects, CSP, no inline script, caching, gzip."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

from router.console.assets import STATIC, load_assets
from router.console.endpoints import ASSETS
from tests.omni import OmniServer


class Scripts(HTMLParser):
    """Every <script> with its src and body, and every on* attribute, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str | None, str]] = []
        self.handlers: list[str] = []
        self.styles = 0
        self._in_script: str | None = None
        self._src: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if any(name == "style" for name, _ in attrs) or tag == "style":
            self.styles += 1
        if tag == "script":
            self._in_script = ""
            self._src = dict(attrs).get("src")

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._in_script += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._src, self._in_script))
            self._in_script = None


async def test_root_redirects_to_the_console(omni: OmniServer) -> None:
    response = await omni.client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/console"


async def test_pages_forbid_inline_script_and_have_none(omni: OmniServer) -> None:
    for path in ("/console", "/console/dashboard"):
        response = await omni.client.get(path)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert directives["frame-ancestors"] == "'none'"
        parsed = Scripts()
        parsed.feed(response.text)
        assert parsed.scripts, path
        for src, body in parsed.scripts:
            assert src and src.startswith(f"/console/static/{ASSETS.version}/"), src
            assert body.strip() == ""
        assert parsed.handlers == [] and parsed.styles == 0
        assert "{{static}}" not in response.text


def test_no_script_builds_markup_from_strings() -> None:
    # User text goes in through textContent; a string-to-HTML sink anywhere is a review failure.
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|"
                       r"new Function")
    for path in (STATIC / "js").glob("*.js"):
        assert not sinks.search(path.read_text()), path.name


async def test_files_are_versioned_gzipped_and_cached(omni: OmniServer) -> None:
    page = (await omni.client.get("/console")).text
    src = re.search(r'src="([^"]+console\.js)"', page)
    assert src is not None
    response = await omni.client.get(src.group(1), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/javascript")
    assert "LiveEvents" in response.text
    old = await omni.client.get("/console/static/000000000000/js/console.js")
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
    missing = await omni.client.get(f"/console/static/{ASSETS.version}/%2e%2e/assets.py")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    plain = await omni.client.get(src.group(1), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_chart_library_is_vendored_with_its_licence(omni: OmniServer) -> None:
    base = f"/console/static/{ASSETS.version}/vendor"
    library = await omni.client.get(f"{base}/chart.umd.min.js")
    assert library.status_code == 200 and library.text.startswith("/*!\n * Chart.js v4.5.1")
    licence = await omni.client.get(f"{base}/chart.js.LICENSE.md")
    assert "MIT" in licence.text and "Chart.js Contributors" in licence.text


def test_version_changes_with_any_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("console.html", "dashboard.html"):
        (tmp_path / name).write_text('<script src="{{static}}/js/a.js"></script>')
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("export const a = 1;")
    first = load_assets(tmp_path)
    (tmp_path / "js" / "a.js").write_text("export const a = 2;")
    second = load_assets(tmp_path)
    assert first.version != second.version
    assert second.pages["console.html"].body == (
        f'<script src="/console/static/{second.version}/js/a.js"></script>'.encode())
    assert gzip.decompress(second.files["js/a.js"].gzipped) == b"export const a = 2;"
