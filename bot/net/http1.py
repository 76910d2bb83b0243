"""The fetcher's HTTP/1.1 client: httptools parses, asyncio streams carry, this module pools.

Why not aiohttp's client here (the platform adapters still use aiohttp): importing it costs
~0.11 s, a third of that building TLS contexts at import time, and each request ~0.2 ms of
Python; in a round of 304s that was most of the poll (bench/ingest.py). The fetcher needs far
less: GET only, one request at a time per connection, keep-alive, and a connection straight to
an address it has already vetted (a plain connect to that IP: no resolver to pin, no second
lookup). httptools (llhttp, Node.js's parser) does the parsing, framing and chunked decoding;
here we only open, reuse and close connections and keep the limits on what a server may send.
A connection is an asyncio Protocol that feeds the parser as bytes arrive: no stream buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import httptools

from bot.net.errors import ConnectFailed, FetchError, FetchTimeout, redact_url
from bot.net.target import Target

if TYPE_CHECKING:
    import ssl

ConnectOverride = Callable[[str, int], tuple[str, int]]
MAX_HEAD_BYTES = 64 * 1024  # status line and headers together
READ_SIZE = 64 * 1024
IDLE_SECONDS = 15.0  # a kept-alive connection idle longer than this is closed, not reused
MAX_IDLE_PER_HOST = 4
_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """The system's CA store, loaded once and only when an https URL is first fetched."""
    global _tls_context
    if _tls_context is None:
        import ssl

        context = ssl.create_default_context()
        context.set_alpn_protocols(["http/1.1"])
        _tls_context = context
    return _tls_context


class _Message:
    """httptools' callback target: the head and body pieces of the response being read."""

    __slots__ = ("parser", "headers", "head_done", "complete", "keep_alive", "pieces", "trailing", "received", "bad",
                 "status", "field_bytes", "buffered")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers: dict[str, list[str]] = {}
        self.head_done = False
        self.complete = False
        self.keep_alive = False  # as the response said, read when it completes (llhttp forgets after)
        self.pieces: list[bytes] = []
        self.trailing = False  # bytes came after the response: the connection is not reused
        self.received = 0
        self.bad = ""  # why the bytes are not an acceptable HTTP response
        self.status = 0
        self.field_bytes = 0  # header and trailer fields together
        self.buffered = 0  # body bytes in `pieces`

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            if self.complete:
                self.trailing = True  # the response was whole; what came after it is junk
            elif not self.bad:
                self.bad = "bad HTTP response"
        if not self.head_done and self.received > MAX_HEAD_BYTES and not self.bad:
            self.bad = f"bad HTTP response: headers over {MAX_HEAD_BYTES:,} bytes"

    def on_message_begin(self) -> None:
        if self.complete:
            self.trailing = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.complete:
            return
        self.field_bytes += len(name) + len(value) + 4
        if self.field_bytes > MAX_HEAD_BYTES:
            self.bad = f"bad HTTP response: headers over {MAX_HEAD_BYTES:,} bytes"
            raise _Abort  # stops llhttp: feed_data raises HttpParserCallbackError
        if self.head_done:
            return  # trailers: counted, not kept
        self.headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1").strip())

    def on_headers_complete(self) -> None:
        if self.complete:
            return
        if 100 <= self.parser.get_status_code() < 200:
            self.headers = {}  # "100 Continue" and friends: the real response follows
            return
        self.status = self.parser.get_status_code()
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self.pieces.append(body)
            self.buffered += len(body)

    def on_message_complete(self) -> None:
        if self.head_done and not self.complete:
            self.complete = True
            self.keep_alive = self.parser.should_keep_alive()


class _Abort(Exception):
    """Raised from a parser callback to stop parsing."""


class _Connection(asyncio.Protocol):
    """One socket. Bytes go straight from the transport into the current response's parser;
    the request's task waits on one future per wake-up (no stream buffers in between)."""

    def __init__(self, address: str) -> None:
        self.address = address  # the vetted address this socket went to
        self.transport: asyncio.Transport | None = None
        self.message: _Message | None = None
        self.closed = False  # end of stream, reset or closed by us
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.message is None:  # unasked-for bytes on an idle connection: never use it again
            self.close()
            return
        self.message.feed(data)
        if self.message.buffered > READ_SIZE and self.transport is not None and self.transport.is_reading():
            self.transport.pause_reading()
        self._wake()

    def resume(self) -> None:
        if self.transport is not None and not self.transport.is_closing() and not self.transport.is_reading():
            self.transport.resume_reading()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, timeout: float) -> None:
        """Until more bytes, the end of the stream, or `timeout` (TimeoutError)."""
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await self._waiter
        finally:
            self._waiter = None

    def usable(self, addresses: list[str], now: float) -> bool:
        return (not self.closed and self.address in addresses and now - self.idle_since < IDLE_SECONDS
                and self.transport is not None and not self.transport.is_closing())

    def quiet(self) -> bool:
        """No bytes and no EOF waiting in the socket that the loop has not read yet."""
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is None:
            return False
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        return not poller.poll(0)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()  # nothing of ours is left to flush; TLS: no close_notify wait


class _Stale(Exception):
    """A reused connection the server had already closed: the request is sent again, once."""


class Response:
    """Status and headers are read; the body streams from `chunks()`."""

    def __init__(self, client: HTTPClient, key: tuple[str, str, int], conn: _Connection,
                 message: _Message, u: Target) -> None:
        self._client, self._key, self._conn, self._message, self._u = client, key, conn, message, u
        self.status = message.status
        self.headers = message.headers
        coding = ",".join(self.headers.get("transfer-encoding", [])).lower()
        self._until_close = self.content_length is None and "chunked" not in coding

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        return self.headers.get(name.lower(), [])

    @property
    def content_length(self) -> int | None:
        value = self.header("content-length")
        return int(value) if value is not None and value.isdigit() else None

    async def chunks(self) -> AsyncIterator[bytes]:
        message, conn = self._message, self._conn
        while True:
            if message.pieces:
                pieces, message.pieces = message.pieces, []
                message.buffered = 0
                conn.resume()
                for piece in pieces:
                    yield piece
                continue
            if message.complete:
                return
            if message.bad:
                raise ConnectFailed(f"{message.bad} from {redact_url(self._u)}")
            if conn.closed:
                if self._until_close:
                    return  # the body ran to the end of the connection, as this response said it would
                raise ConnectFailed(f"response from {redact_url(self._u)} was cut off")
            await self._client._wait(conn, self._u)

    def release(self) -> None:
        """Back to the pool when the whole response was read cleanly, else the connection is shut."""
        conn, self._conn = self._conn, None  # type: ignore[assignment]
        if conn is None:
            return
        message = self._message
        conn.message = None
        if message.complete and message.keep_alive and not (conn.closed or message.trailing or message.pieces):
            self._client._put(self._key, conn)
        else:
            conn.close()


class HTTPClient:
    """GET over kept-alive connections to vetted addresses, at most `limit` requests at a time.

    `override` is a test seam only: it maps a vetted (ip, port) to the socket really used, so
    tests can treat a fake public address as a local server. Production code passes None.
    """

    def __init__(self, *, connect_timeout: float, read_timeout: float, limit: int,
                 override: ConnectOverride | None = None) -> None:
        self.connect_timeout, self.read_timeout, self.limit = connect_timeout, read_timeout, limit
        self._override = override
        self._slots = asyncio.Semaphore(limit)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._swept = time.monotonic()
        self._closed = False

    @contextlib.asynccontextmanager
    async def get(self, u: Target, addresses: list[str], headers: dict[str, str]) -> AsyncIterator[Response]:
        """GET `u` from one of `addresses` (already vetted for its host, in order of preference)."""
        request = _request_bytes(u, headers)
        async with self._slots:
            response = await self._send(u, addresses, request)
            try:
                yield response
            finally:
                response.release()

    async def close(self) -> None:
        self._closed = True
        idle = [conn for conns in self._idle.values() for conn in conns]
        self._idle.clear()
        for conn in idle:
            conn.close()
        await asyncio.sleep(0)  # let the transports finish closing while the loop still runs

    async def _send(self, u: Target, addresses: list[str], request: bytes) -> Response:
        scheme, host, port = u.scheme, u.host, u.port
        key = (scheme, host, port)
        while True:
            conn = self._take(key, addresses)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(scheme, host, port, addresses, u)
            try:
                message = conn.message = _Message()
                assert conn.transport is not None
                conn.transport.write(request)
                while not message.head_done:
                    if message.bad:
                        raise ConnectFailed(f"{message.bad} from {redact_url(u)}")
                    if conn.closed:
                        if reused and not message.received:
                            raise _Stale
                        raise ConnectFailed(f"connection to {redact_url(u)} closed before a response")
                    await self._wait(conn, u)
            except _Stale:
                conn.close()
                continue
            except BaseException:
                conn.close()
                raise
            return Response(self, key, conn, message, u)

    async def _connect(self, scheme: str, host: str, port: int, addresses: list[str], u: Target) -> _Connection:
        tls = _tls() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        failure: FetchError | None = None
        for address in addresses:
            ip, real_port = (address, port) if self._override is None else self._override(address, port)
            try:
                async with asyncio.timeout(self.connect_timeout):
                    _transport, conn = await loop.create_connection(
                        lambda address=address: _Connection(address), ip, real_port,
                        ssl=tls, server_hostname=host if tls else None)
            except TimeoutError:
                failure = FetchTimeout(f"timed out connecting to {redact_url(u)}")
            except OSError as exc:  # refused, unreachable, TLS handshake or certificate failures
                why = (exc.strerror or str(exc) or "connection failed")[:160]
                failure = ConnectFailed(f"cannot connect to {redact_url(u)}: {why}")
            else:
                return conn
        raise failure or ConnectFailed(f"cannot connect to {redact_url(u)}: no address")

    async def _wait(self, conn: _Connection, u: Target) -> None:
        try:
            await conn.wait(self.read_timeout)
        except TimeoutError:
            raise FetchTimeout(f"timed out waiting for data from {redact_url(u)}") from None

    def _take(self, key: tuple[str, str, int], addresses: list[str]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.usable(addresses, now) and conn.quiet():
                return conn
            conn.close()
        return None

    def _put(self, key: tuple[str, str, int], conn: _Connection) -> None:
        if self._closed:
            conn.close()
            return
        now = time.monotonic()
        conn.idle_since = now
        idle = self._idle.setdefault(key, [])
        idle.append(conn)
        if len(idle) > MAX_IDLE_PER_HOST:
            idle.pop(0).close()
        if now - self._swept > IDLE_SECONDS:  # close what went stale since, so a long run holds no dead sockets
            self._swept = now
            for name, conns in list(self._idle.items()):
                keep = [c for c in conns if c.usable([c.address], now)]
                for c in conns:
                    if c not in keep:
                        c.close()
                if keep:
                    self._idle[name] = keep
                else:
                    del self._idle[name]


def _request_bytes(u: Target, headers: dict[str, str]) -> bytes:
    values = "".join(headers.values())
    if "\r" in values or "\n" in values or "\0" in values:  # a stored ETag must not add headers of its own
        name = next(n for n, v in headers.items() if "\r" in v or "\n" in v or "\0" in v)
        raise FetchError(f"refused to send a {name} header containing a line break")
    fields = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"GET {u.path_qs} HTTP/1.1\r\nHost: {u.authority}\r\n{fields}\r\n"
    try:  # header values were read as Latin-1: send them back byte for byte
        return head.encode("latin-1")
    except UnicodeEncodeError:
        raise FetchError("refused to send a header that is not Latin-1 text") from None
