"""Which network addresses the crawler may fetch from: one pure decision, no I/O.

A crawler that follows links from feeds, sitemaps and forums must not become a
way to reach the systems next to it (server-side request forgery): loopback,
private networks, link-local addresses (169.254.169.254 is the cloud metadata
service), multicast, reserved and unspecified addresses are refused unless the
configuration opens their range (`[crawl] allow_networks`, CIDR notation).

The decision is made on the *resolved* address of every request and every
redirect hop (the crawler's downloader middleware resolves the host and asks
this module); host names are never matched as strings. IPv6 addresses that
carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, 6to4 2002::/16, Teredo,
NAT64 64:ff9b::/96) are judged by the IPv4 address they lead to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))  # RFC 1918, RFC 4193


@dataclass(frozen=True)
class Decision:
    """Whether an address may be fetched, and why not in words."""

    allowed: bool
    address: str
    reason: str = ""    # empty when allowed; e.g. "127.0.0.2 is a loopback address"


class NetworkPolicyError(ValueError):
    """An allow_networks entry that is not a CIDR range."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR ranges from the config (`"10.1.0.0/16"`, `"127.0.0.1/32"`, `"fd00::/8"`).

    A single address is read as its /32 (/128). Host bits set below the prefix
    (`10.1.2.3/16`) are an error: the range meant is ambiguous.
    """
    nets = []
    for value in values:
        try:
            nets.append(ipaddress.ip_network(str(value).strip(), strict=True))
        except ValueError as exc:
            raise NetworkPolicyError(f"{value!r} is not a network in CIDR notation: {exc}") from exc
    return tuple(nets)


def category(ip: IPAddress) -> str | None:
    """Why an address is not a public internet address ("loopback", ...), or None if it is."""
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 4 and ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if any(ip.version == net.version and ip in net for net in _PRIVATE):
        return "private"
    if ip.is_reserved or ip.is_private or not ip.is_global:
        return "reserved"  # documentation, benchmarking, IETF protocol ranges ...
    return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def decide(address: str | IPAddress, allow: Sequence[IPNetwork] = ()) -> Decision:
    """May the crawler connect to this resolved address? Pure: no DNS, no sockets.

    Allowed when the address (or the IPv4 address it embeds) lies in one of the
    `allow` ranges, or when it and any embedded IPv4 address are public.
    """
    text = str(address)
    try:
        ip = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return Decision(False, text, f"{text!r} is not an IP address")
    inner = embedded_ipv4(ip)
    for candidate in (ip, inner):
        if candidate is not None and any(
                candidate.version == net.version and candidate in net for net in allow):
            return Decision(True, str(ip))
    if inner is not None:
        why = category(inner)
        if why:
            return Decision(False, str(ip), f"{ip} leads to {inner}, a {why} address")
        return Decision(True, str(ip))  # the wrapper ranges themselves count as reserved
    why = category(ip)
    if why:
        return Decision(False, str(ip), f"{ip} is a {why} address")
    return Decision(True, str(ip))


def refusal(url: str, decision: Decision) -> str:
    """The fetch error recorded for a refused URL."""
    return (f"refused by the network policy: {decision.reason} "
            "(open it with [crawl] allow_networks if it is meant to be crawled)")
