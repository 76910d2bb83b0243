"""A real local HTTP server for feeds and pages, with behaviour tests can change live."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from aiohttp import web

from tests.support.web import start_web


def rss(items: list[dict], title: str = "Test feed") -> bytes:
    """items: dicts with title, link, guid (optional), pubdate (datetime), description."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
             "<link>https://example.org/</link><description>t</description>"]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{item['title']}</title>")
        if item.get("link"):
            parts.append(f"<link>{item['link']}</link>")
        if item.get("guid"):
            parts.append(f'<guid isPermaLink="false">{item["guid"]}</guid>')
        if item.get("pubdate"):
            parts.append(f"<pubDate>{format_datetime(item['pubdate'])}</pubDate>")
        parts.append(f"<description><![CDATA[{item.get('description', '')}]]></description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def make_items(start: int, count: int, base: str = "https://news.example", words: int = 60) -> list[dict]:
    """Distinct items numbered start..start+count-1, newest last; long enough to be full text."""
    when = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for n in range(start, start + count):
        body = " ".join(f"Sentence {k} of story {n} tells how item {n} unfolded in detail." for k in range(words // 10))
        items.append({"title": f"Story number {n} about topic {n * 7 % 13}", "link": f"{base}/story/{n}",
                      "guid": f"story-{n}", "pubdate": when + timedelta(hours=n), "description": f"<p>{body}</p>"})
    return items


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    delay: float = 0.0
    location: str | None = None
    conditional: bool = True


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, **kwargs) -> None:
        self.routes[path] = Route(**kwargs)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.location:
            return web.Response(status=route.status, headers={"Location": route.location})
        etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'  # noqa: S324 - a cache tag
        headers = {"ETag": etag, "Last-Modified": "Mon, 05 Jan 2026 07:00:00 GMT"} if route.conditional else {}
        if route.conditional and route.status == 200 and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(status=route.status, body=route.body, headers={**headers,
                                                                            "Content-Type": route.content_type})


class ThreadedFeedServer(FeedServer):
    """Runs the server in its own thread and loop, so subprocess CLI tests can use it."""

    def start(self) -> ThreadedFeedServer:
        ready = threading.Event()

        def serve() -> None:
            self.loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self.handle)
            self.runner, self.port = self.loop.run_until_complete(start_web(app))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            await self.runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
