"""Which addresses a fetch of someone else's URL may connect to.

Only globally routable unicast addresses, unless the operator allow-listed a host or network
(`OMNIROUTE_FETCH_ALLOW_HOSTS`, for self-hosted media). IPv6 forms that carry an IPv4 address
(IPv4-mapped, IPv4-compatible, 6to4, NAT64) are judged by the IPv4 address they lead to, so
`::ffff:127.0.0.1` is loopback however it is written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = frozenset({"http", "https"})
# Prefixes whose addresses are translated to the IPv4 address in their last 32 bits.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it is one of the translated forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64) or (
            address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why a connection to `address` is refused (its kind), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return refusal(inner)
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("private", address.is_private), ("reserved", address.is_reserved),
              ("site-local", isinstance(address, ipaddress.IPv6Address)
               and address.is_site_local))
    for kind, hit in checks:
        if hit:
            return kind
    # Shared address space (100.64/10), documentation and benchmarking ranges and the like:
    # not private in ipaddress' sense, yet not reachable on the internet either.
    if not address.is_global:
        return "non-global"
    return None


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """The operator's allow-list: host names (exact or `*.suffix`) and IP networks."""

    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, setting: str | Iterable[str]) -> FetchPolicy:
        """From `OMNIROUTE_FETCH_ALLOW_HOSTS`: comma- or space-separated entries.

        `media.internal`, `*.corp.example`, `10.20.0.0/16`, `127.0.0.1`, `[fd00::5]`."""
        entries = setting.replace(",", " ").split() if isinstance(setting, str) else setting
        hosts: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                suffixes.append(entry[1:])
            elif "/" in entry or ":" in entry or "*" in entry:
                raise ValueError(f"{raw!r} is neither a host name, `*.domain`, nor an IP "
                                 "network (ports and paths are not part of an entry)")
            else:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(suffixes), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        """The host name itself is on the list (any address it resolves to is fine)."""
        name = host.lower().rstrip(".")
        return name in self.hosts or any(name.endswith(s) for s in self.suffixes)

    def address_refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be reached, or None; allow-listed networks always may."""
        if any(address.version == net.version and address in net for net in self.networks):
            return None
        return refusal(address)
