# ruff: noqa: E501  (feed documents and expected texts read better on one line)
"""What reaches the channel is what the publisher meant (issue 11), one table row per case.

Each row is a document served by a real local HTTP server (with the Content-Type the row
gives, charset included), subscribed and digested through the CLI in-process; the row
names the exact plain text `feeds list --json` and `digest --json` must show, and the
same text must be what a reader sees in every adapter's rendering (Discord's markdown
escapes and Slack's `&amp;`/`&lt;`/`&gt;` undone, as the clients do). Author and
categories are checked on the parsed entries (the digest does not show them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.discord.render import render_digest as discord_digest
from adapters.slack.render import render_digest as slack_digest
from bot.cli import main
from bot.digest.text import render_digest_text
from bot.models import ChannelRef, Digest, DigestItem
from bot.sources.page_source import parse_source


def rss(channel_title: str, items: str, decl: str = '<?xml version="1.0" encoding="UTF-8"?>', prolog: str = "") -> bytes:
    return (f'{decl}{prolog}<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{channel_title}</title><link>https://news.example/</link>{items}</channel></rss>").encode()


def item(title: str, text: str = "", extra: str = "", link: str = "https://news.example/a") -> str:
    body = f"<description>{text}</description>" if text else ""
    return f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>{body}{extra}</item>"


def atom(feed_title: str, entries: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">{feed_title}'
            f"<id>urn:x</id>{entries}</feed>").encode()


STORY = "The council voted to rebuild the river bridge by 2028. Work starts in the spring."
STORY_SENTENCES = ("The council voted to rebuild the river bridge by 2028.", "Work starts in the spring.")


@dataclass(frozen=True)
class Row:
    name: str
    body: bytes
    content_type: str = "application/rss+xml"
    feed_title: str | None = None  # what feeds list and the digest's `feed` field show
    title: str | None = None  # the digest item's title
    summary: tuple[str, ...] | None = None  # the digest item's summary sentences, exactly
    author: str | None = None
    categories: tuple[str, ...] = ()
    error: str | None = None  # the poll fails and its error contains this
    not_in_error: str | None = None
    absent: tuple[str, ...] = field(default_factory=tuple)  # must appear nowhere in what is shown


ROWS = [
    # ---- entities are decoded exactly once, whatever the title or text contains --------------
    Row("title-double-escaped-amp", rss("Wire", item("AT&amp;amp;T buys Time Warner", STORY)),
        feed_title="Wire", title="AT&T buys Time Warner", summary=STORY_SENTENCES),
    Row("title-numeric-amp", rss("Wire", item("Marks &amp;#38; Spencer reopens", STORY)),
        feed_title="Wire", title="Marks & Spencer reopens", summary=STORY_SENTENCES),
    Row("title-escaped-tag-name", rss("Wire", item("The history of the &amp;lt;blink&amp;gt; tag", STORY)),
        feed_title="Wire", title="The history of the <blink> tag", summary=STORY_SENTENCES),
    Row("title-uppercase-hex-ref", rss("Wire", item("Plan &amp;#X41; wins", STORY)),
        feed_title="Wire", title="Plan A wins", summary=STORY_SENTENCES),
    Row("title-windows-1252-ref", rss("Wire", item("Voters don&amp;#146;t agree", STORY)),
        feed_title="Wire", title="Voters don\u2019t agree", summary=STORY_SENTENCES),
    Row("text-entities-without-markup", rss("Wire", item("Budget", "Rates rose &amp;amp; fell &amp;#38; rose again. Traders said the &amp;lt;index&amp;gt; closed flat.")),
        feed_title="Wire", title="Budget", summary=("Rates rose & fell & rose again.", "Traders said the <index> closed flat.")),
    # ---- feed titles, authors and categories take the same plain-text path ------------------
    Row("rss-feed-title-markup", rss("Example &lt;b&gt;Atom&lt;/b&gt; News", item("One", STORY)),
        feed_title="Example Atom News", title="One"),
    Row("rss-feed-title-apos", rss("it&amp;apos;s correct", item("One", STORY)),
        feed_title="it's correct", title="One"),
    Row("rss-feed-title-script", rss("&lt;script&gt;alert(1)&lt;/script&gt;Harbour Post", item("One", STORY)),
        feed_title="Harbour Post", title="One", absent=("alert", "<script")),
    Row("atom-feed-title-img-onerror", atom('<title type="html">City &lt;img src=x onerror=alert(1)&gt;Desk</title>',
                                            '<entry><id>urn:1</id><title type="text">Tide &amp;amp; time</title>'
                                            '<author><name>Ann Lee</name></author><category term="local" label="Local news"/>'
                                            f'<link href="https://news.example/t"/><content type="html">&lt;p&gt;{STORY}&lt;/p&gt;</content></entry>'),
        content_type="application/atom+xml", feed_title="City Desk", title="Tide &amp; time", summary=STORY_SENTENCES,
        author="Ann Lee", categories=("Local news",), absent=("onerror", "<img")),
    Row("rss-author-and-categories", rss("Wire", item("Two", STORY, "<dc:creator>Jo &amp;amp; Al Smith</dc:creator>"
                                                      "<category>Tech &amp;amp; Media</category><category>&lt;b&gt;Deals&lt;/b&gt;</category>"
                                                      "<category>tech &amp;amp; media</category>")),
        feed_title="Wire", title="Two", author="Jo & Al Smith", categories=("Tech & Media", "Deals")),
    # ---- a comment that mentions DOCTYPE is a comment; a real DOCTYPE still goes -------------
    Row("comment-mentions-doctype", rss("Quiet Feed", item("Still read", STORY), prolog="<!-- no <!DOCTYPE here -->"),
        feed_title="Quiet Feed", title="Still read", summary=STORY_SENTENCES),
    Row("doctype-after-comment-is-removed", rss("Safe Feed", item("Entity &amp; not expanded", STORY),
                                                prolog='<!-- about <!DOCTYPE --><!DOCTYPE rss [<!ENTITY boom "EXPANDED">]>'),
        feed_title="Safe Feed", title="Entity & not expanded", absent=("EXPANDED",)),
    # ---- JSON Feed values of the wrong type are absent, never a Python repr -----------------
    Row("json-number-title", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Numbers Daily", "items": [
        {"id": 7, "title": 1000, "url": "https://news.example/j1", "content_text": STORY}]}).encode(),
        content_type="application/feed+json", feed_title="Numbers Daily", title=STORY,
        absent=("1000",)),
    Row("json-list-text", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": 42, "items": [
        {"id": "b", "title": "List text", "url": "https://news.example/j2", "content_text": ["not a string"],
         "summary": STORY, "tags": ["Harbour", 5, {"x": 1}], "authors": [{"name": "Kim Park"}, {"name": 3}]}]}).encode(),
        content_type="application/feed+json", feed_title=None, title="List text", summary=STORY_SENTENCES,
        author="Kim Park", categories=("Harbour",), absent=("['", "not a string")),
    # ---- the HTTP charset reaches the parser (header first) ---------------------------------
    Row("http-charset-windows-1251", rss("Новости дня", item("Мост откроют весной", STORY), decl='<?xml version="1.0"?>')
        .decode().encode("cp1251"), content_type="application/rss+xml; charset=windows-1251",
        feed_title="Новости дня", title="Мост откроют весной", summary=STORY_SENTENCES),
    Row("http-charset-utf-16-no-bom", rss("Café Feed", item("Crème brûlée wins", STORY), decl='<?xml version="1.0"?>')
        .decode().encode("utf-16-le"), content_type="text/xml; charset=utf-16le",
        feed_title="Café Feed", title="Crème brûlée wins", summary=STORY_SENTENCES),
    # ---- script text never reaches a summary ------------------------------------------------
    Row("noscript-then-script", rss("Wire", item("Scripted", "<![CDATA[<div><noscript><iframe src=x></iframe></noscript><script>var b=2;</script><p>Flood waters fell overnight in the valley.</p></div>]]>")),
        feed_title="Wire", title="Scripted", summary=("Flood waters fell overnight in the valley.",), absent=("var b",)),
    # ---- boilerplate is never a summary sentence -------------------------------------------
    Row("notices-urls-dates-pitches", rss("Wire", item("Bridge vote", "<![CDATA[<p>segunda-feira, 22 de janeiro de 2018 às 0:13</p><p>The council voted on Tuesday to rebuild the old river bridge by 2028 at a cost of 40 million euros.</p>"
                                                      "<p>This copy is for your personal, non-commercial use only.</p><p>https://news.example/reprints</p>"
                                                      "<p>Start your day with the Morning Wire, our briefing for early risers.</p><p>Read also: Ferry fares to rise in March</p>"
                                                      "<p>Engineers said the new deck would carry trams as well as cars and bicycles.</p><p>Updated: Jan. 23, 2018 at 7:00 a.m. ET</p>"
                                                      "<p>To order presentation-ready copies for distribution to your colleagues, clients or customers visit https://www.example-reprints.com.</p>]]>")),
        feed_title="Wire", title="Bridge vote",
        summary=("The council voted on Tuesday to rebuild the old river bridge by 2028 at a cost of 40 million euros.",
                 "Engineers said the new deck would carry trams as well as cars and bicycles.")),
    # ---- a document that parsed but has no items says so ------------------------------------
    Row("cdf-channel-without-items", b'<?xml version="1.0"?><CHANNEL HREF="https://news.example/"><TITLE>Channel only</TITLE><ABSTRACT>x</ABSTRACT></CHANNEL>',
        content_type="application/xml", error="has no items", not_in_error="not an RSS"),
]


def discord_shown(text: str) -> str:
    """What the Discord client shows for escaped markdown: escapes and zero-width spaces gone."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")


def slack_shown(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.fixture
def cli(tmp_path: Path, capsys):
    config = tmp_path / "newsdigest.toml"
    config.write_text('[fetch]\nallow_private_addresses = true\nfull_text = "never"\n'
                      '[summary]\nalgorithm = "news"\nsentences = 3\n')

    def run(*args: str, fails: bool = False) -> object:
        code = main(["--config", str(config), "--db", str(tmp_path / "t.db"), *args])
        out = capsys.readouterr()
        if fails:
            assert code == 1, out.out
            return out.err
        assert code == 0, out.err
        return json.loads(out.out) if "--json" in args else out.out

    return run


def _check_renderings(row: Row, items: list[dict]) -> None:
    digest = Digest(ChannelRef("console", "console"), [
        DigestItem(article_id=n, title=i["title"], url=i["url"], feed=i["feed"], published=None, summary=i["summary"])
        for n, i in enumerate(items)])
    embed = discord_digest(digest)[0].embeds[0]
    assert discord_shown(embed["title"]) == row.title
    if row.summary:
        assert discord_shown(embed["description"]).startswith(" ".join(row.summary))
    section = slack_digest(digest)[0]["blocks"]
    texts = [slack_shown(b["text"]["text"]) for b in section if b.get("type") == "section"]
    assert any(t.startswith(f"*<{items[0]['url']}|{row.title}>*") for t in texts), texts
    if row.summary:
        assert any(" ".join(row.summary) in t for t in texts)
    console = " ".join(render_digest_text(digest).split())
    assert f"1. {row.title}" in console
    for sentence in row.summary or ():
        assert f"- {sentence}" in console
    shown = json.dumps(embed, ensure_ascii=False) + json.dumps(section, ensure_ascii=False) + console
    for text in row.absent:
        assert text not in discord_shown(shown) and text not in slack_shown(shown)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_what_reaches_the_channel(row: Row, feed_server, cli) -> None:
    feed_server.set("/feed", body=row.body, content_type=row.content_type)
    url = feed_server.url("/feed")
    if row.error:  # `feeds add` reads the feed at once and reports why it cannot
        error = cli("feeds", "add", url, fails=True)
        assert row.error in error and row.not_in_error not in error
        return
    cli("feeds", "add", url)
    [channel] = cli("digest", "--dry-run", "--json")
    [feed] = cli("feeds", "list", "--json")
    assert feed["title"] == row.feed_title
    [shown] = channel["items"]
    assert shown["title"] == row.title
    assert shown["feed"] == (row.feed_title or url)
    if row.summary is not None:
        assert shown["summary"] == list(row.summary)
    everything = json.dumps([channel, feed], ensure_ascii=False)
    for text in row.absent:
        assert text not in everything
    _check_renderings(row, channel["items"])
    media, _, params = row.content_type.partition(";")
    charset = params.partition("=")[2].strip() or None
    [entry] = parse_source(row.body, url, media.strip(), charset).entries
    assert entry.author == row.author
    assert tuple(entry.categories) == row.categories


def test_html_to_text_in_many_threads_at_once() -> None:
    """Each thread parses with its own lxml parser: concurrent feeds never mix their text."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.sources.text import html_to_text

    def one(n: int) -> str:
        return html_to_text(f"<p>item {n} " + "<b>word</b> " * 200 + f"end {n}</p><script>x()</script>")

    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(one, range(400)))
    assert all(t.startswith(f"item {n} word") and t.endswith(f"end {n}") and "x()" not in t
               for n, t in enumerate(texts))
