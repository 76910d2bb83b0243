"""Start an aiohttp app on 127.0.0.1, port 0: every local server the tests run uses this."""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def start_web(app: web.Application, **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Returns the runner (for cleanup) and the port the system chose."""
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port
