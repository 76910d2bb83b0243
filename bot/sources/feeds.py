"""Feed bytes → entries. feedparser reads RSS 0.9x/1.0/2.0 and Atom; JSON Feed is plain
JSON with a documented shape, which feedparser 6 does not read, so we map it ourselves.

These functions are pure and picklable: the service runs them in a worker process so
parsing uses every core and a pathological document cannot stall the event loop.
"""

from __future__ import annotations

import calendar
import io
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import feedparser

from bot import defaults
from bot.models import Entry, SourceResult
from bot.pipeline.dedupe import assign_keys
from bot.sources.text import clean_inline, html_to_text

MAX_ENTRIES = 5000  # a feed larger than this is truncated (newest-first order is typical)
FUTURE_TOLERANCE = timedelta(days=2)
# feedparser spends ~10 µs per raw tag (15 in its sgmllib fallback), and its sanitizer once
# took 23 s and 570 MB on 4 MB of <div>: refuse documents with more tags than any real feed
MAX_MARKUP_TAGS = 100_000
HTML_TYPES = ("text/html", "application/xhtml+xml")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_COMMENTS = re.compile(rb"<!--.*?-->", re.DOTALL)
_START_TAG = re.compile(rb"<[A-Za-z_]")
_DTD_TOKEN = re.compile(rb"<!--.*?-->|\"[^\"]*\"|'[^']*'|[\[\]>]", re.DOTALL)
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.DOTALL)
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_UTF_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
             (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
             (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))


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


def to_utf8(data: bytes) -> bytes:
    """UTF-16/32 documents re-encoded as UTF-8 (declaration fixed), so the byte-level
    DOCTYPE scan below sees them; feedparser must never be handed a `str` (it would treat
    it as a URL or a path and fetch or open it)."""
    for bom, codec in _UTF_BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec).lstrip("\ufeff")
            except UnicodeDecodeError:
                return data
            return _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")
    return data


def strip_doctype(data: bytes) -> bytes:
    """Remove the document's DOCTYPE, internal subset included, wherever it ends.

    Feeds need no DTD; removing it means no entity is ever defined (billion laughs,
    quadratic blowup, external entities) and no system id is ever seen, whatever its size
    (feedparser's own filter reads only the first 64 KiB)."""
    found = _DOCTYPE.search(data)
    if found is None or _START_TAG.search(_COMMENTS.sub(b"", data[:found.start()])):
        return data  # none, or only inside the content (e.g. CDATA)
    depth = 0
    for token in _DTD_TOKEN.finditer(data, found.end()):
        mark = token.group()
        if mark == b"[":
            depth += 1
        elif mark == b"]":
            depth -= 1
        elif mark == b">" and depth <= 0:
            return data[:found.start()] + data[token.end():]
    return data[:found.start()]  # never closed: nothing after it is a document


def markup_tags(data: bytes) -> int:
    """Raw tags feedparser would walk one by one (CDATA sections are single tokens)."""
    if data.count(b"<") <= MAX_MARKUP_TAGS:
        return data.count(b"<")
    return _CDATA.sub(b"", data).count(b"<")


def safe_link(link: object, base: str) -> str | None:
    """Only web links (and file links in a local feed file) survive: a `javascript:` or
    `data:` link must never become a clickable button in a chat."""
    if not isinstance(link, str) or not link.strip():
        return None
    link = link.strip()
    try:
        scheme = urlsplit(link).scheme.lower()
    except ValueError:
        return None
    allowed = ("http", "https", "file") if base.startswith("file:") else ("http", "https")
    return link if scheme in allowed else None


def _title(item) -> str:
    title = item.get("title", "") or ""
    kind = (item.get("title_detail") or {}).get("type")
    return html_to_text(title) if kind in HTML_TYPES and "<" in title else title


def parse_feed(data: bytes, url: str, content_type: str | None = None,
               now: datetime | None = None) -> SourceResult:
    now = now or datetime.now(UTC)
    if looks_like_json_feed(data, content_type):
        return parse_json_feed(data, url, now)
    data = strip_doctype(to_utf8(data))
    tags = markup_tags(data)
    if tags > MAX_MARKUP_TAGS:
        raise FeedParseError(f"too much markup to parse safely ({tags} tags, limit {MAX_MARKUP_TAGS})")
    # A stream, never bytes or str: feedparser first tries open(source) on both, so a body
    # that spells a path ("/etc/app/feed.xml", "/dev/zero") would read a local file.
    # We turn HTML into plain text ourselves, so feedparser's sanitizer pass is only cost.
    try:
        parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False,
                                  response_headers={"content-location": url,
                                                    "content-type": content_type or "application/xml"})
    except Exception as exc:  # a feedparser bug on odd input must be a parse error, not a crash
        raise FeedParseError(f"unreadable feed: {clean_inline(str(exc), 120) or exc.__class__.__name__}") from None
    if not parsed.version and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f": {clean_inline(str(problem), 120)}" if problem else ""
        raise FeedParseError(f"not an RSS, Atom or JSON feed{detail}")
    entries, guids = [], []
    for item in parsed.entries[:MAX_ENTRIES]:
        text, teaser = _entry_text(item)
        title = clean_inline(_title(item), 500) or clean_inline(text, 120) or "(untitled)"
        link = safe_link(item.get("link"), url)
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
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: 5,000-digit numbers
        raise FeedParseError(f"invalid JSON feed: {clean_inline(str(exc), 120) or 'too deeply nested'}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedParseError("invalid JSON feed: no items list")
    entries, guids = [], []
    for item in doc["items"][:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        html = item.get("content_html") if isinstance(item.get("content_html"), str) else None
        raw = html_to_text(html) if html else str(item.get("content_text") or item.get("summary") or "")
        text = raw if html else html_to_text(raw)
        link = safe_link(item.get("url"), url)
        title = clean_inline(str(item.get("title") or ""), 500) or clean_inline(text, 120) or "(untitled)"
        entries.append(Entry(key="", title=title, url=link, text=text,
                             is_teaser=len(text) < defaults.TEASER_CHARS,
                             published=_iso_date(item.get("date_published") or item.get("date_modified"), now)))
        guids.append(str(item["id"]) if item.get("id") is not None else None)
    entries = assign_keys(entries, guids)
    return SourceResult(title=clean_inline(str(doc.get("title") or ""), 200) or None, entries=entries)
