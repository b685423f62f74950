"""Authentication-Results (RFC 8601): only our MTA's word, only aligned passes."""

from __future__ import annotations

import pytest

from connectors.email.auth_results import passing_methods

OURS = "mx.acme.example"


@pytest.mark.parametrize(("header", "sender", "expected"), [
    ("mx.acme.example; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=a@example.org",
     "jane@example.org", ["dkim", "spf"]),
    # Version after the authserv-id, comments everywhere, upper case.
    ("MX.ACME.EXAMPLE 1; DKIM=pass (good signature) header.i=@example.org",
     "jane@example.org", ["dkim"]),
    # Signer is the parent domain of the From domain: relaxed alignment.
    ("mx.acme.example; dkim=pass header.d=example.org", "jane@mail.example.org", ["dkim"]),
    # Signed by the mail provider's domain, not the sender's: not aligned.
    ("mx.acme.example; dkim=pass header.d=mailprovider.example", "jane@example.org", []),
    # spf passed for a different envelope domain.
    ("mx.acme.example; spf=pass smtp.mailfrom=bounce@esp.example", "jane@example.org", []),
    ("mx.acme.example; dkim=fail header.d=example.org; spf=softfail smtp.mailfrom=example.org",
     "jane@example.org", []),
    # Another host's verdict, however favourable, is only text the sender could have written.
    ("mx.example.org; dkim=pass header.d=example.org", "jane@example.org", []),
    ("mx.acme.example; none", "jane@example.org", []),
    # dmarc=pass alone is not in our rule (dkim or spf, aligned).
    ("mx.acme.example; dmarc=pass header.from=example.org", "jane@example.org", []),
])
def test_passing_methods(header: str, sender: str, expected: list[str]) -> None:
    assert passing_methods([header], OURS, sender) == expected


def test_no_trusted_authserv_id_configured_trusts_nobody() -> None:
    header = "mx.acme.example; dkim=pass header.d=example.org"
    assert passing_methods([header], "", "jane@example.org") == []


def test_results_from_several_headers_of_our_mta_add_up() -> None:
    headers = ["mx.acme.example; spf=pass smtp.mailfrom=jane@example.org",
               "mx.acme.example; dkim=pass header.d=example.org"]
    assert passing_methods(headers, OURS, "jane@example.org") == ["spf", "dkim"]
