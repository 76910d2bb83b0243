"""What every source reader here shares: the parse errors and the link filter (no parser
imports, so a command can catch these errors without loading lxml or trafilatura)."""

from __future__ import annotations

from urllib.parse import urlsplit


class FeedParseError(Exception):
    """The bytes are not a feed we can read."""


class PageExtractError(ValueError):
    """No readable article text in the page."""


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
