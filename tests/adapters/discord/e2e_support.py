"""Shared pieces of the end-to-end tests: a local feed/page server and bot settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from bot.config import parse_settings
from tests.fakes.discord import FakeDiscord
from tests.support.web import start_web

SENTENCES = [
    "The river authority opened the new lock on Monday after three years of work.",
    "Engineers said the lock lets larger barges pass without waiting for high water.",
    "Local shipping firms expect cargo traffic on the river to grow by a fifth.",
    "Residents had complained about noise during construction at night.",
    "The authority promised quieter maintenance work in the coming months.",
    "A ceremony with the mayor and the project team marked the opening.",
]


class FeedServer:
    """Serves /feed.xml (mutable items) and /page.html (optionally slow) on 127.0.0.1:0."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.page_delay = 0.0
        self.port = 0
        self._runner: web.AppRunner | None = None

    def add_items(self, n: int, *, prefix: str = "Story", long: bool = False, start: int | None = None,
                  title: Callable[[int], str] | None = None) -> None:
        base = len(self.items) if start is None else start
        for i in range(base, base + n):
            text = " ".join(SENTENCES * (8 if long else 1))
            name = title(i) if title else f"{prefix} {i}" + (" with a very long headline" * 12 if long else "")
            when = datetime(2026, 1, 5, 6, 0, tzinfo=UTC) - timedelta(minutes=i)
            self.items.append({"title": name, "link": f"{self.url}/story/{i}", "guid": f"story-{i}",
                               "text": text, "date": format_datetime(when)})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _feed(self, request: web.Request) -> web.Response:
        entries = "".join(
            f"<item><title>{escape(i['title'])}</title><link>{i['link']}</link><guid>{i['guid']}</guid>"
            f"<pubDate>{i['date']}</pubDate><description>{escape(i['text'])}</description></item>"
            for i in self.items)
        body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>River News</title>'
                f"<link>{self.url}/</link><description>test</description>{entries}</channel></rss>")
        return web.Response(text=body, content_type="application/rss+xml")

    async def _page(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.page_delay)
        paras = "".join(f"<p>{' '.join(SENTENCES[i:] + SENTENCES[:i])}</p>" for i in range(len(SENTENCES)))
        html = (f"<html><head><title>New river lock opens</title></head><body><article>"
                f"<h1>New river lock opens</h1>{paras}</article></body></html>")
        return web.Response(text=html, content_type="text/html")

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/feed.xml", self._feed)
        app.router.add_get("/page.html", self._page)
        self._runner, self.port = await start_web(app)
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


def settings_data(fake: FakeDiscord, *, schedule: str = "0 8 * * *", channels: list[dict] | None = None,
                  feeds: list[dict] | None = None) -> dict[str, Any]:
    return {
        "bot": {"poll_interval": 60, "adapters": ["discord"]},
        "fetch": {"allow_private_addresses": True, "allowed_ports": []},
        "digest": {"schedule": schedule, "timezone": "UTC"},
        "discord": {"api_base_url": fake.base_url, "gateway_url": fake.gateway_url,
                    "guild_ids": [int(fake.guild_id)]},
        "channels": channels or [],
        "feeds": feeds or [],
    }


def settings_for(fake: FakeDiscord, **kwargs: Any):
    return parse_settings(settings_data(fake, **kwargs))


def toml_for(data: dict[str, Any]) -> str:
    """Just enough TOML for settings_data()."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v)

    lines = []
    for section, body in data.items():
        if isinstance(body, dict):
            lines.append(f"[{section}]")
            lines += [f"{k} = {value(v)}" for k, v in body.items()]
        else:
            for table in body:
                lines.append(f"[[{section}]]")
                lines += [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


async def until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll an (async or sync) predicate until truthy; real time, short steps."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
