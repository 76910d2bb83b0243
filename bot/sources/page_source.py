"""A subscribed URL may be a feed or a single web page; a page becomes one entry (its
canonical URL makes it one article, so polling an unchanged or edited page never reposts)."""

from __future__ import annotations

from datetime import datetime

from bot.models import Entry, SourceResult
from bot.pipeline.dedupe import content_hash
from bot.sources.feeds import FeedParseError, parse_feed
from bot.sources.pages import extract_page

HTML_TYPES = ("text/html", "application/xhtml+xml")


def looks_like_html(data: bytes, content_type: str | None) -> bool:
    if content_type in HTML_TYPES:
        return True
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def parse_source(data: bytes, url: str, content_type: str | None, charset: str | None,
                 now: datetime | None = None) -> SourceResult:
    """Feed bytes → entries; an HTML page that is not a feed → one entry."""
    try:
        return parse_feed(data, url, content_type, now, charset)
    except FeedParseError:
        if not looks_like_html(data, content_type):
            raise
    title, text = extract_page(data, url, charset)
    name = title or url
    entry = Entry(key="p:" + content_hash(name, text), title=name, url=url, published=now, text=text)
    return SourceResult(title=name, entries=[entry])
