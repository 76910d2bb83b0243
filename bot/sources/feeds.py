"""Feed bytes → entries. feedparser reads RSS 0.9x/1.0/2.0 and Atom; JSON Feed is plain
JSON with a documented shape, which feedparser 6 does not read (see `jsonfeed`).

Every piece of text a feed carries (feed title, entry title, author, categories, body)
goes through `text.plain_text` with the type the feed declared for it: Atom says
whether a construct is text or HTML; RSS never says, so RSS values are read as HTML
when they carry HTML markup or entity references.

These functions are pure and picklable: the service runs them in a worker process so
parsing uses every core and a pathological document cannot stall the event loop.
"""

from __future__ import annotations

import calendar
import io
import re
from datetime import UTC, datetime, timedelta

import feedparser

from bot import defaults
from bot.models import Entry, SourceResult
from bot.pipeline.dedupe import assign_keys
from bot.sources import feedparser_tuning
from bot.sources.common import FeedParseError, safe_link
from bot.sources.jsonfeed import parse_json_feed
from bot.sources.text import Kind, clean_inline, plain_line, plain_text
from bot.sources.xmlprep import normalize_encoding, strip_doctype, to_utf8

__all__ = ["MAX_MARKUP_TAGS", "FeedParseError", "markup_tags", "parse_feed", "parse_json_feed", "safe_link",
           "strip_doctype", "to_utf8"]

MAX_ENTRIES = 5000  # a feed larger than this is truncated (newest-first order is typical)
MAX_CATEGORIES = 20
FUTURE_TOLERANCE = timedelta(days=2)
# feedparser spends ~10 µs per raw tag (15 in its sgmllib fallback), and its sanitizer once
# took 23 s and 570 MB on 4 MB of <div>: refuse documents with more tags than any real feed
MAX_MARKUP_TAGS = 100_000
HTML_TYPES = ("text/html", "application/xhtml+xml")
feedparser_tuning.apply()
_EMAIL_NAME = re.compile(r"^[^\s@()]+@[^\s@()]+\s*\((.+)\)$")
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.DOTALL)


def _date(struct, now: datetime) -> datetime | None:
    if not struct:
        return None
    try:
        when = datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    return min(when, now + FUTURE_TOLERANCE) if when > now + FUTURE_TOLERANCE else when


def looks_like_json_feed(data: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type:
        return True
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed" in data[:2000]


def _kind(detail: object, atom: bool) -> Kind:
    """How to read a value: as HTML, as declared plain text (Atom), or by its look (RSS)."""
    declared = detail.get("type") if isinstance(detail, dict) else None
    if declared in HTML_TYPES:
        return "html"
    return "text" if atom and declared else "guess"


def _entry_text(entry, atom: bool) -> tuple[str, bool]:
    """The fullest text an entry carries, and whether it is only a teaser."""
    texts = [plain_text(c.get("value"), _kind(c, atom)) for c in entry.get("content", []) or []
             if isinstance(c, dict)]
    texts = [t for t in texts if t]
    text = max(texts, key=len) if texts else plain_text(entry.get("summary"),
                                                        _kind(entry.get("summary_detail"), atom))
    return text, len(text) < defaults.TEASER_CHARS


def _author(entry, atom: bool) -> str | None:
    """The author's name; RSS's `email (Name)` form gives the name."""
    detail = entry.get("author_detail")
    name = detail.get("name") if isinstance(detail, dict) else None
    name = plain_line(name or entry.get("author"), "text" if atom else "guess", 200)
    found = _EMAIL_NAME.match(name)
    return (found.group(1).strip() if found else name) or None


def _categories(entry, atom: bool) -> list[str]:
    seen: dict[str, str] = {}
    for tag in (entry.get("tags") or [])[:200]:
        if isinstance(tag, dict):
            value = plain_line(tag.get("label") or tag.get("term"), "text" if atom else "guess", 100)
            if value:
                seen.setdefault(value.casefold(), value)
    return list(seen.values())[:MAX_CATEGORIES]


def markup_tags(data: bytes) -> int:
    """Raw tags feedparser would walk one by one (CDATA sections are single tokens)."""
    if data.count(b"<") <= MAX_MARKUP_TAGS:
        return data.count(b"<")
    return _CDATA.sub(b"", data).count(b"<")


def _not_a_feed(parsed) -> FeedParseError:
    feed = parsed.get("feed") or {}
    if not parsed.bozo and (feed.get("title") or feed.get("link")):
        return FeedParseError("the document has no items: it parsed, but has no RSS item or Atom entry")
    problem = parsed.get("bozo_exception")
    detail = f": {clean_inline(str(problem), 120)}" if problem else ""
    return FeedParseError(f"not an RSS, Atom or JSON feed{detail}")


def parse_feed(data: bytes, url: str, content_type: str | None = None,
               now: datetime | None = None, charset: str | None = None) -> SourceResult:
    """Parse feed bytes; `charset` is the one the HTTP response declared, if any."""
    now = now or datetime.now(UTC)
    if looks_like_json_feed(data, content_type):
        return parse_json_feed(data, url, now, charset)
    data, charset = normalize_encoding(data, charset)
    data = strip_doctype(data)
    tags = markup_tags(data)
    if tags > MAX_MARKUP_TAGS:
        raise FeedParseError(f"too much markup to parse safely ({tags} tags, limit {MAX_MARKUP_TAGS})")
    media = content_type or "application/xml"
    # A stream, never bytes or str: feedparser first tries open(source) on both, so a body
    # that spells a path ("/etc/app/feed.xml", "/dev/zero") would read a local file.
    # We turn HTML into plain text ourselves, so feedparser's sanitizer pass is only cost.
    try:
        parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False,
                                  response_headers={"content-location": url,
                                                    "content-type": f"{media}; charset={charset}" if charset
                                                    else media})
    except Exception as exc:  # a feedparser bug on odd input must be a parse error, not a crash
        raise FeedParseError(f"unreadable feed: {clean_inline(str(exc), 120) or exc.__class__.__name__}") from None
    if not parsed.version and not parsed.entries:
        raise _not_a_feed(parsed)
    atom = (parsed.version or "").startswith("atom")
    entries, guids = [], []
    for item in parsed.entries[:MAX_ENTRIES]:
        text, teaser = _entry_text(item, atom)
        title = (plain_line(item.get("title"), _kind(item.get("title_detail"), atom), 500)
                 or clean_inline(text, 120) or "(untitled)")
        entries.append(Entry(key="", title=title, url=safe_link(item.get("link"), url), text=text,
                             is_teaser=teaser,
                             published=_date(item.get("published_parsed") or item.get("updated_parsed"), now),
                             author=_author(item, atom), categories=_categories(item, atom)))
        guids.append(item.get("id") or None)
    entries = assign_keys(entries, guids)
    warning = None
    if parsed.bozo and parsed.get("bozo_exception") is not None:
        warning = clean_inline(str(parsed.bozo_exception), 200)
    feed = parsed.feed
    title = plain_line(feed.get("title"), _kind(feed.get("title_detail"), atom), 200) or None
    return SourceResult(title=title, entries=entries, warning=warning)
