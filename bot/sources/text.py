"""HTML fragments from feeds → plain text with paragraph breaks (lxml, already a dependency)."""

from __future__ import annotations

import re
import unicodedata

import lxml.html
from lxml import etree

BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section",
              "article", "pre", "figure", "figcaption", "ul", "ol", "table", "header", "footer"}
DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "form", "button")
# bidi overrides/isolates and zero-width characters can disguise text; drop them
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069\u200e\u200f"))


_ASCII_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SPACES = re.compile(r"\s+")


def _non_ascii(match: re.Match) -> str:
    ch = match.group()
    return " " if unicodedata.category(ch)[0] == "C" else ch  # C1 controls, format, private, unassigned


def clean_inline(text: str, limit: int | None = None) -> str:
    """One line of untrusted text: no control or invisible characters, collapsed spaces.
    (Regexes, not a per-character loop: this runs on every paragraph of every feed item.)"""
    text = _ASCII_CONTROLS.sub(" ", text.translate(INVISIBLE))
    if not text.isascii():
        text = _NON_ASCII.sub(_non_ascii, text)
    text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return text


def clean_block(text: str) -> str:
    """Multi-paragraph text: paragraphs kept, each cleaned like a line."""
    paragraphs = [clean_inline(p) for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def html_to_text(fragment: str) -> str:
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return clean_block(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_block(re.sub(r"<[^>]+>", " ", fragment))
    for bad in root.iter(*DROP_TAGS):
        bad.drop_tree() if bad.getparent() is not None else None
    chunks: list[str] = []

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.lower() in BLOCK_TAGS:
            chunks.append("\n\n")
        if node.text and tag:
            chunks.append(node.text)
        for child in node:
            walk(child)
        if tag.lower() in BLOCK_TAGS:
            chunks.append("\n\n")
        if node.tail:
            chunks.append(node.tail)

    walk(root)
    return clean_block("".join(chunks))
