"""The aiohttp side of the DNS-rebinding defence.

The Fetcher resolves and vets a host itself, then *pins* the vetted addresses here. aiohttp asks
this resolver when it opens a connection and gets exactly those addresses back — it never does
a second, unvetted lookup — while the URL keeps the hostname, so TLS SNI and Host stay right.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from aiohttp.abc import AbstractResolver, ResolveResult

ConnectOverride = Callable[[str, int], tuple[str, int]]


def _key(host: str) -> str:
    return host.rstrip(".").lower()


class PinnedResolver(AbstractResolver):
    """Answers only with addresses the Fetcher has vetted; an unknown host is an error.

    `connect_override` is a test seam: it maps a vetted (ip, port) to the socket really used,
    so tests can treat a fake public address as a local server. Production code passes None.
    """

    def __init__(self, connect_override: ConnectOverride | None = None) -> None:
        self._pins: dict[str, list[str]] = {}
        self._override = connect_override

    def pin(self, host: str, addresses: list[str]) -> None:
        self._pins[_key(host)] = list(addresses)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self._pins.get(_key(host))
        if not addresses:
            raise OSError(f"no vetted address for {host}")
        results: list[ResolveResult] = []
        for ip in addresses:
            real_ip, real_port = (ip, port) if self._override is None else self._override(ip, port)
            results.append(
                ResolveResult(
                    hostname=host,
                    host=real_ip,
                    port=real_port,
                    family=socket.AF_INET6 if ":" in real_ip else socket.AF_INET,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return results

    async def close(self) -> None:
        self._pins.clear()
