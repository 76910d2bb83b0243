"""Feed items for the reliability tests: each item's words drawn from its own number, so no
two items read as one story, and bodies long enough to be full text (no page fetches)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

WORDS = ("harbour ferry solar library robot river volunteer council budget school bridge museum orchard "
         "railway bakery stadium glacier vineyard lighthouse market theatre clinic canal festival tunnel "
         "meadow quarry observatory aquarium monastery windmill tramway archive garden brewery airport "
         "bicycle factory harvest").split()


def title_for(n: int) -> str:
    """A short title; the body says what the item is about."""
    return f"Item{n} {WORDS[n % len(WORDS)]} report"


def body_for(n: int) -> str:
    topics = random.Random(n).sample(WORDS, 12)  # noqa: S311 - test data, not security
    return " ".join(f"Paragraph sentence {s} of item {n} explains what the {topic} report found this week."
                    for s, topic in enumerate(topics))


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
