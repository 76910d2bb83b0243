"""Feed bytes → entries. feedparser reads RSS 0.9x/1.0/2.0 and Atom; JSON Feed is plain
JSON with a documented shape, which feedparser 6 does not read, so we map it ourselves.

These functions are pure and picklable: the service runs them in a worker process so
parsing uses every core and a pathological document cannot stall the event loop.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime, timedelta

import feedparser

from bot import defaults
from bot.models import Entry, SourceResult
from bot.pipeline.dedupe import assign_keys
from bot.sources.text import clean_inline, html_to_text

MAX_ENTRIES = 5000  # a feed larger than this is truncated (newest-first order is typical)
FUTURE_TOLERANCE = timedelta(days=2)


class FeedParseError(Exception):
    """The bytes are not a feed we can read."""


def _date(struct, now: datetime) -> datetime | None:
    if not struct:
        return None
    try:
        when = datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    return min(when, now + FUTURE_TOLERANCE) if when > now + FUTURE_TOLERANCE else when


def _iso_date(text: object, now: datetime) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return min(when.astimezone(UTC), now + FUTURE_TOLERANCE)


def looks_like_json_feed(data: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type:
        return True
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed" in data[:2000]


def _entry_text(entry) -> tuple[str, bool]:
    """The fullest text an entry carries, and whether it is only a teaser."""
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    if contents:
        text = html_to_text(max(contents, key=len))
        return text, len(text) < defaults.TEASER_CHARS
    text = html_to_text(entry.get("summary", "") or "")
    return text, len(text) < defaults.TEASER_CHARS


def parse_feed(data: bytes, url: str, content_type: str | None = None,
               now: datetime | None = None) -> SourceResult:
    now = now or datetime.now(UTC)
    if looks_like_json_feed(data, content_type):
        return parse_json_feed(data, url, now)
    parsed = feedparser.parse(data, response_headers={"content-location": url,
                                                      "content-type": content_type or "application/xml"})
    if not parsed.version and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f": {clean_inline(str(problem), 120)}" if problem else ""
        raise FeedParseError(f"not an RSS, Atom or JSON feed{detail}")
    entries, guids = [], []
    for item in parsed.entries[:MAX_ENTRIES]:
        text, teaser = _entry_text(item)
        title = clean_inline(item.get("title", "") or "", 500) or clean_inline(text, 120) or "(untitled)"
        link = item.get("link") or None
        entries.append(Entry(key="", title=title, url=link, text=text, is_teaser=teaser,
                             published=_date(item.get("published_parsed") or item.get("updated_parsed"), now),
                             author=clean_inline(item.get("author", "") or "", 200) or None))
        guids.append(item.get("id") or None)
    entries = assign_keys(entries, guids)
    warning = None
    if parsed.bozo and parsed.get("bozo_exception") is not None:
        warning = clean_inline(str(parsed.bozo_exception), 200)
    title = clean_inline(parsed.feed.get("title", "") or "", 200) or None
    return SourceResult(title=title, entries=entries, warning=warning)


def parse_json_feed(data: bytes, url: str, now: datetime) -> SourceResult:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedParseError(f"invalid JSON feed: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedParseError("invalid JSON feed: no items list")
    entries, guids = [], []
    for item in doc["items"][:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        html = item.get("content_html") if isinstance(item.get("content_html"), str) else None
        raw = html_to_text(html) if html else str(item.get("content_text") or item.get("summary") or "")
        text = raw if html else html_to_text(raw)
        link = item.get("url") if isinstance(item.get("url"), str) else None
        title = clean_inline(str(item.get("title") or ""), 500) or clean_inline(text, 120) or "(untitled)"
        entries.append(Entry(key="", title=title, url=link, text=text,
                             is_teaser=len(text) < defaults.TEASER_CHARS,
                             published=_iso_date(item.get("date_published") or item.get("date_modified"), now)))
        guids.append(str(item["id"]) if item.get("id") is not None else None)
    entries = assign_keys(entries, guids)
    return SourceResult(title=clean_inline(str(doc.get("title") or ""), 200) or None, entries=entries)
