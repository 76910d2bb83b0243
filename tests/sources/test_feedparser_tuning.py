"""bot.sources.feedparser_tuning: every tuning is in effect, and feedparser returns exactly
what it returns untuned (compared against a fresh interpreter that never imports ours)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from bot.sources import feedparser_tuning
from bot.sources.feeds import parse_feed

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/blog/" xml:lang="en">
  <title type="html">Caf&amp;eacute; &lt;b&gt;news&lt;/b&gt;</title>
  <link href="index.html"/>
  <entry xml:base="posts/">
    <title type="text">One &amp; two</title>
    <id>tag:example.org,2026:1</id>
    <link rel="alternate" href="1.html"/>
    <link rel="enclosure" href="../media/a.mp3" length="10" type="audio/mpeg"/>
    <updated>2026-01-05T07:00:00Z</updated>
    <content type="xhtml" xml:base="/abs/"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>A <a href="x.html">link</a> and an <img src="i.png"/>.</p></div></content>
  </entry>
  <entry xml:base="javascript:alert(1)//">
    <title>Hostile base</title><id>2</id><link href="2.html"/>
    <summary type="html">&lt;p&gt;Text &lt;a href="y.html"&gt;y&lt;/a&gt;&lt;/p&gt;</summary>
  </entry>
</feed>"""

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>R&amp;D weekly</title><link>http://example.com/</link><description>d</description>
""" + b"".join(
    b"<item><title>Item %d &amp;amp; more</title><link>/news/%d?utm_source=x</link>"
    b"<guid isPermaLink=\"%s\">g%d</guid><dc:creator>Ann</dc:creator><category>c%d</category>"
    b"<pubDate>Mon, 05 Jan 2026 0%d:00:00 GMT</pubDate>"
    b"<description>&lt;p&gt;Para &lt;a href=\"rel/%d\"&gt;%d&lt;/a&gt;&lt;/p&gt; line\nline</description>"
    b"<content:encoded><![CDATA[<p>Full <b>text</b> %d</p><script>x()</script>]]></content:encoded></item>"
    % (n, n, b"true" if n % 2 else b"false", n, n % 3, n, n, n, n) for n in range(6)
) + b"</channel></rss>"

# the same call parse_feed makes, in an interpreter that has not imported bot.sources
PLAIN = r"""
import io, json, sys, feedparser, feedparser.api
feedparser.api.PREFERRED_XML_PARSERS = []  # straight to expat, as an untuned parse ends up
data = sys.stdin.buffer.read()
parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False,
                          response_headers={"content-location": sys.argv[1], "content-type": "application/xml"})
print(json.dumps({"feed": parsed.feed, "entries": parsed.entries, "version": parsed.version,
                  "bozo": parsed.bozo}, default=str, sort_keys=True))
"""


def test_every_tuning_is_in_effect() -> None:
    """A feedparser release that moves these names makes this fail, not parsing quietly slower."""
    assert set(feedparser_tuning.apply()) == {
        "feedparser.util.FeedParserDict.__deepcopy__", "feedparser.mixin._urljoin",
        "feedparser.mixin.make_safe_absolute_uri", "feedparser.namespaces._base.make_safe_absolute_uri"}
    import xml.sax

    import feedparser.api

    parser = xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)
    assert type(parser).__name__ == "BufferedExpatParser"


@pytest.mark.parametrize("data", [ATOM, RSS], ids=["atom", "rss"])
def test_feedparser_returns_what_it_returns_untuned(data: bytes) -> None:
    import io

    import feedparser

    url = "http://example.net/feeds/main.xml"
    untuned = subprocess.run([sys.executable, "-c", PLAIN, url], input=data, capture_output=True, check=True)
    feedparser_tuning.apply()
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False,
                              response_headers={"content-location": url, "content-type": "application/xml"})
    tuned = json.dumps({"feed": parsed.feed, "entries": parsed.entries, "version": parsed.version,
                        "bozo": parsed.bozo}, default=str, sort_keys=True)
    assert json.loads(tuned) == json.loads(untuned.stdout)
    assert parsed.entries[0]["links"][0]["href"].startswith("http://example")  # bases were resolved


def test_parse_feed_resolves_relative_links_against_the_feed() -> None:
    result = parse_feed(RSS, "http://example.com/rss.xml")
    assert [e.url for e in result.entries][:2] == ["http://example.com/news/0?utm_source=x",
                                                   "http://example.com/news/1?utm_source=x"]
    assert result.entries[0].text == "Full text 0"


def test_deepcopy_of_a_feedparser_dict_is_a_deep_copy() -> None:
    from feedparser.util import FeedParserDict

    feedparser_tuning.apply()
    inner = FeedParserDict(href="a")
    original = FeedParserDict(type="text/html", language=None, base="b", base64=False, links=[inner])
    copied = copy.deepcopy(original)
    assert copied == original and type(copied) is FeedParserDict
    assert copied["links"] is not original["links"] and copied["links"][0] is not inner
    inner["href"] = "changed"
    assert copied["links"][0]["href"] == "a"

