"""Local files and folders as sources: .txt, .md and .html files are articles; .xml, .rss,
.atom and .json files inside are feeds. Only paths the operator configured are read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.models import Entry, SourceResult
from bot.sources.common import FeedParseError
from bot.sources.location import is_local_source, path_of, within
from bot.sources.text import clean_block, clean_inline

# The parsers (feedparser, lxml, trafilatura) load when a feed or HTML file is read, so
# `summarize notes.txt` does not pay for them.

ARTICLE_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".json"}
MAX_FILES = 2000


__all__ = ["LocalSourceError", "is_local_source", "path_of", "read_article_file", "read_local", "within"]


class LocalSourceError(Exception):
    """The path cannot be read as a source."""


def read_article_file(path: Path, max_bytes: int) -> Entry:
    data = path.read_bytes()[:max_bytes]
    suffix = path.suffix.lower()
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if suffix in (".html", ".htm"):
        from bot.sources.pages import extract_page

        title, text = extract_page(data, path.as_uri())
    else:
        raw = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        lines = raw.strip().split("\n")
        title = lines[0].lstrip("# ").strip() if lines else None
        text = "\n".join(lines[1:]) if len(lines) > 1 else raw
    text = clean_block(text)
    return Entry(key="f:" + path.name, title=clean_inline(title or path.stem, 500), url=path.resolve().as_uri(),
                 published=mtime, text=text, is_teaser=False)


def read_local(ref: str, max_bytes: int, now: datetime | None = None) -> SourceResult:
    """A file or folder → entries (folders are read recursively, in name order)."""
    root = path_of(ref)
    if not root.exists():
        raise LocalSourceError(f"no such file or folder: {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    entries: list[Entry] = []
    problems: list[str] = []
    for path in files[:MAX_FILES]:
        suffix = path.suffix.lower()
        try:
            if suffix in FEED_SUFFIXES:
                from bot.sources.feeds import parse_feed

                result = parse_feed(path.read_bytes()[:max_bytes], path.resolve().as_uri(),
                                    "application/json" if suffix == ".json" else None, now)
                for entry in result.entries:
                    entry.key = f"{path.name}#{entry.key}"
                    if entry.url and entry.url.startswith("file://") and not entry.url.startswith("file:///"):
                        entry.url = "file:///" + entry.url[len("file://"):]  # feedparser drops a slash
                        entry.canonical_url = None  # of the link as it was: worked out again from this one
                entries.extend(result.entries)
            elif suffix in ARTICLE_SUFFIXES:
                entry = read_article_file(path, max_bytes)
                entry.key = "f:" + (str(path.relative_to(root)) if root.is_dir() else path.name)
                entries.append(entry)
            elif not root.is_dir():
                raise LocalSourceError(f"unsupported file type {suffix or '(none)'}: use .txt, .md, .html "
                                       "or a feed file")
        except (OSError, FeedParseError, ValueError) as exc:
            problems.append(f"{path.name}: {exc}")
    if not entries and problems:
        raise LocalSourceError("; ".join(problems)[:500])
    title = root.name if root.is_dir() else None
    return SourceResult(title=title, entries=entries, warning="; ".join(problems)[:500] or None)


