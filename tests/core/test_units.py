"""Pure parts of the core: identity, schedules, story grouping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.digest.compose import best_article, stories_of
from bot.digest.schedule import next_fire
from bot.models import ChannelRef, Entry
from bot.pipeline.dedupe import assign_keys, canonical_url, content_hash
from bot.sources.feeds import parse_feed
from bot.store import ArticleRow


@pytest.mark.parametrize(("a", "b"), [
    ("https://www.Example.com/a/b/?utm_source=x&id=3#top", "https://example.com/a/b?id=3"),
    ("http://example.com:80/x?fbclid=1&b=2&a=1", "https://example.com/x?a=1&b=2"),
    ("HTTPS://EXAMPLE.COM//x//y/", "https://example.com/x/y"),
])
def test_canonical_url_removes_noise(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_canonical_url_keeps_what_matters() -> None:
    assert canonical_url("https://e.com/a?id=1") != canonical_url("https://e.com/a?id=2")
    assert canonical_url("https://e.com:8443/a") != canonical_url("https://e.com/a")
    assert canonical_url("javascript:alert(1)") is None


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Title", "Some  text.\n") == content_hash("title", "some text")
    assert content_hash("Title", "Some text") != content_hash("Title", "Other text")


def entry(title: str, url: str | None) -> Entry:
    return Entry(key="", title=title, url=url, published=None, text="t")


def test_keys_fall_back_when_guids_repeat() -> None:
    entries = [entry("A", "https://e.com/a"), entry("B", "https://e.com/b"), entry("C", None)]
    kept = assign_keys(entries, ["same", "same", "g3"])
    assert [e.key for e in kept] == ["u:https://e.com/a", "u:https://e.com/b", "g:g3"]


def test_exact_repeats_in_one_document_are_dropped() -> None:
    kept = assign_keys([entry("A", None), entry("A", None)], [None, None])
    assert len(kept) == 1 and kept[0].key.startswith("h:")


def test_rss_atom_and_json_feed_parse() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rss = (b'<rss version="2.0"><channel><title>R</title><item><title>One</title><link>/one</link>'
           b"<pubDate>Tue, 31 Feb 2099 25:61:00 +9999</pubDate><description>&lt;p&gt;Hi&lt;/p&gt;</description>"
           b"</item></channel></rss>")
    parsed = parse_feed(rss, "https://r.example/feed.xml", None, now)
    assert parsed.title == "R" and parsed.entries[0].url == "https://r.example/one"
    assert parsed.entries[0].published is None and parsed.entries[0].text == "Hi"
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>urn:1</id><title>T</title>'
            b'<link href="https://a.example/1"/><updated>3000-01-01T00:00:00Z</updated>'
            b'<content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>')
    parsed = parse_feed(atom, "https://a.example/feed", None, now)
    assert parsed.entries[0].key == "g:urn:1" and parsed.entries[0].published < datetime(2026, 1, 4, tzinfo=UTC)
    jsonfeed = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": "7", '
                b'"url": "https://j.example/7", "title": "Seven", "content_text": "Plain"}]}')
    parsed = parse_feed(jsonfeed, "https://j.example/feed.json", "application/feed+json", now)
    assert parsed.title == "J" and parsed.entries[0].title == "Seven" and parsed.entries[0].key == "g:7"


@pytest.mark.parametrize(("after", "expected"), [
    # 08:00 Berlin is 07:00 UTC in winter and 06:00 UTC in summer
    (datetime(2026, 3, 28, 9, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
    (datetime(2026, 10, 24, 9, 0, tzinfo=UTC), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
])
def test_cron_follows_dst(after: datetime, expected: datetime) -> None:
    assert next_fire("0 8 * * *", "Europe/Berlin", after) == expected


def test_daily_job_in_repeated_hour_fires_once_and_skipped_hour_still_fires() -> None:
    fires, when = [], datetime(2026, 10, 24, 1, 0, tzinfo=UTC)
    for _ in range(3):
        when = next_fire("30 2 * * *", "Europe/Berlin", when)
        fires.append(when)
    assert [f.day for f in fires] == [25, 26, 27]  # 25 Oct has 02:30 twice; one digest
    spring = next_fire("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert spring == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:30 does not exist: 03:00 local
    assert next_fire("immediate", "UTC", datetime(2026, 1, 1, tzinfo=UTC)) is None


def article(ident: int, title: str, feed: str, text: str = "", teaser: bool = False) -> ArticleRow:
    return ArticleRow(id=ident, url=f"https://{feed}/{ident}", canonical_url=None, title=title, published=None,
                      text=text, is_teaser=teaser, full_text_tried=False, feed_title=feed)


def test_one_entry_per_story_fronted_by_the_most_complete_article() -> None:
    candidates = [
        article(3, "Storm closes Channel Tunnel", "a.example", "short teaser", teaser=True),
        article(1, "Channel Tunnel shut by storm", "b.example", "a full report " * 50),
        article(2, "Local team wins the cup", "a.example", "match report " * 10),
        article(4, "Tunnel closed for two days", "c.example", "a full report " * 20),
    ]
    stories = stories_of(candidates, {3: 1, 1: 1, 4: 1})
    assert [(s.lead.id, [o.id for o in s.others], s.story_id) for s in stories] == [(1, [3, 4], 1), (2, [], None)]


def test_ties_go_to_the_earliest_article() -> None:
    first = article(5, "A", "a.example", "same length text")
    later = article(6, "B", "b.example", "same length text")
    first.published = datetime(2026, 1, 1, tzinfo=UTC)
    later.published = datetime(2026, 1, 2, tzinfo=UTC)
    assert best_article([later, first]).id == 5


def test_channel_refs() -> None:
    assert str(ChannelRef.parse("discord:123")) == "discord:123"
    assert ChannelRef.parse("console") == ChannelRef("console", "console")
    assert str(ChannelRef.parse(" slack:C0123ABC ")) == "slack:C0123ABC"
    for bad in ("discord:", "irc:1", "slack", "discord:abc", "discord:12a", "slack:c0123", "slack:X0123",
                "slack:C01 23", "discord:" + "9" * 21):
        with pytest.raises(ValueError):
            ChannelRef.parse(bad)
