"""Where a request goes: the parts of a URL that `check_url` has already normalised.

The fetcher's hot path reads these instead of building a yarl URL per request: a round of 304s
makes hundreds of requests, and importing yarl alone cost about a tenth of such a round
(bench/ingest.py). yarl still does the checking itself (`check_url`) and joins redirect targets.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from bot.net.urls import DEFAULT_PORTS


class Target(NamedTuple):
    url: str  # as check_url returned it
    scheme: str
    host: str  # lower case; an IPv6 address without brackets
    port: int  # the scheme's default when the URL names none
    authority: str  # the Host header: host[:port] as the URL has it (brackets kept)
    path_qs: str  # the request target: path and query, "/" at least

    @classmethod
    def of(cls, url: str) -> Target:
        """Split a URL that check_url returned (absolute http(s), no userinfo, no fragment)."""
        parts = urlsplit(url)
        scheme = parts.scheme
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
        path_qs = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(url, scheme, parts.hostname or "", port, parts.netloc, path_qs)  # hostname is lower case

    def __str__(self) -> str:
        return self.url
