"""A tiny RSS server on 127.0.0.1:0 for the end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from tests.support.web import start_web

HOSTILE = "<!channel> &lt;!here&gt; <https://evil.example|https://bank.example>"
# the RSS title is HTML: its entity is decoded exactly once, so the channel sees this, literally
HOSTILE_SHOWN = "<!channel> <!here> <https://evil.example|https://bank.example>"
BODY = ("The council met on Monday to discuss the budget for the coming year. Members agreed to fund "
        "three new libraries and to repair the old bridge. The mayor said the plan would take two years. "
        "Residents will be able to comment on the plan at a public meeting next month. ") * 3


def rss(count: int, base: str) -> str:
    start = datetime(2026, 1, 4, 12, 0, tzinfo=UTC)
    items = []
    for n in range(count):
        title = HOSTILE if n == 0 else f"Council story {n}"
        items.append(
            f"<item><title>{escape(title)}</title><link>{base}/story/{n}</link><guid>{base}/story/{n}</guid>"
            f"<pubDate>{format_datetime(start + timedelta(minutes=n))}</pubDate>"
            f"<description>{escape(BODY)}</description></item>"
        )
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Town News</title>'
            f"<link>{base}/</link><description>local</description>{''.join(items)}</channel></rss>")


class FeedServer:
    def __init__(self, count: int = 3):
        self.count = count
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed.xml"

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/feed.xml", self._feed)
        self._runner, self.port = await start_web(app, handle_signals=False)
        return self

    async def _feed(self, request: web.Request) -> web.Response:
        return web.Response(text=rss(self.count, f"http://127.0.0.1:{self.port}"),
                            content_type="application/rss+xml")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
