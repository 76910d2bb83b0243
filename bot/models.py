"""Plain data shared by every stage and adapter. No I/O, no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """Where digests go: `console`, `discord:<id>` or `slack:<id>`."""

    platform: str
    external_id: str

    @classmethod
    def parse(cls, text: str) -> ChannelRef:
        text = text.strip()
        if text == "console":
            return cls("console", "console")
        platform, sep, ident = text.partition(":")
        if not sep or platform not in ("discord", "slack", "console") or not ident.strip():
            raise ValueError(f"bad channel reference {text!r}: use console, discord:<id> or slack:<id>")
        return cls(platform, ident.strip())

    def __str__(self) -> str:
        return "console" if self.platform == "console" else f"{self.platform}:{self.external_id}"


@dataclass(slots=True)
class Entry:
    """One item read from a source, before it is matched to a stored article."""

    key: str  # unique within its feed (guid, link or title+date hash)
    title: str
    url: str | None
    published: datetime | None
    text: str  # plain text (may be only a teaser)
    is_teaser: bool = False
    author: str | None = None


@dataclass(slots=True)
class SourceResult:
    """What one poll of a source yielded."""

    title: str | None
    entries: list[Entry]
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    warning: str | None = None  # e.g. a recoverable parse problem


@dataclass(slots=True)
class Summary:
    sentences: list[str]
    algorithm: str
    language: str


@dataclass(slots=True)
class DigestItem:
    """One entry of a digest; `also` lists other outlets carrying the same story."""

    article_id: int
    title: str
    url: str | None
    feed: str
    published: datetime | None
    summary: list[str]
    also: list[tuple[str, str | None]] = field(default_factory=list)  # (feed title, url)


@dataclass(slots=True)
class Digest:
    """A composed digest for one channel. `more` counts items rolled into 'and N more'."""

    channel: ChannelRef
    items: list[DigestItem]
    more: int = 0
    title: str = "News digest"
    digest_id: int | None = None


@dataclass(slots=True)
class Notice:
    """A short operational message for a channel (a feed was disabled, a delivery failed...)."""

    channel: ChannelRef
    text: str


@dataclass(slots=True)
class FeedHealth:
    id: int
    url: str
    title: str | None
    channels: list[str]
    last_polled: datetime | None
    last_error: str | None
    disabled: str | None  # the reason, or None when enabled
    failures: int = 0
