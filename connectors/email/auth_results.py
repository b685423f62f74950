"""Is the From address proven? Read RFC 8601 Authentication-Results of our own MTA only.

Anyone can write an Authentication-Results header into their mail, so only headers whose
authserv-id is the channel's trusted one count (the MTA must strip incoming copies of its own,
as RFC 8601 section 5 requires). A pass only proves the From address when the authenticated
domain is aligned with it (DMARC-style relaxed alignment: same domain or a subdomain).
"""

from __future__ import annotations

import re

# A method result: `dkim=pass`, then properties such as `header.d=example.com`.
RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.S)
PROPERTY = re.compile(r"\b([a-z]+\.[a-z0-9_-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.IGNORECASE)


def _strip_comments(value: str) -> str:
    out: list[str] = []
    depth = 0
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _aligned(authenticated: str, from_domain: str) -> bool:
    authenticated = authenticated.strip().strip('"').lower().rstrip(".")
    if "@" in authenticated:
        authenticated = authenticated.rpartition("@")[2]
    if not authenticated or not from_domain:
        return False
    return (authenticated == from_domain or from_domain.endswith("." + authenticated)
            or authenticated.endswith("." + from_domain))


def passing_methods(values: list[str], authserv_id: str, from_address: str) -> list[str]:
    """Methods (`dkim`, `spf`) that passed aligned with `from_address`, per trusted headers."""
    if not authserv_id or "@" not in from_address:
        return []
    from_domain = from_address.rpartition("@")[2].lower()
    passed: list[str] = []
    for value in values:
        parts = _strip_comments(value).split(";")
        head = parts[0].split()
        if not head or head[0].lower() != authserv_id.lower():
            continue
        for clause in parts[1:]:
            match = RESULT.match(clause)
            if match is None:
                continue
            method, result, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
            if result != "pass" or method not in {"dkim", "spf"}:
                continue
            props = {k.lower(): v for k, v in PROPERTY.findall(rest)}
            if method == "dkim":
                domain = props.get("header.d") or props.get("header.i", "")
            else:
                domain = props.get("smtp.mailfrom", "")
            if _aligned(domain, from_domain) and method not in passed:
                passed.append(method)
    return passed
