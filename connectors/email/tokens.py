"""Plus-addressed Reply-To: `<local>+t<token>@<domain>` leads a reply back to its thread."""

from __future__ import annotations

import re

# The core's prefix for thread tokens in InboundMessage.thread_refs (router.threads.tokens).
THREAD_REF_PREFIX = "token:"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def reply_address(own_address: str, token: str) -> str:
    """Our address carrying the thread token, or the plain address when there is none."""
    local, _, domain = own_address.partition("@")
    if not token or not TOKEN.match(token):
        return own_address
    return f"{local}+t{token}@{domain}"


def tokens_in(recipients: list[str], own_address: str) -> list[str]:
    """Thread tokens found in recipient addresses that are plus-variants of ours."""
    own_local, _, own_domain = own_address.lower().partition("@")
    found: list[str] = []
    for address in recipients:
        local, _, domain = address.lower().rpartition("@")
        base, plus, tag = local.partition("+")
        if domain != own_domain or base != own_local or not plus or not tag.startswith("t"):
            continue
        token = tag[1:]
        if TOKEN.match(token) and token not in found:
            found.append(token)
    return found
