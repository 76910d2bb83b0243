"""Digests, notices and command replies as Block Kit messages within Slack's limits.

Every piece of feed-supplied text is escaped (`&`, `<`, `>` only, as Slack documents) and
put in `mrkdwn` objects with `verbatim: true`, so a title can neither form `<!channel>`,
`<@U…>` or a disguised `<url|label>` link, nor have `@here` auto-parsed into a mention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from adapters.slack import limits
from bot.models import Digest, DigestItem, Notice
from bot.ports import Reply

SlackMessage = dict[str, Any]  # {"text": str, "blocks": [...]} - chat.postMessage arguments

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
TITLE_CHARS = 300  # a title longer than this is clipped; the section keeps room for the summary
ITEM_TEXT = 1500  # per item (title + summary): keeps ~6 items per message under the cumulative cap
ALSO_MAX = 5  # other outlets listed per item


def escape(text: str) -> str:
    """Slack's escaping for untrusted text: `&`, `<`, `>` and nothing else (no decoding first)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _units(text: str) -> int:
    """Length in UTF-16 code units: never less than Python's len, so limits hold either way."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def clip(raw: str, limit: int) -> str:
    """Escape `raw` and cut it to at most `limit` units without splitting an entity."""
    escaped = escape(raw)
    if _units(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for ch in raw:
        piece = _ESCAPES.get(ch, ch)
        size = _units(piece)
        if used + size > limit - 1:
            break
        out.append(piece)
        used += size
    return "".join(out).rstrip() + "…"


def clip_plain(raw: str, limit: int) -> str:
    """Cut plain_text (not parsed by Slack, so not escaped) to `limit` units."""
    text = " ".join(raw.split())
    if _units(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        if used + _units(ch) > limit - 1:
            break
        out.append(ch)
        used += _units(ch)
    return "".join(out).rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL usable inside `<url|label>`, or None when it should not be linked."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or any(ch.isspace() for ch in url):
        return None
    url = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")  # encodes | < > " and non-ASCII
    return url.replace("&", "&amp;")


def link(url: str | None, raw_label: str, limit: int) -> str:
    label = clip(raw_label, limit)
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}


def header(raw: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip_plain(raw, limits.HEADER_TEXT)}}


def block_chars(block: dict[str, Any]) -> int:
    """Text characters a block carries (what Slack's cumulative cap counts)."""
    total = 0
    if "text" in block:
        total += _units(block["text"]["text"])
    for element in block.get("elements", []):
        total += _units(element.get("text", ""))
    return total


# ---- digests -------------------------------------------------------------------------


def _when(published: datetime | None) -> str | None:
    if published is None:
        return None
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def item_blocks(item: DigestItem) -> list[dict[str, Any]]:
    """One digest item: a section (linked title + summary) and a context line (source, also)."""
    title = link(item.url, item.title or "(untitled)", TITLE_CHARS)
    head = f"*{title}*"
    room = min(ITEM_TEXT, limits.SECTION_TEXT) - _units(head) - 1
    summary = clip(" ".join(s.strip() for s in item.summary if s.strip()), room)
    body = f"{head}\n{summary}" if summary else head

    meta = [clip(item.feed, 200)]
    when = _when(item.published)
    if when:
        meta.append(when)
    line = " · ".join(meta)
    if item.also:
        others = [link(other.url, other.feed, 100) for other in item.also[:ALSO_MAX]]
        extra = len(item.also) - ALSO_MAX
        line += " · also: " + ", ".join(others) + (f" and {extra} more" if extra > 0 else "")
    return [section(body), context(line)]


@dataclass
class _Message:
    blocks: list[dict[str, Any]] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    chars: int = 0

    def fits(self, blocks: list[dict[str, Any]], reserve_blocks: int = 1) -> bool:
        chars = sum(block_chars(b) for b in blocks)
        return (
            len(self.blocks) + len(blocks) + reserve_blocks <= limits.MAX_BLOCKS
            and self.chars + chars + limits.HEADER_TEXT <= limits.BLOCKS_TEXT_BUDGET
        )

    def add(self, blocks: list[dict[str, Any]], title: str | None = None) -> None:
        self.blocks.extend(blocks)
        self.chars += sum(block_chars(b) for b in blocks)
        if title is not None:
            self.titles.append(title)


def _fallback(title: str, part: str, titles: list[str], more: int) -> str:
    """The top-level `text` (notifications, screen readers): escaped, within 4000 units."""
    head = clip(f"{title}{part}", 300)
    listing = "; ".join(titles)
    if more:
        listing += f"; and {more} more"
    room = limits.FALLBACK_TEXT - _units(head) - 2
    return f"{head}: {clip(listing, room)}" if listing else head


def render_digest(digest: Digest) -> list[SlackMessage]:
    """The digest as one or more messages; each respects every limit in `limits`."""
    messages = [_Message()]
    for item in digest.items:
        blocks = item_blocks(item)
        if not messages[-1].fits(blocks) and messages[-1].blocks:
            messages.append(_Message())
        messages[-1].add(blocks, item.title or "(untitled)")
    for update in digest.updates:  # stories the channel already received, one line each
        line = [context(f"Update — {clip(update.feed, 100)}: {link(update.url, update.title or '(untitled)', 200)}")]
        if not messages[-1].fits(line):
            messages.append(_Message())
        messages[-1].add(line, f"Update: {update.title}")
    if digest.more > 0:
        more = [context(f"…and {digest.more} more")]
        if not messages[-1].fits(more):
            messages.append(_Message())
        messages[-1].add(more)
    if not digest.items and not digest.updates and digest.more <= 0:
        messages[-1].add([section("Nothing new.")])

    total = len(messages)
    out: list[SlackMessage] = []
    for index, message in enumerate(messages, start=1):
        part = f" ({index}/{total})" if total > 1 else ""
        more = digest.more if index == total else 0
        out.append({
            "text": _fallback(digest.title, part, message.titles, more),
            "blocks": [header(digest.title + part), *message.blocks],
        })
    return out


def render_notice(notice: Notice) -> list[SlackMessage]:
    text = notice.text.strip() or "(empty notice)"
    return [{"text": clip(text, limits.FALLBACK_TEXT), "blocks": [section(clip(text, limits.SECTION_TEXT))]}]


# ---- command replies -----------------------------------------------------------------


def _text_blocks(text: str) -> list[dict[str, Any]]:
    """Multi-line text (e.g. /feeds health lines) as sections of whole lines, within limits."""
    blocks: list[dict[str, Any]] = []
    chunk, total = "", 0
    lines = text.splitlines() or [text]
    for index, raw in enumerate(lines):
        line = clip(raw, limits.SECTION_TEXT) or " "
        size = _units(line) + 1
        full = chunk and _units(chunk) + size > limits.SECTION_TEXT
        if total + size > limits.BLOCKS_TEXT_BUDGET or (full and len(blocks) >= limits.MAX_BLOCKS - 2):
            if chunk:
                blocks.append(section(chunk))
            blocks.append(context(f"…and {len(lines) - index} more lines"))
            return blocks
        if full:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
        total += size
    if chunk.strip():
        blocks.append(section(chunk))
    return blocks or [section("(no text)")]


def _summary_blocks(summary: dict[str, Any]) -> list[dict[str, Any]]:
    label = str(summary.get("title") or summary.get("url") or "Summary")
    title = link(summary.get("url"), label, TITLE_CHARS)
    sentences = [str(s) for s in summary.get("sentences") or []]
    body = "\n".join("• " + clip(s, 1000) for s in sentences) or "(no summary could be made)"
    text = f"*{title}*\n{body}"
    if _units(text) > limits.SECTION_TEXT:
        text = f"*{title}*\n" + clip(" ".join(sentences), limits.SECTION_TEXT - _units(title) - 4)
    meta = f"{clip(str(summary.get('algorithm', '')), 50)} · {clip(str(summary.get('language', '')), 50)}"
    return [section(text), context(meta)]


def render_reply(reply: Reply) -> SlackMessage:
    """A command's answer, for ack() or response_url (`response_type` included)."""
    text = reply.text.strip() or ("Done." if reply.ok else "That did not work.")
    # /feeds: the core's text already describes each feed's health (and delivery problems),
    # so it is rendered as is rather than re-rendered from Reply.feeds.
    blocks = _summary_blocks(reply.summary) if reply.summary and reply.ok else _text_blocks(text)
    return {
        "text": clip(text, limits.FALLBACK_TEXT),
        "blocks": blocks,
        "response_type": "ephemeral" if reply.ephemeral else "in_channel",
    }
