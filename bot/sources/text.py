"""Untrusted text from feeds and pages → plain text with paragraph breaks (lxml, already a dependency).

Every piece of feed text (feed title, entry title, author, category, body) goes through
`plain_text` with how it was declared: HTML is parsed, so each entity is decoded exactly
once (`AT&amp;T` is the HTML for "AT&T", `&#146;` the Windows-1252 apostrophe, as
browsers read them); declared plain text is kept as written; undeclared text (RSS, JSON
Feed) is read as HTML only when it carries real HTML markup or entity references.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from typing import Literal

Kind = Literal["html", "text", "guess"]

BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section",
              "article", "pre", "figure", "figcaption", "ul", "ol", "table", "header", "footer", "main",
              "dl", "dt", "dd", "hr", "aside", "nav", "address", "details", "summary"}
CELL_TAGS = {"td", "th"}
# never text a reader sees: code, styling, embedded objects, form controls, the document head
DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "math", "form", "button",
             "template", "select", "textarea", "head", "title", "canvas", "audio", "video", "map")
DROPPED = frozenset(DROP_TAGS)
_DROP_BLOCK = re.compile(r"<(" + "|".join(DROP_TAGS) + r")\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_ANY_TAG = re.compile(r"<!--.*?(?:-->|$)|<[^>]*>", re.DOTALL)
# bidi overrides/isolates and zero-width characters can disguise text; drop them
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069\u200e\u200f"))

# elements of HTML (current and common legacy): a plain-text value using one of these is HTML
HTML_ELEMENTS = frozenset(
    "a abbr acronym address area article aside audio b base bdi bdo big blockquote body br button canvas "
    "caption center cite code col colgroup data dd del details dfn dialog div dl dt em embed fieldset "
    "figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hr html i iframe img "
    "input ins kbd label legend li link main map mark meta meter nav noscript object ol optgroup option "
    "output p param picture pre progress q rp rt ruby s samp script section select small source span "
    "strike strong style sub summary sup svg table tbody td template textarea tfoot th thead time title "
    "tr track tt u ul var video wbr math".split())
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?:[\s/][^<>]*)?>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")
_DOCUMENT = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype|html|head|body)\b",
                       re.IGNORECASE | re.DOTALL)

_ASCII_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PARAGRAPHS = re.compile(r"\n\s*\n|\r\n\s*\r\n")


def _non_ascii(match: re.Match) -> str:
    ch = match.group()
    return " " if unicodedata.category(ch)[0] == "C" else ch  # C1 controls, format, private, unassigned


def clean_inline(text: str, limit: int | None = None) -> str:
    """One line of untrusted text: no control or invisible characters, collapsed spaces.
    This runs on every paragraph of every feed item, so the common case is C-speed string
    methods: split/join collapses whitespace (the same characters as the regex `\\s`), and
    only text that is still not printable afterwards (controls, format, private-use or
    unassigned characters) takes the regex passes that turn those into spaces."""
    if not text.isascii():
        text = text.translate(INVISIBLE)  # every invisible character is outside ASCII
    text = " ".join(text.split())
    if not text.isprintable():
        text = _ASCII_CONTROLS.sub(" ", text)
        if not text.isascii():
            text = _NON_ASCII.sub(_non_ascii, text)
        text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return text


def clean_block(text: str) -> str:
    """Multi-paragraph text: paragraphs kept, each cleaned like a line."""
    paragraphs = [clean_inline(p) for p in _PARAGRAPHS.split(text)]
    return "\n\n".join(p for p in paragraphs if p)


def _has_entities(text: str) -> bool:
    return "&" in text and any(html.unescape(m.group()) != m.group() for m in _ENTITY.finditer(text))


def _has_html_tags(text: str) -> bool:
    return "<" in text and any(m.group(1).lower() in HTML_ELEMENTS for m in _TAG.finditer(text))


def looks_like_html(text: str) -> bool:
    """Undeclared text is HTML when it uses an HTML element or a defined entity reference;
    `x < y`, `AT&T` or `the <blink> tag` stay literal."""
    return _has_html_tags(text) or _has_entities(text)


def plain_text(value: object, kind: Kind = "guess") -> str:
    """Feed text of a declared kind → plain paragraphs; anything but a string is no text.

    Undeclared text with HTML elements is parsed as HTML; with only entity references
    (`it&apos;s`, `&lt;!channel&gt;`) the references are decoded and nothing else is
    touched, so a literal `<!channel>` or `<@123>` beside them stays text."""
    if not isinstance(value, str) or not value.strip():
        return ""
    if kind == "html" or (kind == "guess" and _has_html_tags(value)):
        return html_to_text(value)
    if kind == "guess" and _has_entities(value):
        return clean_block(html.unescape(value))
    return clean_block(value)


def plain_line(value: object, kind: Kind = "guess", limit: int | None = None) -> str:
    """A title, name or tag: plain text on one line."""
    return clean_inline(plain_text(value, kind), limit)


def _regex_text(fragment: str) -> str:
    """Last resort for markup lxml refuses: drop code blocks whole, then every tag."""
    return html.unescape(_ANY_TAG.sub(" ", _DROP_BLOCK.sub(" ", fragment)))


_PARSERS = threading.local()  # an lxml parser is used by one thread at a time: one per thread


def _parse(fragment: str):
    """The element whose content is the text: the body of a document, or of a fragment
    wrapped as one (what lxml.html.fragment_fromstring does). Plain lxml.etree elements:
    lxml.html's element classes cost a lookup per element and we use none of their methods."""
    from lxml import etree  # here, not at the top: commands that only clean a line never load lxml

    parser = getattr(_PARSERS, "html", None)
    if parser is None:
        parser = _PARSERS.html = etree.HTMLParser()
    document = _DOCUMENT.match(fragment) is not None
    root = etree.fromstring(fragment if document else f"<html><body>{fragment}</body></html>", parser)
    if root is None:
        raise etree.ParserError("the document is empty")
    body = root.find("body")
    return body if body is not None else root


def html_to_text(fragment: str) -> str:
    """HTML → plain paragraphs: entities decoded once, no script, style or embedded text."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return clean_block(html.unescape(fragment))
    from lxml import etree

    try:
        root = _parse(fragment)
    except (etree.ParserError, ValueError):
        return clean_block(_regex_text(fragment))
    chunks: list[str] = []

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""  # the HTML parser lower-cases names
        if tag in DROPPED:  # its content is never text; what follows it is
            if node.tail:
                chunks.append(node.tail)
            return
        if tag in BLOCK_TAGS:
            chunks.append("\n\n")
        elif tag in CELL_TAGS:
            chunks.append(" ")
        if node.text and tag:
            chunks.append(node.text)
        for child in node:
            walk(child)
        if tag in BLOCK_TAGS:
            chunks.append("\n\n")
        if node.tail:
            chunks.append(node.tail)

    walk(root)
    return clean_block("".join(chunks))
