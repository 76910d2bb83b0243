"""Rendering without I/O: escaping, clipping, splitting, and Slack's own Block Kit models."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import Block

from adapters.slack import limits
from adapters.slack.render import clip, escape, render_digest, render_notice, render_reply, safe_url
from bot.models import AlsoLink, ChannelRef, Digest, DigestItem, FeedHealth, Notice
from bot.ports import Reply
from tests.adapters.slack.conftest import long_item
from tests.fakes.slack.blockkit import display, links, mentions, validate_message

HOSTILE = "<!channel> &lt;!here&gt; <https://evil.example|https://bank.example>"
CHANNEL = ChannelRef("slack", "C0GENERAL01")


def assert_valid(message: dict) -> None:
    assert validate_message(message["text"], message["blocks"]) == (None, [])
    for block in message["blocks"]:
        Block.parse(block).validate_json()  # slack_sdk's client-side limits agree


def test_escape_touches_only_amp_lt_gt_and_never_decodes() -> None:
    assert escape("a & b < c > d \"e\" 'f' *g*") == "a &amp; b &lt; c &gt; d \"e\" 'f' *g*"
    assert escape("&lt;!here&gt;") == "&amp;lt;!here&amp;gt;"


@pytest.mark.parametrize("limit", [1, 2, 5, 6, 7, 50])
def test_clip_never_splits_an_entity(limit: int) -> None:
    out = clip("&&&&&<<<<>>>>" * 5, limit)
    assert len(out) <= limit
    assert out.rstrip("…").replace("&amp;", "").replace("&lt;", "").replace("&gt;", "") == ""


def test_clip_counts_astral_characters_twice() -> None:
    assert len(clip("😀" * 10, 10)) <= 6


def test_safe_url_encodes_link_breakers_and_drops_other_schemes() -> None:
    assert safe_url("https://a.example/x?a=1&b=2|<>") == "https://a.example/x?a=1&amp;b=2%7C%3C%3E"
    assert safe_url("javascript:alert(1)") is None and safe_url("https://a b") is None


def test_hostile_title_renders_literally_with_no_mentions() -> None:
    item = DigestItem(1, HOSTILE, "https://news.example/1", HOSTILE, None, [HOSTILE + " @channel"],
                      also=[AlsoLink(feed=HOSTILE, title="", url="https://o.example/1")])
    [message] = render_digest(Digest(CHANNEL, [item]))
    assert_valid(message)
    mrkdwn = [message["text"]] + [e["text"] for b in message["blocks"][1:]
                                  for e in ([b["text"]] if "text" in b else b["elements"])]
    for text in mrkdwn:
        assert mentions(text, parse_bare=False) == []
        assert all(label != "https://bank.example" for _, label in links(text))
    assert HOSTILE in display(mrkdwn[1]) and HOSTILE in display(mrkdwn[0])
    objects = [o for b in message["blocks"][1:] for o in ([b["text"]] if "text" in b else b["elements"])]
    assert all(o["verbatim"] for o in objects)


def test_forty_long_items_split_cleanly_within_limits() -> None:
    messages = render_digest(Digest(CHANNEL, [long_item(n) for n in range(40)], more=3, title="Daily"))
    assert len(messages) > 1
    for index, message in enumerate(messages, start=1):
        assert_valid(message)
        assert len(message["blocks"]) <= limits.MAX_BLOCKS and len(message["text"]) <= limits.FALLBACK_TEXT
        assert message["blocks"][0]["text"]["text"] == f"Daily ({index}/{len(messages)})"
    sections = [b for m in messages for b in m["blocks"] if b["type"] == "section"]
    shown = "\n".join(display(b["text"]["text"]) for b in sections)
    assert [shown.count(f"Story number {n}: ") for n in range(40)] == [1] * 40
    assert "…and 3 more" in messages[-1]["blocks"][-1]["elements"][0]["text"]


def test_huge_header_and_many_outlets_are_clipped() -> None:
    item = DigestItem(1, "t" * 10_000, None, "f" * 5000, None, ["s" * 10_000],
                      also=[AlsoLink(feed=f"o{k}", title="", url=None) for k in range(30)])
    [message] = render_digest(Digest(CHANNEL, [item], title="H" * 400))
    assert_valid(message)
    assert "and 25 more" in message["blocks"][2]["elements"][0]["text"]


def test_empty_digest_and_notice() -> None:
    [message] = render_digest(Digest(CHANNEL, []))
    assert_valid(message)
    [notice] = render_notice(Notice(CHANNEL, "Feed <!here> was disabled: " + "x" * 5000))
    assert_valid(notice)
    assert mentions(notice["blocks"][0]["text"]["text"], parse_bare=True) == []


def test_reply_rendering() -> None:
    feeds = [FeedHealth(i, f"https://f.example/{i}", "T", ["slack:C1"], None, None, None) for i in range(3)]
    long_text = "\n".join(f"#{i} Feed <!channel> {'x' * 200}" for i in range(400))
    reply = render_reply(Reply(text=long_text, feeds=feeds))
    assert_valid(reply)
    assert "more lines" in reply["blocks"][-1]["elements"][0]["text"]
    assert reply["response_type"] == "ephemeral" and len(reply["blocks"]) <= limits.MAX_BLOCKS
    assert all(mentions(b["text"]["text"], parse_bare=True) == [] for b in reply["blocks"] if "text" in b)
    summary = render_reply(Reply(text="x", ephemeral=False, summary={
        "title": "T", "url": "https://p.example", "language": "english", "algorithm": "news",
        "sentences": ["s" * 2000] * 5}))
    assert summary["response_type"] == "in_channel"
    assert_valid(summary)
