"""The console's static files, read once from the package and kept gzipped in memory.

They are few and small (the whole console is a few hundred KB before compression), so holding
them beats reading the disk per request, and a fixed table means no request names a path.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
PAGES = ("console.html", "dashboard.html")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
         ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}
# Where the pages say the files are: `{{static}}` in them becomes /console/static/<version>.
PLACEHOLDER = b"{{static}}"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str


def _asset(body: bytes, name: str) -> Asset:
    suffix = Path(name).suffix
    media_type = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    # mtime=0: the same bytes on every start and replica, so ETags and caches agree.
    return Asset(body=body, gzipped=gzip.compress(body, compresslevel=9, mtime=0),
                 media_type=media_type)


@dataclass(frozen=True, slots=True)
class Assets:
    version: str
    files: dict[str, Asset]
    pages: dict[str, Asset]

    @property
    def prefix(self) -> str:
        return f"/console/static/{self.version}"


def load_assets(root: Path = STATIC) -> Assets:
    """Every file under static/ by its relative name, and the pages pointed at this version."""
    raw = {path.relative_to(root).as_posix(): path.read_bytes()
           for path in sorted(root.rglob("*")) if path.is_file()}
    digest = hashlib.sha256()
    for name, body in raw.items():
        digest.update(name.encode() + b"\0" + body + b"\0")
    version = digest.hexdigest()[:12]
    prefix = f"/console/static/{version}".encode()
    pages = {name: _asset(raw.pop(name).replace(PLACEHOLDER, prefix), name) for name in PAGES}
    return Assets(version=version, files={n: _asset(b, n) for n, b in raw.items()}, pages=pages)
