"""The network policy's decision, table-driven: no DNS, no sockets, any address family."""

from __future__ import annotations

import pytest

from radar.core.netpolicy import NetworkPolicyError, decide, parse_networks

REFUSED = [
    # address, what the reason must name
    ("127.0.0.1", "loopback"),
    ("127.0.0.2", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.1", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local"),     # cloud metadata service
    ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),        # with a zone id
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("192.0.2.10", "reserved"),            # documentation (TEST-NET-1)
    ("198.18.0.1", "reserved"),            # benchmarking
    ("2001:db8::1", "reserved"),           # IPv6 documentation
    # IPv6 addresses that lead to IPv4 ones are judged by the IPv4 address.
    ("::ffff:127.0.0.1", "127.0.0.1, a loopback"),
    ("::ffff:10.1.2.3", "10.1.2.3, a private"),
    ("::ffff:169.254.169.254", "169.254.169.254, a link-local"),
    ("::ffff:7f00:2", "127.0.0.2, a loopback"),
    ("2002:a00:1::1", "10.0.0.1, a private"),       # 6to4 of 10.0.0.1
    ("2002:7f00:1::", "127.0.0.1, a loopback"),     # 6to4 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "169.254.169.254, a link-local"),  # NAT64
    ("[::1]", "loopback"),                  # as written in a URL
]

ALLOWED = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:93.184.216.34",
    "2a00:1450:4001:80b::200e",
]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_refused_by_default(address, why):
    decision = decide(address)
    assert not decision.allowed
    assert why in decision.reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    decision = decide(address)
    assert decision.allowed, decision.reason
    assert decision.reason == ""


ALLOW = parse_networks(["127.0.0.1/32", "10.20.0.0/16", "fd00:1::/32"])

OPENED = [
    ("127.0.0.1", True),
    ("127.0.0.2", False),          # only the one loopback address was opened
    ("::ffff:127.0.0.1", True),    # the mapped form of an opened address
    ("::1", False),
    ("10.20.3.4", True),
    ("10.21.0.1", False),
    ("fd00:1:2::3", True),
    ("fd00:2::1", False),
    ("169.254.169.254", False),
    ("8.8.8.8", True),             # public stays allowed
]


@pytest.mark.parametrize(("address", "allowed"), OPENED)
def test_allow_networks_opens_exactly_those_ranges(address, allowed):
    assert decide(address, ALLOW).allowed is allowed


@pytest.mark.parametrize("bad", ["localhost", "", "1.2.3", "example.org", "300.1.1.1"])
def test_a_host_name_is_never_an_address(bad):
    decision = decide(bad)
    assert not decision.allowed
    assert "not an IP address" in decision.reason


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "10.1.2.3/16", "intranet", "fe80::/129"])
def test_bad_allow_entries_are_errors(entry):
    with pytest.raises(NetworkPolicyError, match="CIDR"):
        parse_networks([entry])


def test_single_addresses_read_as_host_ranges():
    assert [str(n) for n in parse_networks(["127.0.0.1", "::1"])] == ["127.0.0.1/32", "::1/128"]
