# ruff: noqa: E501  (example sentences read better on one line)
"""Text that is never story text, in the languages we summarize, and story text that only
looks like it; plus the prolog scan that strips a DOCTYPE only where it is a declaration."""

from __future__ import annotations

import pytest

from bot.pipeline.boilerplate import is_noise, is_timestamp
from bot.pipeline.clean import clean_text
from bot.pipeline.summarize import summarize
from bot.sources.text import html_to_text, plain_text
from bot.sources.xmlprep import normalize_encoding, strip_doctype

NOISE = [
    # date and time lines
    "segunda-feira, 22 de janeiro de 2018 às 0:13", "Aktualisiert am 3. März 2024, 14:05 Uhr", "Publié le 12 février 2019 à 10h30",
    "Updated: Jan. 5, 2024 at 7:00 a.m. ET", "martes, 4 de junio de 2024, 13:20", "Pubblicato il 30 aprile 2024 alle 19:20",
    "Opublikowano: 5 października 2021, 12:00", "Δευτέρα 5 Μαΐου 2023", "22.01.2018", "3 hours ago", "hace 2 horas", "5 min read",
    "Jane Doe - Updated: 11:32, 2 February 2024", "2018-01-22T00:13:00Z",
    # addresses
    "https://news.example/reprints", "www.example.org/story", "Contact: news@example.org",
    # legal and reprint notices
    "This copy is for your personal, non-commercial use only.", "© 2024 Example Media Group. All rights reserved.",
    "To order presentation-ready copies for distribution to your colleagues, clients or customers visit https://x.example.",
    "This material may not be published, broadcast, rewritten or redistributed.", "Alle Rechte vorbehalten.",
    "Tous droits réservés.", "Prohibida su reproducción total o parcial.", "Nachdruck nur mit Genehmigung des Verlags.",
    "Riproduzione riservata.", "This article is republished from Example Review under a Creative Commons license.",
    # pitches, teasers, credits
    "Start your day with the Opening Bell, our morning briefing.", "Sign up for our daily newsletter.",
    "Suscríbete a nuestro boletín", "Iscriviti alla newsletter per ricevere le notizie.", "Share it with a friend.",
    "Download our app for the latest news.", "Cet article est réservé aux abonnés.", "Lesen Sie auch: Der Streit um die Brücke",
    "Read also: Ferry fares to rise", "Leia também: O novo aeroporto", "Related: How the vote went",
    "A man walks past the flooded market on Tuesday. Photograph: Jane Doe/Example Agency",
]

STORY = [
    "The vote is on 22 January.", "Monday was the first day of the trial.", "Copyright law was changed in 2019.",
    "Police said the photo was taken at noon.", "Lee told our reporter the vote was fair.", "The name may not be published for legal reasons.",
    "Netflix added 9 million subscribers in the quarter.", "Follow-up tests showed the virus had gone.", "Get out, the guard shouted.",
    "Support for the measure fell to 40% among voters.", "The report was published on 3 May after a delay of two years.",
    "Am 3. März stimmte der Rat mit großer Mehrheit für den Plan.", "Le 12 février, le ministre a annoncé sa démission.",
]


@pytest.mark.parametrize("text", NOISE)
def test_noise_is_recognised(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", STORY)
def test_story_sentences_are_not_noise(text: str) -> None:
    assert not is_noise(text)


def test_timestamp_needs_a_date_or_time_word() -> None:
    assert not is_timestamp("Updated")
    assert not is_timestamp("The first of the month")
    assert is_timestamp("Friday, 1 March")


def test_noise_never_fills_a_short_summary() -> None:
    """With three sentences asked for and two real ones, the third slot stays empty."""
    text = ("The council voted to rebuild the river bridge by 2028 at a cost of 40 million euros.\n\n"
            "This copy is for your personal, non-commercial use only.\n\nhttps://news.example/a\n\n"
            "Updated: Jan. 23, 2018 at 7:00 a.m. ET\n\nEngineers said the new deck would carry trams as well as cars.")
    for algorithm in ("news", "lexrank", "textrank"):
        assert summarize(text, sentences=3, algorithm=algorithm) == [
            "The council voted to rebuild the river bridge by 2028 at a cost of 40 million euros.",
            "Engineers said the new deck would carry trams as well as cars."], algorithm


def test_notice_inside_a_paragraph_is_cut() -> None:
    cleaned = clean_text("The council met on Monday. This copy is for your personal, non-commercial use only. It voted to rebuild the bridge.")
    assert cleaned == "The council met on Monday. It voted to rebuild the bridge."


def test_trailing_labels_go_but_story_stays() -> None:
    assert clean_text("The council met on Monday.\n\nMore from the region\n\nFiled under: Politics") == "The council met on Monday."


@pytest.mark.parametrize(("value", "kind", "expected"), [
    ("AT&amp;T", "html", "AT&T"), ("AT&T", "guess", "AT&T"), ("x < y and y > z", "guess", "x < y and y > z"),
    ("it&apos;s", "guess", "it's"), ("Example <b>Atom</b>", "guess", "Example Atom"), ("A &amp; B <tag>", "text", "A &amp; B <tag>"),
    ("don&#146;t", "html", "don\u2019t"), ("&#X61;", "guess", "a"), ("the <blink> tag", "guess", "the <blink> tag"),
    ("<p>a</p><script>var b=2;</script><style>p{}</style><p>c</p>", "html", "a\n\nc"), (1000, "guess", ""), (["x"], "html", ""),
])
def test_plain_text_decodes_once_by_declared_kind(value: object, kind: str, expected: str) -> None:
    assert plain_text(value, kind) == expected  # type: ignore[arg-type]


def test_script_after_noscript_is_dropped() -> None:
    assert html_to_text("<div><noscript><iframe src=x></iframe></noscript><script>var b=2;</script><p>x</p></div>") == "x"


@pytest.mark.parametrize(("doc", "kept", "gone"), [
    (b"<?xml version='1.0'?><!-- no <!DOCTYPE here --><rss/>", b"<!-- no <!DOCTYPE here --><rss/>", None),
    (b"<!-- a --><!DOCTYPE rss [<!ENTITY x 'y'>]><rss/>", b"<!-- a --><rss/>", b"ENTITY"),
    (b"<?pi <!DOCTYPE ?><!DOCTYPE rss SYSTEM 'file:///etc/passwd'><rss/>", b"<?pi <!DOCTYPE ?><rss/>", b"passwd"),
    (b"<rss><![CDATA[<!DOCTYPE x>]]></rss>", b"<rss><![CDATA[<!DOCTYPE x>]]></rss>", None),
    (b"<!-- unclosed <!DOCTYPE rss [<!ENTITY x 'y'>]><rss/>", None, b"ENTITY"),
])
def test_only_a_real_doctype_is_stripped(doc: bytes, kept: bytes | None, gone: bytes | None) -> None:
    out = strip_doctype(doc)
    if kept is not None:
        assert out.endswith(kept)
    if gone is not None:
        assert gone not in out


@pytest.mark.parametrize(("data", "header", "expected"), [
    ("<rss>Привет</rss>".encode("cp1251"), "windows-1251", "cp1251"),
    ("<rss>é</rss>".encode("utf-16-le"), "utf-16le", "utf-8"),
    (b'<?xml version="1.0" encoding="utf-7"?><rss>+ADw-</rss>', None, "utf-8"),
    (b"<rss>x</rss>", "no-such-charset", None),
])
def test_declared_charset_reaches_the_parser(data: bytes, header: str | None, expected: str | None) -> None:
    out, charset = normalize_encoding(data, header)
    assert charset == expected
    if expected == "utf-8":
        assert out.startswith((b"<?xml", b"<rss")) and b"\x00" not in out
