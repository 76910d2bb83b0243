"""bot/net/http1.py against hostile and unusual servers (scripted, on 127.0.0.1 port 0).

First what a review found wrong in the first version (trailers past every cap, the status of a
smuggled second response, slots counted against the deadline, no backpressure, sockets left
open), then behaviour that held but had no test (framing, limits, pool hygiene, errors
without secrets)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from bot import defaults
from bot.config import FetchSettings
from bot.net import ConnectFailed, Fetcher, FetchError, FetchTimeout, HTTPStatusError, http1
from bot.net.target import Target
from tests.net.helpers import PUBLIC_IP, FakeResolver, Override, unused_port
from tests.net.test_http1 import Reader, Scripted, Writer, keep_alive, make_certificate, response

LOCAL = FetchSettings(allow_private_addresses=True)
MiB = 1024 * 1024


async def body_of(resp: http1.Response) -> bytes:
    return b"".join([chunk async for chunk in resp.chunks()])


# ---- bugs: these fail now ----------------------------------------------------------------
async def test_trailers_after_a_chunked_body_are_capped_like_headers() -> None:
    """Trailer fields go through on_header after the head is done, where neither the 64 KiB
    head cap nor the body cap applies: an endless trailer section grows the headers dict
    without bound (1.5 GB in 4 s in review). A trailer section past the cap must be refused."""

    async def trailers(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n<rss/>\r\n0\r\n")
        for n in range(4000):  # ~400 KB of trailer fields, then the end of the message
            writer.write(f"X-Trailer-{n}: {'t' * 80}\r\n".encode())
        writer.write(b"\r\n")
        await writer.drain()

    async with Scripted(trailers) as srv, Fetcher(LOCAL) as f:
        with pytest.raises(ConnectFailed, match="bad HTTP response"):
            await f.fetch(srv.url())


@pytest.mark.parametrize(
    ("first", "expect"),
    [
        (response(b"nope", status="404 Not Found"), "404"),
        (b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n', "304"),
        (b"HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n", "302"),
    ],
    ids=["404", "304", "302"],
)
async def test_the_status_belongs_to_the_response_whose_headers_were_read(first: bytes, expect: str) -> None:
    """Response() reads parser.get_status_code() after the whole segment was fed: when a second
    (smuggled) response follows in the same segment, the status is the *second* one's while
    headers and body are the first's (a 404 became a 200 with the 404's body; a 304 became an
    empty 200; a redirect was not followed). The status must be captured in on_headers_complete."""

    async def smuggle(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while line := await srv.request(reader):
            if line.startswith("GET /moved"):
                writer.write(response(b"<moved/>", "Connection: close"))
            else:
                writer.write(first + response(b"evil"))  # one write: one segment on loopback
            await writer.drain()

    async with Scripted(smuggle) as srv, Fetcher(LOCAL) as f:
        if expect == "404":
            with pytest.raises(HTTPStatusError) as info:
                await f.fetch(srv.url())
            assert info.value.status == 404
        elif expect == "304":
            result = await f.fetch(srv.url(), etag='"v1"')
            assert result.not_modified and result.status == 304
        else:
            result = await f.fetch(srv.url())
            assert result.url.endswith("/moved") and result.body == b"<moved/>"


async def test_a_101_switching_protocols_is_a_clear_error_not_a_crash_in_the_loop() -> None:
    """httptools raises HttpParserUpgrade, which is not an HttpParserError: it escapes
    _Message.feed and data_received, the loop logs 'Fatal error: protocol.data_received() call
    failed' with a traceback (a hostile feed can spam the error log) and the fetch reports a
    misleading 'closed before a response'."""
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(str(context.get("message"))))

    async def upgrade(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nxx")
        await writer.drain()
        await asyncio.sleep(0.1)

    try:
        async with Scripted(upgrade) as srv, Fetcher(LOCAL) as f:
            with pytest.raises(ConnectFailed, match="bad HTTP response"):
                await f.fetch(srv.url())
    finally:
        loop.set_exception_handler(None)
    assert errors == []


async def test_a_connection_released_after_close_is_closed_not_pooled() -> None:
    """HTTPClient.close() closes only the idle connections; a request in flight then releases
    its connection into the closed client's pool, where nothing will ever close it (the
    Fetcher has already dropped that client). close() must leave no socket behind."""
    hung_up = asyncio.Event()

    async def slow_then_wait(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        await asyncio.sleep(0.2)
        writer.write(response())
        await writer.drain()
        if await srv.request(reader) is None:
            hung_up.set()

    async with Scripted(slow_then_wait) as srv:
        f = Fetcher(LOCAL)
        task = asyncio.create_task(f.fetch(srv.url()))
        await asyncio.sleep(0.05)  # the request is in flight
        await f.close()
        assert (await task).body == b"<rss/>"
        await asyncio.wait_for(hung_up.wait(), 1.0)


async def test_waiting_for_a_global_slot_does_not_count_against_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline starts when the per-host slot is taken, but HTTPClient.get then queues for
    one of `limit` global slots with the clock running. The poll runs 64 feeds at once against
    32 slots, so behind slow servers other feeds time out without their server being slow."""
    monkeypatch.setattr(defaults, "TOTAL_CONCURRENCY", 1)

    async def slow(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while await srv.request(reader):
            await asyncio.sleep(0.5)
            writer.write(response(b"ok"))
            await writer.drain()

    settings = FetchSettings(allow_private_addresses=True, deadline=0.8)
    async with Scripted(slow) as srv, Fetcher(settings) as f:
        a, b = await asyncio.gather(f.fetch(f"http://127.0.0.1:{srv.port}/a"),  # two hosts: two host slots
                                    f.fetch(f"http://localhost:{srv.port}/b"), return_exceptions=True)
    assert not isinstance(a, BaseException) and a.body == b"ok"
    assert not isinstance(b, BaseException), b  # each server answered in 0.5 s < 0.8 s
    assert b.body == b"ok"


async def test_a_slow_consumer_stops_reading_from_the_socket() -> None:
    """data_received appends every piece to message.pieces and never pauses the transport
    (READ_SIZE is unused): a consumer that is slower than the server buffers the whole body in
    memory (64 MiB in review). The transport should pause past a small high-water mark."""
    total, sent = 48 * MiB, [0]

    async def firehose(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        block = b"z" * 65536
        for _ in range(total // len(block)):
            writer.write(block)
            await writer.drain()
            sent[0] += len(block)

    async with Scripted(firehose) as srv:
        client = http1.HTTPClient(connect_timeout=2, read_timeout=5, limit=4)
        try:
            async with client.get(Target.of(srv.url()), ["127.0.0.1"], {}) as resp:
                chunks = resp.chunks()
                await anext(chunks)
                await asyncio.sleep(1.0)  # a slow consumer
                pushed = sent[0]
                await chunks.aclose()
        finally:
            await client.close()
    assert pushed < 16 * MiB, f"the server pushed {pushed / MiB:.0f} MiB into an unread response"


def _serve_stray_bytes(listener: socket.socket, stop: threading.Event) -> None:
    """Connection 1: answers, then sends an unasked-for response while idle, then answers
    'second' to any later request. Any other connection: answers 'second'."""
    listener.settimeout(0.1)
    first = True
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(2)
            try:
                buf = b""
                if first:
                    first = False
                    while b"\r\n\r\n" not in buf:
                        buf += conn.recv(4096)
                    buf = buf.split(b"\r\n\r\n", 1)[1]
                    conn.sendall(response(b"first"))
                    time.sleep(0.05)
                    conn.sendall(response(b"evil"))  # nobody asked
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(4096)
                    if not data:
                        break
                    buf += data
                else:
                    conn.sendall(response(b"second", "Connection: close"))
            except OSError:
                pass


async def test_bytes_that_arrived_while_idle_are_never_read_as_the_next_answer() -> None:
    """A stray response that reached the socket while the connection sat idle, but that the
    loop had not read yet (the loop was busy), is taken as the answer to the next request on
    that connection. Reuse should first check the socket is quiet (no pending bytes, no EOF)."""
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        thread = threading.Thread(target=_serve_stray_bytes, args=(listener, stop), daemon=True)
        thread.start()
        u = Target.of(f"http://127.0.0.1:{listener.getsockname()[1]}/feed")
        client = http1.HTTPClient(connect_timeout=2, read_timeout=2, limit=4)
        try:
            async with client.get(u, ["127.0.0.1"], {}) as resp:
                assert await body_of(resp) == b"first"
            time.sleep(0.2)  # the loop is busy (say, parsing a feed) while the stray bytes land
            async with client.get(u, ["127.0.0.1"], {}) as resp:
                second = await body_of(resp)
        finally:
            await client.close()
            stop.set()
            thread.join(2)
    assert second == b"second"


async def test_a_utf8_location_is_followed_as_utf8() -> None:
    """Header values are decoded as Latin-1, so a raw UTF-8 Location (common, if not by the
    book) is double-encoded: /café becomes /caf%C3%83%C2%A9. aiohttp, which this client
    replaces, decoded it as UTF-8 and fetched /caf%C3%A9."""

    async def redirect(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while line := await srv.request(reader):
            if line.startswith("GET /feed "):
                writer.write("HTTP/1.1 302 Found\r\nLocation: /café\r\nContent-Length: 0\r\n\r\n".encode())
            else:
                writer.write(response())
            await writer.drain()

    async with Scripted(redirect) as srv, Fetcher(LOCAL) as f:
        result = await f.fetch(srv.url())
    assert srv.requests[1] == "GET /caf%C3%A9 HTTP/1.1"
    assert result.url.endswith("/caf%C3%A9")


async def test_a_stored_etag_is_sent_back_byte_for_byte() -> None:
    """An ETag is read as Latin-1 but the request is encoded as UTF-8: the byte 0xE9 comes
    back as 0xC3 0xA9, so the validator never matches and the feed is never a 304."""
    heads: list[bytes] = []

    async def etag(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while True:
            try:
                heads.append(await reader.readuntil(b"\r\n\r\n"))
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            writer.write(b'HTTP/1.1 200 OK\r\nETag: "caf\xe9"\r\nContent-Length: 6\r\n\r\n<rss/>')
            await writer.drain()

    async with Scripted(etag) as srv, Fetcher(LOCAL) as f:
        first = await f.fetch(srv.url())
        await f.fetch(srv.url(), etag=first.etag)
    assert b'\r\nIf-None-Match: "caf\xe9"\r\n' in heads[1]


def _serve_tls_and_go_quiet(listener: socket.socket, context: ssl.SSLContext, stop: threading.Event) -> None:
    """Answers one request over TLS, then never reads again (our close_notify goes unanswered)."""
    listener.settimeout(2)
    try:
        conn, _ = listener.accept()
    except OSError:
        return
    with conn:
        conn.settimeout(2)
        try:
            tls = context.wrap_socket(conn, server_side=True)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += tls.recv(4096)
            tls.sendall(response())
        except OSError:
            return
        stop.wait(3)


async def test_close_closes_idle_tls_sockets_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPClient.close() calls transport.close(); on a TLS transport that starts a close_notify
    exchange and the socket stays open until the peer answers (or 30 s), so a process that
    closes the Fetcher and then its loop leaks it ('unclosed transport' ResourceWarning).
    Idle connections should be abort()ed."""
    cert, key = make_certificate(tmp_path, "feeds.example")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    monkeypatch.setattr(http1, "_tls_context", ssl.create_default_context(cafile=str(cert)))
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        thread = threading.Thread(target=_serve_tls_and_go_quiet, args=(listener, server_context, stop), daemon=True)
        thread.start()
        resolver = FakeResolver({"feeds.example": [PUBLIC_IP]})
        try:
            f = Fetcher(FetchSettings(), resolver=resolver, connect_override=Override(listener.getsockname()[1]))
            assert (await f.fetch("https://feeds.example/feed")).body == b"<rss/>"
            client = f._get_client()
            (conn,) = [c for conns in client._idle.values() for c in conns]
            assert conn.transport is not None
            raw = conn.transport.get_extra_info("socket")
            await f.close()
            await asyncio.sleep(0.2)
            still_open = raw.fileno() != -1
            if still_open:
                conn.transport.abort()  # tidy up for the next test
        finally:
            stop.set()
            thread.join(3)
    assert not still_open, "the TLS socket is still open after Fetcher.close()"


# ---- behaviour that holds; not covered elsewhere -------------------------------------------
async def test_a_reused_connection_that_sent_part_of_an_answer_is_not_retried() -> None:
    async def partial_on_reuse(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(response())
        await writer.drain()
        await srv.request(reader)
        writer.write(b"HTTP/1.1 20")  # a response byte arrived: the request must not be sent again

    async with Scripted(partial_on_reuse) as srv, Fetcher(LOCAL) as f:
        await f.fetch(srv.url())
        with pytest.raises(ConnectFailed):
            await f.fetch(srv.url())
    assert srv.connections == 1 and len(srv.requests) == 2


async def test_a_reused_connection_reset_on_write_is_retried_once() -> None:
    async def reset_on_reuse(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(response())
        await writer.drain()
        if await srv.request(reader) is not None:
            writer.transport.abort()  # RST, no answer at all

    async with Scripted(reset_on_reuse) as srv, Fetcher(LOCAL) as f:
        bodies = [(await f.fetch(srv.url())).body for _ in range(3)]
    assert bodies == [b"<rss/>"] * 3
    assert srv.connections == 3 and len(srv.requests) == 5  # each stale reuse: exactly one resend


async def test_junk_on_an_idle_connection_that_the_loop_sees_drops_it() -> None:
    async def junk_while_idle(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while await srv.request(reader):
            writer.write(response())
            await writer.drain()
            await asyncio.sleep(0.02)
            writer.write(response(b"evil"))  # unasked-for, while the connection is idle
            await writer.drain()

    async with Scripted(junk_while_idle) as srv, Fetcher(LOCAL) as f:
        first = await f.fetch(srv.url())
        await asyncio.sleep(0.1)
        second = await f.fetch(srv.url())
    assert first.body == second.body == b"<rss/>"
    assert srv.connections == 2


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
async def test_a_body_after_a_bodiless_status_is_never_read_as_a_response(status: str) -> None:
    async def with_body(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while await srv.request(reader):
            writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 6\r\n\r\n<html>".encode())
            await writer.drain()

    async with Scripted(with_body) as srv, Fetcher(LOCAL) as f:
        first = await f.fetch(srv.url(), etag='"x"')
        second = await f.fetch(srv.url(), etag='"x"')
    assert first.body == second.body == b""
    assert first.status == second.status == int(status[:3])
    assert srv.connections == 2  # the junk body spoiled the connection


async def test_the_deadline_firing_mid_body_closes_the_socket() -> None:
    hung_up = asyncio.Event()

    async def drip(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(), 2.0)  # b"" once the client closes
            hung_up.set()
        writer.write(b"x")

    settings = FetchSettings(allow_private_addresses=True, deadline=0.3, read_timeout=5)
    async with Scripted(drip) as srv, Fetcher(settings) as f:
        with pytest.raises(FetchTimeout, match="timed out after 0.3 s"):
            await f.fetch(srv.url())
        await asyncio.wait_for(hung_up.wait(), 1.0)


async def test_concurrent_fetches_stay_within_the_total_and_per_host_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(defaults, "TOTAL_CONCURRENCY", 3)
    active: dict[str, int] = {}
    peak = {"total": 0, "host": 0}

    async def counting(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            host = next(line for line in head.decode().split("\r\n") if line.lower().startswith("host:"))
            active[host] = active.get(host, 0) + 1
            peak["total"] = max(peak["total"], sum(active.values()))
            peak["host"] = max(peak["host"], active[host])
            await asyncio.sleep(0.03)
            active[host] -= 1
            writer.write(response())
            await writer.drain()

    names = [f"h{i}.example" for i in range(5)]
    async with Scripted(counting) as srv:
        resolver = FakeResolver({name: [PUBLIC_IP] for name in names})
        settings = FetchSettings(per_host_concurrency=2, deadline=30)
        async with Fetcher(settings, resolver=resolver, connect_override=Override(srv.port)) as f:
            results = await asyncio.gather(*(f.fetch(f"http://{names[i % 5]}/feed{i}") for i in range(30)))
    assert all(r.body == b"<rss/>" for r in results)
    assert peak["total"] == 3 and peak["host"] <= 2
    assert srv.connections <= 3 * 2  # kept-alive connections were reused


async def test_an_ipv6_literal_gets_a_bracketed_host_header() -> None:
    hosts: list[str] = []

    async def record(reader: Reader, writer: Writer, srv: Scripted) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        hosts.extend(line[6:] for line in head.decode().split("\r\n") if line.startswith("Host: "))
        writer.write(response())

    async with Scripted(record) as srv:
        override = Override(srv.port)
        client = http1.HTTPClient(connect_timeout=2, read_timeout=2, limit=2, override=override)
        try:
            async with client.get(Target.of("http://[2001:db8::1]:8080/feed?x=1"), ["2001:db8::1"], {}) as resp:
                assert await body_of(resp) == b"<rss/>"
        finally:
            await client.close()
    assert hosts == ["[2001:db8::1]:8080"] and override.seen == [("2001:db8::1", 8080)]


@pytest.mark.parametrize("header", ["ETag", "Last-Modified"])
@pytest.mark.parametrize("bad", ["\r", "\n", "\0"])
async def test_no_control_character_reaches_the_wire(header: str, bad: str) -> None:
    async with Scripted(keep_alive) as srv, Fetcher(LOCAL) as f:
        value = f"v{bad}X-Injected: 1"
        kwargs = {"etag": value} if header == "ETag" else {"last_modified": value}
        with pytest.raises(FetchError, match="refused to send"):
            await f.fetch(srv.url(), **kwargs)
    assert srv.connections == 0


async def test_failures_never_show_the_query_string() -> None:
    async def broken(reader: Reader, writer: Writer, srv: Scripted) -> None:
        line = await srv.request(reader) or ""
        if "/cut" in line:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort")
        elif "/bad" in line:
            writer.write(b"NOT HTTP\r\n\r\n")
        else:
            await asyncio.sleep(1)

    settings = FetchSettings(allow_private_addresses=True, read_timeout=0.2)
    async with Scripted(broken) as srv, Fetcher(settings) as f:
        urls = [srv.url("/cut?token=SECRET"), srv.url("/bad?token=SECRET"), srv.url("/slow?token=SECRET"),
                f"http://127.0.0.1:{unused_port()}/x?token=SECRET"]
        for url in urls:
            with pytest.raises(FetchError) as info:
                await f.fetch(url)
            assert "SECRET" not in str(info.value) and "token" not in str(info.value)


async def test_the_idle_sweep_closes_connections_of_hosts_no_longer_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "IDLE_SECONDS", 0.05)
    hung_up = asyncio.Event()

    async def note_hang_up(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while await srv.request(reader):
            writer.write(response())
            await writer.drain()
        hung_up.set()

    async with Scripted(note_hang_up) as a, Scripted(keep_alive) as b, Fetcher(LOCAL) as f:
        await f.fetch(a.url())
        await asyncio.sleep(0.1)
        await f.fetch(b.url())  # putting b's connection back sweeps a's stale one
        await asyncio.wait_for(hung_up.wait(), 1.0)
