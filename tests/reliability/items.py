"""Feed items for the reliability tests: titles too short to be merged as one story,
bodies long enough to be full text (no page fetches)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

WORDS = ("harbour ferry solar library robot river volunteer council budget school bridge museum orchard "
         "railway bakery stadium glacier vineyard lighthouse market theatre clinic canal festival tunnel "
         "meadow quarry observatory aquarium monastery windmill tramway archive garden brewery airport "
         "bicycle factory harvest").split()


def title_for(n: int) -> str:
    """Three words: below the four a title needs before it can be merged with another."""
    return f"Item{n} {WORDS[n % len(WORDS)]} report"


def body_for(n: int) -> str:
    return " ".join(f"Paragraph sentence {s} of item {n} explains what the {WORDS[(n + s) % len(WORDS)]} "
                    f"report found this week." for s in range(12))


def feed_xml(feed: int, numbers: list[int]) -> bytes:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {feed}</title>']
    for n in numbers:
        parts.append(f"<item><title>{title_for(n)}</title><link>https://feed{feed}.example/item/{n}</link>"
                     f'<guid isPermaLink="false">item-{n}</guid>'
                     f"<pubDate>{format_datetime(when + timedelta(minutes=n))}</pubDate>"
                     f"<description>{body_for(n)}</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()
