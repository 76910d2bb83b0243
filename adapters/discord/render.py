"""Digests, notices and command replies → Discord messages within every documented limit.

A payload is a `DiscordMessage`: plain content plus embed dicts (the JSON Discord receives),
so tests can validate it against the OpenAPI spec without a client. Links are shown as
bare URLs, never as masked links whose label is untrusted text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import discord

from adapters.discord import limits
from adapters.discord.text import embed_length, escape, escape_fit, safe_url, truncate
from bot.models import Digest, DigestItem, FeedHealth, Notice, StoryUpdate

COLOR = 0x2B6CB0


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """One Discord message: `content` (≤ 2000) and up to 10 embeds (≤ 6000 together)."""

    content: str = ""
    embeds: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def embed_objects(self) -> list[discord.Embed]:
        return [discord.Embed.from_dict(e) for e in self.embeds]

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for Messageable.send / followup.send / edit."""
        kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = self.embed_objects()
        return kwargs

    def total_embed_chars(self) -> int:
        return sum(embed_length(e) for e in self.embeds)


# ---- digests -----------------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def item_embed(item: DigestItem) -> dict[str, Any]:
    """One story: escaped title, summary, the link as itself, other outlets."""
    links: list[str] = []
    url = safe_url(item.url)
    if url:
        links.append(url)
    also = []
    for other in item.also[:5]:
        other_url = safe_url(other.url)
        label = escape_fit(other.feed, 60) or "another outlet"
        also.append(f"{label} {other_url}" if other_url else label)
    tail = "\n".join(links + ([f"Also: {' · '.join(also)}"] if also else []))
    tail = truncate(tail, limits.ITEM_DESCRIPTION // 2)
    room = limits.ITEM_DESCRIPTION - len(tail) - 2
    summary = escape_fit(" ".join(item.summary), room) if item.summary else ""
    description = "\n\n".join(part for part in (summary, tail) if part)
    title = escape_fit(item.title, limits.EMBED_TITLE) or "(untitled)"
    embed: dict[str, Any] = {"type": "rich", "title": title, "color": COLOR}
    if description:
        embed["description"] = description
    footer = " · ".join(part for part in (escape(item.feed), _when(item.published)) if part)
    if footer:
        embed["footer"] = {"text": truncate(footer, limits.ITEM_FOOTER)}
    return embed


def pack(embeds: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group embeds into messages: ≤ 10 per message and ≤ 6000 characters per message."""
    groups: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for embed in embeds:
        length = embed_length(embed)
        if current and (len(current) >= limits.EMBEDS_PER_MESSAGE or size + length > limits.EMBED_TOTAL):
            groups.append(current)
            current, size = [], 0
        current.append(embed)
        size += length
    if current:
        groups.append(current)
    return groups


def updates_embed(updates: list[StoryUpdate]) -> dict[str, Any]:
    """"Update — outlet: title" lines for stories the channel already received."""
    lines = []
    for update in updates:
        url = safe_url(update.url)
        line = f"Update — {escape_fit(update.feed, 60) or 'another outlet'}: {escape_fit(update.title, 200)}"
        lines.append(f"{line} {url}" if url else line)
    description = truncate("\n".join(lines), limits.ITEM_DESCRIPTION)
    return {"type": "rich", "title": "Updates", "description": description, "color": COLOR}


def render_digest(digest: Digest) -> list[DiscordMessage]:
    """A digest as one or more messages; the header says which part is which."""
    title = escape_fit(digest.title, 200) or "News digest"
    embeds = [item_embed(item) for item in digest.items]
    if digest.updates:
        embeds.append(updates_embed(digest.updates))
    groups = pack(embeds) or [[]]
    count = len(digest.items) + digest.more
    messages = []
    for index, group in enumerate(groups, start=1):
        if index == 1:
            header = f"**{title}** · {count} {'story' if count == 1 else 'stories'}"
        else:
            header = f"**{title}** (continued)"
        if len(groups) > 1:
            header += f" · part {index}/{len(groups)}"
        if index == len(groups) and digest.more > 0:
            header += f"\n…and {digest.more} more"
        messages.append(DiscordMessage(content=truncate(header, limits.CONTENT), embeds=tuple(group)))
    return messages


def render_notice(notice: Notice) -> list[DiscordMessage]:
    return [DiscordMessage(content=escape_fit(notice.text, limits.CONTENT, single_line=False))]


# ---- command replies ---------------------------------------------------------------------


def render_text(text: str) -> DiscordMessage:
    return DiscordMessage(content=escape_fit(text, limits.CONTENT, single_line=False) or "Done.")


def render_summary(summary: dict[str, Any], text: str = "") -> DiscordMessage:
    """The /summarize answer: title, sentences, the source URL shown as itself."""
    sentences = [escape(s) for s in summary.get("sentences") or []]
    body = truncate(" ".join(sentences), limits.EMBED_DESCRIPTION - 200) or "(no summary)"
    url = safe_url(summary.get("url"))
    if url:
        body += f"\n\n{url}"
    embed: dict[str, Any] = {"type": "rich", "title": escape_fit(summary.get("title"), limits.EMBED_TITLE)
                             or "Summary", "description": body, "color": COLOR}
    meta = " · ".join(escape(str(summary[k])) for k in ("algorithm", "language") if summary.get(k))
    if meta:
        embed["footer"] = {"text": truncate(meta, 200)}
    return DiscordMessage(content=escape_fit(text, 300) if text else "", embeds=(embed,))


def _feed_field(feed: FeedHealth) -> dict[str, str]:
    lines = [safe_url(feed.url) or escape_fit(feed.url, 300)]
    lines.append(f"Last poll: {_when(feed.last_polled) or 'never'}")
    if feed.disabled:
        lines.append(f"Disabled: {escape_fit(feed.disabled, 300)}")
    if feed.last_error:
        lines.append(f"Last error: {escape_fit(feed.last_error, 300)}"
                     + (f" ({feed.failures} failures)" if feed.failures else ""))
    status = "disabled" if feed.disabled else ("failing" if feed.last_error else "ok")
    name = escape_fit(f"#{feed.id} {feed.title or feed.url}", 200) + f" [{status}]"
    return {"name": name, "value": truncate("\n".join(lines), limits.FIELD_VALUE), "inline": False}


def render_feeds(feeds: list[FeedHealth], text: str = "") -> DiscordMessage:
    """The /feeds answer: one field per feed with its health; what does not fit is counted."""
    fields = [_feed_field(f) for f in feeds]
    embeds: list[dict[str, Any]] = []
    total = 0
    shown = 0
    for fld in fields:
        size = len(fld["name"]) + len(fld["value"])
        if total + size > limits.EMBED_TOTAL - 300:
            break
        if not embeds or len(embeds[-1]["fields"]) >= limits.EMBED_FIELDS:
            if len(embeds) >= limits.EMBEDS_PER_MESSAGE:
                break
            embeds.append({"type": "rich", "title": "Feeds" if not embeds else "Feeds (continued)",
                           "color": COLOR, "fields": []})
            total += len(embeds[-1]["title"])
        embeds[-1]["fields"].append(fld)
        total += size
        shown += 1
    content = escape_fit(text, 1500, single_line=False) if text else ""
    if shown < len(feeds):
        content = (content + f"\n…and {len(feeds) - shown} more feeds").strip()
    if not feeds and not content:
        content = "No feeds in this channel."
    return DiscordMessage(content=content, embeds=tuple(embeds))
