"""JSON Feed (1.0 and 1.1) → entries. feedparser 6 does not read it, so we map it by hand.

Every field is checked for the type the spec gives it: a value of the wrong type is
ignored as if absent (`"title": 1000` is no title, `"content_text": [...]` no text),
never turned into a Python repr; an item left with nothing to show is skipped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import defaults
from bot.models import Entry, SourceResult
from bot.pipeline.dedupe import assign_keys
from bot.sources.common import FeedParseError, safe_link
from bot.sources.text import clean_inline, plain_line, plain_text

MAX_ENTRIES = 5000
MAX_CATEGORIES = 20
FUTURE_TOLERANCE = timedelta(days=2)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _iso_date(value: object, now: datetime) -> datetime | None:
    text = _string(value)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return min(when.astimezone(UTC), now + FUTURE_TOLERANCE)


def _author(item: dict) -> str | None:
    """1.1 `authors` (a list of objects), else 1.0 `author` (an object)."""
    candidates = item.get("authors") if isinstance(item.get("authors"), list) else [item.get("author")]
    names = [plain_line(a.get("name"), "guess", 200) for a in candidates if isinstance(a, dict)]
    return clean_inline(", ".join(n for n in names if n), 200) or None


def categories_of(values: object) -> list[str]:
    """Tags as plain text, each once, in order."""
    if not isinstance(values, list):
        return []
    seen: dict[str, str] = {}
    for value in values[:200]:
        tag = plain_line(value, "guess", 100)
        if tag:
            seen.setdefault(tag.casefold(), tag)
    return list(seen.values())[:MAX_CATEGORIES]


def _item_id(item: dict) -> str | None:
    ident = item.get("id")
    if isinstance(ident, bool):
        return None
    if isinstance(ident, int | float):
        return str(ident)  # the spec asks for strings, but numbers are common; they are still ids
    return _string(ident)


def _text(item: dict) -> str:
    if (html := _string(item.get("content_html"))) is not None:
        if text := plain_text(html, "html"):
            return text
    for field in ("content_text", "summary"):
        if text := plain_text(item.get(field), "guess"):
            return text
    return ""


def _decode(data: bytes, charset: str | None) -> str:
    for codec in ("utf-8-sig", charset):
        if codec:
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # UnicodeDecodeError is the caller's parse error
    return data.decode("utf-8")


def parse_json_feed(data: bytes, url: str, now: datetime, charset: str | None = None) -> SourceResult:
    try:
        doc = json.loads(_decode(data, charset))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: 5,000-digit numbers
        raise FeedParseError(f"invalid JSON feed: {clean_inline(str(exc), 120) or 'too deeply nested'}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedParseError("invalid JSON feed: no items list")
    entries, guids = [], []
    for item in doc["items"][:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        text = _text(item)
        link = safe_link(item.get("url"), url) or safe_link(item.get("external_url"), url)
        title = plain_line(item.get("title"), "guess", 500) or clean_inline(text, 120)
        if not title and not link:
            continue  # nothing a reader could see
        entries.append(Entry(key="", title=title or "(untitled)", url=link, text=text,
                             is_teaser=len(text) < defaults.TEASER_CHARS,
                             published=_iso_date(item.get("date_published"), now)
                             or _iso_date(item.get("date_modified"), now),
                             author=_author(item) or _author(doc), categories=categories_of(item.get("tags"))))
        guids.append(_item_id(item))
    entries = assign_keys(entries, guids)
    return SourceResult(title=plain_line(doc.get("title"), "guess", 200) or None, entries=entries)
