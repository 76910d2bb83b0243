"""Hostile network inputs (threat guide items 1-11, 15-17), one table row per case.

Every case runs with the production address policy (allow_private_addresses=False). The fake
public host `feeds.example` resolves to a documentation-free public address that the Fetcher's
test seam (`connect_override`) maps onto a local raw HTTP server; a second local "trap" server
stands in for internal targets and must never see a connection.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.config import FetchSettings
from bot.net import (
    BadURL,
    BlockedAddress,
    ConnectFailed,
    Fetcher,
    FetchError,
    FetchResult,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
)

MiB = 1024 * 1024
PUBLIC_IP = "93.184.216.34"
CAP = 2 * MiB

Writer = asyncio.StreamWriter
Route = Callable[[Writer, dict[str, str], "Local"], Awaitable[None]]


def gzip_of_zeros(megabytes: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MiB)
    return b"".join([comp.compress(zeros) for _ in range(megabytes)] + [comp.flush()])


def gzip_once(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def head(status: str, *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers, "Connection: close"]) + "\r\n\r\n").encode()


class Local:
    """A raw HTTP/1.1 server on 127.0.0.1:0 that counts connections and cancels its handlers."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.connections = 0
        self.port = 0
        self.trap_port = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
            line, *rest = raw.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in rest) if v}
            route = self.routes.get(line.split(" ")[1], not_found)
            await route(writer, headers, self)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


async def not_found(w: Writer, h: dict[str, str], srv: Local) -> None:
    w.write(head("404 Not Found", "Content-Length: 0"))


async def ok(w: Writer, h: dict[str, str], srv: Local) -> None:
    w.write(head("200 OK", "Content-Type: application/rss+xml", "Content-Length: 6") + b"<rss/>")


def redirect(location: str) -> Route:
    async def route(w: Writer, h: dict[str, str], srv: Local) -> None:
        target = location.format(trap=srv.trap_port)
        w.write(head("302 Found", f"Location: {target}", "Content-Length: 0"))

    return route


BOMB = gzip_of_zeros(100)  # ~100 KB of gzip, 100 MiB inflated


async def gzip_bomb(w: Writer, h: dict[str, str], srv: Local) -> None:
    w.write(head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(BOMB)}") + BOMB)


async def gzip_chain(w: Writer, h: dict[str, str], srv: Local) -> None:
    body = gzip_once(gzip_once(gzip_once(gzip_once(b"<rss/>"))))
    w.write(head("200 OK", "Content-Encoding: gzip, gzip, gzip, gzip", f"Content-Length: {len(body)}") + body)


async def lying_length(w: Writer, h: dict[str, str], srv: Local) -> None:
    w.write(head("200 OK", "Content-Length: 100"))
    block = b"A" * 65536
    for _ in range(50 * MiB // len(block)):  # 50 MB behind a 100-byte promise
        w.write(block)
        await w.drain()


async def endless(w: Writer, h: dict[str, str], srv: Local) -> None:
    w.write(head("200 OK", "Transfer-Encoding: chunked"))
    block = b"8000\r\n" + b"B" * 0x8000 + b"\r\n"
    for _ in range(20_000):  # "endless": 640 MB, far past any cap
        w.write(block)
        await w.drain()


async def slow_drip(w: Writer, h: dict[str, str], srv: Local) -> None:
    w.write(head("200 OK", "Content-Length: 1000"))
    for _ in range(30):
        await w.drain()
        await asyncio.sleep(2)
        w.write(b"x")


async def conditional(w: Writer, h: dict[str, str], srv: Local) -> None:
    validators = ('ETag: "abc"', "Last-Modified: Mon, 05 Jan 2026 07:00:00 GMT")
    if h.get("if-none-match") == '"abc"':
        w.write(head("304 Not Modified", *validators))
    else:
        w.write(head("200 OK", *validators, "Content-Length: 6") + b"<rss/>")


def status_route(code: str) -> Route:
    async def route(w: Writer, h: dict[str, str], srv: Local) -> None:
        w.write(head(code, "Content-Length: 4") + b"nope")

    return route


ROUTES: dict[str, Route] = {
    "/ok": ok,
    "/redirect-loopback": redirect("http://127.0.0.1:{trap}/"),
    "/redirect-docker": redirect("http://127.0.0.1:2375/"),
    "/redirect-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
    "/redirect-internal-name": redirect("http://internal.example/admin"),
    "/redirect-port": redirect("http://feeds.example:6379/"),
    "/redirect-file": redirect("file:///etc/passwd"),
    "/redirect-ok": redirect("/ok"),
    "/loop": redirect("/loop"),
    "/gzip-bomb": gzip_bomb,
    "/gzip-chain": gzip_chain,
    "/lying-length": lying_length,
    "/endless": endless,
    "/slow-drip": slow_drip,
    "/conditional": conditional,
    "/missing": status_route("404 Not Found"),
    "/broken": status_route("500 Internal Server Error"),
}


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    expect: type[FetchError] | None  # None: a FetchResult
    match: str = ""  # substring of str(exc)
    check: Callable[[FetchResult], bool] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)
    within: float = 5.0  # seconds: every case must end promptly
    or_error: type[FetchError] | None = None  # an acceptable typed error instead of a result


F = "http://feeds.example"
CASES = [
    Case("control: plain public feed", f"{F}/ok", None, check=lambda r: r.body == b"<rss/>"),
    Case("control: relative redirect", f"{F}/redirect-ok", None, check=lambda r: r.url == f"{F}/ok"),
    Case("1 AWS metadata", "http://169.254.169.254/latest/meta-data/", BlockedAddress, "link-local"),
    Case("2 AWS metadata IPv6", "http://[fd00:ec2::254]/", BlockedAddress, "private"),
    Case("3 loopback 127.1", "http://127.1/", BlockedAddress, "loopback"),
    Case("3 loopback 2130706433", "http://2130706433/", BlockedAddress, "loopback"),
    Case("3 loopback 0x7f.1", "http://0x7f.1/", BlockedAddress, "loopback"),
    Case("4 IPv4-mapped", "http://[::ffff:127.0.0.1]:8080/", BlockedAddress, "loopback"),
    Case("5 NAT64 metadata", "http://[64:ff9b::a9fe:a9fe]/", BlockedAddress, "link-local"),
    Case("6 6to4 loopback", "http://[2002:7f00:1::]/", BlockedAddress, "loopback"),
    Case("7 CGNAT", "http://100.64.0.1/", BlockedAddress, "CGNAT"),
    Case("7 0.0.0.0", "http://0.0.0.0:8000/", BlockedAddress, "unspecified"),
    Case("8 302 into loopback trap", f"{F}/redirect-loopback", BlockedAddress, "loopback"),
    Case("8 302 into docker port", f"{F}/redirect-docker", BlockedAddress, "loopback"),
    Case("8 302 into metadata", f"{F}/redirect-metadata", BlockedAddress, "link-local"),
    Case("8 302 to a name resolving private", f"{F}/redirect-internal-name", BlockedAddress, "private"),
    Case("8 302 to a disallowed port", f"{F}/redirect-port", BlockedAddress, "port 6379"),
    Case("8 302 to file:", f"{F}/redirect-file", BadURL, "scheme 'file'"),
    Case("10 file scheme", "file:///etc/passwd", BadURL, "scheme 'file'"),
    Case("10 gopher scheme", "gopher://127.0.0.1:6379/_", BadURL, "scheme 'gopher'"),
    Case("10 bare path", "/etc/passwd", BadURL, "not a web address"),
    Case("11 embedded NUL", "http://feed.example\x00.internal/", BadURL, "control characters"),
    Case("11 userinfo", "http://a:b@feeds.example/ok", BadURL, "user names"),
    Case("11 8 KB URL", f"{F}/ok?" + "q" * 8192, BadURL, "longer than 2048"),
    Case("15 gzip bomb", f"{F}/gzip-bomb", TooLarge, "2,097,152-byte limit"),
    Case("15 gzip chain", f"{F}/gzip-chain", FetchError, "content encoding chain"),
    # aiohttp either stops at the declared 100 bytes or rejects the data after them
    Case("16 lying Content-Length", f"{F}/lying-length", None, check=lambda r: r.body == b"A" * 100,
         or_error=ConnectFailed),
    Case("16 endless chunked body", f"{F}/endless", TooLarge, "limit"),
    Case("17 slow drip", f"{F}/slow-drip", FetchTimeout, "timed out after 1.5 s",
         settings={"deadline": 1.5}, within=3.5),
    Case("304 with validators", f"{F}/conditional", None, kwargs={"etag": '"abc"'},
         check=lambda r: r.not_modified and r.status == 304 and r.body == b"" and r.etag == '"abc"'
         and r.last_modified == "Mon, 05 Jan 2026 07:00:00 GMT"),
    Case("404", f"{F}/missing?api_key=SECRET", HTTPStatusError, f"HTTP 404 from {F}/missing"),
    Case("500", f"{F}/broken", HTTPStatusError, f"HTTP 500 from {F}/broken"),
    Case("redirect chain too long", f"{F}/loop", TooManyRedirects, "more than 3 redirects"),
]


class Resolver:
    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.table[host]
        return answers[min(self.calls.count(host), len(answers)) - 1]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_hostile(case: Case) -> None:
    feed, trap = Local(ROUTES), Local({})
    await feed.start()
    await trap.start()
    feed.trap_port = trap.port
    seen: list[tuple[str, int]] = []

    def override(ip: str, port: int) -> tuple[str, int]:
        seen.append((ip, port))
        return "127.0.0.1", feed.port

    resolver = Resolver({"feeds.example": [[PUBLIC_IP]], "internal.example": [["10.0.0.5"]]})
    settings = FetchSettings(max_feed_bytes=CAP, **case.settings)
    started = time.monotonic()
    try:
        async with Fetcher(settings, resolver=resolver, connect_override=override) as fetcher:
            if case.expect is None:
                try:
                    result = await fetcher.fetch(case.url, **case.kwargs)
                except FetchError as exc:
                    assert case.or_error is not None and isinstance(exc, case.or_error), repr(exc)
                    assert len(str(exc)) < 200 and "AAAA" not in str(exc)
                else:
                    assert case.check is not None and case.check(result), result
            else:
                with pytest.raises(case.expect) as info:
                    await fetcher.fetch(case.url, **case.kwargs)
                message = str(info.value)
                assert case.match in message
                assert "SECRET" not in message and "a:b" not in message
    finally:
        elapsed = time.monotonic() - started
        await feed.stop()
        await trap.stop()
    assert elapsed < case.within, f"took {elapsed:.1f} s"
    assert trap.connections == 0  # nothing ever reached the internal target
    assert all(ip == PUBLIC_IP for ip, _port in seen)  # connects only to the vetted answer
    assert len(resolver.calls) <= settings.max_redirects + 1


async def test_dns_rebinding_resolves_once_per_hop_and_never_connects_to_second_answer() -> None:
    feed = Local(ROUTES)
    await feed.start()
    seen: list[tuple[str, int]] = []

    def override(ip: str, port: int) -> tuple[str, int]:
        seen.append((ip, port))
        return "127.0.0.1", feed.port

    resolver = Resolver({"rebind.example": [[PUBLIC_IP], ["127.0.0.1"]]})
    try:
        async with Fetcher(FetchSettings(), resolver=resolver, connect_override=override) as fetcher:
            first = await fetcher.fetch("http://rebind.example/ok")
            assert first.body == b"<rss/>"
            assert resolver.calls == ["rebind.example"]  # exactly one resolution for the hop
            assert seen == [(PUBLIC_IP, 80)]  # connected only to the vetted public answer
            with pytest.raises(BlockedAddress, match="loopback"):
                await fetcher.fetch("http://rebind.example/ok")  # next poll: rebound to loopback
            assert resolver.calls == ["rebind.example"] * 2
    finally:
        await feed.stop()
    assert feed.connections == 1 and seen == [(PUBLIC_IP, 80)]
