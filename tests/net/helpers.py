"""Local servers and fakes for the fetcher tests (127.0.0.1 only, port 0)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.support.web import start_web as serve

PUBLIC_IP = "93.184.216.34"  # never contacted: connect_override maps it to a local server

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class FakeResolver:
    """Answers from a table; a list of answers is used one per call (the last one repeats)."""

    def __init__(self, table: dict[str, list[str] | list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.table.get(host)
        if answers is None:
            raise OSError("no such host")
        if answers and isinstance(answers[0], list):
            index = min(self.calls.count(host) - 1, len(answers) - 1)
            return list(answers[index])
        return list(answers)  # type: ignore[arg-type]


class Override:
    """The Fetcher test seam: a vetted fake public address → the real local server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.seen: list[tuple[str, int]] = []

    def __call__(self, ip: str, port: int) -> tuple[str, int]:
        self.seen.append((ip, port))
        return "127.0.0.1", self.port


class RawServer:
    """A tiny HTTP/1.1 server writing raw bytes, for responses aiohttp's server won't produce.

    It counts TCP connections, so a test can prove that nothing connected to it.
    """

    def __init__(self, routes: dict[str, Handler] | None = None) -> None:
        self.routes = routes or {}
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            path = request_line.split(" ")[1]
            headers = {}
            for line in lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            self.requests.append((path, headers))
            handler = self.routes.get(path.split("?")[0])
            if handler is None:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                await handler(reader, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


async def start_web(app: web.Application) -> tuple[web.AppRunner, int]:
    return await serve(app, shutdown_timeout=0.2)


def unused_port() -> int:
    """A local port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
