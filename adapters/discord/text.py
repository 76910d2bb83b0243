"""Making untrusted text safe and short for Discord: escape, neutralise mentions, truncate.

Feed titles, summaries and feed names come from strangers. They must render literally
(no markdown, no masked links, no pings) and fit Discord's limits without cutting a word
in half unless a single "word" is longer than the room available.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import discord

ELLIPSIS = "…"
ZWSP = "\u200b"

# bidi overrides/isolates and zero-width characters can make text read differently than it is
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_ANGLE_TOKEN = re.compile(r"<(?=[@#:/&]|a:|t:|id:)")
# characters that could end an auto-link early or start markdown right after it
_URL_UNSAFE = "".join(chr(c) for c in range(0x21)) + "<>()[]`|*\"'\\{}^"


def clean(text: str | None, *, single_line: bool = True) -> str:
    """Drop invisible/control characters; collapse whitespace (kept as newlines when asked)."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", text)
    if single_line:
        return _SPACES.sub(" ", text).strip()
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def escape(text: str | None, *, single_line: bool = True) -> str:
    """Untrusted text → text Discord shows literally and that cannot ping anyone."""
    text = clean(text, single_line=single_line)
    text = discord.utils.escape_markdown(text)  # keeps bare URLs intact, escapes [masked](links)
    text = _MASS_MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    return _ANGLE_TOKEN.sub("<" + ZWSP, text)


def truncate(text: str, limit: int) -> str:
    """Shorten to `limit` characters at a word boundary, ending with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS) + 1]
    space = cut.rfind(" ")
    newline = cut.rfind("\n")
    boundary = max(space, newline)
    if boundary >= limit // 2:
        cut = cut[:boundary]
    else:  # one enormous word: cutting inside it is the only way to fit
        cut = cut[:-1]
    cut = cut.rstrip()
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]  # never leave a lone escape that would swallow the ellipsis
    return cut + ELLIPSIS


def escape_fit(text: str | None, limit: int, *, single_line: bool = True) -> str:
    """Escape, then truncate at a word boundary so the escaped form fits `limit`."""
    return truncate(escape(text, single_line=single_line), limit)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL shown as itself: characters that could break auto-linking are encoded."""
    if not url:
        return None
    url = clean(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    encoded = "".join(quote(ch, safe="") if ch in _URL_UNSAFE else ch for ch in url)
    return encoded if len(encoded) <= 1000 else None


def embed_length(embed: dict) -> int:
    """Characters Discord counts toward the 6000 total (leading/trailing whitespace excluded)."""
    total = len((embed.get("title") or "").strip()) + len((embed.get("description") or "").strip())
    for field in embed.get("fields") or []:
        total += len((field.get("name") or "").strip()) + len((field.get("value") or "").strip())
    total += len(((embed.get("footer") or {}).get("text") or "").strip())
    total += len(((embed.get("author") or {}).get("name") or "").strip())
    return total
