"""Which IP addresses we may connect to, and how hostnames become addresses.

`is_private` alone is not enough on CPython 3.11: CGNAT (100.64/10) is not "private" and
NAT64/6to4 wrappers around loopback or metadata addresses report `is_global`. So we unwrap
IPv6 transition forms first, then name the reason for every non-global range explicitly.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from functools import lru_cache
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified address"),  # "this network"; 0.0.0.0 reaches the local host
    ("127.0.0.0/8", "loopback address"),
    ("10.0.0.0/8", "private address"),
    ("172.16.0.0/12", "private address"),
    ("192.168.0.0/16", "private address"),
    ("100.64.0.0/10", "CGNAT address"),
    ("169.254.0.0/16", "link-local address"),
    ("224.0.0.0/4", "multicast address"),
    ("255.255.255.255/32", "broadcast address"),
    ("240.0.0.0/4", "reserved address"),
)
_V6_RANGES: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified address"),
    ("::1/128", "loopback address"),
    ("fe80::/10", "link-local address"),
    ("fc00::/7", "private address"),  # unique local, e.g. fd00:ec2::254 (AWS metadata)
    ("fec0::/10", "private address"),  # deprecated site-local
    ("ff00::/8", "multicast address"),
)
_V4 = [(ipaddress.IPv4Network(n), r) for n, r in _V4_RANGES]
_V6 = [(ipaddress.IPv6Network(n), r) for n, r in _V6_RANGES]
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64_WKP = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_V4_COMPAT = ipaddress.IPv6Network("::/96")


@lru_cache(maxsize=4096)  # asked of every fetched host on every poll
def parse_ip(text: str) -> IPAddress | None:
    """A strict IP literal (brackets and zone id tolerated), else None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _v4_reason(ip: ipaddress.IPv4Address) -> str | None:
    for net, reason in _V4:
        if ip in net:
            return reason
    if not ip.is_global:
        return "reserved address"  # TEST-NETs, benchmarking, 192.0.0.0/24 …
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address hidden in a transition form, with the form's name."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if ip in _NAT64_WKP or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if ip in _V4_COMPAT and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "IPv4-compatible"
    return None


def forbidden_reason(ip: str) -> str | None:
    """None if `ip` is globally routable, else a short reason such as 'loopback address'."""
    addr = parse_ip(ip)
    if addr is None:
        return "invalid address"
    if isinstance(addr, ipaddress.IPv4Address):
        return _v4_reason(addr)
    if addr.teredo is not None:
        server, client = addr.teredo
        inner = _v4_reason(client) or _v4_reason(server)
        return f"{inner} (inside Teredo)" if inner else "reserved address (Teredo)"
    embedded = _embedded_v4(addr)
    if embedded is not None:
        v4, form = embedded
        inner = _v4_reason(v4)
        if inner:
            return f"{inner} (inside {form})"
        if form == "IPv4-compatible" or addr in _NAT64_LOCAL:
            return f"reserved address ({form})"
        return None  # a public IPv4 address behind a mapped/6to4/NAT64 wrapper
    for net, reason in _V6:
        if addr in net:
            return reason
    if addr not in _GLOBAL_UNICAST or not addr.is_global:
        return "reserved address"
    return None


class Resolver(Protocol):
    """Turns a hostname into IP address strings; injected so tests can fake DNS."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """One getaddrinfo call per resolve; errors surface as OSError (mapped by the Fetcher)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        seen: dict[str, None] = {}
        for family, _type, _proto, _canon, sockaddr in infos:
            if family in (socket.AF_INET, socket.AF_INET6):
                seen.setdefault(str(sockaddr[0]), None)
        return list(seen)
