"""Which addresses a fetch may reach, however they are written, and the allow-list."""

from __future__ import annotations

import ipaddress

import pytest

from connectors.fetch import FetchPolicy
from connectors.fetch.policy import refusal


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("ff0e::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "private"), ("255.255.255.255", "private"),
    ("100.64.0.1", "non-global"), ("192.0.2.1", "private"), ("fec0::1", "site-local"),
    # IPv6 spellings of IPv4 addresses are judged by the IPv4 address.
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"), ("::127.0.0.1", "loopback"),
    ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::1", "link-local"),
    ("64:ff9b::7f00:1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("64:ff9b:1::a00:1", "private"),
])
def test_internal_addresses_are_refused(address: str, kind: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111",
                                     "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_the_allow_list_takes_hosts_suffixes_and_networks() -> None:
    policy = FetchPolicy.parse("media.internal, *.corp.example 10.20.0.0/16,[fd00::5]")
    assert policy.host_allowed("MEDIA.internal.")
    assert policy.host_allowed("files.corp.example")
    assert not policy.host_allowed("corp.example.evil")
    assert not policy.host_allowed("other.internal")
    assert policy.address_refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert policy.address_refusal(ipaddress.ip_address("10.21.3.4")) == "private"
    assert policy.address_refusal(ipaddress.ip_address("fd00::5")) is None
    assert FetchPolicy.parse("") == FetchPolicy()


@pytest.mark.parametrize("entry", ["media.internal:8080", "http://media.internal", "a*b.com"])
def test_an_entry_the_policy_cannot_read_is_an_error(entry: str) -> None:
    with pytest.raises(ValueError, match="neither a host name"):
        FetchPolicy.parse(entry)
