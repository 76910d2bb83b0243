"""Choosing and shaping a digest: newest first, the same story from several outlets merged
into one item, capped at `max_items` with the rest counted as "and N more"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.models import ChannelRef, Digest, DigestItem
from bot.store import ArticleRow

SAME_STORY_SIMILARITY = 0.6  # Jaccard overlap of title words that makes two items one story
MIN_TITLE_WORDS = 4
STOP = frozenset("a an the and or of to in on for at by with from as is are was were be it its this that "
                 "after over into new says say said will has have had not no".split())


@dataclass(slots=True)
class Story:
    lead: ArticleRow
    others: list[ArticleRow] = field(default_factory=list)

    @property
    def articles(self) -> list[ArticleRow]:
        return [self.lead, *self.others]


def title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"\w+", title.casefold()) if w not in STOP and len(w) > 1)


def same_story(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < MIN_TITLE_WORDS or len(b) < MIN_TITLE_WORDS:
        return False
    return len(a & b) / len(a | b) >= SAME_STORY_SIMILARITY


def group_stories(candidates: list[ArticleRow]) -> list[Story]:
    """Candidates arrive newest first; each joins the first earlier story it matches."""
    stories: list[Story] = []
    words: list[frozenset[str]] = []
    for article in candidates:
        mine = title_words(article.title)
        for story, theirs in zip(stories, words, strict=True):
            if same_story(mine, theirs) and all(o.feed_title != article.feed_title or not o.feed_title
                                                for o in story.articles):
                story.others.append(article)
                break
        else:
            stories.append(Story(article))
            words.append(mine)
    return stories


def cap(stories: list[Story], max_items: int) -> tuple[list[Story], list[Story]]:
    return stories[:max_items], stories[max_items:]


def build_digest(channel: ChannelRef, title: str, stories: list[Story], summaries: dict[int, list[str]],
                 more: int) -> Digest:
    items = [
        DigestItem(
            article_id=s.lead.id, title=s.lead.title, url=s.lead.url, feed=s.lead.feed_title or "",
            published=s.lead.published, summary=summaries.get(s.lead.id, []),
            also=[(o.feed_title or "", o.url) for o in s.others])
        for s in stories
    ]
    return Digest(channel=channel, items=items, more=more, title=title)


def digest_to_json(digest: Digest) -> dict[str, Any]:
    """The stored form (also the CLI's JSON item shape, plus `also`)."""
    return {
        "channel": str(digest.channel),
        "title": digest.title,
        "items": [
            {"article_id": i.article_id, "title": i.title, "url": i.url, "feed": i.feed,
             "published": i.published.isoformat() if i.published else None, "summary": i.summary,
             "also": [{"feed": f, "url": u} for f, u in i.also]}
            for i in digest.items
        ],
        "more": digest.more,
    }


def digest_from_json(data: dict[str, Any], digest_id: int | None = None) -> Digest:
    items = [
        DigestItem(
            article_id=i["article_id"], title=i["title"], url=i["url"], feed=i["feed"],
            published=datetime.fromisoformat(i["published"]) if i["published"] else None,
            summary=list(i["summary"]), also=[(a["feed"], a["url"]) for a in i.get("also", [])])
        for i in data["items"]
    ]
    return Digest(channel=ChannelRef.parse(data["channel"]), items=items, more=int(data["more"]),
                  title=data.get("title", "News digest"), digest_id=digest_id)
