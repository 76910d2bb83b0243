"""forbidden_reason over every disguise from the threat guide, plus real public addresses."""

from __future__ import annotations

import pytest

from bot.net import SystemResolver, forbidden_reason

BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("fd00:ec2::254", "private"),  # AWS metadata over IPv6
    ("fec0::1", "private"),
    ("100.64.0.1", "CGNAT"),  # is_private is False on 3.11
    ("100.127.255.254", "CGNAT"),
    ("169.254.169.254", "link-local"),  # AWS/GCP metadata
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.2.10", "reserved"),  # TEST-NET-1
    ("198.18.0.1", "reserved"),  # benchmarking
    ("2001:db8::1", "reserved"),
    ("100::1", "reserved"),
    ("4000::1", "reserved"),  # outside 2000::/3
    # IPv6 wrappers hiding IPv4 addresses
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254; is_global is True
    ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b:1::a00:1", "private"),  # local-use NAT64 around 10.0.0.1
    ("64:ff9b:1::808:808", "reserved"),  # local-use NAT64 is never global
    ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1; is_global is True
    ("2002:a9fe:a9fe::1", "link-local"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"),  # Teredo is not routable anyway
    ("::127.0.0.1", "loopback"),  # IPv4-compatible
    ("::8.8.8.8", "reserved"),
    ("[::1]", "loopback"),
    ("not an ip", "invalid"),
    ("127.1", "invalid"),  # legacy forms are normalised by check_url, not here
]

ALLOWED = [
    "93.184.216.34",
    "1.1.1.1",
    "8.8.8.8",
    "2606:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 around a public address (DNS64 networks)
    "2002:808:808::1",  # 6to4 around a public address
]


@pytest.mark.parametrize(("ip", "word"), BLOCKED)
def test_blocked(ip: str, word: str) -> None:
    reason = forbidden_reason(ip)
    assert reason is not None, ip
    assert word in reason


@pytest.mark.parametrize("ip", ALLOWED)
def test_allowed(ip: str) -> None:
    assert forbidden_reason(ip) is None


def test_wrapped_reason_names_the_wrapper() -> None:
    assert forbidden_reason("64:ff9b::a9fe:a9fe") == "link-local address (inside NAT64)"
    assert forbidden_reason("2002:7f00:1::") == "loopback address (inside 6to4)"


async def test_system_resolver_uses_getaddrinfo_once_and_dedupes() -> None:
    answers = await SystemResolver().resolve("localhost", 80)
    assert answers and len(answers) == len(set(answers))
    assert all(forbidden_reason(a) == "loopback address" for a in answers)


async def test_system_resolver_raises_oserror_for_unknown_host() -> None:
    with pytest.raises(OSError):
        await SystemResolver().resolve("no-such-host.invalid", 80)
