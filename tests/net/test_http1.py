"""The fetcher's own HTTP/1.1 client (bot/net/http1.py) against scripted local servers:
keep-alive reuse and when a connection must not be reused, framing (length, chunked, to the
end of the connection), stale pooled connections, hostile heads, TLS."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.config import FetchSettings
from bot.net import ConnectFailed, Fetcher, FetchError, FetchTimeout, http1
from bot.net.target import Target
from tests.net.helpers import PUBLIC_IP, FakeResolver, Override

LOCAL = FetchSettings(allow_private_addresses=True)
Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter
# A script answers one connection: it gets each request's head and writes whatever it likes.
Script = Callable[[Reader, Writer, "Scripted"], Awaitable[None]]


def response(body: bytes = b"<rss/>", *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Scripted:
    """A raw server on 127.0.0.1 that counts connections and requests; `script` runs per connection."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script, self.tls = script, tls
        self.connections = 0
        self.requests: list[str] = []
        self.port = 0
        self._writers: set[Writer] = set()

    async def __aenter__(self) -> Scripted:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def request(self, reader: Reader) -> str | None:
        """The next request line on this connection (None once the client hung up)."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        line = head.decode("latin-1").split("\r\n", 1)[0]
        self.requests.append(line)
        return line

    async def _handle(self, reader: Reader, writer: Writer) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            await self.script(reader, writer, self)
            await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def url(self, path: str = "/feed") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def keep_alive(reader: Reader, writer: Writer, srv: Scripted) -> None:
    while await srv.request(reader):
        writer.write(response())
        await writer.drain()


async def test_requests_to_one_host_reuse_one_connection() -> None:
    async with Scripted(keep_alive) as srv, Fetcher(LOCAL) as f:
        bodies = [(await f.fetch(srv.url(f"/feed{i}"))).body for i in range(5)]
    assert bodies == [b"<rss/>"] * 5
    assert srv.connections == 1 and len(srv.requests) == 5
    assert srv.requests[0] == "GET /feed0 HTTP/1.1"


async def test_a_pooled_connection_the_server_dropped_is_retried_once_on_a_new_one() -> None:
    async def answer_once(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(response())
        await writer.drain()
        await srv.request(reader)  # the next request on this connection: hang up without a word

    async with Scripted(answer_once) as srv, Fetcher(LOCAL) as f:
        first = await f.fetch(srv.url())
        second = await f.fetch(srv.url())
    assert first.body == second.body == b"<rss/>"
    assert srv.connections == 2 and len(srv.requests) == 3


async def test_a_new_connection_closed_without_an_answer_is_an_error_not_a_retry() -> None:
    async def hang_up(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)

    async with Scripted(hang_up) as srv, Fetcher(LOCAL) as f:
        with pytest.raises(ConnectFailed, match="closed before a response"):
            await f.fetch(srv.url())
    assert srv.connections == 1


async def test_a_body_that_runs_to_the_end_of_the_connection() -> None:
    async def until_close(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<rss>")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"</rss>")

    async with Scripted(until_close) as srv, Fetcher(LOCAL) as f:
        result = await f.fetch(srv.url())
        again = await f.fetch(srv.url())
    assert result.body == again.body == b"<rss></rss>"
    assert srv.connections == 2  # such a connection is never reused


async def test_a_chunked_body_is_joined_and_the_connection_kept() -> None:
    async def chunked(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while await srv.request(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n<rs\r\n")
            await writer.drain()
            writer.write(b"3\r\ns/>\r\n0\r\n\r\n")
            await writer.drain()

    async with Scripted(chunked) as srv, Fetcher(LOCAL) as f:
        bodies = [(await f.fetch(srv.url())).body for _ in range(3)]
    assert bodies == [b"<rss/>"] * 3 and srv.connections == 1


async def test_a_body_cut_short_is_an_error() -> None:
    async def short(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")

    async with Scripted(short) as srv, Fetcher(LOCAL) as f:
        with pytest.raises(ConnectFailed, match="cut off"):
            await f.fetch(srv.url())


async def test_endless_headers_are_refused_at_the_cap() -> None:
    async def endless_head(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for n in range(20_000):  # ~600 KB of headers, never ending the head
            writer.write(f"X-Filler-{n}: {'y' * 20}\r\n".encode())
            await writer.drain()

    async with Scripted(endless_head) as srv, Fetcher(LOCAL) as f:
        with pytest.raises(ConnectFailed, match="headers over 65,536 bytes"):
            await f.fetch(srv.url())


@pytest.mark.parametrize("garbage", [b"SSH-2.0-OpenSSH_9.6\r\n\r\n", b"HTTP/1.1 OK 200\r\n\r\n",
                                     b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef"])
async def test_a_response_that_is_not_http_is_a_clear_error(garbage: bytes) -> None:
    async def send(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(garbage)

    async with Scripted(send) as srv, Fetcher(LOCAL) as f:
        with pytest.raises(ConnectFailed, match="bad HTTP response"):
            await f.fetch(srv.url())


async def test_junk_after_a_whole_response_keeps_the_response_and_drops_the_connection() -> None:
    async def junk(reader: Reader, writer: Writer, srv: Scripted) -> None:
        while await srv.request(reader):
            writer.write(response() + b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
            await writer.drain()

    async with Scripted(junk) as srv, Fetcher(LOCAL) as f:
        first = await f.fetch(srv.url())
        second = await f.fetch(srv.url())
    assert first.body == second.body == b"<rss/>"
    assert srv.connections == 2  # the smuggled second response was never read as an answer


async def test_an_informational_response_before_the_real_one_is_skipped() -> None:
    async def continue_first(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n" + response(b"<feed/>", "ETag: \"e1\""))

    async with Scripted(continue_first) as srv, Fetcher(LOCAL) as f:
        result = await f.fetch(srv.url())
    assert (result.status, result.body, result.etag) == (200, b"<feed/>", '"e1"')


async def test_a_header_value_with_a_line_break_is_never_sent() -> None:
    async with Scripted(keep_alive) as srv, Fetcher(LOCAL) as f:
        with pytest.raises(FetchError, match="line break"):
            await f.fetch(srv.url(), etag='"x"\r\nX-Injected: 1')
    assert srv.connections == 0


async def test_an_idle_connection_past_its_time_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "IDLE_SECONDS", 0.05)
    async with Scripted(keep_alive) as srv, Fetcher(LOCAL) as f:
        await f.fetch(srv.url())
        await asyncio.sleep(0.1)
        await f.fetch(srv.url())
    assert srv.connections == 2


async def test_a_pooled_connection_is_reused_only_for_an_address_vetted_again() -> None:
    async with Scripted(keep_alive) as srv:
        override = Override(srv.port)
        client = http1.HTTPClient(connect_timeout=2, read_timeout=2, limit=4, override=override)
        u = Target.of("http://feeds.example/feed")
        for addresses in (["198.51.100.7"], ["198.51.100.7"], ["203.0.113.9"]):
            async with client.get(u, addresses, {}) as resp:
                assert resp.status == 200 and b"".join([c async for c in resp.chunks()]) == b"<rss/>"
        await client.close()
    assert override.seen == [("198.51.100.7", 80), ("203.0.113.9", 80)]
    assert srv.connections == 2


async def test_a_server_that_never_answers_times_out() -> None:
    async def silent(reader: Reader, writer: Writer, srv: Scripted) -> None:
        await srv.request(reader)
        await asyncio.sleep(5)

    settings = FetchSettings(allow_private_addresses=True, read_timeout=0.3)
    async with Scripted(silent) as srv, Fetcher(settings) as f:
        with pytest.raises(FetchTimeout, match="waiting for data"):
            await f.fetch(srv.url())


# ---- TLS -------------------------------------------------------------------------------
def make_certificate(tmp: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (its own CA), written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    cert, key = make_certificate(tmp_path, "feeds.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


async def test_https_with_a_certificate_no_one_trusts_is_refused(tls_server_context) -> None:
    context, _cert = tls_server_context
    async with Scripted(keep_alive, tls=context) as srv:
        resolver, override = FakeResolver({"feeds.example": [PUBLIC_IP]}), Override(srv.port)
        async with Fetcher(FetchSettings(), resolver=resolver, connect_override=override) as f:
            with pytest.raises(ConnectFailed, match="cannot connect to https://feeds.example/feed: .*certificate"):
                await f.fetch("https://feeds.example/feed")
    assert srv.requests == []


async def test_https_to_a_trusted_server_checks_the_name_and_keeps_the_connection(
        tls_server_context, monkeypatch: pytest.MonkeyPatch) -> None:
    context, cert = tls_server_context
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(http1, "_tls_context", trusting)  # as if our test CA were in the system store
    async with Scripted(keep_alive, tls=context) as srv:
        resolver = FakeResolver({"feeds.example": [PUBLIC_IP], "other.example": [PUBLIC_IP]})
        override = Override(srv.port)
        async with Fetcher(FetchSettings(), resolver=resolver, connect_override=override) as f:
            first = await f.fetch("https://feeds.example/a")
            second = await f.fetch("https://feeds.example/b")
            with pytest.raises(ConnectFailed, match="certificate"):  # same server, a name it is not for
                await f.fetch("https://other.example/a")
    assert first.body == second.body == b"<rss/>"
    assert srv.requests == ["GET /a HTTP/1.1", "GET /b HTTP/1.1"]
