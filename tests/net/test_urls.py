"""check_url: syntax and scheme policy, legacy IPv4 spellings, and redact_url."""

from __future__ import annotations

import pytest

from bot.net import BadURL, check_url
from bot.net.errors import redact_url

GOOD = [
    ("https://example.com/feed.xml", "https://example.com/feed.xml"),
    ("HTTP://ExAmple.COM:80/a b?x=1#frag", "http://example.com/a%20b?x=1"),
    ("  https://x.example/feed  ", "https://x.example/feed"),
    ("http://bücher.example/p", "http://xn--bcher-kva.example/p"),
    ("http://example.com:8080/", "http://example.com:8080/"),
    ("http://[2606:4700::1111]/", "http://[2606:4700::1111]/"),
    # legacy numeric IPv4 forms become the dotted quad the socket layer would use
    ("http://127.1/", "http://127.0.0.1/"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://017700000001/", "http://127.0.0.1/"),
    ("http://0/", "http://0.0.0.0/"),
    ("http://127。0。0。1/", "http://127.0.0.1/"),  # ideographic full stops
    ("http://[::ffff:127.0.0.1]:8080/", "http://[::ffff:7f00:1]:8080/"),
]

BAD = [
    ("file:///etc/passwd", "scheme 'file'"),
    ("gopher://127.0.0.1:6379/_", "scheme 'gopher'"),
    ("javascript:alert(1)", "scheme 'javascript'"),
    ("ftp://example.com/x", "scheme 'ftp'"),
    ("/etc/passwd", "not a web address"),
    ("example.com/feed", "not a web address"),
    ("", "not a web address"),
    ("http://feed.example\x00.internal/", "control characters"),
    ("http://example.com/\r\nX-Injected: 1", "control characters"),
    ("http://a:b@example.com/", "user names and passwords"),
    ("http://token@example.com/", "user names and passwords"),
    ("http://@example.com/", "user names and passwords"),
    ("http://evil.example\\@good.example/", "malformed"),
    ("http://" + "a" * 8192 + ".example/", "longer than 2048"),
    ("http:///path", "no host"),
    ("http:/example.com/a", "scheme://host"),
    ("http://example.com:0/", "bad port"),
    ("http://example.com:70000/", "bad port"),
    ("http://%31%32%37.0.0.1/", "bad host name"),
    ("http://exa mple.com/", "bad host name"),
    ("http://[1:2]/", "bad IPv6"),
    ("http://[fe80::1%25eth0]/", "bad IPv6"),
    ("http://256.1.1.1/", "IPv4"),
    ("http://1.2.3.4.5/", "IPv4"),
    ("http://08.1.1.1/", "IPv4"),
    ("http://0x100000000/", "IPv4"),
    ("http://example.123/", "IPv4"),
]


@pytest.mark.parametrize(("url", "expected"), GOOD)
def test_good(url: str, expected: str) -> None:
    assert check_url(url) == expected


@pytest.mark.parametrize(("url", "words"), BAD)
def test_bad(url: str, words: str) -> None:
    with pytest.raises(BadURL) as info:
        check_url(url)
    message = str(info.value)
    assert words in message
    assert len(message) < 120 and "\x00" not in message


def test_non_string_is_bad() -> None:
    with pytest.raises(BadURL):
        check_url(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@host.example/a/b?token=SECRET#x", "https://host.example/a/b"),
        ("http://host.example:8080", "http://host.example:8080/"),
        ("http://[::1]:81/x?k=v", "http://[::1]:81/x"),
        ("not a url", "(invalid URL)"),
    ],
)
def test_redact_url_drops_userinfo_query_and_fragment(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_url_shortens_long_paths() -> None:
    shown = redact_url("https://host.example/" + "p" * 500)
    assert len(shown) < 160 and shown.endswith("…")


FEED_URLS = ["http://127.0.0.2:4321/feed/7.xml", "https://example.com/rss", "https://news.example.org/a/b-c_d.xml",
             "https://www.example.co.uk/feeds/world?format=rss&lang=en", "http://sub.example:8080/", "https://e.com"]


def test_a_url_already_normal_is_taken_as_it_is() -> None:
    from bot.net.urls import _already_normal, _check

    for url in FEED_URLS:
        assert _already_normal(url), url
        assert _check(url) == url


def test_the_shortcut_only_takes_urls_the_full_check_returns_unchanged() -> None:
    """Generated near-normal and odd URLs: whenever the shortcut says "already normal", the
    full check (yarl's normalising included) must return the very same string."""
    import random

    from bot.net.urls import _already_normal, _check

    rng = random.Random(5)
    schemes = ["http", "https", "HTTP", "Https", "ftp"]
    labels = ["example", "com", "a", "xn--bcher-kva", "0x1f", "123", "0", "255", "256", "01", "a-b", "-a", "b-",
              "A", "a_b", "", "1a", "e"]
    ports = ["", ":80", ":443", ":080", ":8080", ":0", ":65535", ":65536", ":1", ":", ":x"]
    pieces = ["/", "a", ".", "..", "%41", "%7e", " ", "é", "#f", "?", "&", "=", "~", "+", "'", "!", ";", ":", "@",
              "[", "]", "\\", "^", "|", '"', "<", "{", "x.xml", "-", "_", "*", "(", ","]
    friendly = [p for p in pieces if p.isalnum() or p in "/.-_~?=&" or p == "x.xml"]
    taken = 0
    for n in range(20_000):
        # every other URL is built mostly from well-formed parts, so the shortcut's edges get tried
        host = ".".join(rng.choice(labels[:3] if n % 2 and rng.random() < 0.7 else labels)
                        for _ in range(rng.randint(1, 5)))
        tail = "".join(rng.choice(friendly if n % 2 else pieces) for _ in range(rng.randint(0, 8)))
        scheme = rng.choice(schemes[:2] if n % 2 else schemes)
        url = f"{scheme}://{host}{rng.choice(ports)}{'/' if rng.random() < 0.8 else ''}{tail}"
        if _already_normal(url):
            taken += 1
            assert _check(url) == url, url
    assert taken > 1_000  # the generator does reach the shortcut


def test_a_target_has_the_parts_yarl_reads_from_the_same_url() -> None:
    """The fetcher sends requests from `Target`; for any URL check_url returns, its parts are the
    ones yarl would give."""
    from yarl import URL

    from bot.net.target import Target

    for url in [*FEED_URLS, *(expected for _, expected in GOOD)]:
        target, u = Target.of(url), URL(url, encoded=True)
        assert target.url == str(target) == url
        assert (target.scheme, target.host, target.port) == (u.scheme, (u.raw_host or "").lower(), u.port), url
        assert target.authority == u.host_port_subcomponent, url
        assert target.path_qs == (u.raw_path_qs or "/"), url


def test_fetching_code_and_a_check_of_a_normal_url_load_no_yarl() -> None:
    import subprocess
    import sys

    probe = ("import sys, bot.net.fetch, bot.net.http1; from bot.net import check_url; "
             "check_url('https://news.example.org/feed.xml?x=1'); print('yarl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
