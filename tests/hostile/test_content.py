"""Hostile feed content (threat guide items 5, 9, 10, 11, 18-24), one table row per case.

Each row gives the bytes, the outcome it must have and a check. Parsing runs in this
process, so an audit hook can prove that no file was opened and no socket connected while
a hostile document was parsed; wall-clock bounds are generous (each case took 1-23 s and
up to 570 MB before the defences, and takes milliseconds now).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import SourceResult
from bot.sources.feeds import MAX_MARKUP_TAGS, FeedParseError, parse_feed
from bot.sources.pages import PageExtractError, extract_page

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
MiB = 1024 * 1024
SECRET = "s3cr3t-marker-7f3a9c"  # the content of a local file no parse may ever read
BOUND_S = 30.0  # a hang guard only (speed lives in bench/): the slowest case takes ~0.1-2 s idle


LIBRARY_DIRS = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})


# ---- an audit hook: which files were opened, which sockets connected ------------------
class Audit:
    active = False
    events: list[tuple[str, str]] = []

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if not cls.active or event not in ("open", "socket.connect", "urllib.Request", "socket.getaddrinfo"):
            return
        target = str(args[0])[:200]
        if event == "open" and target.startswith(LIBRARY_DIRS):
            return  # codecs and chardet models loading lazily from the Python install
        cls.events.append((event, target))


sys.addaudithook(Audit.hook)  # cannot be removed; it records only while a test switches it on


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "passwd"
    path.write_text(f"root:x:0:0:{SECRET}:/root:/bin/sh\n")
    path.with_name("local.xml").write_text(rss(item(SECRET)))  # a valid feed no remote body may name
    return path


def rss(items: str, prolog: str = "", decl: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return f'{decl}{prolog}<rss version="2.0"><channel><title>Hostile</title>{items}</channel></rss>'


def item(title: str, link: str = "https://news.example/1", extra: str = "") -> str:
    return f"<item><title>{title}</title><link>{link}</link>{extra}</item>"


LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
LAUGHS_DTD = f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{LAUGHS}]>'
PAD = "<!-- " + "A" * (70 * 1024) + " -->"  # pushes the entities past feedparser's 64 KiB scan


@dataclass
class Case:
    name: str
    expect: str  # the outcome, in words
    build: Callable[[Path], bytes]
    check: Callable[[SourceResult], None] | None = None  # None: must raise FeedParseError
    error: str = ""  # a substring the FeedParseError message must contain
    max_mib: float = 64.0  # Python-heap peak while parsing


def no_leak(result: SourceResult) -> None:
    blob = json.dumps([[e.title, e.text, e.url, e.author] for e in result.entries]) + str(result.title)
    assert SECRET not in blob and "root:x:0:0" not in blob and "localhost" not in blob


def titles(result: SourceResult) -> list[str]:
    return [e.title for e in result.entries]


def check_laughs(result: SourceResult) -> None:
    assert len(result.entries) == 1 and len(result.entries[0].title) <= 500
    assert "lollol" not in result.entries[0].title and "BBBBBBBB" not in result.entries[0].title  # never expanded


CASES = [
    Case("billion-laughs", "entities not expanded; bounded time and memory",
         lambda s: rss(item("&lol9;"), LAUGHS_DTD).encode(), check_laughs),
    Case("billion-laughs-padded-dtd", "a DTD past 64 KiB is removed whole; nothing expands",
         lambda s: rss(item("a &lol9; b"), LAUGHS_DTD.replace("[", "[" + PAD, 1)).encode(), check_laughs),
    Case("quadratic-blowup", "one 100 KB entity used 1,000 times is never expanded",
         lambda s: rss(item("q" + "&big;" * 1000),
                       f'<!DOCTYPE rss [<!ENTITY big "{"B" * 100_000}">]>').encode(),
         lambda r: (check_laughs(r), no_leak(r))),
    Case("xxe", "the file:///etc/passwd entity is never read: no file content, literal text",
         lambda s: rss(item("x &xxe; y", extra="<description>&xxe;</description>"),
                       f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{s.as_uri()}">]>').encode(), no_leak),
    Case("xxe-etc-passwd", "the literal /etc/passwd payload of the guide leaks nothing",
         lambda s: rss(item("&xxe;"), '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').encode(),
         no_leak),
    Case("xxe-padded-dtd", "an external entity declared after 64 KiB of padding is never read",
         lambda s: rss(item("x &xxe; y", extra="<description>&xxe;</description>"),
                       f'<!DOCTYPE rss [{PAD}<!ENTITY xxe SYSTEM "{s.as_uri()}">]>').encode(), no_leak),
    Case("external-dtd", "an external DTD SYSTEM file:///etc/hosts is never fetched or opened",
         lambda s: rss(item("hello"), '<!DOCTYPE rss SYSTEM "file:///etc/hosts">').encode(),
         lambda r: (no_leak(r), titles(r) == ["hello"] or pytest.fail(titles(r)))),
    Case("external-dtd-secret", "an external DTD naming a local file is not opened",
         lambda s: rss(item("hello"), f'<!DOCTYPE rss SYSTEM "{s.as_uri()}">').encode(), no_leak),
    Case("parameter-entity", "a parameter entity pulling a remote DTD is never resolved",
         lambda s: rss(item("p"), '<!DOCTYPE rss [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/x.dtd"> %ext;]>'
                       ).encode(), no_leak),
    Case("utf16-laughs", "a UTF-16 document gets the same DOCTYPE removal",
         lambda s: rss(item("&lol9;"), LAUGHS_DTD, '<?xml version="1.0" encoding="utf-16"?>').encode("utf-16"),
         check_laughs),
    Case("cp1252-as-utf8-with-bom", "utf-8 declared on windows-1252 bytes with a BOM: decoded, warned",
         lambda s: b"\xef\xbb\xbf" + rss(item("caf\u00e9 \u201cquoted\u201d")).encode("cp1252"),
         lambda r: titles(r) == ["caf\u00e9 \u201cquoted\u201d"] or pytest.fail(titles(r))),
    Case("garbage-encoding-declaration", "an unknown encoding name falls back to UTF-8",
         lambda s: rss(item("caf\u00e9"), decl='<?xml version="1.0" encoding="x-\x01garbage"?>').encode(),
         lambda r: titles(r) == ["caf\u00e9"] or pytest.fail(titles(r))),
    Case("impossible-date", "31 Feb 2099 25:61 +9999 → no date, item kept",
         lambda s: rss(item("d", extra="<pubDate>Tue, 31 Feb 2099 25:61:00 +9999</pubDate>")).encode(),
         lambda r: r.entries[0].published is None or pytest.fail(str(r.entries[0].published))),
    Case("empty-date", "an empty date → no date",
         lambda s: rss(item("d", extra="<pubDate></pubDate>")).encode(),
         lambda r: r.entries[0].published is None or pytest.fail(str(r.entries[0].published))),
    Case("year-3000", "a far-future date is clamped to at most two days ahead",
         lambda s: rss(item("d", extra="<pubDate>Wed, 01 Jan 3000 00:00:00 GMT</pubDate>")).encode(),
         lambda r: NOW <= r.entries[0].published <= NOW + timedelta(days=2) or pytest.fail("not clamped")),
    Case("no-guid-no-link", "items with neither get distinct, stable content keys",
         lambda s: rss("<item><title>a</title></item><item><title>b</title></item>"
                       "<item><description>only text</description></item>").encode(),
         lambda r: (len({e.key for e in r.entries}) == 3 and all(e.key.startswith("h:") for e in r.entries))
         or pytest.fail([e.key for e in r.entries])),
    Case("duplicate-guids", "two items sharing a GUID are both kept, keyed by their links",
         lambda s: rss(item("a", "https://n.example/1", "<guid>same</guid>")
                       + item("b", "https://n.example/2", "<guid>same</guid>")).encode(),
         lambda r: [e.key for e in r.entries] == ["u:https://n.example/1", "u:https://n.example/2"]
         or pytest.fail([e.key for e in r.entries])),
    Case("mention-and-markdown-injection", "titles survive literally (escaping is the adapters' job)",
         lambda s: rss(item("@everyone &lt;!channel&gt; &lt;!here&gt; &lt;@&amp;123456789012345678&gt; "
                            "[bank login](https://evil.example) # HUGE &gt; quote ``` ||x|| "
                            "&lt;https://evil.example|https://bank.example&gt; &amp;lt;!channel&amp;gt;")).encode(),
         lambda r: titles(r) == ["@everyone <!channel> <!here> <@&123456789012345678> [bank login]"
                                 "(https://evil.example) # HUGE > quote ``` ||x|| "
                                 "<https://evil.example|https://bank.example> <!channel>"]
         or pytest.fail(titles(r))),
    Case("10000-char-title", "cut to 500 characters with an ellipsis",
         lambda s: rss(item("A" * 10_000)).encode(),
         lambda r: (len(r.entries[0].title) <= 500 and r.entries[0].title.endswith("…"))
         or pytest.fail(str(len(r.entries[0].title)))),
    Case("bidi-and-control", "U+202E, zero-width and control characters removed, letters kept",
         lambda s: rss(item("pay\u202eevil\u200b\u200d\u2066x\u0007\u0008y\u001b[31m")).encode(),
         lambda r: titles(r) == ["payevilx y [31m"] or pytest.fail(titles(r))),
    Case("html-script-onerror-javascript", "text only: no script, no handler, javascript: link dropped",
         lambda s: rss(item("t", "javascript:alert(1)", "<description><![CDATA[<p>Hello <script>alert(1)"
                            "</script><img src=x onerror=\"alert(2)\"> <a href=\"javascript:alert(3)\">click</a> "
                            "world</p><style>p{}</style>]]></description>")).encode(),
         lambda r: (r.entries[0].url is None and r.entries[0].text == "Hello click world")
         or pytest.fail(repr((r.entries[0].url, r.entries[0].text)))),
    Case("data-link", "a data: link is dropped too",
         lambda s: rss(item("t", "data:text/html;base64,PHNjcmlwdD4=")).encode(),
         lambda r: r.entries[0].url is None or pytest.fail(r.entries[0].url)),
    Case("html-title", "an HTML title becomes its text",
         lambda s: (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>1</id>'
                    b'<title type="html">&lt;b&gt;Bold&lt;/b&gt; &lt;script&gt;x()&lt;/script&gt;news</title>'
                    b'</entry></feed>'),
         lambda r: titles(r) == ["Bold news"] or pytest.fail(titles(r))),
    Case("5mb-nested-div-cdata", "5 MB of nested <div> in CDATA: bounded time and memory",
         lambda s: rss(item("deep", extra="<description><![CDATA[" + "<div>" * 500_000 + "x"
                            + "</div>" * 500_000 + "]]></description>")).encode(),
         lambda r: titles(r) == ["deep"] or pytest.fail(titles(r)), max_mib=200),
    Case("5mb-nested-div-raw", "5 MB of raw nested <div> elements: refused with a clear error",
         lambda s: rss(item("deep", extra="<description>" + "<div>" * 500_000 + "x" + "</div>" * 500_000
                            + "</description>")).encode(), None, "too much markup"),
    Case("5mb-unclosed-div-raw", "5 MB of unclosed <div>: refused with a clear error",
         lambda s: rss(item("deep", extra="<description>" + "<div>" * 1_000_000)).encode(), None,
         "too much markup"),
    Case("just-under-markup-limit", "a document just under the tag limit still parses in bounded time",
         lambda s: rss(item("ok", extra="<description>" + "<b>x</b>" * (MAX_MARKUP_TAGS // 8)
                            + "</description>")).encode(),
         lambda r: titles(r) == ["ok"] or pytest.fail(titles(r)), max_mib=200),
    Case("body-is-a-local-path", "a body spelling a local feed file's path is parsed as text, never opened",
         lambda s: str(s.with_name("local.xml")).encode(), None, "not an RSS, Atom or JSON feed"),
    Case("body-is-dev-zero", "a body of /dev/zero is not opened (it would read forever)",
         lambda s: b"/dev/zero", None, "not an RSS, Atom or JSON feed"),
    Case("not-a-feed", "random bytes: a clear parse error",
         lambda s: bytes(range(256)) * 100, None, "not an RSS, Atom or JSON feed"),
    Case("json-deep-nesting", "a JSON feed nested 100,000 deep: a clear parse error, not RecursionError",
         lambda s: b'{"version": "https://jsonfeed.org/version/1", "items": ' + b"[" * 100_000 + b"]" * 100_000
         + b"}", None, "invalid JSON feed"),
    Case("json-huge-number", "a 100,000-digit number: a clear parse error",
         lambda s: b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": ' + b"9" * 100_000 + b"}]}",
         None, "invalid JSON feed"),
    Case("json-javascript-url", "a JSON feed item's javascript: url is dropped",
         lambda s: json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
             {"id": "1", "url": "javascript:alert(1)", "title": "x\u202ey", "content_html": "<script>z</script>ok"}]}
         ).encode(),
         lambda r: (r.entries[0].url is None and r.entries[0].title == "xy" and r.entries[0].text == "ok")
         or pytest.fail(repr(r.entries[0]))),
]


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Import everything parsing touches before the audit hook starts listening."""
    parse_feed(rss(item("warm")).encode(), "https://news.example/feed", None, NOW)
    parse_feed(b'{"version": "https://jsonfeed.org/version/1", "items": []}', "https://j.example/f", None, NOW)
    extract_page(b"<html><body><p>warm up text for the page extractor.</p></body></html>", "https://p.example/")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_feed(case: Case, secret_file: Path) -> None:
    data = case.build(secret_file)
    Audit.events.clear()
    tracemalloc.start()
    Audit.active = True
    started = time.perf_counter()
    try:
        if case.check is None:
            with pytest.raises(FeedParseError) as caught:
                parse_feed(data, "https://news.example/feed", None, NOW)
            assert case.error in str(caught.value)
            assert len(str(caught.value)) < 300
        else:
            result = parse_feed(data, "https://news.example/feed", None, NOW)
    finally:
        elapsed = time.perf_counter() - started
        Audit.active = False
        peak = tracemalloc.get_traced_memory()[1] / MiB
        tracemalloc.stop()
    assert Audit.events == [], f"{case.name}: parsing touched files or sockets: {Audit.events}"
    assert elapsed < BOUND_S, f"{case.name}: {elapsed:.1f} s"
    assert peak < case.max_mib, f"{case.name}: {peak:.0f} MiB"
    if case.check is not None:
        assert result.entries, case.name
        no_leak(result)
        case.check(result)


def test_feedparser_only_ever_receives_a_stream(monkeypatch) -> None:
    """feedparser.parse(str) fetches a URL or opens a path, and parse(bytes) tries open(bytes)
    first: every call must get a file-like object."""
    import feedparser

    seen: list[type] = []
    real = feedparser.parse

    def spy(source, *args, **kwargs):
        seen.append(type(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", spy)
    for case in CASES[:12]:
        try:
            parse_feed(case.build(Path("/nonexistent")), "file:///etc/passwd", None, NOW)
        except FeedParseError:
            pass
    assert seen and all(hasattr(t, "read") for t in seen), seen


@pytest.mark.parametrize("html", [
    "<html><body>" + "<div>" * 1_000_000 + "deep text" + "</div>" * 1_000_000 + "</body></html>",
    "<html><body>" + "<div>" * 1_200_000,
], ids=["nested-closed-10mb", "nested-unclosed-6mb"])
def test_hostile_page_is_bounded(html: str) -> None:
    """A page (for /summarize or a teaser's full text) of nested <div>: bounded, clear error or text."""
    started = time.perf_counter()
    try:
        title, text = extract_page(html.encode(), "https://p.example/")
        assert len(text) < 1000
    except PageExtractError as exc:
        assert "no readable text" in str(exc)
    assert time.perf_counter() - started < BOUND_S


def test_page_script_and_handlers_are_dropped() -> None:
    body = ("<html><head><title>T\u202e</title><script>alert(1)</script></head><body><p>"
            + "A sentence about the harbour. " * 20
            + "<img src=x onerror=alert(2)><a href='javascript:alert(3)'>link</a></p></body></html>")
    title, text = extract_page(body.encode(), "https://p.example/")
    assert title == "T" and "alert" not in text and "harbour" in text
