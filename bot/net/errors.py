"""Typed fetch failures whose messages are safe to show users and to log.

Every message names the URL without its query string or userinfo (tokens often live there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yarl import URL

    from bot.net.target import Target

_MAX_SHOWN_PATH = 120


def redact_url(url: str | URL | Target) -> str:
    """scheme://host[:port]/path — no userinfo, query or fragment; long paths shortened."""
    from yarl import URL  # here: importing the errors must not load yarl

    try:
        u = url if isinstance(url, URL) else URL(str(url))
    except (ValueError, TypeError):
        return "(invalid URL)"
    if not u.scheme or u.raw_host is None:
        return "(invalid URL)"
    host = f"[{u.raw_host}]" if ":" in u.raw_host else u.raw_host
    port = f":{u.explicit_port}" if u.explicit_port is not None else ""
    path = u.raw_path or "/"
    if len(path) > _MAX_SHOWN_PATH:
        path = path[:_MAX_SHOWN_PATH] + "…"
    return f"{u.scheme}://{host}{port}{path}"


class FetchError(Exception):
    """Base class: the fetch failed; str(exc) is a short, secret-free explanation."""


class BadURL(FetchError):
    """The URL is malformed, uses a scheme other than http/https, or carries userinfo."""


class BlockedAddress(FetchError):
    """The address policy refused the host, one of its addresses, or its port."""


class TooLarge(FetchError):
    """The (decoded) body exceeds the size cap."""


class FetchTimeout(FetchError):
    """A connect, read or whole-fetch deadline expired."""


class TooManyRedirects(FetchError):
    """More redirect hops than settings.max_redirects."""


class ConnectFailed(FetchError):
    """DNS failure, refused connection, reset, TLS failure or a broken response."""


class HTTPStatusError(FetchError):
    """The server answered 4xx/5xx (or an unusable 3xx); `.status` holds the code."""

    def __init__(self, status: int, url: str | URL | Target, reason: str | None = None) -> None:
        self.status = status
        self.url = redact_url(url)
        super().__init__(reason or f"HTTP {status} from {self.url}")
