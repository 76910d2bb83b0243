"""Rendering: every documented Discord limit, escaping, and the published request schema."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from adapters.discord import limits
from adapters.discord.render import (
    DiscordMessage,
    render_digest,
    render_feeds,
    render_notice,
    render_summary,
)
from adapters.discord.text import ELLIPSIS, ZWSP, embed_length, escape, truncate
from bot.models import AlsoLink, ChannelRef, Digest, DigestItem, FeedHealth, Notice
from tests.fakes.discord import rules, spec

CHANNEL = ChannelRef("discord", "222222222222222222")
HOSTILE = "@everyone <@&123456789012345678> [bank](https://evil.example)"
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def check_message(msg: DiscordMessage) -> None:
    """Every limit, the spec schema, and the fake's own extra rules."""
    assert len(msg.content) <= limits.CONTENT
    assert len(msg.embeds) <= limits.EMBEDS_PER_MESSAGE
    assert msg.total_embed_chars() <= limits.EMBED_TOTAL
    assert msg.content or msg.embeds
    for embed in msg.embeds:
        assert len(embed.get("title", "")) <= limits.EMBED_TITLE
        assert len(embed.get("description", "")) <= limits.EMBED_DESCRIPTION
        assert len(embed.get("fields", [])) <= limits.EMBED_FIELDS
        for field in embed.get("fields", []):
            assert len(field["name"]) <= limits.FIELD_NAME and len(field["value"]) <= limits.FIELD_VALUE
        assert len(embed.get("footer", {}).get("text", "")) <= limits.FOOTER_TEXT
        assert embed_length(embed) == rules.embed_chars(embed)
    body = {"content": msg.content, "embeds": [e.to_dict() for e in msg.embed_objects()],
            "allowed_mentions": {"parse": []}, "nonce": "nd1p0", "enforce_nonce": True}
    assert spec.validate_body("/channels/{channel_id}/messages", "post", body) == []
    assert rules.message_errors(body) == {}


def item(i: int, title: str, summary: list[str], url: str | None = "https://news.example/a") -> DigestItem:
    return DigestItem(article_id=i, title=title, url=url, feed=f"Feed {i}", summary=summary,
                      published=datetime(2026, 1, 5, 7, 0, tzinfo=UTC),
                      also=[AlsoLink("Other outlet", "Same story elsewhere", "https://other.example/x")])


def test_forty_long_items_split_into_valid_messages() -> None:
    rng = random.Random(7)
    items = [item(i, words(rng, 120), [words(rng, 400) + "." for _ in range(4)]) for i in range(40)]
    parts = render_digest(Digest(CHANNEL, items, more=5))
    assert len(parts) > 1
    for part in parts:
        check_message(part)
    titles = [e["title"] for p in parts for e in p.embeds]
    assert len(titles) == 40  # nothing dropped
    assert parts[-1].content.endswith("…and 5 more")
    assert all(f"part {i}/{len(parts)}" in p.content for i, p in enumerate(parts, 1))
    for embed in (e for p in parts for e in p.embeds):
        # truncated only at word boundaries, always with an ellipsis
        assert embed["title"].endswith(ELLIPSIS)
        assert embed["title"][:-1].split(" ")[-1] in WORDS
        summary = embed["description"].split("\n\n")[0]
        assert summary.endswith(ELLIPSIS) and summary[:-1].split(" ")[-1].rstrip(".") in WORDS


@pytest.mark.parametrize("seed", range(25))
def test_random_digests_always_fit(seed: int) -> None:
    rng = random.Random(seed)
    items = []
    for i in range(rng.randint(0, 60)):
        title = rng.choice([words(rng, rng.randint(1, 80)), "x" * rng.randint(1, 10_000), HOSTILE * 5,
                            "**" * rng.randint(1, 400)])
        summary = [rng.choice([words(rng, rng.randint(0, 700)), "_" * rng.randint(0, 5000)])]
        items.append(item(i, title, summary, rng.choice([None, "https://x.example/" + "a" * rng.randint(1, 900)])))
    parts = render_digest(Digest(CHANNEL, items, more=rng.randint(0, 3), title=words(rng, rng.randint(1, 300))))
    assert parts
    for part in parts:
        check_message(part)
    assert sum(len(p.embeds) for p in parts) == len(items)


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).replace(ZWSP, "")


def test_hostile_title_renders_literally_and_cannot_ping() -> None:
    parts = render_digest(Digest(CHANNEL, [item(1, HOSTILE, [HOSTILE], url="https://real.example/story")]))
    embed = parts[0].embeds[0]
    assert unescape(embed["title"]) == HOSTILE
    assert "@everyone" not in embed["title"] and "<@&1" not in embed["title"]
    assert "\\[bank](" in embed["title"] and not re.search(r"(?<!\\)\[", embed["title"])  # no masked link
    assert "url" not in embed  # the title is not a link whose label is untrusted text
    assert "https://real.example/story" in embed["description"]
    assert parts[0].send_kwargs()["allowed_mentions"].to_dict() == {"parse": []}


@pytest.mark.parametrize("raw", ["# HUGE", "> quote", "```code```", "||x||", "-# small", "*b* _i_ ~~s~~",
                                 "<#123456789012345678>", "<@123456789012345678>", "@here", "a\u202eb\u200bc"])
def test_markdown_and_mentions_are_neutralised(raw: str) -> None:
    out = escape(raw)
    assert unescape(out) == raw.replace("\u202e", "").replace("\u200b", "")
    for token in ("```", "||", "~~", "<#1", "<@1", "@here", "\u202e"):
        assert token not in out


def test_truncate_prefers_word_boundaries() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("one two three four", 12) == "one two…"
    assert len(truncate("x" * 50, 10)) == 10  # a single huge word is cut, with an ellipsis
    assert truncate("abc\\*def", 5) == "abc…"  # never a dangling escape before the ellipsis


def test_links_are_shown_as_themselves() -> None:
    parts = render_digest(Digest(CHANNEL, [item(1, "t", ["s"], url="javascript:alert(1)"),
                                           item(2, "t", ["s"], url="https://e.example/a b)[x]")]))
    first, second = parts[0].embeds
    assert "javascript" not in first.get("description", "")
    assert "https://e.example/a%20b%29%5Bx%5D" in second["description"]


def test_summary_feeds_and_notice_fit() -> None:
    summary = {"title": HOSTILE, "url": "https://news.example/x", "language": "english",
               "algorithm": "news", "sentences": ["word " * 900] * 5}
    msg = render_summary(summary)
    check_message(msg)
    assert "https://news.example/x" in msg.embeds[0]["description"]
    feeds = [FeedHealth(i, f"https://f{i}.example/rss", HOSTILE * 3, ["discord:1"], None,
                        "boom " * 400 if i % 2 else None, "gone" if i % 3 == 0 else None, i)
             for i in range(80)]
    msg = render_feeds(feeds)
    check_message(msg)
    assert "more feeds" in msg.content
    fields = [f for e in msg.embeds for f in e["fields"]]
    assert any("Disabled: gone" in f["value"] for f in fields)
    assert any("Last error: boom" in f["value"] for f in fields)
    assert any("Last poll: never" in f["value"] for f in fields)
    for msg in render_notice(Notice(CHANNEL, HOSTILE + " x" * 3000)):
        check_message(msg)
        assert "@everyone" not in msg.content
