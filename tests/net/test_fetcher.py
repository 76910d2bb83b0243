"""Fetcher behaviour against real local servers (127.0.0.1, port 0)."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot import defaults
from bot.config import FetchSettings
from bot.net import (
    BadURL,
    BlockedAddress,
    ConnectFailed,
    Fetcher,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
)
from tests.net.helpers import PUBLIC_IP, FakeResolver, Override, RawServer, start_web, unused_port

LOCAL = FetchSettings(allow_private_addresses=True)


class App:
    """An aiohttp app that records request headers and tracks concurrent requests."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.active = 0
        self.max_active = 0
        self.app = web.Application()
        r = self.app.router
        r.add_get("/feed", self.feed)
        r.add_get("/gz", self.gz)
        r.add_get("/cond", self.cond)
        r.add_get("/status/{code}", self.status)
        r.add_get("/slow", self.slow)
        r.add_get("/stall", self.stall)
        r.add_get("/big", self.big)
        r.add_get("/redirect", self.redirect)

    async def feed(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        content_type = 'Application/RSS+XML; Charset="UTF-8"'
        return web.Response(body=b"<rss/>", headers={"Content-Type": content_type})

    async def gz(self, request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(b"<feed/>"), headers={"Content-Encoding": "gzip"})

    async def cond(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        validators = {"ETag": '"v1"', "Last-Modified": "Mon, 05 Jan 2026 07:00:00 GMT"}
        return web.Response(body=b"new", headers=validators)

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), body=b"nope")

    async def slow(self, request: web.Request) -> web.Response:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        await asyncio.sleep(0.15)
        self.active -= 1
        return web.Response(body=b"ok")

    async def stall(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "10"})
        await resp.prepare(request)
        await asyncio.sleep(5)
        return resp

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "/feed"))


@pytest.fixture
async def app() -> AsyncIterator[tuple[App, int]]:
    a = App()
    runner, port = await start_web(a.app)
    yield a, port
    await runner.cleanup()


async def test_session_settings_headers_and_media_type(app: tuple[App, int]) -> None:
    a, port = app
    async with Fetcher(LOCAL) as f:
        result = await f.fetch(f"http://127.0.0.1:{port}/feed")
        assert f._client is not None and f._client.limit == defaults.TOTAL_CONCURRENCY
        await f.fetch(f"http://localhost:{port}/feed", kind="page")
        await f.fetch(f"http://localhost:{port}/feed", accept="text/plain")
    assert result.status == 200 and result.body == b"<rss/>" and not result.not_modified
    assert (result.content_type, result.charset) == ("application/rss+xml", "utf-8")
    feed, page, custom = a.headers
    assert feed["User-Agent"] == defaults.USER_AGENT
    assert feed["Accept-Encoding"] == "gzip, deflate"
    assert "application/rss+xml" in feed["Accept"] and "application/atom+xml" in feed["Accept"]
    assert page["Accept"].startswith("text/html")
    assert custom["Accept"] == "text/plain"
    assert "Cookie" not in feed


async def test_gzip_is_decoded_by_us(app: tuple[App, int]) -> None:
    _, port = app
    async with Fetcher(LOCAL) as f:
        result = await f.fetch(f"http://127.0.0.1:{port}/gz")
    assert result.body == b"<feed/>"


async def test_connection_pool_is_created_lazily_and_closed() -> None:
    f = Fetcher(LOCAL)
    assert f._client is None
    await f.close()


async def test_conditional_get_and_304(app: tuple[App, int]) -> None:
    a, port = app
    async with Fetcher(LOCAL) as f:
        first = await f.fetch(f"http://127.0.0.1:{port}/cond")
        again = await f.fetch(f"http://127.0.0.1:{port}/cond", etag=first.etag,
                              last_modified=first.last_modified)
    assert first.etag == '"v1"' and first.body == b"new"
    assert again.not_modified and again.status == 304 and again.body == b""
    assert again.etag == '"v1"' and again.last_modified == first.last_modified
    assert a.headers[1]["If-None-Match"] == '"v1"'
    assert a.headers[1]["If-Modified-Since"] == "Mon, 05 Jan 2026 07:00:00 GMT"
    assert "If-None-Match" not in a.headers[0]


@pytest.mark.parametrize("code", [404, 410, 500, 503])
async def test_http_errors_are_typed_and_secret_free(app: tuple[App, int], code: int) -> None:
    _, port = app
    async with Fetcher(LOCAL) as f:
        with pytest.raises(HTTPStatusError) as info:
            await f.fetch(f"http://127.0.0.1:{port}/status/{code}?token=SECRET123")
    assert info.value.status == code
    assert str(info.value) == f"HTTP {code} from http://127.0.0.1:{port}/status/{code}"


async def test_redirects_relative_and_too_many(app: tuple[App, int]) -> None:
    _, port = app
    base = f"http://127.0.0.1:{port}"
    async with Fetcher(LOCAL) as f:
        result = await f.fetch(f"{base}/redirect?to=feed")
        assert result.url == f"{base}/feed" and result.body == b"<rss/>"
        loop = f"{base}/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/redirect"
        with pytest.raises(TooManyRedirects, match="more than 1 redirects"):
            await Fetcher(FetchSettings(allow_private_addresses=True, max_redirects=1)).fetch(loop)
        with pytest.raises(BadURL, match="scheme 'file'"):
            await f.fetch(f"{base}/redirect?to=file:///etc/passwd")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_", "/etc/passwd"])
async def test_fetch_rejects_other_schemes(url: str) -> None:
    async with Fetcher(LOCAL) as f:
        with pytest.raises(BadURL):
            await f.fetch(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.1/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://[::ffff:127.0.0.1]:8080/", "loopback"),
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),
        ("http://[2002:7f00:1::]/", "loopback"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fd00:ec2::254]/", "private"),
        ("http://[::1]/", "loopback"),
    ],
)
async def test_ip_literals_in_every_disguise_are_refused(url: str, reason: str) -> None:
    resolver = FakeResolver({})
    async with Fetcher(FetchSettings(), resolver=resolver) as f:
        with pytest.raises(BlockedAddress, match=reason) as info:
            await f.fetch(url)
        assert f._client is None  # refused before a connection pool, let alone a socket, existed
    assert str(info.value).startswith("refused: http://")
    assert resolver.calls == []


async def test_blocked_message_format() -> None:
    async with Fetcher(FetchSettings()) as f:
        with pytest.raises(BlockedAddress) as info:
            await f.fetch("http://127.0.0.1:80/x?secret=1")
    assert str(info.value) == "refused: http://127.0.0.1/x resolves to a loopback address"


async def test_any_private_answer_refuses_the_host() -> None:
    async with RawServer() as trap:
        resolver = FakeResolver({"mixed.example": [PUBLIC_IP, "10.0.0.7"]})
        override = Override(trap.port)
        async with Fetcher(FetchSettings(), resolver=resolver, connect_override=override) as f:
            with pytest.raises(BlockedAddress, match="private address"):
                await f.fetch("http://mixed.example/feed")
    assert trap.connections == 0 and override.seen == []


async def test_port_allowlist_only_without_private_addresses(app: tuple[App, int]) -> None:
    _, port = app
    resolver = FakeResolver({"feeds.example": [PUBLIC_IP]})
    override = Override(port)
    async with Fetcher(FetchSettings(), resolver=resolver, connect_override=override) as f:
        with pytest.raises(BlockedAddress, match="port 2375"):
            await f.fetch("http://feeds.example:2375/feed")
        assert resolver.calls == []  # refused before any lookup
        assert (await f.fetch("http://feeds.example:8080/feed")).body == b"<rss/>"
    assert override.seen == [(PUBLIC_IP, 8080)]
    open_ports = FetchSettings(allowed_ports=[])  # [] allows any port
    async with Fetcher(open_ports, resolver=resolver, connect_override=override) as f:
        assert (await f.fetch("http://feeds.example:2375/feed")).status == 200
    async with Fetcher(LOCAL) as f:  # private allowed: random local ports work
        assert (await f.fetch(f"http://127.0.0.1:{port}/feed")).status == 200


async def test_dns_failure_and_refused_connection() -> None:
    async with Fetcher(LOCAL, resolver=FakeResolver({})) as f:
        with pytest.raises(ConnectFailed, match="cannot resolve host nowhere.example"):
            await f.fetch("http://nowhere.example/")
        with pytest.raises(ConnectFailed, match="cannot connect to"):
            await f.fetch(f"http://127.0.0.1:{unused_port()}/feed")


async def test_content_length_over_cap_rejected_early(app: tuple[App, int]) -> None:
    _, port = app
    settings = FetchSettings(allow_private_addresses=True, max_feed_bytes=1000, max_page_bytes=10_000)
    async with Fetcher(settings) as f:
        with pytest.raises(TooLarge, match="is 5,000 bytes; the limit is 1,000"):
            await f.fetch(f"http://127.0.0.1:{port}/big")
        assert len((await f.fetch(f"http://127.0.0.1:{port}/big", kind="page")).body) == 5000


async def test_read_timeout(app: tuple[App, int]) -> None:
    _, port = app
    settings = FetchSettings(allow_private_addresses=True, read_timeout=0.2)
    async with Fetcher(settings) as f:
        with pytest.raises(FetchTimeout, match="waiting for data"):
            await f.fetch(f"http://127.0.0.1:{port}/stall")


async def test_connect_timeout() -> None:
    """A listener with a full accept queue drops SYNs, so connect() hangs until our timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):  # fill the backlog
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fillers.append(s)
            await asyncio.sleep(0.05)
            settings = FetchSettings(allow_private_addresses=True, connect_timeout=0.3)
            async with Fetcher(settings) as f:
                with pytest.raises(FetchTimeout, match="connecting"):
                    await f.fetch(f"http://127.0.0.1:{port}/")
        finally:
            for s in fillers:
                s.close()


async def test_per_host_concurrency(app: tuple[App, int]) -> None:
    a, port = app
    settings = FetchSettings(allow_private_addresses=True, per_host_concurrency=2)
    async with Fetcher(settings) as f:
        results = await asyncio.gather(*(f.fetch(f"http://127.0.0.1:{port}/slow") for _ in range(6)))
    assert all(r.body == b"ok" for r in results)
    assert a.max_active == 2


async def test_unknown_kind_is_a_programming_error() -> None:
    async with Fetcher(LOCAL) as f:
        with pytest.raises(ValueError):
            await f.fetch("http://127.0.0.1/", kind="video")  # type: ignore[arg-type]
