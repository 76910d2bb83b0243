"""The guarded HTTP fetcher: every byte from an untrusted URL comes through here.

Per hop: check the URL, vet the port and every resolved address *before* connecting, connect
to a vetted address itself (no second lookup: bot/net/http1.py), then stream the body through
a capped decoder.
Redirects are followed by hand so each hop is vetted again; one deadline covers the whole fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot import defaults
from bot.config import FetchSettings
from bot.net.addresses import Resolver, SystemResolver, forbidden_reason, parse_ip
from bot.net.decode import ACCEPT_ENCODING, BodyDecoder, parse_content_encoding
from bot.net.errors import (
    BadURL,
    BlockedAddress,
    ConnectFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
    redact_url,
)
from bot.net.target import Target
from bot.net.urls import check_url

if TYPE_CHECKING:
    from bot.net.http1 import ConnectOverride, HTTPClient, Response

ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(slots=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int  # 2xx, or 304 when not_modified
    body: bytes  # decoded (gzip/deflate removed); b"" when not_modified
    content_type: str | None  # media type without parameters, lower-case
    charset: str | None
    etag: str | None
    last_modified: str | None
    not_modified: bool


def _an(reason: str) -> str:
    return ("an " if reason[:1].lower() in "aeiou" else "a ") + reason


def _media_type(header: str | None) -> tuple[str | None, str | None]:
    if not header:
        return None, None
    media, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    return media.strip().lower() or None, charset


class Fetcher:
    """One connection pool per Fetcher, created on the first fetch.

    `connect_override` is a test seam only (see HTTPClient): it lets a vetted fake public
    address reach a local test server. Never set it in production.
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        resolver: Resolver | None = None,
        connect_override: ConnectOverride | None = None,
    ) -> None:
        self._settings = settings
        self._resolver: Resolver = resolver or SystemResolver()
        self._override = connect_override
        self._client: HTTPClient | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._total: asyncio.Semaphore | None = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    def _get_client(self) -> HTTPClient:
        """Made on first use, so commands that never fetch (`feeds list`) load no HTTP code."""
        if self._client is None:
            from bot.net.http1 import HTTPClient

            s = self._settings
            self._client = HTTPClient(connect_timeout=s.connect_timeout, read_timeout=s.read_timeout,
                                      limit=defaults.TOTAL_CONCURRENCY, override=self._override)
        return self._client

    async def fetch(
        self,
        url: str,
        *,
        kind: Literal["feed", "page"] = "feed",
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """GET `url` under the address, size and time policy; raise a FetchError subclass on failure."""
        if kind not in ACCEPT:
            raise ValueError(f"unknown fetch kind {kind!r}")
        s = self._settings
        current = check_url(url)
        cap = s.max_feed_bytes if kind == "feed" else s.max_page_bytes
        headers = {"User-Agent": s.user_agent, "Accept": accept or ACCEPT[kind], "Accept-Encoding": ACCEPT_ENCODING}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        loop = asyncio.get_running_loop()
        try:
            # The deadline clock starts once the first host slot is ours: queueing behind other
            # fetches of the same host is not the server's slowness.
            async with asyncio.timeout(None) as deadline:
                def start_clock() -> None:
                    if deadline.when() is None:
                        deadline.reschedule(loop.time() + s.deadline)

                for _hop in range(s.max_redirects + 1):
                    outcome = await self._hop(current, headers, cap, etag, last_modified, start_clock)
                    if isinstance(outcome, FetchResult):
                        return outcome
                    current = outcome
                raise TooManyRedirects(f"more than {s.max_redirects} redirects from {redact_url(url)}")
        except TimeoutError:
            raise FetchTimeout(f"timed out after {s.deadline:g} s fetching {redact_url(current)}") from None

    async def _vet(self, u: Target) -> list[str] | None:
        """Refuse before connecting; return the vetted addresses to connect to (None for an IP literal)."""
        s = self._settings
        host, port = u.host, u.port
        literal = parse_ip(host) is not None
        if not s.allow_private_addresses:
            if literal and (reason := forbidden_reason(host)):
                raise BlockedAddress(f"refused: {redact_url(u)} resolves to {_an(reason)}")
            ports = s.ports()
            if ports is not None and port not in ports:
                raise BlockedAddress(f"refused: {redact_url(u)} uses port {port}, which is not allowed")
        if literal:
            return None
        try:
            addresses = await self._resolver.resolve(host, port)
        except (OSError, ValueError, UnicodeError):
            raise ConnectFailed(f"cannot resolve host {host}") from None
        if not addresses or any(parse_ip(a) is None for a in addresses):
            raise ConnectFailed(f"cannot resolve host {host}")
        if not s.allow_private_addresses:
            for address in addresses:
                if reason := forbidden_reason(address):
                    raise BlockedAddress(f"refused: {redact_url(u)} resolves to {_an(reason)}")
        return list(addresses)

    async def _hop(
        self,
        url: str,
        headers: dict[str, str],
        cap: int,
        etag: str | None,
        last_modified: str | None,
        start_clock: Callable[[], None],
    ) -> FetchResult | str:
        """One request: a FetchResult, or the next URL (already checked) for a redirect."""
        u = Target.of(url)
        host = u.host
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self._settings.per_host_concurrency)
        if self._total is None:
            self._total = asyncio.Semaphore(defaults.TOTAL_CONCURRENCY)
        async with slot, self._total:  # the global slot is taken here, before the deadline clock starts
            start_clock()
            addresses = await self._vet(u)
            try:
                async with self._get_client().get(u, addresses or [host], headers) as resp:
                    return await self._read(resp, url, u, cap, etag, last_modified)
            except FetchError:
                raise
            except OSError:
                raise ConnectFailed(f"connection to {redact_url(u)} failed") from None

    async def _read(
        self,
        resp: Response,
        url: str,
        u: Target,
        cap: int,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult | str:
        status = resp.status
        if status in _REDIRECTS:
            location = resp.header("Location")
            if location:
                with contextlib.suppress(UnicodeDecodeError):  # raw UTF-8, as browsers and aiohttp read it
                    location = location.encode("latin-1").decode("utf-8")
            if not location:
                raise HTTPStatusError(status, u, f"HTTP {status} redirect without a Location from {redact_url(u)}")
            try:
                from yarl import URL  # joining a redirect target is yarl's job (rare: not on the hot path)

                target = str(URL(url, encoded=True).join(URL(location.strip())))
            except (ValueError, TypeError):
                raise BadURL(f"bad redirect target from {redact_url(u)}") from None
            return check_url(target)
        media, charset = _media_type(resp.header("Content-Type"))
        new_etag = resp.header("ETag")
        new_modified = resp.header("Last-Modified")
        if status == 304:
            return FetchResult(url, 304, b"", media, charset, new_etag or etag,
                               new_modified or last_modified, True)
        if not 200 <= status < 300:
            raise HTTPStatusError(status, u)
        shown = redact_url(u)  # not before: a round of 304s needs none
        length = resp.content_length
        if length is not None and length > cap:
            raise TooLarge(f"response from {shown} is {length:,} bytes; the limit is {cap:,}")
        encoding = parse_content_encoding(", ".join(resp.header_all("Content-Encoding")))
        decoder = BodyDecoder(encoding, cap, label=f"response from {shown}")
        async for chunk in resp.chunks():
            decoder.feed(chunk)
        body = decoder.finish()
        return FetchResult(url, status, body, media, charset, new_etag, new_modified, False)
