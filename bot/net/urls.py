"""URL syntax policy: http/https only, a real host, no userinfo, no control characters.

Legacy numeric IPv4 spellings (127.1, 2130706433, 0x7f.1) are rewritten to the dotted quad,
as browsers do, so the address policy sees the address the socket layer would use.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.net.addresses import parse_ip
from bot.net.errors import BadURL

if TYPE_CHECKING:
    from yarl import URL

MAX_URL_LENGTH = 2048
_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST_OK = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$")
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def _numeric_ipv4(host: str) -> str | None:
    """inet_aton-style parse (decimal, octal, hex; 1-4 parts) to a dotted quad, else None.

    Raises BadURL when the host looks numeric (its last label is a number) but is no address.
    """
    labels = host.removesuffix(".").split(".")
    if not _NUMERIC_PART.match(labels[-1]):
        return None
    if len(labels) > 4 or not all(_NUMERIC_PART.match(p) for p in labels):
        raise BadURL("invalid URL: the host looks like an IPv4 address but is not one")
    values = []
    for part in labels:
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise BadURL("invalid URL: the host looks like an IPv4 address but is not one")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise BadURL("invalid URL: the host looks like an IPv4 address but is not one")
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ".".join(str((number >> s) & 0xFF) for s in (24, 16, 8, 0))


def _parse(url: str) -> URL:
    from yarl import URL  # here: a poll of URLs already in normal form (`_already_normal`) needs none

    if not isinstance(url, str):
        raise BadURL("invalid URL: expected text")
    if len(url) > MAX_URL_LENGTH:
        raise BadURL(f"invalid URL: longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(url):
        raise BadURL("invalid URL: contains control characters")
    scheme, sep, _rest = url.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise BadURL("not a web address: use an http:// or https:// URL")
    if scheme.lower() not in _SCHEMES:
        raise BadURL(f"unsupported scheme {scheme.lower()!r}: only http and https are allowed")
    try:
        return URL(url)
    except (ValueError, TypeError) as exc:
        detail = "bad port" if "port" in str(exc).lower() else "malformed"
        raise BadURL(f"invalid URL: {detail}") from None


def check_url(url: str) -> str:
    """Validate an absolute http(s) URL and return it normalised (fragment dropped)."""
    if isinstance(url, str) and len(url) <= _CACHED_LENGTH:
        if _already_normal(url):
            return url
        return _check_cached(url)
    return _check(url)


# A URL already in the form `_check` returns: lower-case scheme and host name (no IDNA, no
# trailing dot, no underscore), a canonical dotted quad or a name whose last label is not a
# number, a port without leading zeros that is not the scheme's default, a path and a non-empty
# query of characters yarl leaves as they are, and no dot segments, percent escapes, userinfo or
# fragment. For those `_check` is the identity (tests/net/test_urls.py checks it against
# `_check` on generated URLs), and every poll checks each feed's URL again: without this, a round of
# 304s spent a seventh of its time in yarl's parser (bench/ingest.py, cProfile).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_LABEL = r"(?!xn--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_SAFE = r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]"
_NORMAL = re.compile(
    rf"(?P<scheme>https?)://(?:{_OCTET}(?:\.{_OCTET}){{3}}|(?:{_LABEL}\.)*(?!(?:0x[0-9a-f]*|[0-9]+)(?:[:/?]|$)){_LABEL})"
    rf"(?::(?P<port>[1-9][0-9]{{0,4}}))?(?:/{_SAFE}*(?:\?(?:{_SAFE}|\?)+)?)?")  # a query needs a path
_DOT_SEGMENT = re.compile(r"/\.\.?(?:[/?]|$)")


def _already_normal(url: str) -> bool:
    match = _NORMAL.fullmatch(url)
    if match is None or _DOT_SEGMENT.search(url):
        return False
    port = match["port"]
    if port is None:
        return True
    number = int(port)
    return number < 65536 and number != DEFAULT_PORTS[match["scheme"]]


_CACHED_LENGTH = 512  # every poll checks each stored feed URL again; long (rare, maybe hostile) ones are not kept


@lru_cache(maxsize=8192)
def _check_cached(url: str) -> str:
    return _check(url)


def _check(url: str) -> str:
    url = url.strip() if isinstance(url, str) else url
    u = _parse(url)
    if not url.lower().startswith(u.scheme + "://"):
        raise BadURL("invalid URL: expected scheme://host/…")
    host = u.raw_host
    if not host:
        raise BadURL("invalid URL: no host")
    authority = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    if u.raw_user is not None or u.raw_password is not None or "@" in authority:
        raise BadURL("invalid URL: user names and passwords in URLs are not allowed")
    port = u.explicit_port
    if port is not None and not 0 < port < 65536:
        raise BadURL("invalid URL: bad port")
    if ":" in host:
        if "%" in host or parse_ip(host) is None:
            raise BadURL("invalid URL: bad IPv6 address")
    else:
        host = host.lower()
        if not _HOST_OK.match(host):
            raise BadURL("invalid URL: bad host name")
        dotted = _numeric_ipv4(host)
        if dotted is not None and dotted != host:
            u = u.with_host(dotted)
    return str(u.with_fragment(None))
