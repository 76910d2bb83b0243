"""A web page's bytes → its title and main text, with trafilatura (never given a URL to fetch)."""

from __future__ import annotations

from bot.sources.text import clean_block, clean_inline, html_to_text


class PageExtractError(ValueError):
    """No readable article text in the page."""


def decode_html(data: bytes, charset: str | None) -> str:
    for encoding in filter(None, (charset, "utf-8")):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def extract_page(data: bytes, url: str | None = None, charset: str | None = None) -> tuple[str | None, str]:
    """Return (title, text). Raises PageExtractError when nothing readable is found."""
    import trafilatura  # here, not at the top: 85 ms of every CLI start-up otherwise

    html = decode_html(data, charset)
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
    else:
        text = html_to_text(html) if "<" in html else html
    text = clean_block(text or "")
    if not text:
        raise PageExtractError("no readable text found in the page")
    return (clean_inline(title, 500) if title else None), text
