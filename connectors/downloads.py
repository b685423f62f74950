"""Response headers for serving a file someone else sent us, so it can do no harm.

The type and name are the sender's word. Only raster images a browser shows without running
anything are served inline, as themselves; everything else is an `application/octet-stream`
download, with `nosniff` and a sandbox CSP in case something renders it anyway. The name goes
out per RFC 6266 / RFC 5987: an ASCII fallback with nothing that could end the quoted string
or the header, plus the exact UTF-8 name.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
SANDBOX_CSP = "sandbox; default-src 'none'"
FALLBACK_TYPE = "application/octet-stream"
# RFC 6838 type/subtype names; anything else (spaces, quotes, CR/LF, parameters we cannot
# vouch for) is served as plain bytes.
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# RFC 5987 attr-char besides ALPHA / DIGIT, which quote() keeps anyway.
_ATTR_CHARS = "!#$&+-.^_`|~"
MAX_NAME = 200


def media_type(declared: str | None) -> str:
    """The declared type without parameters, if it is a well-formed type; else bytes."""
    value = (declared or "").split(";")[0].strip().lower()
    return value if _MIME.match(value) else FALLBACK_TYPE


def clean_filename(filename: str) -> str:
    """No control characters (CR, LF, NUL...) and no path: what a file may be saved as."""
    kept = "".join(c for c in filename if unicodedata.category(c)[0] != "C")
    return kept.replace("/", "_").replace("\\", "_").strip(" .")[:MAX_NAME]


def _ascii(char: str) -> str:
    if char in '"\\':
        return ""
    return char if char.isascii() else "_"


def content_disposition(disposition: str, filename: str | None) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''exact` (RFC 6266 section 4.3)."""
    name = clean_filename(filename or "")
    if not name:
        return disposition
    ascii_name = "".join(_ascii(c) for c in unicodedata.normalize("NFKD", name)
                         if unicodedata.category(c) != "Mn").strip(" .") or "file"
    header = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"
    return header


def download_headers(declared_type: str | None, filename: str | None) -> tuple[str, dict[str, str]]:
    """(media type, headers) for serving a foreign file: anything but a plain image is bytes
    to save (its declared type stays in the message's attachment metadata)."""
    mime = media_type(declared_type)
    inline = mime in INLINE_TYPES
    return mime if inline else FALLBACK_TYPE, {
        "Content-Disposition": content_disposition("inline" if inline else "attachment",
                                                   filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX_CSP}
