"""Plain data shared by every stage and adapter. No I/O, no behaviour beyond small helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_DISCORD_ID = re.compile(r"[0-9]{1,20}")  # a snowflake: a 64-bit integer in decimal
_SLACK_ID = re.compile(r"[CGD][A-Z0-9]{1,30}")


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """Where digests go: `console`, `discord:<id>` or `slack:<id>`."""

    platform: str
    external_id: str

    @classmethod
    def parse(cls, text: str) -> ChannelRef:
        """Validate where a reference enters: a Discord id is a numeric snowflake, a Slack id
        is C…/G…/D… in upper-case letters and digits, so a typo fails here, not at delivery."""
        text = text.strip()
        if text == "console":
            return cls("console", "console")
        platform, sep, ident = text.partition(":")
        ident = ident.strip()
        if not sep or platform not in ("discord", "slack", "console") or not ident:
            raise ValueError(f"bad channel reference {text!r}: use console, discord:<id> or slack:<id>")
        if platform == "discord" and not _DISCORD_ID.fullmatch(ident):
            raise ValueError(f"bad channel reference {text!r}: a Discord channel id is a number "
                             "(right-click the channel → Copy Channel ID)")
        if platform == "slack" and not _SLACK_ID.fullmatch(ident):
            raise ValueError(f"bad channel reference {text!r}: a Slack channel id looks like C0123456789 "
                             "(upper-case, starting with C, G or D)")
        return cls(platform, ident)

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
    categories: list[str] = field(default_factory=list)  # plain text, as the feed tags the item
    canonical_url: str | None = None  # of `url`, once `assign_keys` has needed it


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


@dataclass(frozen=True, slots=True)
class AlsoLink:
    """Another outlet's article on the same story."""

    feed: str
    title: str
    url: str | None
    article_id: int | None = None


@dataclass(slots=True)
class DigestItem:
    """One entry of a digest: one story. `also` lists other outlets carrying it."""

    article_id: int
    title: str
    url: str | None
    feed: str
    published: datetime | None
    summary: list[str]
    also: list[AlsoLink] = field(default_factory=list)
    story: int | None = None


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """A new outlet's article on a story the channel already received (`repeat_stories = "update"`)."""

    article_id: int
    story: int
    feed: str
    title: str
    url: str | None


@dataclass(slots=True)
class Digest:
    """A composed digest for one channel. `more` counts items rolled into 'and N more'."""

    channel: ChannelRef
    items: list[DigestItem]
    more: int = 0
    title: str = "News digest"
    digest_id: int | None = None
    updates: list[StoryUpdate] = field(default_factory=list)


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

    def describe(self) -> str:
        """One line for `feeds list` and `/feeds`."""
        state = f"disabled: {self.disabled}" if self.disabled else "ok"
        if not self.disabled and self.last_error:
            state = f"failing ({self.failures}x): {self.last_error}"
        polled = self.last_polled.strftime("%Y-%m-%d %H:%M UTC") if self.last_polled else "never"
        return f"#{self.id} {self.title or self.url} — {state}; last poll {polled}"
