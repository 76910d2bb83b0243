"""A web page's bytes → its title and main text, with trafilatura (never given a URL to fetch)."""

from __future__ import annotations

import re

from bot.sources.common import PageExtractError
from bot.sources.page_fallback import page_text
from bot.sources.text import clean_block, clean_inline

# "Opinion | The headline | Site": sections and site names hang off the headline with pipes
_TITLE_PARTS = re.compile(r"\s+(?:\||::|»|\u2022)\s+")
# embedded social posts (quoted from elsewhere, with the platform's script): not the article's text
_EMBED = re.compile(r"<blockquote\b[^>]*\bclass\s*=\s*[\"'][^\"']*\b(?:twitter-tweet|instagram-media|tiktok-embed"
                    r"|social-embed|bluesky-embed|mastodon-embed|threads-embed|fb-xfbml-parse-ignore)\b"
                    r"[^>]*>.*?</blockquote\s*>", re.IGNORECASE | re.DOTALL)


def decode_html(data: bytes, charset: str | None) -> str:
    for encoding in filter(None, (charset, "utf-8")):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def page_title(title: str | None) -> str | None:
    """The headline without a section label or site name joined to it by `|`, `»` or `::`."""
    if not title:
        return None
    title = clean_inline(title, 500)
    parts = [p for p in _TITLE_PARTS.split(title) if p.strip()]
    if len(parts) < 2:
        return title or None
    return max(parts, key=lambda p: (len(p.split()), -parts.index(p)))


def extract_page(data: bytes, url: str | None = None, charset: str | None = None) -> tuple[str | None, str]:
    """Return (title, text). Raises PageExtractError when nothing readable is found."""
    import trafilatura  # here, not at the top: 85 ms of every CLI start-up otherwise

    html = decode_html(data, charset)
    if "<blockquote" in html:
        html = _EMBED.sub(" ", html)
    doc = None
    try:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                          include_tables=False, favor_precision=True)
    except (ValueError, TypeError):
        doc = None
    title = text = None
    if doc is not None:
        title = getattr(doc, "title", None)
        text = getattr(doc, "text", None)
    if text:
        text = text.replace("\n", "\n\n")  # trafilatura puts one paragraph per line
    elif "<" in html:
        fallback_title, text = page_text(html)
        title = title or fallback_title
    else:
        text = html
    text = clean_block(text or "")
    if not text:
        raise PageExtractError("no readable text found in the page")
    return page_title(title), text
