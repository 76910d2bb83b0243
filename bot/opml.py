"""OPML import and export, the format readers use to move feed lists. Parsed with
defusedxml (no entities, no DTD retrieval), since an OPML file is outside input too."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - writing only

from defusedxml import ElementTree as SafeTree

from bot.app import App, UserError
from bot.logs import redact
from bot.models import ChannelRef
from bot.net import FetchError
from bot.sources.text import clean_inline
from bot.store import FeedRow

if TYPE_CHECKING:
    from bot.cli_commands import Progress

MAX_OPML_BYTES = 20 * 1024 * 1024  # tens of thousands of feeds; more is not an OPML export


def read_outlines(data: bytes) -> list[tuple[str, str | None]]:
    """(xmlUrl, title) of every feed outline, nested folders included."""
    try:
        root = SafeTree.fromstring(data)
    except Exception as exc:  # defusedxml raises several types for hostile or broken XML
        raise UserError(f"not a readable OPML file: {clean_inline(str(exc), 200)}") from None
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            title = clean_inline(outline.get("title") or outline.get("text") or "", 200) or None
            feeds.append((url.strip(), title))
    return feeds


async def import_file(app: App, path: str, channel: ChannelRef | None, *, progress: Progress | None = None) -> int:
    """Subscribe `channel` to every feed outline. `progress` (the CLI's Progress) shows
    outlines done / total with the added and skipped counts on a terminal."""
    try:
        with open(path, "rb") as file:  # capped: `feeds import /dev/zero` must not read forever
            data = file.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_OPML_BYTES:
        raise UserError(f"{path} is larger than {MAX_OPML_BYTES // (1024 * 1024)} MB: not an OPML feed list")
    added = failed = 0
    outlines = read_outlines(data)
    if progress is not None:
        progress.start(len(outlines), added=0, skipped=0)
    for url, title in outlines:
        try:
            await app.add_feed(url, channel or ChannelRef.parse("console"), title=title, poll=False)
            added += 1
            if progress is not None:
                progress.advance(added=1)
        except (UserError, FetchError, ValueError) as exc:  # one bad outline never stops the import
            failed += 1
            line = redact(f"skipped {url}: {exc}")
            if progress is not None:
                progress.advance(skipped=1)
                progress.write(line)
            else:
                print(line, file=sys.stderr)
    if progress is not None:
        progress.close()
    print(f"imported {added} feed(s), skipped {failed}")
    return 0


def export(feeds: list[FeedRow]) -> str:
    root = Element("opml", version="2.0")
    SubElement(SubElement(root, "head"), "title").text = "newsdigest feeds"
    body = SubElement(root, "body")
    for feed in feeds:
        SubElement(body, "outline", type="rss", text=feed.title or feed.url, title=feed.title or feed.url,
                   xmlUrl=feed.url)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"
