"""When trafilatura finds no article (a layout table, a page of bare <br> lines), the whole
page becomes text, but without its chrome: navigation, headers, footers, sidebars, share
bars, cookie and newsletter boxes, comments and ads go first, by tag and by the class or
id every site gives them; script and style text never survives (see `text.html_to_text`)."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from bot.sources.text import html_to_text

CHROME_TAGS = ("nav", "header", "footer", "aside", "form", "menu")
_CHROME_NAME = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|sidebar|side|footer|masthead|share|sharing|social|related"
    r"|recommended|most-?read|popular|trending|cookies?|consent|gdpr|newsletter|subscribe|signup|comments?"
    r"|advert\w*|ads?|ad-slot|promo|breadcrumbs?|widget|banner|author-bio|tags)(?:$|[\s_-])",
    re.IGNORECASE,
)
_KEEP = {"html", "body", "main", "article"}


def _title(root) -> str | None:
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() in ("og:title", "twitter:title"):
            if (meta.get("content") or "").strip():
                return meta.get("content")
    for tag in ("title", "h1"):
        found = root.find(f".//{tag}")
        if found is not None and found.text_content().strip():
            return found.text_content()
    return None


def page_text(html: str) -> tuple[str | None, str]:
    """(title, text) of a page read whole, chrome removed; the plain conversion if that fails."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None, html_to_text(html)
    title = _title(root)
    body = root.find("body")
    total = len((body if body is not None else root).text_content()) or 1
    chrome = [el for el in root.iter(etree.Element) if isinstance(el.tag, str) and el.tag not in _KEEP
              and (el.tag in CHROME_TAGS or _CHROME_NAME.search(f"{el.get('class', '')} {el.get('id', '')}"))]
    for element in chrome:
        # a wrapper named "page has-sidebar" may hold the story itself: never drop most of the page
        if element.getparent() is not None and len(element.text_content()) < 0.4 * total:
            element.drop_tree()
    text = html_to_text(lxml.html.tostring(body if body is not None else root, encoding="unicode"))
    return title, text or html_to_text(html)
